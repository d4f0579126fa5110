//! CW-B005: one client fingerprint (user agent and network) presents the tokens of many different
//! members in a day, far more than it ever does — one program replaying or forging customer tokens,
//! whatever number of addresses it spreads over. Walks over sequential member ids and requests for
//! members that do not exist (404) are counted as aggravating facts.
//!
//! Per fingerprint (hash of user agent + ASN, or + /16 without enrichment): a [`DailySeries`] of
//! distinct members per day, today's members ([`Distinct`], 1 KiB) and up to 1,024 numeric ids for
//! the walk measure (8 KiB): under 10 KiB per fingerprint, whatever its traffic. Judged once the
//! gateway log has 3 days. The line: 10 × the fingerprint's usual day, at least 50 members; one
//! finding per fingerprint, ever (a partner integration presenting its members every day is one
//! condition, and its later days become its baseline), and one per network and day.
//!
//! Severity: critical with a forger's marks (ids mostly sequential, many refused requests); high
//! when the tokens carry a client id the shop's own apps use from many other fingerprints (someone
//! presenting tokens as the app); medium when the client id is the fingerprint's own (an
//! integration with its own client registration: confirm it is a known partner).

use crate::baseline::{self, DailySeries, Distinct};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B005",
    name: "client-presents-many-members",
    version: 1,
    title: "One client presents many members' tokens",
    description: "A single client fingerprint (user agent and network) uses the tokens of far more distinct members today than it ever does: a script holding forged or stolen customer tokens. Sequential member ids and requests for members that do not exist make it worse.",
    severity: Severity::High,
    attack: &[FORGE_WEB_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[RESOURCE_ACCESS_PATTERN, PLATFORM_MONITORING],
    false_positives: &["a carrier-grade NAT where one app version and one mobile network carry many customers (its usual day is then large, and it is judged against it)", "support tools acting for customers"],
    recommendation: "Block the fingerprint at the gateway, check whether its tokens were issued (kid, jti), and rotate the signing key if they were not.",
};

const MIN_MEMBERS: u64 = 50;
const FACTOR: f64 = 10.0;
const LEARN_DAYS: i64 = 3;
const KEEP: usize = 1024;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Client {
    members_per_day: DailySeries,
    today: Distinct,
    /// Numeric member ids seen today (up to [`KEEP`]), for the walk measure.
    #[serde(skip)]
    numeric: HashSet<u64>,
    #[serde(skip)]
    not_found: u64,
    reported: i64,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct ClientManyMembers {
    first_day: Option<i64>,
    clients: HashMap<u64, Client>,
    /// Network → last day a finding was made for one of its clients: one finding per network and
    /// day, however many user agents a script rotates through.
    #[serde(default)]
    networks: HashMap<String, i64>,
    /// Client id (hash) → fingerprints seen presenting it (up to 8).
    #[serde(default)]
    client_fps: HashMap<u64, Vec<u64>>,
}

fn fingerprint(ev: &Event) -> (u64, String, String) {
    let ua = ev.user_agent.as_deref().unwrap_or("-");
    let net = match ev.src.asn {
        Some(a) => format!("AS{a}"),
        None => {
            let ip = ev.src.ip.as_deref().unwrap_or("-");
            let mut p = ip.split('.');
            match (p.next(), p.next(), p.next()) {
                (Some(a), Some(b), Some(_)) => format!("{a}.{b}.0.0/16"),
                _ => ip.to_string(),
            }
        }
    };
    let label = format!("{ua} @ {net}");
    (baseline::hash(&label), label, net)
}

impl Detector for ClientManyMembers {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.resource.kind.as_deref() != Some("gateway") || ev.outcome == EventOutcome::Denied {
            return;
        }
        let Some(sub) = ev.token.as_ref().and_then(|t| t.sub.as_deref()) else {
            return;
        };
        let d = baseline::day(ev.time);
        let first = *self.first_day.get_or_insert(d);
        let (fp, label, net) = fingerprint(ev);
        let c = self.clients.entry(fp).or_insert_with(|| Client {
            reported: i64::MIN,
            ..Client::default()
        });
        if c.members_per_day.today.0 != d {
            c.today.clear();
            c.numeric.clear();
            c.not_found = 0;
        }
        if ev.outcome == EventOutcome::Failure {
            c.not_found += 1;
        }
        c.today.insert(baseline::hash(sub));
        let members = c.members_per_day.set(d, c.today.estimate());
        if c.numeric.len() < KEEP {
            if let Ok(n) = sub.parse::<u64>() {
                c.numeric.insert(n);
            }
        }
        if let Some(client) = ev.token.as_ref().and_then(|t| t.client.as_deref()) {
            let fps = self.client_fps.entry(baseline::hash(client)).or_default();
            if fps.len() < 8 && !fps.contains(&fp) {
                fps.push(fp);
            }
        }
        if d - first < LEARN_DAYS || c.reported != i64::MIN {
            return;
        }
        let usual = c.members_per_day.baseline(1).map_or(0.0, |(m, _)| m);
        if (members as f64) < (FACTOR * usual).max(MIN_MEMBERS as f64) {
            return;
        }
        c.reported = d;
        c.members_per_day.mark_anomalous();
        if self.networks.get(&net) == Some(&d) {
            return;
        }
        self.networks.insert(net, d);
        let sequential = c
            .numeric
            .iter()
            .filter(|n| c.numeric.contains(&(**n + 1)))
            .count();
        let share = sequential as f64 / c.numeric.len().max(1) as f64;
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "client {label} presented {members} different members' tokens today (usual day: {usual:.0}); {:.0}% sequential ids, {} failed requests",
                share * 100.0,
                c.not_found
            ),
        )
        .fact("client", label.clone())
        .fact("members_today", members)
        .fact("usual_day", usual)
        .fact("sequential_share", (share * 100.0).round() / 100.0)
        .fact("failed_requests", c.not_found);
        f.subject.principal = Some(format!("client:{label}"));
        f.subject.credential_id = ev.token.as_ref().and_then(|t| t.kid.clone());
        f.subject.credential_kind = f
            .subject
            .credential_id
            .as_ref()
            .map(|_| "signing_key".to_string());
        let shared_client = ev
            .token
            .as_ref()
            .and_then(|t| t.client.as_deref())
            .and_then(|cl| self.client_fps.get(&baseline::hash(cl)))
            .is_some_and(|fps| fps.len() > 3);
        f.severity = if share > 0.5 || c.not_found > 10 {
            Severity::Critical
        } else if shared_client {
            Severity::High
        } else {
            Severity::Medium
        };
        f = f.fact("client_id_shared_with_other_clients", shared_client);
        f.discriminator = Some(format!("{fp:x}"));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{gateway, run};
    use super::*;

    fn req(day: i64, secs: i64, ua: &str, asn: u32, member: u64) -> Event {
        let mut e = gateway(day, secs, member);
        e.src.asn = Some(asn);
        e.user_agent = Some(ua.into());
        e
    }

    /// The shop app on a mobile network: 300 members a day, every day.
    fn app(days: i64) -> Vec<Event> {
        (0..days)
            .flat_map(|d| {
                (0..300).map(move |i| {
                    req(
                        d,
                        i * 60,
                        "ShopApp/5.2.1",
                        4766,
                        (d as u64 * 7919 + i as u64 * 104_729) % 1_000_000,
                    )
                })
            })
            .collect()
    }

    #[test]
    fn a_script_walking_member_ids_is_critical() {
        let mut ev = app(5);
        ev.extend((0..200).map(|i| {
            req(
                5,
                30_000 + i,
                "python-requests/2.31.0",
                666,
                5000 + i as u64,
            )
        }));
        ev.sort_by_key(|e| e.time);
        let f = run(&mut ClientManyMembers::default(), &ev);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Critical);
        let m = f[0].facts["members_today"].as_u64().unwrap();
        assert!((50..=53).contains(&m), "{m}");
    }

    fn with_client(mut e: Event, client: &str) -> Event {
        e.token.as_mut().unwrap().client = Some(client.into());
        e
    }

    #[test]
    fn an_integration_with_its_own_client_is_medium_once_the_app_impersonated_is_high() {
        // The app on five networks, one client id.
        let mut ev: Vec<Event> = (0..8)
            .flat_map(|d| {
                (0..200u64).map(move |i| {
                    with_client(
                        req(
                            d,
                            i as i64 * 60,
                            "ShopApp/5.2.1",
                            4766 + (i % 5) as u32,
                            d as u64 * 1000 + i,
                        ),
                        "shop-ios",
                    )
                })
            })
            .collect();
        // Days 5–7: a partner goes live with its own client id, 300 members a day.
        for d in 5..8 {
            ev.extend((0..300u64).map(|i| {
                with_client(
                    req(d, 40_000 + i as i64, "GiftBox/1.0", 16509, 7 * i + 3),
                    "partner-giftbox",
                )
            }));
        }
        // Day 7: someone presents 120 members' tokens as the app, from a hosting network.
        ev.extend((0..120u64).map(|i| {
            with_client(
                req(
                    7,
                    60_000 + i as i64,
                    "ShopApp/5.2.1",
                    14061,
                    500_000 + i * 97,
                ),
                "shop-ios",
            )
        }));
        ev.sort_by_key(|e| e.time);
        let f = run(&mut ClientManyMembers::default(), &ev);
        let sev: Vec<(String, Severity)> = f
            .iter()
            .map(|f| (f.facts["client"].as_str().unwrap().to_string(), f.severity))
            .collect();
        assert_eq!(
            sev,
            [
                ("GiftBox/1.0 @ AS16509".to_string(), Severity::Medium),
                ("ShopApp/5.2.1 @ AS14061".to_string(), Severity::High)
            ],
            "the partner is reported once, not every day"
        );
    }

    #[test]
    fn the_app_on_its_usual_network_and_the_first_days_stay_quiet() {
        let mut ev = app(8);
        // A busier day for the app (twice its usual) is not a finding.
        ev.extend((0..300).map(|i| req(8, i * 10, "ShopApp/5.2.1", 4766, 900_000 + i as u64 * 3)));
        // A new script on day 1 (the population is still being learnt).
        ev.extend((0..80).map(|i| req(1, 50_000 + i, "curl/8.0", 666, 100 + i as u64)));
        ev.sort_by_key(|e| e.time);
        assert!(run(&mut ClientManyMembers::default(), &ev).is_empty());
    }
}
