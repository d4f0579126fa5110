//! CW-A004: a token-signing or KMS key older, or valid for longer, than the rotation policy allows.

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A004",
    name: "signing-key-over-policy",
    version: 1,
    title: "Signing key exceeds rotation policy",
    description: "A key that signs tokens for many users stays in use, or stays valid, longer than policy allows (Coupang's signing keys reportedly had 5–10-year validity). Every day of extra life is a day a stolen copy works.",
    severity: Severity::High,
    attack: &[FORGE_WEB_CREDENTIALS],
    d3fend: &[CREDENTIAL_ROTATION],
    false_positives: &["root CA or offline keys governed by a separate policy (raise the threshold in config for them)"],
    recommendation: "Rotate the key on a schedule shorter than the policy maximum; issue keys with bounded validity.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let p = ctx.policy;
    for r in ctx.live().filter(|r| r.cred.kind.is_signing()) {
        let c = r.cred;
        let age = c.material_since().map(|t| ctx.days_since(t));
        let validity = match (c.created, c.expires) {
            (Some(a), Some(b)) => Some(credwarden_model::days_between(
                Context::date(a),
                Context::date(b),
            )),
            _ => None,
        };
        let mut why = Vec::new();
        if let Some(a) = age.filter(|&a| a > p.signing_key_max_age_days) {
            why.push(format!(
                "{a} days since creation or last rotation (policy {})",
                p.signing_key_max_age_days
            ));
        }
        if let Some(v) = validity.filter(|&v| v > p.signing_key_max_validity_days) {
            why.push(format!(
                "validity period of {v} days (policy {})",
                p.signing_key_max_validity_days
            ));
        }
        if why.is_empty() {
            continue;
        }
        let mut f = Finding::new(
            &META,
            Subject::credential(c, r.identity()),
            format!("{} {} ({}): {}", c.kind, c.id, c.system, why.join("; ")),
            ctx.now,
        )
        .fact("age_days", age)
        .fact("validity_days", validity)
        .fact("max_age_days", p.signing_key_max_age_days)
        .fact("max_validity_days", p.signing_key_max_validity_days);
        f.first_seen = c.created;
        f.evidence = vec![c.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, IdentityStatus};

    #[test]
    fn fires_on_age_or_validity() {
        let people = vec![person("E1", IdentityStatus::Active, None)];
        let mut old = cred("old", CredentialKind::SigningKey, "E1");
        old.created = Some(ts("2019-06-01"));
        let mut long = cred("long", CredentialKind::KmsKey, "E1");
        long.expires = Some(ts("2035-06-01"));
        let f = audit(people, vec![old, long]);
        let f = of(&f, "CW-A004");
        assert_eq!(f.len(), 2);
        assert!(f
            .iter()
            .any(|f| f.message.contains("validity period of 3652 days")));
    }

    #[test]
    fn quiet_for_fresh_signing_keys_and_other_kinds() {
        let people = vec![person("E1", IdentityStatus::Active, None)];
        let mut fresh = cred("fresh", CredentialKind::SigningKey, "E1");
        fresh.expires = Some(ts("2026-06-01"));
        let mut api = cred("api", CredentialKind::ApiKey, "E1");
        api.created = Some(ts("2019-06-01"));
        let f = audit(people, vec![fresh, api]);
        assert!(of(&f, "CW-A004").is_empty());
    }
}
