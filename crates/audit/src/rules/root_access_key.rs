//! CW-A009: an account-level (root) access key exists and is active.

use crate::refs::*;
use crate::Context;
use credwarden_model::{CredentialKind, Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A009",
    name: "root-access-key",
    version: 1,
    title: "Active root (account-level) access key",
    description: "Root access keys cannot be scoped by IAM policy and belong to no person; AWS recommends having none.",
    severity: Severity::Critical,
    attack: &[CLOUD_ACCOUNTS],
    d3fend: &[CREDENTIAL_REVOKING],
    false_positives: &["none known: root keys should not exist"],
    recommendation: "Delete the root access key; use IAM roles for any automation that relied on it.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in ctx
        .live()
        .filter(|r| r.cred.account_level && r.cred.kind == CredentialKind::AccessKey)
    {
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, None),
            format!(
                "Root access key {} ({}) is active{}",
                r.cred.id,
                r.cred.system,
                r.cred
                    .last_used
                    .map(|t| format!(", last used {}", Context::date(t)))
                    .unwrap_or_default()
            ),
            ctx.now,
        );
        f.last_seen = r.cred.last_used;
        f.first_seen = r.cred.created;
        f.evidence = vec![r.cred.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, CredentialStatus};

    #[test]
    fn fires_for_active_root_key_only() {
        let mut root = cred("root#access_key_1", CredentialKind::AccessKey, "");
        root.account_level = true;
        let mut off = root.clone();
        off.id = "root#access_key_2".into();
        off.status = CredentialStatus::Inactive;
        let user = cred("alice#access_key_1", CredentialKind::AccessKey, "");
        let f = audit(vec![], vec![root, off, user]);
        assert_eq!(of(&f, "CW-A009").len(), 1);
    }
}
