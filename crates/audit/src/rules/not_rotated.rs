//! CW-A006: a static key or secret older than the rotation policy.

use crate::refs::*;
use crate::Context;
use credwarden_model::{CredentialKind, Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A006",
    name: "not-rotated",
    version: 1,
    title: "Credential not rotated within policy",
    description: "The key or secret material is older than the rotation policy (default 90 days). Old material has had more chances to be copied.",
    severity: Severity::Medium,
    attack: &[VALID_ACCOUNTS, UNSECURED_CREDENTIALS],
    d3fend: &[CREDENTIAL_ROTATION],
    false_positives: &["keys under a documented exception (set rotation_max_days in the config)"],
    recommendation: "Rotate: create a new key, move consumers to it, then deactivate and delete the old one.",
};

fn applies(kind: CredentialKind) -> bool {
    // Passwords are governed by NIST 800-63B (no forced rotation); signing keys by CW-A004.
    !matches!(
        kind,
        CredentialKind::ConsolePassword | CredentialKind::SigningKey | CredentialKind::KmsKey
    )
}

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let max = ctx.policy.rotation_max_days;
    for r in ctx.live().filter(|r| applies(r.cred.kind)) {
        let Some(since) = r.cred.material_since() else {
            continue;
        };
        let age = ctx.days_since(since);
        if age <= max {
            continue;
        }
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, r.identity()),
            format!(
                "{} {} ({}) is {age} days old (policy {max})",
                r.cred.kind, r.cred.id, r.cred.system
            ),
            ctx.now,
        )
        .fact("age_days", age)
        .fact("max_age_days", max);
        // The condition began when the material passed the policy age.
        f.first_seen = Context::plus_days(since, max + 1);
        f.evidence = vec![r.cred.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, IdentityStatus};

    #[test]
    fn fires_past_policy_and_uses_last_rotation() {
        let p = vec![person("E1", IdentityStatus::Active, None)];
        let mut old = cred("old", CredentialKind::AccessKey, "E1");
        old.created = Some(ts("2025-03-01"));
        let mut rotated = cred("rot", CredentialKind::SharedSecret, "E1");
        rotated.created = Some(ts("2020-01-01"));
        rotated.last_rotated = Some(ts("2025-05-01"));
        let f = audit(p, vec![old, rotated]);
        let f = of(&f, "CW-A006");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].facts["age_days"], 121);
    }

    #[test]
    fn quiet_at_exactly_policy_and_for_passwords() {
        let p = vec![person("E1", IdentityStatus::Active, None)];
        let mut edge = cred("edge", CredentialKind::AccessKey, "E1");
        edge.created = Some(ts("2025-04-01")); // 90 days
        let mut pw = cred("pw", CredentialKind::ConsolePassword, "E1");
        pw.created = Some(ts("2020-01-01"));
        assert!(of(&audit(p, vec![edge, pw]), "CW-A006").is_empty());
    }
}
