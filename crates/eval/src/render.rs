//! Markdown rendering of a [`Report`]: a per-scenario table and a short overall table.

use crate::score::Report;
use std::fmt::Write;

impl Report {
    /// The report as Markdown (two `##` sections, no top-level heading, so it can be embedded).
    pub fn to_markdown(&self) -> String {
        let o = &self.overall;
        let k = o.budget_per_day;
        let mut md = String::from("## Scenarios\n\n");
        let _ = writeln!(
            md,
            "| scenario | title | detected | first rule | time to detect | findings | within {k}/day | warned by | lead time |"
        );
        md.push_str("|---|---|---|---|---|--:|---|---|---|\n");
        for s in &self.scenarios {
            let ttd = s.time_to_detect_seconds.map_or("missed".into(), human_ttd);
            let lead = s.exposure_lead_seconds.map_or("—".into(), |l| {
                if l >= 0 {
                    human_duration(l as u64)
                } else {
                    format!("{} after", human_duration(l.unsigned_abs()))
                }
            });
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {ttd} | {} | {} | {} | {lead} |",
                cell(&s.scenario),
                cell(&s.title),
                yes_no(s.detected),
                s.first_rule.as_deref().map_or("—".into(), cell),
                s.matching_findings,
                yes_no(s.detected_within_budget),
                s.first_exposure_rule.as_deref().map_or("—".into(), cell),
            );
        }
        md.push_str("\n## Overall\n\n| metric | value |\n|---|--:|\n");
        let rows = [
            (
                "recall (scenarios detected)",
                count_pct(o.detected, o.scenarios, o.recall),
            ),
            (
                &format!("recall at {k}/day"),
                count_pct(o.detected_within_budget, o.scenarios, o.recall_at_budget),
            ),
            (
                "unique findings",
                format!(
                    "{} over {} days ({:.2}/day)",
                    o.unique_findings, o.days, o.findings_per_day
                ),
            ),
            (
                "true / false findings",
                format!("{} / {}", o.true_findings, o.false_findings),
            ),
            ("precision", pct(o.precision)),
            (
                "precision of misuse findings (activity rules)",
                count_pct(o.misuse_true, o.misuse_findings, o.misuse_precision),
            ),
            (
                "false misuse findings per 1,000 credential-days",
                o.false_misuse_per_1000_credential_days
                    .map_or("n/a".into(), |r| format!("{r:.2}")),
            ),
            (
                &format!("precision at {k}/day"),
                count_pct(
                    o.true_findings_within_budget,
                    o.findings_within_budget,
                    o.precision_at_budget,
                ),
            ),
            (
                "false findings per 1,000 credential-days",
                o.false_findings_per_1000_credential_days
                    .map_or("n/a".into(), |r| format!("{r:.2}")),
            ),
        ];
        for (metric, value) in rows {
            let _ = writeln!(md, "| {metric} | {value} |");
        }
        md
    }
}

/// A signed duration in seconds as people read it: `3d 4h`, `5h 12m`, `7m`, `42s`; negative
/// durations read `-12d (before attack)`.
pub fn human_ttd(seconds: i64) -> String {
    let d = human_duration(seconds.unsigned_abs());
    if seconds < 0 {
        format!("-{d} (before attack)")
    } else {
        d
    }
}

/// An unsigned duration in seconds, to its two largest units (zero second unit dropped).
pub fn human_duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    let two = |a: u64, ua: &str, b: u64, ub: &str| {
        if b == 0 {
            format!("{a}{ua}")
        } else {
            format!("{a}{ua} {b}{ub}")
        }
    };
    match () {
        _ if d > 0 => two(d, "d", h, "h"),
        _ if h > 0 => two(h, "h", m, "m"),
        _ if m > 0 => two(m, "m", s, "s"),
        _ => format!("{s}s"),
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn pct(r: Option<f64>) -> String {
    r.map_or("n/a".into(), |r| format!("{:.1}%", r * 100.0))
}

fn count_pct(n: usize, d: usize, r: Option<f64>) -> String {
    format!("{n} / {d} ({})", pct(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{evaluate, FindingRef, Label};
    use jiff::Timestamp;

    #[test]
    fn durations() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(7 * 60), "7m");
        assert_eq!(human_duration(5 * 3600 + 12 * 60 + 9), "5h 12m");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 59), "3d 4h");
        assert_eq!(human_ttd(-12 * 86_400), "-12d (before attack)");
        assert_eq!(human_ttd(90), "1m 30s");
    }

    fn fixture() -> crate::Report {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let label = |id: &str, title: &str, subject: &str, start: &str| Label {
            scenario: id.into(),
            title: title.into(),
            identity: None,
            credential: None,
            subjects: vec![subject.into()],
            first_malicious_time: t(start),
            // Exposure from the start of the month: a finding before the attack still counts.
            exposure_start: t("2025-03-01T00:00:00Z"),
            event_count: 1,
            event_ids: vec![],
            last_malicious_time: t("2025-04-30T00:00:00Z"),
            attack_entities: vec![],
        };
        let labels = [
            label("a", "Leaver key | reuse", "E1", "2025-03-01T00:00:00Z"),
            label("b", "Forged JWT", "K1", "2025-03-20T00:00:00Z"),
            label("c", "Orphaned token", "T1", "2025-03-01T00:00:00Z"),
        ];
        let finding = |uid: &str, rule: &str, time: &str, name: &str| FindingRef {
            uid: uid.into(),
            rule: rule.into(),
            time: t(time),
            since: None,
            severity_id: 5,
            names: vec![name.into()],
            observables: vec![],
        };
        let findings = [
            finding("f1", "CW-D009", "2025-03-04T04:00:00Z", "E1"),
            finding("f2", "CW-A003", "2025-03-08T00:00:00Z", "K1"),
            finding("f0", "CW-B001", "2025-03-08T00:00:00Z", "zz"),
        ];
        evaluate(&labels, &findings, None, 1)
    }

    #[test]
    fn markdown_tables() {
        let md = fixture().to_markdown();
        assert!(
            md.contains("| a | Leaver key \\| reuse | yes | CW-D009 | 3d 4h | 1 | yes | — | — |"),
            "{md}"
        );
        assert!(
            md.contains("| b | Forged JWT | no | — | missed | 0 | no | CW-A003 | 12d |"),
            "{md}"
        );
        assert!(
            md.contains("| c | Orphaned token | no | — | missed | 0 | no | — | — |"),
            "{md}"
        );
        assert!(
            md.contains("| recall (scenarios detected) | 1 / 3 (33.3%) |"),
            "{md}"
        );
        assert!(md.contains("| recall at 1/day | 1 / 3 (33.3%) |"), "{md}");
        assert!(
            md.contains("| unique findings | 3 over 5 days (0.60/day) |"),
            "{md}"
        );
        assert!(
            md.contains("| precision at 1/day | 1 / 2 (50.0%) |"),
            "{md}"
        );
        assert!(
            md.contains("| false findings per 1,000 credential-days | n/a |"),
            "{md}"
        );
    }

    #[test]
    fn json_has_nulls_and_signed_ttd() {
        let v = serde_json::to_value(fixture()).unwrap();
        assert_eq!(
            v["scenarios"][1]["time_to_detect_seconds"],
            serde_json::Value::Null
        );
        assert_eq!(v["scenarios"][1]["exposure_lead_seconds"], 12 * 86_400);
        assert_eq!(v["scenarios"][2]["first_rule"], serde_json::Value::Null);
        assert_eq!(
            v["scenarios"][0]["first_finding_time"],
            "2025-03-04T04:00:00Z"
        );
        assert_eq!(
            v["overall"]["false_findings_per_1000_credential_days"],
            serde_json::Value::Null
        );
        assert_eq!(v["overall"]["precision"], 2.0 / 3.0);
    }
}
