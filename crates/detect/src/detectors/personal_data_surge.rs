//! CW-B004: views of customers' personal data (address books, orders, profiles) through the API
//! gateway surge from one network — counted over every address of that network together, so that an
//! attacker spreading requests over thousands of addresses, each under any per-address threshold,
//! is still one line crossed.
//!
//! Population level: per network (ASN when enrichment knows it, else the /16 of the address), a
//! [`DailySeries`] of personal-data views (up to 28 active days) and today's distinct members and
//! addresses ([`Distinct`], 1 KiB each): about 2.5 KiB per network whatever its traffic. Judged once the gateway log has 3 days of history. The line: 10 ×
//! the network's usual day, and at least 200 views; one finding per network and day.

use crate::baseline::{self, personal, DailySeries, Distinct};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B004",
    name: "personal-data-surge-from-network",
    version: 1,
    title: "Surge of customers' personal-data views from one network",
    description: "Personal-data endpoints (address book, orders, profile…) viewed from one network far more than that network ever does, summed over all its addresses: forged or stolen tokens used at scale from infrastructure that no per-address threshold sees.",
    severity: Severity::High,
    attack: &[FORGE_WEB_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[RESOURCE_ACCESS_PATTERN, PLATFORM_MONITORING],
    false_positives: &["a partner integration or a new mobile carrier starting to send traffic", "a marketing campaign bringing many customers from one ISP"],
    recommendation: "Look at the tokens used from that network (kid, issuance, members); block the network at the gateway if they are forged and rotate the signing key.",
};

const MIN_VIEWS: u64 = 200;
const FACTOR: f64 = 10.0;
const LEARN_DAYS: i64 = 3;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Net {
    views: DailySeries,
    members: Distinct,
    addresses: Distinct,
    reported: i64,
    /// The last distinct addresses seen today (up to 16): named on the finding, so the analyst
    /// (and the block list) gets the surge's own addresses, not only the network.
    #[serde(default)]
    recent: std::collections::VecDeque<String>,
    /// The current surge: (first day, last day over the line). A surge that goes on day after day
    /// is one finding (with its first day), not one a day; its days stay out of the baseline.
    #[serde(default)]
    surge: Option<(i64, i64)>,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct PersonalDataSurge {
    first_day: Option<i64>,
    nets: HashMap<String, Net>,
}

fn network_of(ev: &Event) -> Option<String> {
    if let Some(a) = ev.src.asn {
        return Some(format!("AS{a}"));
    }
    let ip = ev.src.ip.as_deref()?;
    let mut parts = ip.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(_), Some(_)) => Some(format!("{a}.{b}.0.0/16")),
        _ => Some(ip.to_string()),
    }
}

impl Detector for PersonalDataSurge {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.resource.kind.as_deref() != Some("gateway")
            || ev.outcome != EventOutcome::Success
            || !personal(&ev.action)
        {
            return;
        }
        let Some(net_key) = network_of(ev) else {
            return;
        };
        let d = baseline::day(ev.time);
        let first = *self.first_day.get_or_insert(d);
        let n = self.nets.entry(net_key.clone()).or_insert_with(|| Net {
            reported: i64::MIN,
            ..Net::default()
        });
        if n.views.today.0 != d {
            n.members.clear();
            n.addresses.clear();
            n.recent.clear();
        }
        let views = n.views.add(d, 1);
        if let Some(sub) = ev
            .token
            .as_ref()
            .and_then(|t| t.sub.as_deref())
            .or(ev.principal.as_deref())
        {
            n.members.insert(baseline::hash(sub));
        }
        if let Some(ip) = ev.src.ip.as_deref() {
            n.addresses.insert(baseline::hash(ip));
            if !n.recent.iter().any(|r| r == ip) {
                if n.recent.len() == 16 {
                    n.recent.pop_front();
                }
                n.recent.push_back(ip.to_string());
            }
        }
        if d - first < LEARN_DAYS || n.reported == d {
            return;
        }
        let usual = n.views.baseline(1).map_or(0.0, |(m, _)| m);
        let limit = (FACTOR * usual).max(MIN_VIEWS as f64);
        if (views as f64) < limit {
            return;
        }
        n.reported = d;
        n.views.mark_anomalous();
        // Still the same surge (over the line yesterday too): already reported.
        let start = match n.surge {
            Some((start, last)) if last + 1 >= d => start,
            _ => d,
        };
        n.surge = Some((start, d));
        if start != d {
            return;
        }
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{views} personal-data views today from {net_key} ({}), {} members, {} addresses; its usual day: {usual:.0}",
                ev.src.country.as_deref().unwrap_or("?"),
                n.members.estimate(),
                n.addresses.estimate()
            ),
        )
        .fact("network", net_key.clone())
        .fact("views_today", views)
        .fact("members_today", n.members.estimate())
        .fact("addresses_today", n.addresses.estimate())
        .fact("usual_day", usual);
        // The subject is the network, not the member whose token happened to cross the line.
        f.subject.principal = Some(format!("network:{net_key}"));
        f.subject.credential_id = ev.token.as_ref().and_then(|t| t.kid.clone());
        f.subject.credential_kind = f
            .subject
            .credential_id
            .as_ref()
            .map(|_| "signing_key".to_string());
        f.discriminator = Some(format!("{net_key}:{start}"));
        f.observe("network", net_key.clone());
        for ip in &n.recent {
            f.observe("src_endpoint.ip", ip.clone());
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{gateway, run};
    use super::*;

    fn view(day: i64, secs: i64, asn: u32, member: u64, ip: &str) -> Event {
        let mut e = gateway(day, secs, member);
        e.src.asn = Some(asn);
        e.src.ip = Some(ip.into());
        e
    }

    /// Customers from a home ISP: 500 views a day.
    fn customers(days: i64) -> Vec<Event> {
        (0..days)
            .flat_map(|d| {
                (0..500).map(move |i| {
                    view(
                        d,
                        i * 100,
                        4766,
                        i as u64,
                        &format!("121.134.{}.{}", i % 200, i % 250),
                    )
                })
            })
            .collect()
    }

    #[test]
    fn a_surge_that_goes_on_is_one_finding_a_new_one_after_a_quiet_day_is_another() {
        let mut ev = customers(6);
        let surge = |d: i64| {
            (0..400).map(move |i| {
                view(
                    d,
                    3600 + i,
                    666,
                    10_000 + i as u64,
                    &format!("45.133.{}.{}", i % 256, i % 200),
                )
            })
        };
        for d in [6, 7, 8, 10] {
            ev.extend(surge(d));
        }
        ev.sort_by_key(|e| e.time);
        let f = run(&mut PersonalDataSurge::default(), &ev);
        let days: Vec<i64> = f
            .iter()
            .map(|f| baseline::day(f.time) - baseline::day(ev[0].time))
            .collect();
        assert_eq!(days, [6, 10], "days 7 and 8 continue the surge of day 6");
    }

    #[test]
    fn a_network_spread_over_many_addresses_crosses_the_line_once_a_day() {
        let mut ev = customers(6);
        // Day 6: 1,500 views from 1,500 addresses of one hosting ASN, a few per address.
        ev.extend((0..1500).map(|i| {
            view(
                6,
                3600 + i,
                666,
                10_000 + i as u64,
                &format!("45.{}.{}.{}", 133 + i % 4, i % 256, i % 200),
            )
        }));
        ev.sort_by_key(|e| e.time);
        let f = run(&mut PersonalDataSurge::default(), &ev);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].facts["views_today"], serde_json::json!(200));
        assert_eq!(f[0].subject.principal.as_deref(), Some("network:AS666"));
        assert!(f[0].facts["addresses_today"].as_u64().unwrap() > 150);
    }

    #[test]
    fn usual_traffic_growth_and_the_first_days_stay_quiet() {
        // A busy home ISP doubling its traffic is not a surge.
        let mut ev = customers(6);
        ev.extend((0..1000).map(|i| view(6, i * 50, 4766, i as u64, "121.134.1.1")));
        // A new network on day 1 (still learning the population) with 300 views.
        ev.extend((0..300).map(|i| view(1, 40_000 + i, 777, i as u64, "45.1.1.1")));
        // A few customers abroad.
        ev.extend((0..20).map(|i| view(6, 50_000 + i, 7922, i as u64, "73.162.15.2")));
        ev.sort_by_key(|e| e.time);
        assert!(run(&mut PersonalDataSurge::default(), &ev).is_empty());
    }
}
