//! CW-A003: a secret or signing key that a departed identity could read, not rotated since they left.
//! This is the Coupang root cause: the engineer's accounts were closed, the signing key he could read
//! lived on, and he forged customer tokens with it for months.

use crate::refs::*;
use crate::Context;
use credwarden_model::{Finding, Identity, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A003",
    name: "departed-reader-unrotated-secret",
    version: 1,
    title: "Secret readable by a departed identity not rotated since departure",
    description: "Someone who could read or export this secret has left, and the secret has not been replaced since. Anything they copied still works: for a token-signing key, they can mint valid tokens for any user.",
    severity: Severity::Critical,
    attack: &[FORGE_WEB_CREDENTIALS, UNSECURED_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[CREDENTIAL_ROTATION, CREDENTIAL_REVOKING],
    false_positives: &["the reader list is broader than real access (fix the inventory)", "the secret was rotated but the inventory's rotation date is stale"],
    recommendation: "Rotate the secret now: publish a successor key, remove the old key id from every verifier (JWKS) and prove a token signed with the old key is refused; rotate shared secrets at both ends.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in ctx.live() {
        let since = r.cred.material_since();
        // Readers who left while the current material existed: each may have kept a copy.
        let mut stale: Vec<&Identity> = ctx
            .departed_readers(r)
            .into_iter()
            .filter(|reader| match (since, reader.end_date) {
                (Some(t), Some(end)) => Context::date(t) <= end,
                _ => true, // cannot prove a rotation after the departure
            })
            .collect();
        if stale.is_empty() {
            continue;
        }
        // Longest-gone first: that departure is how long the secret has been exposed.
        stale.sort_by_key(|i| (i.end_date, i.id.clone()));
        let first = stale[0];
        let days = first.days_since_end(ctx.as_of);
        let rotated = since
            .map(|t| Context::date(t).to_string())
            .unwrap_or_else(|| "an unknown date".into());
        let left = first
            .end_date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "an unknown date".into());
        let others = match stale.len() {
            1 => String::new(),
            n => format!(" and {} other departed reader(s)", n - 1),
        };
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, r.identity()),
            format!(
                "{} {} ({}) was readable by {}, who left on {left}{}{others}; its material dates from {rotated} and has not been rotated since",
                r.cred.kind,
                r.cred.id,
                r.cred.system,
                first.label(),
                days.map(|d| format!(" ({d} days ago)")).unwrap_or_default()
            ),
            ctx.now,
        )
        .fact("departed_readers", stale.iter().map(|i| i.id.clone()).collect::<Vec<_>>())
        .fact("earliest_termination_date", first.end_date.map(|d| d.to_string()))
        .fact("days_since_termination", days)
        .fact("material_since", since.map(|t| t.to_string()));
        // A further departure before the next rotation is a new reason to rotate: a new condition.
        let latest = stale
            .iter()
            .max_by_key(|i| (i.end_date, i.id.clone()))
            .expect("non-empty");
        f.discriminator = Some(latest.id.clone());
        // The condition in its current form began with the latest departure.
        f.first_seen = latest.end_date.and_then(Context::start_of);
        f.evidence = std::iter::once(r.cred.source.clone())
            .chain(stale.iter().take(10).map(|i| i.source.clone()))
            .collect();
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::Policy;
    use credwarden_model::{CredentialKind, IdentityStatus};

    fn people() -> Vec<credwarden_model::Identity> {
        vec![
            person("E1", IdentityStatus::Active, None),
            person("E7", IdentityStatus::Terminated, Some("2024-12-31")),
        ]
    }

    #[test]
    fn coupang_signing_key_readable_by_leaver_via_group() {
        let mut key = cred("login-jwt-2019", CredentialKind::SigningKey, "E1");
        key.created = Some(ts("2019-06-01"));
        key.readers = vec!["login-team".into()];
        let f = audit_with(
            people(),
            vec![key],
            &[("login-team", &["E1", "e7@corp.example"])],
            &Policy::default(),
        );
        let f = of(&f, "CW-A003");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].facts["departed_readers"], serde_json::json!(["E7"]));
        assert_eq!(f[0].facts["days_since_termination"], 181);
    }

    #[test]
    fn departed_owner_of_api_key_counts_as_reader() {
        let mut key = cred("shared-api", CredentialKind::ApiKey, "E7");
        key.created = Some(ts("2024-01-01"));
        let f = audit(people(), vec![key]);
        assert_eq!(of(&f, "CW-A003").len(), 1);
    }

    #[test]
    fn quiet_when_rotated_after_departure_or_readers_current() {
        let mut rotated = cred("k-rot", CredentialKind::SigningKey, "E1");
        rotated.created = Some(ts("2019-06-01"));
        rotated.last_rotated = Some(ts("2025-01-01"));
        rotated.readers = vec!["E7".into()];
        let mut current = cred("k-cur", CredentialKind::SharedSecret, "E1");
        current.created = Some(ts("2019-06-01"));
        current.readers = vec!["E1".into()];
        // An SSH key is not readable by others: the owner-as-reader rule does not apply.
        let mut ssh = cred("k-ssh", CredentialKind::SshKey, "E7");
        ssh.created = Some(ts("2019-06-01"));
        let f = audit(people(), vec![rotated, current, ssh]);
        assert!(of(&f, "CW-A003").is_empty(), "{f:#?}");
    }

    #[test]
    fn one_finding_per_secret_however_many_leavers() {
        let mut people = people();
        people.push(person("E8", IdentityStatus::Terminated, Some("2025-03-01")));
        people.push(person("E9", IdentityStatus::Terminated, Some("2025-06-01")));
        let mut key = cred("k", CredentialKind::SharedSecret, "E1");
        key.created = Some(ts("2024-01-01"));
        key.last_rotated = Some(ts("2025-04-01"));
        key.readers = vec!["team".into()];
        let team: &[&str] = &["E1", "E7", "E8", "E9"];
        let f = audit_with(people, vec![key], &[("team", team)], &Policy::default());
        let f = of(&f, "CW-A003");
        assert_eq!(f.len(), 1);
        // E7 and E8 left before the April rotation; only E9 left after it.
        assert_eq!(f[0].facts["departed_readers"], serde_json::json!(["E9"]));
        assert_eq!(f[0].facts["days_since_termination"], 29);
    }
}
