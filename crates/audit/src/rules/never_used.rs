//! CW-A008: an active credential that has never been used since it was created.

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A008",
    name: "never-used",
    version: 1,
    title: "Active credential never used",
    description: "Created more than the grace period ago and never used: either not needed, or waiting to be used by someone who should not have it.",
    severity: Severity::Low,
    attack: &[ADDITIONAL_CLOUD_CREDENTIALS],
    d3fend: &[CREDENTIAL_REVOKING],
    false_positives: &["break-glass credentials", "keys provisioned ahead of a rollout"],
    recommendation: "Delete it unless someone can say what it is for.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let grace = ctx.policy.never_used_grace_days;
    for r in ctx
        .live()
        .filter(|r| r.cred.usage_known && r.cred.last_used.is_none() && !r.cred.account_level)
    {
        let Some(created) = r.cred.created else {
            continue;
        };
        let age = ctx.days_since(created);
        if age <= grace {
            continue;
        }
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, r.identity()),
            format!(
                "{} {} ({}) was created {age} days ago and never used",
                r.cred.kind, r.cred.id, r.cred.system
            ),
            ctx.now,
        )
        .fact("age_days", age);
        f.first_seen = Context::plus_days(created, grace + 1);
        f.evidence = vec![r.cred.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, IdentityStatus};

    #[test]
    fn fires_for_old_unused_key_only() {
        let p = vec![person("E1", IdentityStatus::Active, None)];
        let mut old = cred("old", CredentialKind::AccessKey, "E1");
        old.last_used = None;
        let mut new = cred("new", CredentialKind::AccessKey, "E1");
        new.last_used = None;
        new.created = Some(ts("2025-06-25"));
        let mut unknown = cred("unk", CredentialKind::AccessKey, "E1");
        unknown.last_used = None;
        unknown.usage_known = false;
        let f = audit(p, vec![old, new, unknown]);
        let f = of(&f, "CW-A008");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].subject.credential_id.as_deref(), Some("old"));
    }
}
