//! CW-D011: a credential silent for [`DORMANT_DAYS`] or more is used again. Needs the credential to have
//! been seen before, in this run or (with `--state`) an earlier one.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use std::collections::HashMap;

/// Silence that makes a credential dormant.
pub const DORMANT_DAYS: i64 = 30;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D011",
    name: "dormant-credential-reactivation",
    version: 1,
    title: "Dormant credential used again",
    description: "An access key unused for 30 days or more is used again: leavers' keys and forgotten keys wake up this way.",
    severity: Severity::High,
    attack: &[VALID_ACCOUNTS, CLOUD_ACCOUNTS],
    d3fend: &[ACCOUNT_MONITORING, CREDENTIAL_REVOKING],
    false_positives: &["quarterly or yearly jobs", "people back from long leave"],
    recommendation: "Confirm the owner is back and made the call; otherwise revoke the key and scope its activity.",
};

/// The detector: last use per credential.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct DormantReactivation {
    last: HashMap<String, i64>,
}

impl Detector for DormantReactivation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        let Some(key) = &ev.credential_id else { return };
        // Temporary session keys (ASIA…) and bearer-token signing keys are not dormant-able credentials.
        if !key.starts_with("AKIA") || ev.outcome != EventOutcome::Success {
            return;
        }
        let t = ev.time.as_second();
        // Most events are by keys already seen: update in place, allocate only for a new key.
        let prev = match self.last.get_mut(key.as_str()) {
            Some(v) => Some(std::mem::replace(v, t)),
            None => {
                self.last.insert(key.clone(), t);
                None
            }
        };
        if let Some(prev) = prev {
            let gap = (t - prev) / 86_400;
            if gap >= DORMANT_DAYS {
                let mut f = finding_for(
                    &META,
                    ev,
                    format!(
                        "access key {key} used again after {gap} days of silence: {} from {}",
                        ev.action,
                        ev.src.ip.as_deref().unwrap_or("?")
                    ),
                )
                .fact("silent_days", gap);
                f.discriminator = Some(t.to_string());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    fn at(day: i64) -> Event {
        let mut e = ct("ListBuckets", "s3.amazonaws.com", json!({}));
        e.time = jiff::Timestamp::from_second(1_743_800_000 + day * 86_400).unwrap();
        e
    }

    #[test]
    fn fires_after_a_long_silence() {
        let f = run(&mut DormantReactivation::default(), &[at(0), at(1), at(40)]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].facts["silent_days"], 39);
    }

    #[test]
    fn quiet_for_regular_use_first_sightings_and_session_keys() {
        let mut session = at(80);
        session.credential_id = Some("ASIAEXAMPLE".into());
        let evs = [at(0), at(20), at(45), session];
        assert!(run(&mut DormantReactivation::default(), &evs).is_empty());
    }
}
