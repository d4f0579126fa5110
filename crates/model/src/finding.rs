//! Finding: what a rule concluded about an identity and/or credential, with its evidence.

use crate::{Credential, Identity, SourceRef};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Severity, numbered as OCSF `severity_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational (1).
    Info = 1,
    /// Low (2).
    Low = 2,
    /// Medium (3).
    Medium = 3,
    /// High (4).
    High = 4,
    /// Critical (5).
    Critical = 5,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Self::Info,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// OCSF `severity_id`.
    pub fn ocsf_id(self) -> u8 {
        self as u8
    }

    /// OCSF `severity` caption.
    pub fn caption(self) -> &'static str {
        match self {
            Self::Info => "Informational",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        })
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" | "1" => Self::Info,
            "low" | "2" => Self::Low,
            "medium" | "med" | "3" => Self::Medium,
            "high" | "4" => Self::High,
            "critical" | "crit" | "5" => Self::Critical,
            _ => {
                return Err(format!(
                    "unknown severity {s:?} (expected info, low, medium, high or critical)"
                ))
            }
        })
    }
}

/// A MITRE ATT&CK technique reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackRef {
    /// Technique id, e.g. `T1078.004`.
    pub technique: &'static str,
    /// Technique name.
    pub name: &'static str,
    /// Tactic id, e.g. `TA0001`.
    pub tactic: &'static str,
    /// Tactic name.
    pub tactic_name: &'static str,
}

/// A MITRE D3FEND countermeasure reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct D3fendRef {
    /// D3FEND id, e.g. `D3-CRO`.
    pub id: &'static str,
    /// Technique name.
    pub name: &'static str,
}

/// ATT&CK matrix version the references are written against.
pub const ATTACK_VERSION: &str = "v18";

/// Rule metadata shared by posture rules, detectors and (later) Sigma rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMeta {
    /// Stable id, e.g. `CW-A001`.
    pub id: &'static str,
    /// Short kebab-case name.
    pub name: &'static str,
    /// Rule version; bump when the logic changes.
    pub version: u32,
    /// One-line title.
    pub title: &'static str,
    /// What it detects and why it matters.
    pub description: &'static str,
    /// Default severity (a rule may raise or lower it per finding).
    pub severity: Severity,
    /// ATT&CK techniques.
    pub attack: &'static [AttackRef],
    /// D3FEND countermeasures.
    pub d3fend: &'static [D3fendRef],
    /// Known benign causes.
    pub false_positives: &'static [&'static str],
    /// What to do about it.
    pub recommendation: &'static str,
}

/// Who or what a finding is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// Identity id, when resolved.
    pub identity_id: Option<String>,
    /// Identity label (name and id), for humans.
    pub identity_label: Option<String>,
    /// Credential id.
    pub credential_id: Option<String>,
    /// Credential kind.
    pub credential_kind: Option<String>,
    /// System the credential belongs to.
    pub system: Option<String>,
    /// Principal in that system.
    pub principal: Option<String>,
}

impl Subject {
    /// Subject for a credential, with its resolved owner if any.
    pub fn credential(c: &Credential, owner: Option<&Identity>) -> Self {
        Self {
            identity_id: owner.map(|i| i.id.clone()),
            identity_label: owner.map(Identity::label),
            credential_id: Some(c.id.clone()),
            credential_kind: Some(c.kind.to_string()),
            system: Some(c.system.clone()),
            principal: c.principal.clone(),
        }
    }

    /// Subject for an identity alone.
    pub fn identity(i: &Identity) -> Self {
        Self {
            identity_id: Some(i.id.clone()),
            identity_label: Some(i.label()),
            ..Self::default()
        }
    }
}

/// What a rule concluded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule that fired.
    pub rule: &'static RuleMeta,
    /// Severity of this finding (may differ from the rule's default).
    pub severity: Severity,
    /// Confidence 0–100.
    pub confidence: u8,
    /// Who or what it is about.
    pub subject: Subject,
    /// One sentence for a human, with the numbers that matter. Never contains secret material.
    pub message: String,
    /// When the finding was made (audit: the as-of time).
    pub time: Timestamp,
    /// Earliest time the condition is known to hold (e.g. the departure date).
    pub first_seen: Option<Timestamp>,
    /// Latest relevant time (e.g. last use).
    pub last_seen: Option<Timestamp>,
    /// Raw records that caused it.
    pub evidence: Vec<SourceRef>,
    /// Structured facts (e.g. `days_since_termination`).
    pub facts: BTreeMap<String, serde_json::Value>,
    /// What makes this condition new for the same subject (e.g. the latest departed reader of a
    /// secret: another leaver is a new reason to rotate). Part of the fingerprint.
    pub discriminator: Option<String>,
    /// The entities the finding is about beyond its subject — source addresses, networks, token
    /// ids, request ids — as `(kind, value)`: what an analyst blocks or pivots on (OCSF
    /// `observables`). Never secret material.
    pub observables: Vec<(&'static str, String)>,
}

impl Finding {
    /// A new finding with the rule's default severity and no facts.
    pub fn new(
        rule: &'static RuleMeta,
        subject: Subject,
        message: String,
        time: Timestamp,
    ) -> Self {
        Self {
            rule,
            severity: rule.severity,
            confidence: 90,
            subject,
            message,
            time,
            first_seen: None,
            last_seen: None,
            evidence: Vec::new(),
            facts: BTreeMap::new(),
            discriminator: None,
            observables: Vec::new(),
        }
    }

    /// Add an observable (kept once).
    pub fn observe(&mut self, kind: &'static str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty()
            && !self
                .observables
                .iter()
                .any(|(k, v)| *k == kind && *v == value)
        {
            self.observables.push((kind, value));
        }
    }

    /// Add a structured fact.
    pub fn fact(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.facts.insert(key.to_string(), value.into());
        self
    }

    /// Stable fingerprint for de-duplication: rule id + subject (+ discriminator), independent of run
    /// time, so the same condition yields the same fingerprint across runs.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            Some(self.rule.id),
            self.subject.identity_id.as_deref(),
            self.subject.credential_id.as_deref(),
            self.subject.system.as_deref(),
            self.discriminator.as_deref(),
        ] {
            h.update(part.unwrap_or("").as_bytes());
            h.update([0x1f]);
        }
        let d = h.finalize();
        d[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}
