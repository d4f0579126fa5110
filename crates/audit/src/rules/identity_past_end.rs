//! CW-A011: HR still lists someone as active (or on leave) past their end date — typically a
//! contractor whose engagement ended without anyone recording it.

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, IdentityKind, IdentityStatus, RuleMeta, Severity, Subject};
use std::collections::HashMap;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A011",
    name: "identity-past-end-date",
    version: 1,
    title: "Identity active past its end date",
    description: "The roster's end date has passed but the status is still active: the departure was never processed, so nothing was revoked. High for contractors holding live credentials.",
    severity: Severity::Medium,
    attack: &[VALID_ACCOUNTS],
    d3fend: &[ACCOUNT_LOCKING, CREDENTIAL_REVOKING],
    false_positives: &["contract extended but the end date not updated in HR"],
    recommendation: "Confirm with the manager; if the engagement ended, terminate the identity and offboard its credentials; if extended, fix the end date.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    // Live credentials per owner, built once (rosters and inventories can hold millions of rows).
    let mut live_by_owner: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in ctx.live() {
        if let Some(i) = r.identity() {
            live_by_owner
                .entry(i.id.as_str())
                .or_default()
                .push(r.cred.id.as_str());
        }
    }
    for ident in ctx.directory.identities() {
        if ident.status == IdentityStatus::Terminated {
            continue;
        }
        let Some(end) = ident.end_date.filter(|&e| e < ctx.as_of) else {
            continue;
        };
        let live = live_by_owner
            .get(ident.id.as_str())
            .cloned()
            .unwrap_or_default();
        let days = credwarden_model::days_between(end, ctx.as_of);
        let mut f = Finding::new(
            &META,
            Subject::identity(ident),
            format!(
                "{} {} is still {} in HR, {days} days after their end date {end}; {} live credential(s)",
                ident.kind,
                ident.label(),
                ident.status,
                live.len()
            ),
            ctx.now,
        )
        .fact("end_date", end.to_string())
        .fact("days_past_end", days)
        .fact("live_credentials", live.clone());
        if ident.kind == IdentityKind::Contractor && !live.is_empty() {
            f.severity = Severity::High;
        }
        f.first_seen = Context::start_of(end);
        f.evidence = vec![ident.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, IdentityKind, IdentityStatus, Severity};

    #[test]
    fn contractor_with_live_key_is_high() {
        let mut c = person("C1", IdentityStatus::Active, Some("2025-05-31"));
        c.kind = IdentityKind::Contractor;
        let e = person("E1", IdentityStatus::Active, Some("2025-06-01"));
        let f = audit(vec![c, e], vec![cred("k", CredentialKind::AccessKey, "C1")]);
        let f = of(&f, "CW-A011");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].facts["days_past_end"], 30);
        assert_eq!(f[1].severity, Severity::Medium);
    }

    #[test]
    fn quiet_for_future_end_or_processed_termination() {
        let c = person("C1", IdentityStatus::Active, Some("2025-06-30"));
        let t = person("T1", IdentityStatus::Terminated, Some("2025-01-01"));
        assert!(of(&audit(vec![c, t], vec![]), "CW-A011").is_empty());
    }
}
