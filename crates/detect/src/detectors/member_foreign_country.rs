//! CW-B007: customers' tokens used from a country those customers never use, many members at once.
//! A single traveller is not news; twenty members in a day suddenly "abroad" in the same country is
//! someone holding their tokens.
//!
//! Per member (hash of the token's `sub`): up to two usual countries and the first day seen — 16 bytes
//! of profile, about 60 bytes with the map, per member. A member is judged from its third day. Per
//! (country, day): the distinct members seen there for the first time (a [`Distinct`] sketch, 1 KiB).
//! The line: 20 members in a day; one finding a day (the first country to cross it). Needs the
//! country (enrichment).

use crate::baseline::{self, Distinct};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B007",
    name: "members-from-foreign-country",
    version: 1,
    title: "Many members' tokens used from a country they never use",
    description: "In one day, twenty or more customers whose tokens were only ever used from other countries appear in the same new country: their tokens are in someone else's hands (forged with a stolen signing key, or stolen).",
    severity: Severity::High,
    attack: &[FORGE_WEB_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[RESOURCE_ACCESS_PATTERN],
    false_positives: &["a holiday season sending many customers to one destination (spread over days, rarely twenty a day from a small shop)"],
    recommendation: "Check the tokens' issuance records and the networks they came from; revoke the members' sessions and rotate the signing key if they were not issued.",
};

const LINE: u64 = 20;
const JUDGE_AFTER_DAYS: i32 = 2;

fn code(c: &str) -> u16 {
    let b = c.as_bytes();
    if b.len() == 2 {
        (b[0] as u16) << 8 | b[1] as u16
    } else {
        0
    }
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
struct Member {
    first_day: i32,
    countries: [u16; 2],
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Country {
    day: i64,
    members: Distinct,
    reported: i64,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct MemberForeignCountry {
    members: HashMap<u64, Member>,
    countries: HashMap<u16, Country>,
    /// Last day a finding was made (one a day: the countries are facets of one story).
    #[serde(default)]
    reported_day: Option<i64>,
}

impl Detector for MemberForeignCountry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.resource.kind.as_deref() != Some("gateway") || ev.outcome == EventOutcome::Denied {
            return;
        }
        let (Some(sub), Some(country)) = (
            ev.token.as_ref().and_then(|t| t.sub.as_deref()),
            ev.src.country.as_deref(),
        ) else {
            return;
        };
        let c = code(country);
        if c == 0 {
            return;
        }
        let d = baseline::day(ev.time);
        let h = baseline::hash(sub);
        let m = self.members.entry(h).or_insert(Member {
            first_day: d as i32,
            countries: [c, 0],
        });
        if m.countries.contains(&c) {
            return;
        }
        if (d as i32) - m.first_day < JUDGE_AFTER_DAYS {
            // Still learning this member: a second usual country (home and mobile roaming).
            if m.countries[1] == 0 {
                m.countries[1] = c;
            }
            return;
        }
        let k = self.countries.entry(c).or_insert_with(|| Country {
            reported: i64::MIN,
            ..Country::default()
        });
        if k.day != d {
            k.day = d;
            k.members.clear();
        }
        k.members.insert(h);
        let n = k.members.estimate();
        if n < LINE || k.reported == d || self.reported_day == Some(d) {
            return;
        }
        k.reported = d;
        self.reported_day = Some(d);
        let mut f = finding_for(
            &META,
            ev,
            format!("{n} members' tokens used today from {country}, a country none of them had used; latest from {}", ev.src.ip.as_deref().unwrap_or("?")),
        )
        .fact("country", country)
        .fact("members_today", n);
        f.subject.principal = Some(format!("country:{country}"));
        f.subject.credential_id = ev.token.as_ref().and_then(|t| t.kid.clone());
        f.subject.credential_kind = f
            .subject
            .credential_id
            .as_ref()
            .map(|_| "signing_key".to_string());
        f.discriminator = Some(format!("{country}:{d}"));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{gateway, run};
    use super::*;

    fn req(day: i64, secs: i64, member: u64, country: &str) -> Event {
        let mut e = gateway(day, secs, member);
        e.src.country = Some(country.into());
        e.src.asn = Some(1);
        e
    }

    fn home(days: i64, members: u64) -> Vec<Event> {
        (0..days)
            .flat_map(|d| (0..members).map(move |m| req(d, m as i64, m, "KR")))
            .collect()
    }

    #[test]
    fn many_members_suddenly_abroad_in_one_country_fire_once() {
        let mut ev = home(4, 100);
        ev.extend((0..40).map(|m| req(4, 1000 + m as i64, m, "NL")));
        let f = run(&mut MemberForeignCountry::default(), &ev);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].subject.principal.as_deref(), Some("country:NL"));
    }

    #[test]
    fn travellers_roaming_and_new_members_stay_quiet() {
        let mut ev = home(4, 100);
        // Five travellers.
        ev.extend((0..5).map(|m| req(4, 1000 + m as i64, m, "JP")));
        // New members seen first abroad (their first days teach their countries).
        ev.extend((500..560).map(|m| req(4, 2000 + m as i64, m, "US")));
        ev.extend((500..560).map(|m| req(5, 2000 + m as i64, m, "US")));
        assert!(run(&mut MemberForeignCountry::default(), &ev).is_empty());
    }
}
