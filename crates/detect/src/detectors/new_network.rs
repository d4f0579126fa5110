//! CW-B001: a credential used from a network (ASN) it has never used, that few others in the company
//! use; high when the credential is at the same time in use from one of its usual networks (two
//! places at once: the key is in someone else's hands too).
//!
//! Per subject (see [`crate::baseline::subject_key`]): up to 12 usual ASNs with their last use, and up
//! to 4 candidate ASNs seen after learning. A candidate becomes usual after use on 3 different days
//! (travel, a new home ISP). Company-wide, each ASN counts the distinct subjects using it (up to 64):
//! an ASN used by 5 or more is the company's own (office, VPN, cloud egress) and never alerts. Events
//! with no known ASN (no enrichment, anonymized addresses) are not judged.

use crate::baseline::{self, subject_key, LEARNING_DAYS};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B001",
    name: "new-network-for-credential",
    version: 1,
    title: "Credential used from a network it never used (in parallel with its usual one: high)",
    description: "After learning, a credential calls from an ASN it has not used and that few others in the company use. Alone it is low (travel looks like this); while the credential is also active from one of its usual networks within two hours it is high: two places at once.",
    severity: Severity::High,
    attack: &[VALID_ACCOUNTS, CLOUD_ACCOUNTS],
    d3fend: &[RESOURCE_ACCESS_PATTERN, ACCOUNT_MONITORING],
    false_positives: &["travel and new home ISPs (low, once per network)", "a laptop on a phone hotspot while a job runs from the office (high)"],
    recommendation: "Ask the owner whether they are on that network; if not, revoke the credential and scope what it did from there.",
};

/// Subjects using an ASN that make it the company's own.
const COMMON: usize = 5;
/// Two uses closer than this from two networks are "at the same time".
const PARALLEL_SECS: i64 = 2 * 3600;
const USUAL_CAP: usize = 12;
const CANDIDATE_CAP: usize = 4;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Profile {
    first: i64,
    /// (asn, last use).
    usual: Vec<(u32, i64)>,
    /// (asn, last use, distinct days, last day, reported).
    candidates: Vec<(u32, i64, u8, i64, bool)>,
    /// Last day a parallel-use finding was made.
    parallel_day: i64,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct NewNetwork {
    subjects: HashMap<String, Profile>,
    /// ASN → distinct subjects (hashed), up to 64.
    users: HashMap<u32, HashSet<u64>>,
}

impl Detector for NewNetwork {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        let (Some(asn), Some(key)) = (ev.src.asn, subject_key(ev)) else {
            return;
        };
        if ev.outcome != EventOutcome::Success {
            return;
        }
        let t = ev.time.as_second();
        let users = self.users.entry(asn).or_default();
        if users.len() < 64 {
            users.insert(baseline::hash(key));
        }
        let common = users.len() >= COMMON;
        let p = match self.subjects.get_mut(key) {
            Some(p) => p,
            None => {
                self.subjects.insert(
                    key.to_string(),
                    Profile {
                        first: t,
                        usual: vec![(asn, t)],
                        ..Profile::default()
                    },
                );
                return;
            }
        };
        if let Some(u) = p.usual.iter_mut().find(|u| u.0 == asn) {
            u.1 = t;
            // A usual network while a candidate was used moments ago: two places at once.
            if let Some(c) = p
                .candidates
                .iter()
                .find(|c| !common_asn(&self.users, c.0) && t - c.1 <= PARALLEL_SECS)
            {
                let c = *c;
                parallel(ev, p, key, c.0, asn, out);
            }
            return;
        }
        let learning = t - p.first < LEARNING_DAYS * baseline::DAY;
        if learning || common {
            if p.usual.len() == USUAL_CAP {
                // Forget the network unused the longest.
                let oldest = p
                    .usual
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, u)| u.1)
                    .map(|(i, _)| i)
                    .expect("full");
                p.usual.swap_remove(oldest);
            }
            p.usual.push((asn, t));
            p.candidates.retain(|c| c.0 != asn);
            return;
        }
        let d = baseline::day(ev.time);
        let idx = match p.candidates.iter().position(|c| c.0 == asn) {
            Some(i) => i,
            None => {
                if p.candidates.len() == CANDIDATE_CAP {
                    p.candidates.remove(0);
                }
                p.candidates.push((asn, t, 0, i64::MIN, false));
                p.candidates.len() - 1
            }
        };
        let c = &mut p.candidates[idx];
        c.1 = t;
        if c.3 != d {
            c.2 = c.2.saturating_add(1);
            c.3 = d;
        }
        let (days, reported) = (c.2, c.4);
        c.4 = true;
        // Used from a usual network moments ago: two places at once.
        if let Some(&(usual, _)) = p
            .usual
            .iter()
            .filter(|u| t - u.1 <= PARALLEL_SECS)
            .max_by_key(|u| u.1)
        {
            parallel(ev, p, key, asn, usual, out);
        } else if !reported {
            let mut f = finding_for(
                &META,
                ev,
                format!(
                    "{key} used from AS{asn} ({}) for the first time: {} from {}; its usual networks: {}",
                    ev.src.country.as_deref().unwrap_or("?"),
                    ev.action,
                    ev.src.ip.as_deref().unwrap_or("?"),
                    p.usual.iter().map(|u| format!("AS{}", u.0)).collect::<Vec<_>>().join(", ")
                ),
            )
            .fact("asn", asn)
            .fact("country", ev.src.country.clone())
            .fact("subject", key);
            f.severity = Severity::Low;
            f.discriminator = Some(format!("asn:{asn}"));
            out.push(f);
        }
        if days >= 3 {
            p.candidates.retain(|c| c.0 != asn);
            p.usual.push((asn, t));
        }
    }
}

fn common_asn(users: &HashMap<u32, HashSet<u64>>, asn: u32) -> bool {
    users.get(&asn).is_some_and(|u| u.len() >= COMMON)
}

fn parallel(ev: &Event, p: &mut Profile, key: &str, new: u32, usual: u32, out: &mut Vec<Finding>) {
    let d = baseline::day(ev.time);
    if p.parallel_day == d {
        return;
    }
    p.parallel_day = d;
    let mut f = finding_for(
        &META,
        ev,
        format!(
            "{key} in use from AS{new} and from its usual AS{usual} within two hours: {} from {}",
            ev.action,
            ev.src.ip.as_deref().unwrap_or("?")
        ),
    )
    .fact("asn", new)
    .fact("usual_asn", usual)
    .fact("subject", key);
    f.severity = Severity::High;
    f.discriminator = Some(format!("parallel:{d}"));
    out.push(f);
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ct, run};
    use super::*;
    use serde_json::json;

    fn at(day: i64, hour: i64, asn: u32, key: &str) -> Event {
        let mut e = ct("GetObject", "s3.amazonaws.com", json!({}));
        e.time = jiff::Timestamp::from_second(1_743_465_600 + day * 86_400 + hour * 3600).unwrap();
        e.src.asn = Some(asn);
        e.credential_id = Some(key.into());
        e
    }

    /// Ten days of office use (AS4766) by `key`, plus the office used by five other keys.
    fn history(key: &str) -> Vec<Event> {
        let mut v = Vec::new();
        for d in 0..10 {
            v.push(at(d, 1, 4766, key));
            for o in 0..5 {
                v.push(at(d, 2, 4766, &format!("AKIAOTHER{o}")));
            }
        }
        v
    }

    #[test]
    fn parallel_use_from_a_rare_network_is_high() {
        let mut ev = history("AKIAVICTIM");
        ev.push(at(10, 1, 4766, "AKIAVICTIM"));
        ev.push(at(10, 2, 666, "AKIAVICTIM")); // an hour after the office
        let f = run(&mut NewNetwork::default(), &ev);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].facts["usual_asn"], json!(4766));
    }

    #[test]
    fn travel_alone_is_one_low_finding_and_then_usual() {
        let mut ev = history("AKIATRAVEL");
        for d in 10..16 {
            ev.push(at(d, 12, 7922, "AKIATRAVEL"));
        }
        let f = run(&mut NewNetwork::default(), &ev);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Low);
    }

    #[test]
    fn learning_common_networks_and_unknown_asns_stay_quiet() {
        // During learning everything is learnt.
        let ev = vec![
            at(0, 1, 4766, "AKIANEW"),
            at(1, 1, 666, "AKIANEW"),
            at(1, 2, 4766, "AKIANEW"),
        ];
        assert!(run(&mut NewNetwork::default(), &ev).is_empty());
        // The VPN, used by five other keys from their start, is the company's own.
        let mut ev = history("AKIAVPN");
        for o in 0..5 {
            ev.insert(0, at(0, 0, 16509, &format!("AKIAOTHER{o}")));
        }
        ev.push(at(10, 1, 4766, "AKIAVPN"));
        ev.push(at(10, 2, 16509, "AKIAVPN"));
        assert!(run(&mut NewNetwork::default(), &ev).is_empty());
        // No ASN: not judged; refused calls: not judged.
        let mut e = at(11, 1, 666, "AKIAVPN");
        e.src.asn = None;
        let mut denied = at(11, 2, 777, "AKIAVPN");
        denied.outcome = EventOutcome::Denied;
        let mut ev = history("AKIAVPN");
        ev.extend([e, denied]);
        assert!(run(&mut NewNetwork::default(), &ev).is_empty());
    }

    #[test]
    fn a_dormant_key_is_judged_against_its_old_profile_and_state_survives() {
        let mut d = NewNetwork::default();
        run(&mut d, &history("AKIASLEEPY"));
        let mut restored = NewNetwork::default();
        restored.restore(d.save().unwrap()).unwrap();
        // Sixty days later, from a network nobody uses: not a new learner, judged.
        let f = run(&mut restored, &[at(70, 3, 666, "AKIASLEEPY")]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Low);
    }
}
