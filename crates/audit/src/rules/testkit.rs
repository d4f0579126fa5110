//! Builders for rule tests: a tiny roster and credentials, audited as of 2025-06-30.

use crate::{run, Context, Policy};
use credwarden_model::{
    Credential, CredentialKind, Directory, Finding, Identity, IdentityKind, IdentityStatus,
    SourceRef,
};
use jiff::civil::Date;
use jiff::Timestamp;

pub const AS_OF: &str = "2025-06-30";

pub fn ts(s: &str) -> Timestamp {
    format!("{s}T12:00:00Z").parse().unwrap()
}

pub fn person(id: &str, status: IdentityStatus, end: Option<&str>) -> Identity {
    Identity {
        id: id.into(),
        display_name: Some(format!("Person {id}")),
        emails: vec![format!("{}@corp.example", id.to_lowercase())],
        usernames: vec![id.to_lowercase()],
        kind: IdentityKind::Employee,
        status,
        start_date: Some("2019-01-01".parse().unwrap()),
        end_date: end.map(|e| e.parse().unwrap()),
        manager: None,
        department: None,
        source: SourceRef::new("hr.csv", 2),
    }
}

/// A credential owned by `owner`, created 2025-06-01, used 2025-06-29 (all rules quiet by default).
pub fn cred(id: &str, kind: CredentialKind, owner: &str) -> Credential {
    let mut c = Credential::new(id, kind, "test", SourceRef::new("inv.csv", 2));
    c.owner = (!owner.is_empty()).then(|| owner.to_string());
    c.created = Some(ts("2025-06-01"));
    c.last_used = Some(ts("2025-06-29"));
    c.usage_known = true;
    c
}

pub fn audit(people: Vec<Identity>, creds: Vec<Credential>) -> Vec<Finding> {
    audit_with(people, creds, &[], &Policy::default())
}

pub fn audit_with(
    people: Vec<Identity>,
    creds: Vec<Credential>,
    groups: &[(&str, &[&str])],
    policy: &Policy,
) -> Vec<Finding> {
    let dir = Directory::new(people).with_groups(
        groups
            .iter()
            .map(|(g, m)| (g.to_string(), m.iter().map(|s| s.to_string()).collect())),
    );
    let as_of: Date = AS_OF.parse().unwrap();
    let ctx = Context::new(&dir, &creds, as_of, policy);
    run(&ctx)
}

/// Findings of one rule.
pub fn of<'f>(findings: &'f [Finding], rule: &str) -> Vec<&'f Finding> {
    findings.iter().filter(|f| f.rule.id == rule).collect()
}
