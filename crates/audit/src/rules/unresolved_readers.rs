//! CW-A012: a secret lists readers that match no identity or group, so their departures cannot be seen.

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A012",
    name: "unresolved-secret-readers",
    version: 1,
    title: "Secret readers cannot be resolved",
    description: "Some names in the secret's reader list match no identity and no group. If one of them leaves, credwarden cannot tell that the secret needs rotating.",
    severity: Severity::Low,
    attack: &[UNSECURED_CREDENTIALS],
    d3fend: &[USER_ACCOUNT_PERMISSIONS],
    false_positives: &["a group file was not passed with --groups"],
    recommendation: "Pass the group membership file (--groups) or fix the reader names; remove readers who do not need the secret.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in ctx.live() {
        let unresolved = ctx.unresolved_readers(r);
        if unresolved.is_empty() {
            continue;
        }
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, r.identity()),
            format!(
                "{} {} ({}): readers not found in HR or groups: {}",
                r.cred.kind,
                r.cred.id,
                r.cred.system,
                unresolved.join(", ")
            ),
            ctx.now,
        )
        .fact("unresolved_readers", unresolved);
        f.evidence = vec![r.cred.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::Policy;
    use credwarden_model::{CredentialKind, IdentityStatus};

    #[test]
    fn fires_only_for_unknown_reader_names() {
        let p = vec![person("E1", IdentityStatus::Active, None)];
        let mut k = cred("k", CredentialKind::SigningKey, "E1");
        k.readers = vec!["E1".into(), "team-x".into(), "ghost".into()];
        let f = audit_with(p, vec![k], &[("team-x", &["E1"])], &Policy::default());
        let f = of(&f, "CW-A012");
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].facts["unresolved_readers"],
            serde_json::json!(["ghost"])
        );
    }
}
