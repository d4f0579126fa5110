//! CW-D007: a bearer token presented to the API gateway that the login service never issued — the
//! check Coupang's gateway lacked. Joins the gateway log with the login service's issuance log by token
//! id (`jti`). Silent when no issuance log is read (nothing to join with), and for tokens issued before
//! the issuance log begins.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, Finding, RuleMeta, Severity};
use std::collections::{HashMap, HashSet};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D007",
    name: "token-never-issued",
    version: 1,
    title: "Token never issued by the login service",
    description: "The gateway accepted a correctly signed token whose id the login service has no record of issuing: a token forged with the signing key, which its holder can mint for any customer.",
    severity: Severity::Critical,
    attack: &[FORGE_WEB_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[CREDENTIAL_ROTATION, ACCOUNT_MONITORING],
    false_positives: &["tokens issued by a second login service whose issuance log is not read", "issuance log gaps (lost records)"],
    recommendation: "Rotate the signing key (publish a successor, drop the old kid from the verifiers), block tokens without issuance records at the gateway, and scope every request made with forged tokens.",
};

/// The detector: the set of issued token ids, and one finding per signing key and day.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct TokenNeverIssued {
    issued: HashSet<String>,
    log_start: Option<jiff::Timestamp>,
    /// kid → day → forged requests counted so far.
    seen: HashMap<String, HashMap<i64, u64>>,
}

impl Detector for TokenNeverIssued {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        let Some(t) = &ev.token else { return };
        match ev.resource.kind.as_deref() {
            Some("token_issuance") => {
                if let Some(j) = &t.jti {
                    self.issued.insert(j.clone());
                }
                self.log_start.get_or_insert(ev.time);
            }
            Some("gateway") => {
                let (Some(start), Some(jti)) = (self.log_start, &t.jti) else {
                    return;
                };
                // Issued before we could have seen it: no judgement.
                if t.iat.is_some_and(|iat| iat < start) || self.issued.contains(jti) {
                    return;
                }
                let kid = t.kid.clone().unwrap_or_else(|| "(no kid)".into());
                let day = ev.time.as_second().div_euclid(86_400);
                let n = self
                    .seen
                    .entry(kid.clone())
                    .or_default()
                    .entry(day)
                    .or_insert(0);
                *n += 1;
                if *n > 1 {
                    return;
                }
                let mut f = finding_for(&META, ev, format!("gateway accepted token {jti} (kid {kid}, sub {}, client {}) from {} that the login service never issued", t.sub.as_deref().unwrap_or("?"), t.client.as_deref().unwrap_or("?"), ev.src.ip.as_deref().unwrap_or("?")))
                    .fact("kid", kid.clone())
                    .fact("jti", jti.clone())
                    .fact("sub", t.sub.clone());
                // The subject is the signing key: that is what must be rotated.
                f.subject.credential_id = Some(kid.clone());
                f.subject.credential_kind = Some("signing_key".into());
                f.subject.principal = t.sub.as_ref().map(|s| format!("member:{s}"));
                f.discriminator = Some(day.to_string());
                out.push(f);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::run;
    use super::*;
    use credwarden_model::{EventOutcome, Network, ResourceRef, SourceRef, TokenClaims, Volume};

    fn ev(kind: &str, secs: i64, jti: &str) -> Event {
        Event {
            time: jiff::Timestamp::from_second(1_743_800_000 + secs).unwrap(),
            credential_id: Some("login-rs256-2019".into()),
            principal: Some("17".into()),
            token: Some(TokenClaims {
                sub: Some("17".into()),
                jti: Some(jti.into()),
                kid: Some("login-rs256-2019".into()),
                iat: Some(jiff::Timestamp::from_second(1_743_800_000 + secs - 5).unwrap()),
                client: Some("shop-web".into()),
            }),
            action: "GET".into(),
            resource: ResourceRef {
                kind: Some(kind.into()),
                id: None,
                sensitivity: None,
            },
            src: Network::default(),
            user_agent: None,
            outcome: EventOutcome::Success,
            volume: Volume::default(),
            event_id: Some(format!("{kind}-{jti}")),
            detail: serde_json::Value::Null,
            raw: SourceRef::new("g.jsonl", 1),
        }
    }

    #[test]
    fn fires_once_per_key_and_day_for_unissued_tokens() {
        let evs = [
            ev("token_issuance", 0, "a"),
            ev("gateway", 10, "a"),
            ev("gateway", 20, "forged-1"),
            ev("gateway", 30, "forged-2"),
        ];
        let f = run(&mut TokenNeverIssued::default(), &evs);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].subject.credential_id.as_deref(),
            Some("login-rs256-2019")
        );
        assert_eq!(f[0].facts["jti"], "forged-1");
    }

    #[test]
    fn silent_without_issuance_log_or_for_tokens_older_than_it() {
        assert!(run(&mut TokenNeverIssued::default(), &[ev("gateway", 10, "x")]).is_empty());
        let mut old = ev("gateway", 100, "old");
        old.token.as_mut().unwrap().iat =
            Some(jiff::Timestamp::from_second(1_743_700_000).unwrap());
        assert!(run(
            &mut TokenNeverIssued::default(),
            &[ev("token_issuance", 50, "a"), old]
        )
        .is_empty());
    }
}
