//! CW-B003: a credential reads a table or bucket of personal data it has never touched before
//! (frequency profile: unseen). The order-status service reading `customer_addresses`, a key from
//! another team opening the PII bucket.
//!
//! Per subject: the hashes of up to 64 data classes (table, bucket) it used, with counts. Judged
//! after learning, only for classes whose names mark personal data ([`crate::baseline::PERSONAL`]);
//! one finding per subject and class.

use crate::baseline::{self, data_class, personal, subject_key, LEARNING_DAYS};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B003",
    name: "unseen-personal-data",
    version: 1,
    title: "Credential reads personal data it never read before",
    description: "After learning, a credential reads a table or bucket whose name marks personal data (customer, member, address, PII…) and that it has never used: a service key or a person reaching outside their job.",
    severity: Severity::Medium,
    attack: &[DATA_FROM_CLOUD_STORAGE, VALID_ACCOUNTS],
    d3fend: &[RESOURCE_ACCESS_PATTERN],
    false_positives: &["a new feature or a team move that starts using the data (once per table)"],
    recommendation: "Check with the credential's owner that the new access is intended; if not, revoke it and scope what was read.",
};

const CAP: usize = 64;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Profile {
    first: i64,
    /// (class hash, uses).
    seen: Vec<(u64, u32)>,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct UnseenPersonalData {
    subjects: HashMap<String, Profile>,
}

impl Detector for UnseenPersonalData {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Success {
            return;
        }
        let (Some(key), Some(class)) = (subject_key(ev), data_class(ev)) else {
            return;
        };
        let t = ev.time.as_second();
        let h = baseline::hash(class);
        let p = self
            .subjects
            .entry(key.to_string())
            .or_insert_with(|| Profile {
                first: t,
                seen: Vec::new(),
            });
        if let Some(s) = p.seen.iter_mut().find(|s| s.0 == h) {
            s.1 = s.1.saturating_add(1);
            return;
        }
        if p.seen.len() == CAP {
            // Forget the least used class.
            let least = p
                .seen
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.1)
                .map(|(i, _)| i)
                .expect("full");
            p.seen.swap_remove(least);
        }
        p.seen.push((h, 1));
        if t - p.first < LEARNING_DAYS * baseline::DAY || !personal(class) {
            return;
        }
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{key} read {class} for the first time ({} {}; {} data classes known for it)",
                ev.action,
                ev.resource.id.as_deref().unwrap_or(class),
                p.seen.len() - 1
            ),
        )
        .fact("data_class", class)
        .fact("subject", key);
        f.severity = Severity::Medium;
        f.discriminator = Some(format!("class:{class}"));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ct, run};
    use super::*;
    use serde_json::json;

    fn get(day: i64, bucket: &str) -> Event {
        let mut e = ct(
            "GetObject",
            "s3.amazonaws.com",
            json!({"bucketName": bucket}),
        );
        e.time = jiff::Timestamp::from_second(1_743_465_600 + day * 86_400).unwrap();
        e.resource.id = Some(format!("{bucket}/part-1.parquet"));
        e
    }

    #[test]
    fn first_read_of_personal_data_after_learning_fires_once() {
        let mut ev: Vec<Event> = (0..10).map(|d| get(d, "shop-analytics")).collect();
        ev.push(get(10, "shop-customer-pii"));
        ev.push(get(11, "shop-customer-pii"));
        let f = run(&mut UnseenPersonalData::default(), &ev);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].facts["data_class"], json!("shop-customer-pii"));
    }

    #[test]
    fn known_classes_other_data_and_learning_stay_quiet() {
        // Personal data read during learning becomes known.
        let mut ev: Vec<Event> = (0..10)
            .map(|d| {
                get(
                    d,
                    if d == 2 {
                        "shop-customer-pii"
                    } else {
                        "shop-analytics"
                    },
                )
            })
            .collect();
        ev.push(get(12, "shop-customer-pii"));
        // A new bucket without personal data.
        ev.push(get(12, "shop-build-cache"));
        // A refused read.
        let mut denied = get(13, "member-addresses");
        denied.outcome = EventOutcome::Denied;
        ev.push(denied);
        assert!(run(&mut UnseenPersonalData::default(), &ev).is_empty());
    }
}
