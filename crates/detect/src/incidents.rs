//! Incidents: findings grouped by who or what they are about, with an accumulated risk score, so an
//! analyst reads one line per leaver, per signing key or per client instead of a hundred findings.
//!
//! The grouping key, first that applies: the resolved identity; a signing key (its tokens are the
//! incident, whoever's account they name); the credential; the principal. The score adds each rule's
//! severity weight once, plus a little for every repeat (log2), so a burst of one rule does not outrank
//! several different rules against the same subject: `Σ_rule weight(severity) × (1 + log2(count))`,
//! with weights info 1, low 3, medium 10, high 25, critical 40. Severity from the score: ≥ 80
//! critical, ≥ 40 high, ≥ 15 medium, ≥ 5 low, else informational; never below its most severe
//! finding.

use credwarden_model::{Finding, Severity};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// Stable id: a hash of the grouping key.
    pub id: String,
    /// What the key is (`identity`, `signing_key`, `credential`, `principal`).
    pub key_kind: &'static str,
    /// The key.
    pub key: String,
    /// Accumulated risk score.
    pub risk_score: f64,
    /// Severity from the score.
    pub severity: Severity,
    /// Earliest finding time (first seen).
    pub first_seen: Timestamp,
    /// Latest finding time.
    pub last_seen: Timestamp,
    /// Findings in it.
    pub findings: usize,
    /// Rule ids and their counts.
    pub rules: BTreeMap<&'static str, usize>,
    /// Fingerprints of its findings.
    pub fingerprints: Vec<String>,
}

/// Weight of one severity in the score.
pub fn weight(s: Severity) -> f64 {
    match s {
        Severity::Info => 1.0,
        Severity::Low => 3.0,
        Severity::Medium => 10.0,
        Severity::High => 25.0,
        Severity::Critical => 40.0,
    }
}

fn severity_of(score: f64) -> Severity {
    match score {
        s if s >= 80.0 => Severity::Critical,
        s if s >= 40.0 => Severity::High,
        s if s >= 15.0 => Severity::Medium,
        s if s >= 5.0 => Severity::Low,
        _ => Severity::Info,
    }
}

/// The grouping key of a finding.
pub fn key_of(f: &Finding) -> (&'static str, String) {
    let s = &f.subject;
    if let Some(id) = &s.identity_id {
        ("identity", id.clone())
    } else if s.credential_kind.as_deref() == Some("signing_key") {
        ("signing_key", s.credential_id.clone().unwrap_or_default())
    } else if let Some(c) = &s.credential_id {
        ("credential", c.clone())
    } else if let Some(p) = &s.principal {
        ("principal", p.clone())
    } else {
        ("rule", f.rule.id.to_string())
    }
}

/// Group `findings` into incidents, highest score first (ties: earliest first). Each finding gets an
/// `incident` fact naming its incident.
pub fn group(findings: &mut [Finding]) -> Vec<Incident> {
    let mut by: BTreeMap<(&'static str, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        by.entry(key_of(f)).or_default().push(i);
    }
    let mut out = Vec::new();
    for ((kind, key), idx) in by {
        let h = Sha256::digest(format!("{kind}\0{key}").as_bytes());
        let id: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
        let mut rules: BTreeMap<&'static str, (usize, Severity)> = BTreeMap::new();
        let (mut first, mut last) = (Timestamp::MAX, Timestamp::MIN);
        let mut fingerprints = Vec::new();
        for &i in &idx {
            let f = &mut findings[i];
            let r = rules.entry(f.rule.id).or_insert((0, f.severity));
            r.0 += 1;
            r.1 = r.1.max(f.severity);
            first = first.min(f.first_seen.unwrap_or(f.time));
            last = last.max(f.last_seen.unwrap_or(f.time));
            fingerprints.push(f.fingerprint());
            f.facts.insert("incident".into(), id.clone().into());
        }
        let score: f64 = rules
            .values()
            .map(|&(n, s)| weight(s) * (1.0 + (n as f64).log2()))
            .sum();
        let score = (score * 10.0).round() / 10.0;
        out.push(Incident {
            id,
            key_kind: kind,
            key,
            risk_score: score,
            severity: severity_of(score)
                .max(rules.values().map(|r| r.1).max().unwrap_or(Severity::Info)),
            first_seen: first,
            last_seen: last,
            findings: idx.len(),
            rules: rules.into_iter().map(|(k, (n, _))| (k, n)).collect(),
            fingerprints,
        });
    }
    out.sort_by(|a, b| {
        b.risk_score
            .total_cmp(&a.risk_score)
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use credwarden_model::{RuleMeta, Subject};

    static A: RuleMeta = RuleMeta {
        id: "CW-T1",
        name: "t1",
        version: 1,
        title: "t1",
        description: "",
        severity: Severity::High,
        attack: &[],
        d3fend: &[],
        false_positives: &[],
        recommendation: "",
    };
    static B: RuleMeta = RuleMeta {
        id: "CW-T2",
        severity: Severity::Medium,
        ..A
    };

    fn f(rule: &'static RuleMeta, identity: Option<&str>, cred: &str, t: i64) -> Finding {
        let subject = Subject {
            identity_id: identity.map(String::from),
            credential_id: Some(cred.into()),
            ..Subject::default()
        };
        let mut x = Finding::new(
            rule,
            subject,
            "m".into(),
            Timestamp::from_second(t).unwrap(),
        );
        x.discriminator = Some(t.to_string());
        x
    }

    #[test]
    fn groups_by_identity_then_credential_and_scores_spread_over_repeats() {
        let mut fs = vec![
            f(&A, Some("E1"), "AKIA1", 100),
            f(&B, Some("E1"), "AKIA2", 50),
            f(&A, None, "AKIA9", 10),
            f(&A, None, "AKIA9", 20),
            f(&A, None, "AKIA9", 30),
            f(&A, None, "AKIA9", 40),
        ];
        let inc = group(&mut fs);
        assert_eq!(inc.len(), 2);
        // Two different rules (25 + 10 = 35) against E1 …
        let e1 = inc.iter().find(|i| i.key == "E1").unwrap();
        assert_eq!(
            (e1.key_kind, e1.findings, e1.risk_score),
            ("identity", 2, 35.0)
        );
        assert_eq!(e1.first_seen.as_second(), 50);
        // … four repeats of one high rule: 25 × (1 + 2) = 75, and high from the score.
        let k = inc.iter().find(|i| i.key == "AKIA9").unwrap();
        assert_eq!(
            (k.key_kind, k.risk_score, k.severity),
            ("credential", 75.0, Severity::High)
        );
        assert_eq!(inc[0].key, "AKIA9", "highest score first");
        // Every finding names its incident.
        assert!(fs.iter().all(|f| f.facts.contains_key("incident")));
        assert_eq!(fs[0].facts["incident"], serde_json::json!(e1.id));
    }

    #[test]
    fn signing_key_findings_group_by_key_not_by_the_member_they_name() {
        let mut a = f(&A, None, "kid-1", 1);
        a.subject.credential_kind = Some("signing_key".into());
        a.subject.principal = Some("member:1".into());
        let mut b = a.clone();
        b.subject.principal = Some("member:2".into());
        b.discriminator = Some("2".into());
        let inc = group(&mut [a, b]);
        assert_eq!(inc.len(), 1);
        assert_eq!((inc[0].key_kind, inc[0].findings), ("signing_key", 2));
        assert_eq!(severity_of(0.5), Severity::Info);
    }
}
