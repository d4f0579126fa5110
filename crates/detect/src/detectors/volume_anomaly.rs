//! CW-B002: a credential moves far more data today than it ever does — rows read from a database,
//! bytes out of object storage — judged against its own robust baseline as the day goes, so the
//! finding comes when the line is crossed, not at midnight.
//!
//! Per subject: two [`DailySeries`] (rows, bytes) of up to 28 active days. Judged after learning and
//! with at least 5 earlier active days. The line: the largest of median + 8 × MAD, 5 × the median,
//! 1.5 × the largest earlier day, and a floor (50,000 rows or 2 GB) below which no volume is news.
//! A day found anomalous stays out of the history. High when the day touched personal data.

use crate::baseline::{self, subject_key, DailySeries, LEARNING_DAYS};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B002",
    name: "volume-anomaly",
    version: 1,
    title: "Credential moving far more data than it ever does",
    description: "Today's rows read or bytes downloaded by one credential pass a line drawn from its own history (median + 8 MAD, 5× the median, 1.5× its largest day): bulk collection with a key that normally reads a little. High when the day touched personal data, medium otherwise.",
    severity: Severity::High,
    attack: &[DATA_FROM_CLOUD_STORAGE, VALID_ACCOUNTS],
    d3fend: &[RESOURCE_ACCESS_PATTERN, PLATFORM_MONITORING],
    false_positives: &["backfills, migrations and first month-end or quarter-end batches of a new job"],
    recommendation: "Find out who holds the credential and why it is reading this much; suspend it if nobody planned the job, then scope the data read.",
};

const MIN_DAYS: usize = 5;
const FLOOR_ROWS: u64 = 50_000;
const FLOOR_BYTES: u64 = 2_000_000_000;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Profile {
    first: i64,
    rows: DailySeries,
    bytes: DailySeries,
    /// Last day reported.
    reported: i64,
    /// Day on which personal data was last touched.
    #[serde(default)]
    personal_day: i64,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct VolumeAnomaly {
    subjects: HashMap<String, Profile>,
}

fn line(s: &DailySeries, floor: u64) -> Option<f64> {
    let (med, mad) = s.baseline(MIN_DAYS)?;
    Some(
        (med + 8.0 * mad)
            .max(5.0 * med)
            .max(1.5 * s.max() as f64)
            .max(floor as f64),
    )
}

impl Detector for VolumeAnomaly {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Success
            || (ev.volume.records.is_none() && ev.volume.bytes.is_none())
        {
            return;
        }
        let Some(key) = subject_key(ev) else { return };
        let t = ev.time.as_second();
        let d = baseline::day(ev.time);
        let p = self
            .subjects
            .entry(key.to_string())
            .or_insert_with(|| Profile {
                first: t,
                reported: i64::MIN,
                ..Profile::default()
            });
        if crate::baseline::data_class(ev).is_some_and(crate::baseline::personal) {
            p.personal_day = d;
        }
        let rows = ev.volume.records.map(|r| p.rows.add(d, r));
        // Rows, when the log counts them, say more than bytes (a DB row is small, a file is not).
        let bytes = if rows.is_none() {
            ev.volume.bytes.map(|b| p.bytes.add(d, b))
        } else {
            None
        };
        if t - p.first < LEARNING_DAYS * baseline::DAY || p.reported == d {
            return;
        }
        let (today, limit, unit) = match (rows, bytes) {
            (Some(r), _) => (r, line(&p.rows, FLOOR_ROWS), "rows"),
            (None, Some(b)) => (b, line(&p.bytes, FLOOR_BYTES), "bytes"),
            _ => return,
        };
        let Some(limit) = limit else { return };
        if (today as f64) < limit {
            return;
        }
        p.reported = d;
        if unit == "rows" {
            p.rows.mark_anomalous();
        } else {
            p.bytes.mark_anomalous();
        }
        let series = if unit == "rows" { &p.rows } else { &p.bytes };
        let (med, _) = series.baseline(MIN_DAYS).unwrap_or((0.0, 0.0));
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{key} has moved {today} {unit} today (usual day: {med:.0}, largest earlier day: {}); latest: {} on {}",
                series.max(),
                ev.action,
                ev.resource.id.as_deref().unwrap_or("?")
            ),
        )
        .fact("today", today)
        .fact("unit", unit)
        .fact("median_day", med)
        .fact("largest_day", series.max())
        .fact("subject", key);
        // Bulk personal data is the exfiltration case; other bulk (reports, month-end batches) is
        // worth a look, not a page.
        f.severity = if p.personal_day == d {
            Severity::High
        } else {
            Severity::Medium
        };
        f = f.fact("personal_data", p.personal_day == d);
        f.discriminator = Some(format!("day:{d}"));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::run;
    use super::*;
    use credwarden_model::{Network, ResourceRef, SourceRef, Volume};

    fn q(day: i64, secs: i64, rows: u64) -> Event {
        Event {
            time: jiff::Timestamp::from_second(1_743_465_600 + day * 86_400 + secs).unwrap(),
            credential_id: Some("AKIASVC".into()),
            principal: Some("svc-order-status".into()),
            token: None,
            action: "SELECT".into(),
            resource: ResourceRef {
                kind: Some("db_access".into()),
                id: Some("orders".into()),
                sensitivity: None,
            },
            src: Network::default(),
            user_agent: None,
            outcome: EventOutcome::Success,
            volume: Volume {
                bytes: Some(rows * 200),
                records: Some(rows),
            },
            event_id: None,
            detail: serde_json::Value::Null,
            raw: SourceRef::new("db.jsonl", 1),
        }
    }

    fn usual(days: i64) -> Vec<Event> {
        (0..days)
            .flat_map(|d| (0..100).map(move |i| q(d, i * 600, 80 + (d as u64 % 3) * 10)))
            .collect()
    }

    #[test]
    fn bulk_reads_fire_when_the_line_is_crossed_once_a_day() {
        let mut ev = usual(14);
        // Day 14: 2,000-row queries; the line (≥ 50,000 rows) is crossed on the 26th.
        ev.extend((0..40).map(|i| q(14, i * 60, 2000)));
        ev.extend((0..40).map(|i| q(15, i * 60, 2000)));
        let f = run(&mut VolumeAnomaly::default(), &ev);
        // Day 15 is judged against the usual days, not against day 14 (kept out of the history).
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].facts["today"], serde_json::json!(50_000));
        assert_eq!(f[0].time, ev[14 * 100 + 24].time);
        // `orders` is personal data: high.
        assert_eq!(f[0].severity, Severity::High);
    }

    #[test]
    fn ordinary_days_learning_and_a_big_but_usual_day_stay_quiet() {
        assert!(run(&mut VolumeAnomaly::default(), &usual(30)).is_empty());
        // Bulk on day 3: still learning.
        let mut ev = usual(3);
        ev.extend((0..40).map(|i| q(3, i * 60, 2000)));
        assert!(run(&mut VolumeAnomaly::default(), &ev).is_empty());
        // A job that reads 60,000 rows every day: its big day is its usual day.
        let ev: Vec<Event> = (0..20)
            .flat_map(|d| (0..30).map(move |i| q(d, i * 60, 2000 + d as u64)))
            .collect();
        assert!(run(&mut VolumeAnomaly::default(), &ev).is_empty());
    }
}
