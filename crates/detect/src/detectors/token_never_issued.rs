//! CW-D007: a bearer token presented to the API gateway that the login service never issued — the
//! check Coupang's gateway lacked. Joins the gateway log with the login service's issuance log by token
//! id (`jti`).
//!
//! The two logs have their own clocks: the issuance log may be written by several servers, exported
//! in daily files not sorted inside, or simply lag. So a gateway token is not judged when it is seen:
//! it waits until the issuance log has passed its time by the allowed skew (`SKEW`, widened by how far
//! out of order issuance records have been seen to arrive), or until the run ends with every source
//! read ([`Detector::finish`]); waiting tokens are kept in the state between runs. A token issued
//! before the issuance log begins is never judged. Findings are per campaign — signing key and
//! client — at its first forged use, and again as it grows (100, 10,000, 1,000,000 forged requests),
//! so one false finding cannot swallow a true one.

use crate::{Detector, Finding};
use credwarden_model::refs::*;
use credwarden_model::{Event, RuleMeta, Severity, SourceRef, Subject};
use std::collections::{HashMap, HashSet, VecDeque};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D007",
    name: "token-never-issued",
    version: 2,
    title: "Token never issued by the login service",
    description: "The gateway accepted a correctly signed token whose id the login service has no record of issuing: a token forged with the signing key, which its holder can mint for any customer.",
    severity: Severity::Critical,
    attack: &[FORGE_WEB_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[CREDENTIAL_ROTATION, ACCOUNT_MONITORING],
    false_positives: &["tokens issued by a second login service whose issuance log is not read", "issuance log gaps (lost records)"],
    recommendation: "Rotate the signing key (publish a successor, drop the old kid from the verifiers), block tokens without issuance records at the gateway, and scope every request made with forged tokens.",
};

/// How far behind the gateway the issuance log may run before a token is judged, at least.
pub const SKEW_SECS: i64 = 300;
/// Most gateway tokens kept waiting for the issuance log (bounded memory); past it, the oldest are
/// judged at once, with lower severity and a note that the log had not caught up.
pub const MAX_PENDING: usize = 2_000_000;
/// Without any issuance record yet, how long gateway requests wait for the log to start.
const NO_LOG_HORIZON_HOURS: i64 = 2;
/// Campaign sizes at which the finding is raised again.
const MILESTONES: [u64; 4] = [1, 100, 10_000, 1_000_000];

/// A gateway token waiting for its judgement.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Pending {
    time: jiff::Timestamp,
    jti: String,
    kid: String,
    sub: Option<String>,
    client: Option<String>,
    iat: Option<jiff::Timestamp>,
    ip: Option<String>,
    raw: SourceRef,
    event_id: Option<String>,
}

/// The detector.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct TokenNeverIssued {
    issued: HashSet<String>,
    /// Earliest and latest issuance record seen (the log's start and its watermark).
    #[serde(default)]
    issued_min: Option<jiff::Timestamp>,
    #[serde(default)]
    issued_max: Option<jiff::Timestamp>,
    /// Furthest an issuance record has arrived behind the watermark (seconds).
    #[serde(default)]
    disorder: i64,
    #[serde(default)]
    pending: VecDeque<Pending>,
    /// Forged requests per campaign (kid, client).
    #[serde(default)]
    campaigns: HashMap<String, u64>,
}

impl TokenNeverIssued {
    /// Judge `p` now.
    fn judge(&mut self, p: Pending, early: bool, out: &mut Vec<Finding>) {
        if self.issued.contains(&p.jti) {
            return;
        }
        // Issued before the issuance log begins: no judgement.
        match (self.issued_min, p.iat) {
            (None, _) => return,
            (Some(start), Some(iat)) if iat < start => return,
            _ => {}
        }
        let client = p.client.clone().unwrap_or_else(|| "?".into());
        let campaign = format!("{}|{client}", p.kid);
        let n = self.campaigns.entry(campaign.clone()).or_insert(0);
        *n += 1;
        let n = *n;
        if !MILESTONES.contains(&n) {
            return;
        }
        let subject = Subject {
            credential_id: Some(p.kid.clone()),
            credential_kind: Some("signing_key".into()),
            principal: p.sub.as_ref().map(|s| format!("member:{s}")),
            system: Some("gateway".into()),
            ..Subject::default()
        };
        let what = if n == 1 {
            format!(
                "gateway accepted token {} (kid {}, sub {}, client {client}) from {} that the login service never issued",
                p.jti,
                p.kid,
                p.sub.as_deref().unwrap_or("?"),
                p.ip.as_deref().unwrap_or("?")
            )
        } else {
            format!(
                "the campaign of tokens the login service never issued (kid {}, client {client}) has reached {n} forged requests; latest token {} from {}",
                p.kid,
                p.jti,
                p.ip.as_deref().unwrap_or("?")
            )
        };
        let what = if early {
            format!("{what} (judged before the issuance log caught up: too many tokens waiting)")
        } else {
            what
        };
        let mut f = Finding::new(&META, subject, what, p.time);
        if early {
            f.severity = Severity::Medium;
        }
        f.first_seen = Some(p.time);
        f.last_seen = Some(p.time);
        f.evidence = vec![p.raw.clone()];
        f.discriminator = Some(format!("{campaign}|{n}"));
        let mut f = f
            .fact("kid", p.kid.clone())
            .fact("jti", p.jti.clone())
            .fact("sub", p.sub.clone())
            .fact("client", client)
            .fact("forged_requests", n);
        if let Some(id) = &p.event_id {
            f = f.fact("event_id", id.clone());
            f.observe("request.uid", id.clone());
        }
        if let Some(ip) = &p.ip {
            f.observe("src_endpoint.ip", ip.clone());
        }
        f.observe("token.jti", p.jti.clone());
        out.push(f);
    }

    /// Judge every waiting token the issuance log has passed.
    fn settle(&mut self, out: &mut Vec<Finding>) {
        let Some(mark) = self.issued_max else { return };
        let wait = jiff::SignedDuration::from_secs(SKEW_SECS + self.disorder);
        while self.pending.front().is_some_and(|p| p.time + wait <= mark) {
            let p = self.pending.pop_front().expect("front exists");
            self.judge(p, false, out);
        }
        while self.pending.len() > MAX_PENDING {
            let p = self.pending.pop_front().expect("over the limit");
            self.judge(p, true, out);
        }
    }
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
                self.issued_min = Some(self.issued_min.map_or(ev.time, |m| m.min(ev.time)));
                match self.issued_max {
                    Some(m) if ev.time < m => {
                        self.disorder = self.disorder.max(m.as_second() - ev.time.as_second());
                    }
                    _ => self.issued_max = Some(ev.time),
                }
                self.settle(out);
            }
            Some("gateway") => {
                let Some(jti) = &t.jti else { return };
                // Known issued: nothing to wait for.
                if self.issued.contains(jti) {
                    return;
                }
                self.pending.push_back(Pending {
                    time: ev.time,
                    jti: jti.clone(),
                    kid: t.kid.clone().unwrap_or_else(|| "(no kid)".into()),
                    sub: t.sub.clone(),
                    client: t.client.clone(),
                    iat: t.iat,
                    ip: ev.src.ip.clone(),
                    raw: ev.raw.clone(),
                    event_id: ev.event_id.clone(),
                });
                // No issuance record seen at all (no issuance log, as at Coupang): nothing can be
                // judged, so only the last hours wait for a log that may start late in the merge;
                // older requests are let go instead of growing the queue with every request.
                if self.issued_min.is_none() {
                    let horizon = ev.time - jiff::SignedDuration::from_hours(NO_LOG_HORIZON_HOURS);
                    while self.pending.front().is_some_and(|p| p.time < horizon) {
                        self.pending.pop_front();
                    }
                }
                self.settle(out);
            }
            _ => {}
        }
    }
    fn finish(&mut self, sources_stopped: bool, out: &mut Vec<Finding>) {
        if sources_stopped {
            while let Some(p) = self.pending.pop_front() {
                self.judge(p, false, out);
            }
        } else {
            self.settle(out);
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
                exp: None,
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

    /// Every event, then the end of input with every source read.
    fn all(d: &mut TokenNeverIssued, evs: &[Event]) -> Vec<Finding> {
        let mut f = run(d, evs);
        d.finish(true, &mut f);
        f
    }

    #[test]
    fn without_an_issuance_log_the_queue_stays_bounded() {
        let mut d = TokenNeverIssued::default();
        let mut out = vec![];
        for k in 0..10_000i64 {
            let mut e = crate::detectors::testkit::gateway(0, k * 10, k as u64);
            e.token.as_mut().unwrap().jti = Some(format!("j{k}"));
            d.on_event(&e, &mut out);
        }
        // 100,000 s of requests, two hours kept.
        assert!(d.pending.len() <= 721, "{}", d.pending.len());
        d.finish(true, &mut out);
        assert!(out.is_empty(), "nothing is judged without an issuance log");
    }

    #[test]
    fn fires_once_per_campaign_for_unissued_tokens() {
        let evs = [
            ev("token_issuance", 0, "a"),
            ev("gateway", 10, "a"),
            ev("gateway", 20, "forged-1"),
            ev("gateway", 30, "forged-2"),
        ];
        let f = all(&mut TokenNeverIssued::default(), &evs);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].subject.credential_id.as_deref(),
            Some("login-rs256-2019")
        );
        assert_eq!(f[0].facts["jti"], "forged-1");
        // The campaign grows: raised again at 100 forged requests, not before.
        let mut evs = vec![ev("token_issuance", 0, "a")];
        evs.extend((0..150).map(|i| ev("gateway", 10 + i, &format!("f{i}"))));
        let f = all(&mut TokenNeverIssued::default(), &evs);
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].facts["forged_requests"], 100);
    }

    #[test]
    fn silent_without_issuance_log_or_for_tokens_older_than_it() {
        assert!(all(&mut TokenNeverIssued::default(), &[ev("gateway", 10, "x")]).is_empty());
        let mut old = ev("gateway", 100, "old");
        old.token.as_mut().unwrap().iat =
            Some(jiff::Timestamp::from_second(1_743_700_000).unwrap());
        assert!(all(
            &mut TokenNeverIssued::default(),
            &[ev("token_issuance", 50, "a"), old]
        )
        .is_empty());
    }

    /// The issuance record comes after the request in merge order (another server's file, a
    /// lagging writer, an unsorted export): no finding, however late, as long as it comes before
    /// the issuance log has passed the request by the skew.
    #[test]
    fn an_issuance_record_arriving_late_is_no_forgery() {
        let evs = [
            ev("token_issuance", 0, "a"),
            ev("gateway", 10, "b"),
            ev("gateway", 20, "c"),
            // Unsorted issuance export: a record 4 minutes back, then the one for "b" and "c".
            ev("token_issuance", 250, "z"),
            ev("token_issuance", 10, "x"),
            ev("token_issuance", 5, "b"),
            ev("token_issuance", 15, "c"),
        ];
        assert!(all(&mut TokenNeverIssued::default(), &evs).is_empty());
    }

    /// Following (sources not stopped): a token waits until the issuance log has passed it, kept in
    /// the state across runs, then is judged.
    #[test]
    fn a_token_waits_for_the_issuance_log_across_runs() {
        let mut d = TokenNeverIssued::default();
        let mut out = run(
            &mut d,
            &[ev("token_issuance", 0, "a"), ev("gateway", 10, "forged")],
        );
        d.finish(false, &mut out);
        assert!(
            out.is_empty(),
            "the issuance log has not passed the request yet"
        );
        let saved = d.save().unwrap();
        let mut d = TokenNeverIssued::default();
        d.restore(saved).unwrap();
        let mut out = run(&mut d, &[ev("token_issuance", 100, "b")]);
        d.finish(false, &mut out);
        assert!(out.is_empty(), "still within the skew");
        let out = run(&mut d, &[ev("token_issuance", 10 + SKEW_SECS + 1, "c")]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].facts["jti"], "forged");
    }
}
