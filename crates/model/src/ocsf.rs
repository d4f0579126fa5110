//! OCSF encoding of [`Finding`] as a Detection Finding (class 2004), OCSF version [`OCSF_VERSION`].
//!
//! Typed structs for exactly the fields we emit. ATT&CK goes in `finding_info.attacks`; OCSF 1.3.0 has
//! no D3FEND slot, so D3FEND references travel in `unmapped.d3fend` using the shape OCSF 1.5 adopted for
//! `attacks[].mitigation.countermeasures[]`. Tests validate the output against the official schema.

use crate::finding::ATTACK_VERSION;
use crate::Finding;
use serde::Serialize;
use std::collections::BTreeMap;

/// The OCSF schema version our output conforms to.
pub const OCSF_VERSION: &str = "1.3.0";
/// Detection Finding class.
pub const CLASS_UID: u32 = 2004;
/// Findings category.
pub const CATEGORY_UID: u32 = 2;
/// Activity "Create": a finding produced by this run.
pub const ACTIVITY_CREATE: u32 = 1;

/// OCSF Detection Finding, the subset of fields credwarden fills.
#[derive(Debug, Serialize)]
pub struct DetectionFinding {
    /// 1 = Create.
    pub activity_id: u32,
    /// Caption of `activity_id`.
    pub activity_name: &'static str,
    /// 2 = Findings.
    pub category_uid: u32,
    /// "Findings".
    pub category_name: &'static str,
    /// 2004.
    pub class_uid: u32,
    /// "Detection Finding".
    pub class_name: &'static str,
    /// class_uid * 100 + activity_id.
    pub type_uid: u32,
    /// Caption of `type_uid`.
    pub type_name: &'static str,
    /// Severity id (1–5).
    pub severity_id: u8,
    /// Severity caption.
    pub severity: &'static str,
    /// Confidence id (1 low, 2 medium, 3 high).
    pub confidence_id: u8,
    /// Confidence 0–100.
    pub confidence_score: u8,
    /// 1 = New.
    pub status_id: u8,
    /// "New".
    pub status: &'static str,
    /// Time of the finding, epoch milliseconds.
    pub time: i64,
    /// Human summary.
    pub message: String,
    /// What and who.
    pub finding_info: FindingInfo,
    /// Producer metadata.
    pub metadata: Metadata,
    /// The credential / identity concerned.
    pub resources: Vec<Resource>,
    /// Entities to pivot on: source addresses, networks, token and request ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observables: Vec<Observable>,
    /// Raw records behind the finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidences: Vec<Evidence>,
    /// Recommended response.
    pub remediation: Remediation,
    /// Fields OCSF 1.3.0 has no place for.
    pub unmapped: Unmapped,
}

/// `finding_info` object.
#[derive(Debug, Serialize)]
pub struct FindingInfo {
    /// Stable fingerprint (de-duplication key).
    pub uid: String,
    /// Rule title.
    pub title: String,
    /// Rule description.
    pub desc: String,
    /// The rule that fired.
    pub analytic: Analytic,
    /// ATT&CK references.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<Attack>,
    /// Epoch ms.
    pub created_time: i64,
    /// Epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen_time: Option<i64>,
    /// Epoch ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_time: Option<i64>,
    /// Input files the finding drew on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<String>,
    /// Always "credwarden".
    pub product_uid: &'static str,
}

/// `analytic` object.
#[derive(Debug, Serialize)]
pub struct Analytic {
    /// Rule id.
    pub uid: String,
    /// Rule name.
    pub name: String,
    /// 1 = Rule.
    pub type_id: u8,
    /// "Rule".
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// Rule version.
    pub version: String,
}

/// `attack` object.
#[derive(Debug, Serialize)]
pub struct Attack {
    /// Tactic.
    pub tactic: NamedUid,
    /// Technique (parent technique if the reference is a sub-technique).
    pub technique: NamedUid,
    /// Sub-technique, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_technique: Option<NamedUid>,
    /// ATT&CK version.
    pub version: &'static str,
}

/// `{uid, name, src_url}`.
#[derive(Debug, Serialize)]
pub struct NamedUid {
    /// Id.
    pub uid: String,
    /// Name.
    pub name: String,
    /// Reference URL.
    pub src_url: String,
}

/// `metadata` object.
#[derive(Debug, Serialize)]
pub struct Metadata {
    /// OCSF version.
    pub version: &'static str,
    /// Producer.
    pub product: Product,
    /// Labels.
    pub labels: Vec<String>,
}

/// `product` object.
#[derive(Debug, Serialize)]
pub struct Product {
    /// "credwarden".
    pub name: &'static str,
    /// "credwarden".
    pub vendor_name: &'static str,
    /// Our version.
    pub version: &'static str,
}

/// `resource_details` object.
#[derive(Debug, Serialize)]
pub struct Resource {
    /// Credential id or identity id.
    pub uid: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `credential/<kind>` or `identity`.
    #[serde(rename = "type")]
    pub type_: String,
    /// System / namespace the credential belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Resolved owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<User>,
    /// Extra facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// `user` object (owner).
#[derive(Debug, Serialize)]
pub struct User {
    /// Identity id.
    pub uid: String,
    /// Display label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `observables` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observable {
    /// What it is, as a field path (`src_endpoint.ip`, `network`, `token.jti`, `request.uid`).
    pub name: String,
    /// OCSF observable type id (2 IP address, 99 other).
    pub type_id: u8,
    /// Caption of the type.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// The value.
    pub value: String,
}

/// `evidences` entry: a pointer to the raw record.
#[derive(Debug, Serialize)]
pub struct Evidence {
    /// `{file, line}`.
    pub data: serde_json::Value,
}

/// `remediation` object.
#[derive(Debug, Serialize)]
pub struct Remediation {
    /// What to do.
    pub desc: &'static str,
    /// D3FEND links.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

/// `unmapped` object: credwarden-specific fields.
#[derive(Debug, Serialize)]
pub struct Unmapped {
    /// D3FEND countermeasures in the OCSF 1.5 `countermeasures` shape.
    pub d3fend: Vec<serde_json::Value>,
    /// Structured facts from the rule (days since termination, thresholds...).
    pub facts: BTreeMap<String, serde_json::Value>,
    /// Subject as credwarden names it.
    pub subject: serde_json::Value,
}

fn attack_url(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

fn d3fend_url(name: &str) -> String {
    let camel: String = name.split_whitespace().collect();
    format!("https://d3fend.mitre.org/technique/d3f:{camel}/")
}

fn confidence_id(score: u8) -> u8 {
    match score {
        0..=39 => 1,
        40..=74 => 2,
        _ => 3,
    }
}

impl DetectionFinding {
    /// Encode a finding.
    pub fn from_finding(f: &Finding) -> Self {
        let ms = |t: jiff::Timestamp| t.as_millisecond();
        let attacks = f
            .rule
            .attack
            .iter()
            .map(|a| {
                let (parent, sub) = match a.technique.split_once('.') {
                    Some((p, _)) => (p, true),
                    None => (a.technique, false),
                };
                let parent_name = if sub {
                    a.name.split(": ").next().unwrap_or(a.name)
                } else {
                    a.name
                };
                Attack {
                    tactic: NamedUid {
                        uid: a.tactic.to_string(),
                        name: a.tactic_name.to_string(),
                        src_url: format!("https://attack.mitre.org/tactics/{}/", a.tactic),
                    },
                    technique: NamedUid {
                        uid: parent.to_string(),
                        name: parent_name.to_string(),
                        src_url: attack_url(parent),
                    },
                    sub_technique: sub.then(|| NamedUid {
                        uid: a.technique.to_string(),
                        // ATT&CK names sub-techniques without the parent ("Cloud Accounts").
                        name: a
                            .name
                            .split_once(": ")
                            .map_or(a.name, |(_, s)| s)
                            .to_string(),
                        src_url: attack_url(a.technique),
                    }),
                    version: ATTACK_VERSION,
                }
            })
            .collect();
        let d3fend = f
            .rule
            .d3fend
            .iter()
            .map(
                |d| serde_json::json!({"uid": d.id, "name": d.name, "src_url": d3fend_url(d.name)}),
            )
            .collect();
        let s = &f.subject;
        let mut resources = Vec::new();
        if let Some(cid) = &s.credential_id {
            resources.push(Resource {
                uid: cid.clone(),
                name: s.principal.clone(),
                type_: format!(
                    "credential/{}",
                    s.credential_kind.as_deref().unwrap_or("other")
                ),
                namespace: s.system.clone(),
                owner: s.identity_id.as_ref().map(|id| User {
                    uid: id.clone(),
                    name: s.identity_label.clone(),
                }),
                data: None,
            });
        } else if let Some(iid) = &s.identity_id {
            resources.push(Resource {
                uid: iid.clone(),
                name: s.identity_label.clone(),
                type_: "identity".into(),
                namespace: None,
                owner: None,
                data: None,
            });
        }
        let mut sources: Vec<String> = f.evidence.iter().map(|e| e.file.to_string()).collect();
        sources.sort();
        sources.dedup();
        DetectionFinding {
            activity_id: ACTIVITY_CREATE,
            activity_name: "Create",
            category_uid: CATEGORY_UID,
            category_name: "Findings",
            class_uid: CLASS_UID,
            class_name: "Detection Finding",
            type_uid: CLASS_UID * 100 + ACTIVITY_CREATE,
            type_name: "Detection Finding: Create",
            severity_id: f.severity.ocsf_id(),
            severity: f.severity.caption(),
            confidence_id: confidence_id(f.confidence),
            confidence_score: f.confidence,
            status_id: 1,
            status: "New",
            time: ms(f.time),
            message: f.message.clone(),
            finding_info: FindingInfo {
                uid: f.fingerprint(),
                title: f.rule.title.to_string(),
                desc: f.rule.description.to_string(),
                analytic: Analytic {
                    uid: f.rule.id.to_string(),
                    name: f.rule.name.to_string(),
                    type_id: 1,
                    type_: "Rule",
                    version: f.rule.version.to_string(),
                },
                attacks,
                created_time: ms(f.time),
                first_seen_time: f.first_seen.map(ms),
                last_seen_time: f.last_seen.map(ms),
                data_sources: sources,
                product_uid: "credwarden",
            },
            metadata: Metadata {
                version: OCSF_VERSION,
                product: Product {
                    name: "credwarden",
                    vendor_name: "credwarden",
                    version: crate::PRODUCT_VERSION,
                },
                labels: vec![format!("rule:{}", f.rule.id)],
            },
            resources,
            observables: f
                .observables
                .iter()
                .map(|(k, v)| {
                    let ip = *k == "src_endpoint.ip";
                    Observable {
                        name: k.to_string(),
                        type_id: if ip { 2 } else { 99 },
                        type_: if ip { "IP Address" } else { "Other" },
                        value: v.clone(),
                    }
                })
                .collect(),
            evidences: f
                .evidence
                .iter()
                .map(|e| Evidence {
                    data: serde_json::json!({"file": e.file, "line": e.line}),
                })
                .collect(),
            remediation: Remediation {
                desc: f.rule.recommendation,
                references: f.rule.d3fend.iter().map(|d| d3fend_url(d.name)).collect(),
            },
            unmapped: Unmapped {
                d3fend,
                facts: f.facts.clone(),
                subject: serde_json::to_value(&f.subject).unwrap_or_default(),
            },
        }
    }
}
