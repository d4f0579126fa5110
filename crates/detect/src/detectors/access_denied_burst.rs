//! CW-D008: a burst of AccessDenied for one credential — someone probing what a key can do.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use std::collections::{HashMap, VecDeque};

/// Denials within [`WINDOW_SECS`] that make a burst.
pub const THRESHOLD: usize = 10;
/// Window length.
pub const WINDOW_SECS: i64 = 600;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D008",
    name: "access-denied-burst",
    version: 1,
    title: "Burst of AccessDenied for one credential",
    description: "Ten or more refused calls by one credential within ten minutes: enumeration of what a stolen key can reach.",
    severity: Severity::Medium,
    attack: &[CLOUD_DISCOVERY, VALID_ACCOUNTS],
    d3fend: &[ACCOUNT_MONITORING],
    false_positives: &["a deployment with a broken policy retrying in a loop"],
    recommendation: "Check who holds the credential and where the calls came from; revoke it if the caller is not its owner.",
};

/// The detector: recent denial times per credential.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct AccessDeniedBurst {
    recent: HashMap<String, VecDeque<i64>>,
}

impl Detector for AccessDeniedBurst {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Denied {
            return;
        }
        let Some(key) = ev.credential_id.clone().or_else(|| ev.principal.clone()) else {
            return;
        };
        let t = ev.time.as_second();
        let q = self.recent.entry(key.clone()).or_default();
        q.push_back(t);
        while q.front().is_some_and(|&f| f <= t - WINDOW_SECS) {
            q.pop_front();
        }
        if q.len() == THRESHOLD {
            let mut f = finding_for(
                &META,
                ev,
                format!(
                    "{THRESHOLD} refused calls within {} minutes by {key}, last {}",
                    WINDOW_SECS / 60,
                    ev.action
                ),
            );
            f.discriminator = Some((t / WINDOW_SECS).to_string());
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    fn denied(secs: i64) -> Event {
        let mut e = ct("ListUsers", "iam.amazonaws.com", json!({}));
        e.outcome = EventOutcome::Denied;
        e.time = jiff::Timestamp::from_second(1_743_800_000 + secs).unwrap();
        e
    }

    #[test]
    fn fires_on_ten_in_ten_minutes_once() {
        let evs: Vec<Event> = (0..15).map(|i| denied(i * 30)).collect();
        assert_eq!(run(&mut AccessDeniedBurst::default(), &evs).len(), 1);
    }

    #[test]
    fn quiet_when_spread_out() {
        let evs: Vec<Event> = (0..15).map(|i| denied(i * 120)).collect();
        assert!(run(&mut AccessDeniedBurst::default(), &evs).is_empty());
    }
}
