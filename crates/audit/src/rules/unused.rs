//! CW-A007: an active credential not used for a long time (low past 45 days, medium past 90).

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A007",
    name: "unused-active",
    version: 1,
    title: "Active credential unused",
    description: "The credential can authenticate but has not been used for longer than policy. Dormant keys are the ones nobody notices when they wake up.",
    severity: Severity::Low,
    attack: &[VALID_ACCOUNTS],
    d3fend: &[CREDENTIAL_REVOKING],
    false_positives: &["break-glass credentials (document and exclude them)", "quarterly or yearly jobs"],
    recommendation: "Deactivate it; delete it if nobody objects within a grace period.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let p = ctx.policy;
    for r in ctx
        .live()
        .filter(|r| r.cred.usage_known && !r.cred.account_level)
    {
        let Some(used) = r.cred.last_used else {
            continue;
        };
        let idle = ctx.days_since(used);
        let severity = if idle > p.unused_max_days {
            Severity::Medium
        } else if idle > p.unused_warn_days {
            Severity::Low
        } else {
            continue;
        };
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, r.identity()),
            format!(
                "{} {} ({}) has not been used for {idle} days",
                r.cred.kind, r.cred.id, r.cred.system
            ),
            ctx.now,
        )
        .fact("days_unused", idle)
        .fact(
            "threshold_days",
            if severity == Severity::Medium {
                p.unused_max_days
            } else {
                p.unused_warn_days
            },
        );
        f.severity = severity;
        f.last_seen = Some(used);
        f.first_seen = Context::plus_days(used, p.unused_warn_days + 1);
        f.evidence = vec![r.cred.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, IdentityStatus, Severity};

    #[test]
    fn two_tiers() {
        let p = vec![person("E1", IdentityStatus::Active, None)];
        let mut a = cred("a", CredentialKind::AccessKey, "E1");
        a.last_used = Some(ts("2025-05-01")); // 60 days
        let mut b = cred("b", CredentialKind::AccessKey, "E1");
        b.last_used = Some(ts("2025-01-01")); // 180 days
        let f = audit(p, vec![a, b]);
        let f = of(&f, "CW-A007");
        assert_eq!(
            f.iter().map(|f| f.severity).collect::<Vec<_>>(),
            [Severity::Medium, Severity::Low]
        );
    }

    #[test]
    fn quiet_when_recent_or_usage_untracked() {
        let p = vec![person("E1", IdentityStatus::Active, None)];
        let mut untracked = cred("u", CredentialKind::ServiceAccountKey, "E1");
        untracked.usage_known = false;
        untracked.last_used = None;
        let mut edge = cred("e", CredentialKind::AccessKey, "E1");
        edge.last_used = Some(ts("2025-05-16")); // 45 days
        assert!(of(&audit(p, vec![untracked, edge]), "CW-A007").is_empty());
    }
}
