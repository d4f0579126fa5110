//! CW-A005: a live credential no identity can be found for. Unresolved owners are findings, never drops.

use crate::refs::*;
use crate::{Context, Owner};
use credwarden_model::{Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A005",
    name: "unknown-owner",
    version: 1,
    title: "Credential with unknown owner",
    description: "No HR identity matches the credential's owner or principal, or several do. A credential nobody owns is a credential nobody revokes when they leave.",
    severity: Severity::Medium,
    attack: &[VALID_ACCOUNTS],
    d3fend: &[USER_ACCOUNT_PERMISSIONS, ACCOUNT_MONITORING],
    false_positives: &["service users whose owner is not yet in the owner-mapping file", "aliases HR does not record (add them to the roster or to --owners)"],
    recommendation: "Assign an owner: add the principal to the owner-mapping file (--owners) or fix the inventory's owner field; revoke it if nobody claims it.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in ctx.live() {
        let (why, tried) = match &r.owner {
            Owner::Unresolved(tried) if tried.is_empty() => (
                "the inventory names no owner or principal".to_string(),
                vec![],
            ),
            Owner::Unresolved(tried) => (
                format!("no identity matches {}", tried.join(" or ")),
                tried.clone(),
            ),
            Owner::Ambiguous(ids) => (
                format!("several identities match: {}", ids.join(", ")),
                ids.clone(),
            ),
            Owner::Identity(..) | Owner::Account => continue,
        };
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, None),
            format!("{} {} ({}): {why}", r.cred.kind, r.cred.id, r.cred.system),
            ctx.now,
        )
        .fact("names_tried", tried)
        .fact("ambiguous", matches!(r.owner, Owner::Ambiguous(_)));
        f.last_seen = r.cred.last_used;
        f.first_seen = r.cred.created;
        f.evidence = vec![r.cred.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, IdentityStatus};

    #[test]
    fn fires_for_unmatched_missing_and_ambiguous() {
        let mut a = person("E1", IdentityStatus::Active, None);
        a.emails = vec!["sam@corp.example".into()];
        let mut b = person("E2", IdentityStatus::Active, None);
        b.emails = vec!["sam@contractor.example".into()];
        let f = audit(
            vec![a, b],
            vec![
                cred("k1", CredentialKind::AccessKey, "ci-deployer"),
                cred("k2", CredentialKind::ApiKey, ""),
                cred("k3", CredentialKind::AccessKey, "sam"),
            ],
        );
        let f = of(&f, "CW-A005");
        assert_eq!(f.len(), 3);
        assert!(f
            .iter()
            .any(|f| f.message.contains("several identities match: E1, E2")));
    }

    #[test]
    fn quiet_for_resolved_owner() {
        let f = audit(
            vec![person("E1", IdentityStatus::Active, None)],
            vec![cred("k1", CredentialKind::AccessKey, "e1")],
        );
        assert!(of(&f, "CW-A005").is_empty());
    }
}
