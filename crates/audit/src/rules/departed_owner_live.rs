//! CW-A001: a live credential whose owner has left — the headline finding.

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A001",
    name: "departed-owner-live-credential",
    version: 1,
    title: "Active credential of a departed identity",
    description: "HR records the owner as terminated, yet the credential can still authenticate. Closing a leaver's accounts is not enough while their keys live on.",
    severity: Severity::High,
    attack: &[CLOUD_ACCOUNTS, VALID_ACCOUNTS],
    d3fend: &[CREDENTIAL_REVOKING, ACCOUNT_LOCKING],
    false_positives: &["HR recorded the wrong person or date", "the credential was handed over to a new owner but the inventory still names the leaver"],
    recommendation: "Revoke the credential now (deactivate, then delete), or transfer it to a current owner and rotate it. Run `credwarden offboard` for the identity to catch the rest.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in ctx.live() {
        let Some(owner) = r.identity() else { continue };
        if !owner.is_departed(ctx.as_of) {
            continue;
        }
        let days = owner.days_since_end(ctx.as_of);
        let when = match (owner.end_date, days) {
            (Some(d), Some(n)) => format!("terminated {d}, {n} days ago"),
            _ => "terminated (date unknown)".to_string(),
        };
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, Some(owner)),
            format!(
                "Active {} {} ({}) belongs to {}, {when}",
                r.cred.kind,
                r.cred.id,
                r.cred.system,
                owner.label()
            ),
            ctx.now,
        )
        .fact("termination_date", owner.end_date.map(|d| d.to_string()))
        .fact("days_since_termination", days);
        f.first_seen = owner.end_date.and_then(Context::start_of);
        f.last_seen = r.cred.last_used;
        f.evidence = vec![r.cred.source.clone(), owner.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, CredentialStatus, IdentityStatus};

    #[test]
    fn fires_for_live_key_of_leaver_with_day_count() {
        let people = vec![person("E1", IdentityStatus::Terminated, Some("2025-05-31"))];
        let f = audit(
            people,
            vec![cred("k1", CredentialKind::AccessKey, "e1@corp.example")],
        );
        let f = of(&f, "CW-A001");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].facts["days_since_termination"], 30);
        assert!(
            f[0].message.contains("terminated 2025-05-31, 30 days ago"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn quiet_for_inactive_expired_current_or_future_leaver() {
        let people = vec![
            person("E1", IdentityStatus::Terminated, Some("2025-05-31")),
            person("E2", IdentityStatus::Active, None),
            person("E3", IdentityStatus::Terminated, Some("2025-07-15")),
        ];
        let mut inactive = cred("k1", CredentialKind::AccessKey, "E1");
        inactive.status = CredentialStatus::Inactive;
        let mut expired = cred("k2", CredentialKind::ApiKey, "E1");
        expired.expires = Some(ts("2025-06-01"));
        let f = audit(
            people,
            vec![
                inactive,
                expired,
                cred("k3", CredentialKind::AccessKey, "E2"),
                cred("k4", CredentialKind::AccessKey, "E3"),
            ],
        );
        assert!(of(&f, "CW-A001").is_empty(), "{f:#?}");
    }
}
