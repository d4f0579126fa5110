//! CW-B006: an API call unusual for the credential on several counts at once — an action it has
//! never or rarely made, at an hour it is rarely active, from a network it does not use. Each alone
//! is everyday drift (a new script, an on-call night, a trip); together they are someone else.
//!
//! Per subject: a frequency profile of up to 48 actions (32-bit hashes and counts: frequent ≥ 5 % of
//! its calls, infrequent, rare < 0.5 %, unseen) and an hour-of-day histogram. Score: unseen action 2,
//! rare action 1; hour with under 2 % of its activity (with the neighbouring hours) 1; network
//! outside its last 4 ASNs 1. Judged after learning and 200 calls; a score of 4 is a finding (one per
//! subject and day), raised to high for a write (not read-only) call.

use crate::baseline::{self, subject_key, LEARNING_DAYS};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B006",
    name: "unusual-api-call",
    version: 1,
    title: "API call unusual for the credential on several counts",
    description: "An action the credential never or rarely makes, at an hour it is rarely active, from a network it does not use: each is ordinary drift, together they suggest someone else holds the key.",
    severity: Severity::Medium,
    attack: &[VALID_ACCOUNTS, CLOUD_DISCOVERY],
    d3fend: &[RESOURCE_ACCESS_PATTERN, ACCOUNT_MONITORING],
    false_positives: &["an engineer on call at night trying a new command from a hotel"],
    recommendation: "Ask the owner about the call; if they did not make it, revoke the credential and scope what it did.",
};

const ACTIONS: usize = 48;
const MIN_CALLS: u32 = 200;
const THRESHOLD: u8 = 4;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Profile {
    first: i64,
    calls: u32,
    actions: Vec<(u32, u16)>,
    hours: [u16; 24],
    asns: Vec<u32>,
    reported: i64,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct UnusualCall {
    subjects: HashMap<String, Profile>,
}

impl Detector for UnusualCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Success || ev.detail.get("eventSource").is_none() {
            return;
        }
        let Some(key) = subject_key(ev) else { return };
        let t = ev.time.as_second();
        let d = baseline::day(ev.time);
        let hour = (t.rem_euclid(baseline::DAY) / 3600) as usize;
        let action = baseline::hash(&ev.action) as u32;
        let p = self
            .subjects
            .entry(key.to_string())
            .or_insert_with(|| Profile {
                first: t,
                reported: i64::MIN,
                ..Profile::default()
            });
        // Judge against what was known before this call.
        let judged =
            t - p.first >= LEARNING_DAYS * baseline::DAY && p.calls >= MIN_CALLS && p.reported != d;
        let mut score = 0u8;
        let mut why = Vec::new();
        if judged {
            let count = p
                .actions
                .iter()
                .find(|a| a.0 == action)
                .map_or(0, |a| a.1 as u32);
            if count == 0 {
                score += 2;
                why.push("action never made before".to_string());
            } else if (count as f64) < 0.005 * p.calls as f64 {
                score += 1;
                why.push(format!("action made {count} times in {} calls", p.calls));
            }
            let near: u32 = [23, 0, 1]
                .iter()
                .map(|o| p.hours[(hour + o) % 24] as u32)
                .sum();
            let total: u32 = p.hours.iter().map(|&h| h as u32).sum();
            if (near as f64) < 0.02 * total as f64 {
                score += 1;
                why.push(format!("{hour:02}:00 UTC is a rare hour for it"));
            }
            if let Some(a) = ev.src.asn {
                if !p.asns.contains(&a) {
                    score += 1;
                    why.push(format!("from AS{a}, not one of its networks"));
                }
            }
        }
        // Learn this call.
        p.calls = p.calls.saturating_add(1);
        match p.actions.iter_mut().find(|a| a.0 == action) {
            Some(a) => a.1 = a.1.saturating_add(1),
            None => {
                if p.actions.len() == ACTIONS {
                    let least = p
                        .actions
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, a)| a.1)
                        .map(|(i, _)| i)
                        .expect("full");
                    p.actions.swap_remove(least);
                }
                p.actions.push((action, 1));
            }
        }
        if p.hours.contains(&u16::MAX) {
            // Halve to keep the histogram's shape within 16 bits.
            p.hours.iter_mut().for_each(|h| *h /= 2);
        }
        p.hours[hour] += 1;
        if let Some(a) = ev.src.asn {
            if !p.asns.contains(&a) {
                if p.asns.len() == 4 {
                    p.asns.remove(0);
                }
                p.asns.push(a);
            }
        }
        if score < THRESHOLD {
            return;
        }
        p.reported = d;
        let write = ev.detail.get("readOnly").and_then(|v| v.as_bool()) == Some(false);
        let mut f = finding_for(
            &META,
            ev,
            format!("{key}: {} — {}", ev.action, why.join("; ")),
        )
        .fact("score", score)
        .fact("subject", key);
        f.severity = if write {
            Severity::High
        } else {
            Severity::Medium
        };
        f.discriminator = Some(format!("day:{d}"));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ct, run};
    use super::*;
    use serde_json::json;

    fn call(day: i64, hour: i64, name: &str, asn: u32) -> Event {
        let mut e = ct(name, "s3.amazonaws.com", json!({}));
        e.time = jiff::Timestamp::from_second(1_743_465_600 + day * 86_400 + hour * 3600).unwrap();
        e.src.asn = Some(asn);
        e
    }

    /// Office hours (00–09 UTC), two usual actions, the office network.
    fn usual() -> Vec<Event> {
        let mut v = Vec::new();
        for d in 0..10 {
            for h in 0..9 {
                for a in ["GetObject", "ListBuckets", "GetObject"] {
                    v.push(call(d, h, a, 4766));
                }
            }
        }
        v
    }

    #[test]
    fn a_new_action_at_night_from_elsewhere_fires() {
        let mut ev = usual();
        ev.push(call(10, 17, "ListUsers", 666));
        let f = run(&mut UnusualCall::default(), &ev);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].facts["score"], json!(4));
    }

    #[test]
    fn one_or_two_unusual_counts_stay_quiet() {
        let mut ev = usual();
        ev.push(call(10, 3, "ListUsers", 4766)); // new action, usual hour and network
        ev.push(call(10, 17, "GetObject", 666)); // usual action at night from a hotel
        ev.push(call(10, 18, "ListUsers", 4766)); // known by now, at night: 1
        assert!(run(&mut UnusualCall::default(), &ev).is_empty());
        // During learning nothing is judged.
        let ev = vec![
            call(0, 1, "GetObject", 4766),
            call(1, 17, "DeleteBucket", 666),
        ];
        assert!(run(&mut UnusualCall::default(), &ev).is_empty());
    }
}
