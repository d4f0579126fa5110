//! Many seeds, one verdict with its spread: the per-seed [`Report`]s of independent simulations
//! folded into means, standard deviations and ranges (recall, precision, false findings per 1,000
//! credential-days) and, per scenario, the detection rate, time to detect p50/p90 and the exposure
//! warning's lead time. [`SeedReport::regressions`] compares against a saved baseline: a metric
//! regresses when it moves the wrong way by more than the baseline's own spread.

use crate::render::human_duration;
use crate::score::Report;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Mean, standard deviation and range of one metric over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 with one seed).
    pub sd: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `xs` (`None` when empty).
    pub fn of(xs: &[f64]) -> Option<Self> {
        if xs.is_empty() {
            return None;
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = if xs.len() > 1 {
            xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Some(Self {
            mean,
            sd: var.sqrt(),
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// One scenario over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioSpread {
    /// Scenario id.
    pub scenario: String,
    /// Seeds where the misuse was detected / seeds run.
    pub detection_rate: f64,
    /// Median time to detect over the seeds that detected it (seconds).
    pub ttd_p50_seconds: Option<f64>,
    /// 90th percentile time to detect (seconds).
    pub ttd_p90_seconds: Option<f64>,
    /// Median exposure lead time (seconds before the first malicious event) over seeds warned.
    pub exposure_lead_p50_seconds: Option<f64>,
    /// Seeds with an exposure warning / seeds run.
    pub warned_rate: f64,
}

/// The verdict over many seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedReport {
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Scenarios detected / labelled, per seed.
    pub recall: Option<Spread>,
    /// True / unique findings, per seed (every severity).
    pub precision: Option<Spread>,
    /// Precision within the daily triage budget.
    pub precision_at_budget: Option<Spread>,
    /// False findings per 1,000 credential-days.
    pub false_per_1000_credential_days: Option<Spread>,
    /// Precision of misuse (activity-rule) findings.
    #[serde(default)]
    pub misuse_precision: Option<Spread>,
    /// False misuse findings per 1,000 credential-days.
    #[serde(default)]
    pub false_misuse_per_1000_credential_days: Option<Spread>,
    /// Unique findings per day.
    pub findings_per_day: Option<Spread>,
    /// Per scenario.
    pub scenarios: Vec<ScenarioSpread>,
}

fn percentile(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let rank = (p * (xs.len() - 1) as f64).round() as usize;
    Some(xs[rank.min(xs.len() - 1)])
}

impl SeedReport {
    /// Fold per-seed reports (`reports[i]` from `seeds[i]`).
    pub fn new(seeds: Vec<u64>, reports: &[Report]) -> Self {
        let metric = |f: &dyn Fn(&Report) -> Option<f64>| {
            Spread::of(&reports.iter().filter_map(f).collect::<Vec<_>>())
        };
        let mut ids: Vec<String> = Vec::new();
        for r in reports {
            for s in &r.scenarios {
                if !ids.contains(&s.scenario) {
                    ids.push(s.scenario.clone());
                }
            }
        }
        let scenarios = ids
            .into_iter()
            .map(|id| {
                let rows: Vec<_> = reports
                    .iter()
                    .filter_map(|r| r.scenarios.iter().find(|s| s.scenario == id))
                    .collect();
                let n = rows.len().max(1) as f64;
                let mut ttd: Vec<f64> = rows
                    .iter()
                    .filter_map(|s| s.time_to_detect_seconds.map(|t| t as f64))
                    .collect();
                let mut lead: Vec<f64> = rows
                    .iter()
                    .filter_map(|s| s.exposure_lead_seconds.map(|t| t as f64))
                    .collect();
                ScenarioSpread {
                    detection_rate: rows.iter().filter(|s| s.detected).count() as f64 / n,
                    warned_rate: lead.len() as f64 / n,
                    ttd_p50_seconds: percentile(&mut ttd, 0.5),
                    ttd_p90_seconds: percentile(&mut ttd, 0.9),
                    exposure_lead_p50_seconds: percentile(&mut lead, 0.5),
                    scenario: id,
                }
            })
            .collect();
        Self {
            seeds,
            recall: metric(&|r| r.overall.recall),
            precision: metric(&|r| r.overall.precision),
            precision_at_budget: metric(&|r| r.overall.precision_at_budget),
            false_per_1000_credential_days: metric(&|r| {
                r.overall.false_findings_per_1000_credential_days
            }),
            findings_per_day: metric(&|r| Some(r.overall.findings_per_day)),
            misuse_precision: metric(&|r| r.overall.misuse_precision),
            false_misuse_per_1000_credential_days: metric(&|r| {
                r.overall.false_misuse_per_1000_credential_days
            }),
            scenarios,
        }
    }

    /// Where this run is worse than `base` by more than `base`'s spread (one standard deviation,
    /// at least `slack` of the metric's scale): one sentence each; empty when nothing regressed.
    pub fn regressions(&self, base: &SeedReport) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str,
                         now: Option<Spread>,
                         was: Option<Spread>,
                         higher_better: bool,
                         slack: f64| {
            let (Some(now), Some(was)) = (now, was) else {
                if was.is_some() {
                    out.push(format!("{name}: no longer measured"));
                }
                return;
            };
            let room = was.sd.max(slack);
            let worse = if higher_better {
                now.mean < was.mean - room
            } else {
                now.mean > was.mean + room
            };
            if worse {
                out.push(format!(
                    "{name}: mean {:.3} against a baseline of {:.3} ± {:.3}",
                    now.mean, was.mean, was.sd
                ));
            }
        };
        check("recall", self.recall, base.recall, true, 0.01);
        check("precision", self.precision, base.precision, true, 0.01);
        check(
            "precision of misuse findings",
            self.misuse_precision,
            base.misuse_precision,
            true,
            0.01,
        );
        check(
            "false misuse findings per 1,000 credential-days",
            self.false_misuse_per_1000_credential_days,
            base.false_misuse_per_1000_credential_days,
            false,
            0.1,
        );
        check(
            "false findings per 1,000 credential-days",
            self.false_per_1000_credential_days,
            base.false_per_1000_credential_days,
            false,
            0.1,
        );
        for was in &base.scenarios {
            let Some(now) = self.scenarios.iter().find(|s| s.scenario == was.scenario) else {
                out.push(format!("scenario {}: no longer run", was.scenario));
                continue;
            };
            // One seed of slack: a rate over N seeds moves in steps of 1/N.
            let step = 1.0 / self.seeds.len().max(1) as f64;
            if now.detection_rate + step / 2.0 < was.detection_rate - step {
                out.push(format!(
                    "scenario {}: detected in {:.0}% of seeds, baseline {:.0}%",
                    was.scenario,
                    now.detection_rate * 100.0,
                    was.detection_rate * 100.0
                ));
            }
            // Time to detect: the median may not pass the baseline's 90th percentile.
            if let (Some(p50), Some(p90)) = (now.ttd_p50_seconds, was.ttd_p90_seconds) {
                if p50 > p90.max(60.0) {
                    out.push(format!(
                        "scenario {}: median time to detect {} beyond the baseline's p90 {}",
                        was.scenario,
                        human_duration(p50 as u64),
                        human_duration(p90 as u64)
                    ));
                }
            }
        }
        out
    }

    /// Markdown: an overall table with the spread and a per-scenario table.
    pub fn to_markdown(&self) -> String {
        let mut md = format!(
            "## Over {} seeds ({})\n\n| metric | mean | sd | min | max |\n|---|--:|--:|--:|--:|\n",
            self.seeds.len(),
            self.seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (name, s, pct) in [
            ("recall", self.recall, true),
            ("precision (every severity)", self.precision, true),
            ("precision at budget", self.precision_at_budget, true),
            ("precision of misuse findings", self.misuse_precision, true),
            (
                "false misuse findings per 1,000 credential-days",
                self.false_misuse_per_1000_credential_days,
                false,
            ),
            (
                "false findings per 1,000 credential-days",
                self.false_per_1000_credential_days,
                false,
            ),
            ("findings per day", self.findings_per_day, false),
        ] {
            let f = |x: f64| {
                if pct {
                    format!("{:.1}%", x * 100.0)
                } else {
                    format!("{x:.2}")
                }
            };
            match s {
                Some(s) => {
                    let _ = writeln!(
                        md,
                        "| {name} | {} | {} | {} | {} |",
                        f(s.mean),
                        f(s.sd),
                        f(s.min),
                        f(s.max)
                    );
                }
                None => {
                    let _ = writeln!(md, "| {name} | n/a | | | |");
                }
            }
        }
        md.push_str("\n| scenario | detected | time to detect p50 | p90 | warned | exposure lead p50 |\n|---|--:|--:|--:|--:|--:|\n");
        let d = |x: Option<f64>| x.map_or("—".to_string(), |s| human_duration(s.max(0.0) as u64));
        for s in &self.scenarios {
            let _ = writeln!(
                md,
                "| {} | {:.0}% | {} | {} | {:.0}% | {} |",
                s.scenario,
                s.detection_rate * 100.0,
                d(s.ttd_p50_seconds),
                d(s.ttd_p90_seconds),
                s.warned_rate * 100.0,
                d(s.exposure_lead_p50_seconds)
            );
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_and_percentiles() {
        let s = Spread::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!((s.mean, s.min, s.max), (2.5, 1.0, 4.0));
        assert!((s.sd - 1.290_994).abs() < 1e-5);
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(percentile(&mut [5.0, 1.0, 3.0], 0.5), Some(3.0));
        assert_eq!(percentile(&mut [5.0, 1.0, 3.0, 9.0, 7.0], 0.9), Some(9.0));
    }

    fn rep(recall: f64, ttd: Option<i64>) -> SeedReport {
        SeedReport {
            seeds: (1..=10).collect(),
            recall: Spread::of(&[recall, recall]),
            precision: Spread::of(&[0.5, 0.6]),
            precision_at_budget: None,
            false_per_1000_credential_days: Spread::of(&[2.0, 3.0]),
            findings_per_day: None,
            misuse_precision: None,
            false_misuse_per_1000_credential_days: None,
            scenarios: vec![ScenarioSpread {
                scenario: "a".into(),
                detection_rate: if ttd.is_some() { 1.0 } else { 0.0 },
                ttd_p50_seconds: ttd.map(|t| t as f64),
                ttd_p90_seconds: ttd.map(|t| t as f64 * 2.0),
                exposure_lead_p50_seconds: None,
                warned_rate: 0.0,
            }],
        }
    }

    #[test]
    fn regressions_beyond_the_spread_are_named() {
        let base = rep(1.0, Some(600));
        assert!(rep(1.0, Some(900)).regressions(&base).is_empty());
        let r = rep(0.8, Some(3_600)).regressions(&base);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].starts_with("recall"));
        assert!(r[1].contains("median time to detect"));
        let r = rep(1.0, None).regressions(&base);
        assert!(r[0].contains("detected in 0% of seeds"), "{r:?}");
    }
}
