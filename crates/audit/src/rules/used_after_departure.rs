//! CW-A002: the inventory says the credential was used after its owner's last day — someone is using it.

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A002",
    name: "used-after-departure",
    version: 1,
    title: "Credential used after its owner left",
    description: "The credential's last use is later than its owner's termination date: either a process still runs under a leaver's key, or someone — possibly the leaver — is using it.",
    severity: Severity::Critical,
    attack: &[CLOUD_ACCOUNTS, VALID_ACCOUNTS],
    d3fend: &[CREDENTIAL_REVOKING, ACCOUNT_MONITORING],
    false_positives: &["an unattended job still runs with the leaver's key (still a finding: move it to a service identity)", "HR end date recorded too early"],
    recommendation: "Treat as an incident: revoke the credential, pull its activity since the termination date (credwarden detect / scope), and identify who used it.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in &ctx.creds {
        let (Some(owner), Some(used)) = (r.identity(), r.cred.last_used) else {
            continue;
        };
        let Some(end) = owner.end_date.filter(|_| owner.is_departed(ctx.as_of)) else {
            continue;
        };
        let used_day = Context::date(used);
        if used_day <= end {
            continue;
        }
        let after = credwarden_model::days_between(end, used_day);
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, Some(owner)),
            format!(
                "{} {} ({}) was last used {used_day}, {after} days after {} left on {end}",
                r.cred.kind,
                r.cred.id,
                r.cred.system,
                owner.label()
            ),
            ctx.now,
        )
        .fact("termination_date", end.to_string())
        .fact("last_used", used.to_string())
        .fact("days_used_after_termination", after)
        .fact("credential_status", r.cred.status.to_string());
        f.last_seen = Some(used);
        f.first_seen = Context::start_of(end);
        f.evidence = vec![r.cred.source.clone(), owner.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, CredentialStatus, IdentityStatus};

    #[test]
    fn fires_when_last_use_follows_termination_even_if_now_inactive() {
        let people = vec![person("E1", IdentityStatus::Terminated, Some("2025-03-01"))];
        let mut c = cred("k1", CredentialKind::AccessKey, "E1");
        c.status = CredentialStatus::Inactive;
        let f = audit(people, vec![c]);
        let f = of(&f, "CW-A002");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].facts["days_used_after_termination"], 120);
    }

    #[test]
    fn quiet_when_used_on_or_before_last_day_or_owner_active() {
        let people = vec![
            person("E1", IdentityStatus::Terminated, Some("2025-06-29")),
            person("E2", IdentityStatus::Active, None),
        ];
        let f = audit(
            people,
            vec![
                cred("k1", CredentialKind::AccessKey, "E1"),
                cred("k2", CredentialKind::AccessKey, "E2"),
            ],
        );
        assert!(of(&f, "CW-A002").is_empty());
    }
}
