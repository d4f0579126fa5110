//! Scoring: matches unique findings to labelled scenarios and computes detection, time to detect,
//! precision and recall, overall and under a daily triage budget.

use crate::findings::{dedup, FindingRef};
use crate::labels::{Label, Summary};
use jiff::Timestamp;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashSet};

/// The scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// One row per labelled scenario, in label order.
    pub scenarios: Vec<ScenarioScore>,
    /// Totals and rates.
    pub overall: Overall,
}

/// How one scenario fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioScore {
    /// Scenario id.
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// When the attack started.
    pub first_malicious_time: Timestamp,
    /// Whether any finding matched.
    pub detected: bool,
    /// Rule id of the earliest matching finding.
    pub first_rule: Option<String>,
    /// Fingerprint of the earliest matching finding.
    pub first_finding_uid: Option<String>,
    /// Time of the earliest matching finding.
    pub first_finding_time: Option<Timestamp>,
    /// Earliest matching finding time minus `first_malicious_time`, in seconds; negative when the
    /// finding came before the attack.
    pub time_to_detect_seconds: Option<i64>,
    /// Number of unique findings matching the scenario.
    pub matching_findings: usize,
    /// Whether a matching finding is among the top `budget_per_day` findings of its UTC day.
    pub detected_within_budget: bool,
    /// Rule of the earliest exposure finding (a leaver could read the key, a leaver's key is
    /// live…) about the scenario's subjects, raised after the exposure began.
    pub first_exposure_rule: Option<String>,
    /// How long before the first malicious event that exposure finding came (seconds; negative
    /// when it came after the misuse began): the warning's lead time.
    pub exposure_lead_seconds: Option<i64>,
}

/// Rules whose findings are about exposure (posture: a leaver could read a key, a departed
/// owner's key is live, a key is over age), not misuse: they give a warning's lead time and never
/// count as detecting the misuse.
pub fn is_exposure_rule(rule: &str) -> bool {
    rule.starts_with("CW-A") || rule == "CW-D013"
}

/// Does `name` (an address, id…) equal `entity`, or is it an address inside the network `entity`?
fn names_entity(name: &str, entity: &str) -> bool {
    if name == entity {
        return true;
    }
    let Some((net, bits)) = entity.split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits), Ok(ip)) = (
        net.parse::<std::net::IpAddr>(),
        bits.parse::<u32>(),
        name.parse::<std::net::IpAddr>(),
    ) else {
        return false;
    };
    match (net, ip) {
        (std::net::IpAddr::V4(n), std::net::IpAddr::V4(a)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (std::net::IpAddr::V6(n), std::net::IpAddr::V6(a)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// Totals and rates over all findings and scenarios. Rates are `None` when undefined (zero
/// denominator, or no run summary for credential-days).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overall {
    /// Labelled scenarios.
    pub scenarios: usize,
    /// Scenarios with at least one matching finding.
    pub detected: usize,
    /// Scenarios detected within the daily budget.
    pub detected_within_budget: usize,
    /// Findings triaged per UTC day.
    pub budget_per_day: usize,
    /// Days in the run: the summary's `days`, else the UTC days spanned by the findings (at least 1).
    pub days: u64,
    /// Findings after de-duplication by fingerprint.
    pub unique_findings: usize,
    /// Unique findings per day.
    pub findings_per_day: f64,
    /// Unique findings matching some scenario.
    pub true_findings: usize,
    /// Unique findings matching no scenario.
    pub false_findings: usize,
    /// Credentials × days, from the run summary.
    pub credential_days: Option<u64>,
    /// False findings per 1,000 credential-days.
    pub false_findings_per_1000_credential_days: Option<f64>,
    /// True / unique findings.
    pub precision: Option<f64>,
    /// Findings inside the daily budget (top `budget_per_day` of each day).
    pub findings_within_budget: usize,
    /// True findings inside the daily budget.
    pub true_findings_within_budget: usize,
    /// True / all findings inside the daily budget (precision at k = `budget_per_day`).
    pub precision_at_budget: Option<f64>,
    /// Unique findings of misuse rules (activity, not posture: see [`is_exposure_rule`]).
    pub misuse_findings: usize,
    /// Misuse findings that detect some scenario.
    pub misuse_true: usize,
    /// Misuse true / misuse findings: the precision an analyst triaging alerts sees.
    pub misuse_precision: Option<f64>,
    /// False misuse findings per 1,000 credential-days.
    pub false_misuse_per_1000_credential_days: Option<f64>,
    /// Detected / labelled scenarios.
    pub recall: Option<f64>,
    /// Scenarios detected within budget / labelled scenarios.
    pub recall_at_budget: Option<f64>,
}

/// Score `findings` (possibly from several runs) against `labels`. A finding *detects* a scenario's
/// misuse when it comes from a misuse rule, is raised between the first malicious event and a day
/// after the last, and names one of the scenario's attack entities (or, for labels without them,
/// one of its subjects). A finding from an exposure rule ([`is_exposure_rule`]) about the
/// subjects, raised after the exposure began, is the scenario's *warning* (lead time), never its
/// detection. Both are true findings; every other finding is false. Each UTC day, an analyst is assumed
/// to triage the `budget_per_day` most severe new findings (ties: earlier, then lower fingerprint).
pub fn evaluate(
    labels: &[Label],
    findings: &[FindingRef],
    summary: Option<&Summary>,
    budget_per_day: usize,
) -> Report {
    let unique = dedup(findings);
    let subjects: Vec<HashSet<&str>> = labels
        .iter()
        .map(|l| l.subjects.iter().map(String::as_str).collect())
        .collect();
    const GRACE_MS: i64 = 86_400_000;
    // misuse[i]: the labels finding i detects (the attack's own entities, during the attack);
    // exposure[i]: the labels finding i warns about (an exposure rule on the subjects, after the
    // exposure began). A finding first reported before a scenario's exposure (say, an old-key
    // hygiene finding re-reported by every daily audit) is neither.
    let misuse: Vec<Vec<usize>> = unique
        .iter()
        .map(|f| {
            (0..labels.len())
                .filter(|&j| {
                    let l = &labels[j];
                    if is_exposure_rule(&f.rule)
                        || f.time < l.first_malicious_time
                        || f.time.as_millisecond()
                            > l.last_malicious_time.as_millisecond() + GRACE_MS
                    {
                        return false;
                    }
                    if l.attack_entities.is_empty() {
                        f.since.unwrap_or(f.time) >= l.exposure_start
                            && f.names.iter().any(|n| subjects[j].contains(n.as_str()))
                    } else {
                        f.names
                            .iter()
                            .chain(&f.observables)
                            .any(|n| l.attack_entities.iter().any(|e| names_entity(n, e)))
                    }
                })
                .collect()
        })
        .collect();
    let exposure: Vec<Vec<usize>> = unique
        .iter()
        .map(|f| {
            (0..labels.len())
                .filter(|&j| {
                    let l = &labels[j];
                    is_exposure_rule(&f.rule)
                        && f.since.unwrap_or(f.time) >= l.exposure_start
                        && f.time.as_millisecond()
                            <= l.last_malicious_time.as_millisecond() + GRACE_MS
                        && f.names.iter().any(|n| subjects[j].contains(n.as_str()))
                })
                .collect()
        })
        .collect();
    let matches = &misuse;
    let in_budget = budget_selection(&unique, budget_per_day);

    let scenarios: Vec<ScenarioScore> = labels
        .iter()
        .enumerate()
        .map(|(j, label)| {
            let hits: Vec<usize> = (0..unique.len())
                .filter(|&i| matches[i].contains(&j))
                .collect();
            // `unique` is sorted by time, so the first hit is the earliest.
            let first = hits.first().map(|&i| &unique[i]);
            let first_time = first.map(|f| f.time);
            let warned = (0..unique.len()).find(|&i| exposure[i].contains(&j));
            ScenarioScore {
                first_exposure_rule: warned.map(|i| unique[i].rule.clone()),
                exposure_lead_seconds: warned.map(|i| {
                    (label.first_malicious_time.as_millisecond() - unique[i].time.as_millisecond())
                        / 1000
                }),
                scenario: label.scenario.clone(),
                title: label.title.clone(),
                first_malicious_time: label.first_malicious_time,
                detected: first.is_some(),
                first_rule: first.map(|f| f.rule.clone()),
                first_finding_uid: first.map(|f| f.uid.clone()),
                first_finding_time: first_time,
                time_to_detect_seconds: first_time.map(|t| {
                    (t.as_millisecond() - label.first_malicious_time.as_millisecond()) / 1000
                }),
                matching_findings: hits.len(),
                detected_within_budget: hits.iter().any(|&i| in_budget[i]),
            }
        })
        .collect();

    let days = match summary {
        Some(s) => s.days.max(1),
        None => match (unique.first(), unique.last()) {
            (Some(a), Some(b)) => (utc_day(b.time) - utc_day(a.time)).unsigned_abs() + 1,
            _ => 1,
        },
    };
    let is_true = |i: usize| !misuse[i].is_empty() || !exposure[i].is_empty();
    let true_findings = (0..unique.len()).filter(|&i| is_true(i)).count();
    let false_findings = unique.len() - true_findings;
    let credential_days = summary.map(|s| s.credentials * days);
    let findings_within_budget = in_budget.iter().filter(|&&b| b).count();
    let true_findings_within_budget = (0..unique.len())
        .filter(|&i| in_budget[i] && is_true(i))
        .count();
    let detected = scenarios.iter().filter(|s| s.detected).count();
    let detected_within_budget = scenarios
        .iter()
        .filter(|s| s.detected_within_budget)
        .count();

    let misuse_idx: Vec<usize> = (0..unique.len())
        .filter(|&i| !is_exposure_rule(&unique[i].rule))
        .collect();
    let misuse_true = misuse_idx
        .iter()
        .filter(|&&i| !misuse[i].is_empty())
        .count();
    let overall = Overall {
        misuse_findings: misuse_idx.len(),
        misuse_true,
        misuse_precision: ratio(misuse_true, misuse_idx.len()),
        false_misuse_per_1000_credential_days: credential_days
            .filter(|&cd| cd > 0)
            .map(|cd| (misuse_idx.len() - misuse_true) as f64 * 1000.0 / cd as f64),
        scenarios: labels.len(),
        detected,
        detected_within_budget,
        budget_per_day,
        days,
        unique_findings: unique.len(),
        findings_per_day: unique.len() as f64 / days as f64,
        true_findings,
        false_findings,
        credential_days,
        false_findings_per_1000_credential_days: credential_days
            .filter(|&cd| cd > 0)
            .map(|cd| false_findings as f64 * 1000.0 / cd as f64),
        precision: ratio(true_findings, unique.len()),
        findings_within_budget,
        true_findings_within_budget,
        precision_at_budget: ratio(true_findings_within_budget, findings_within_budget),
        recall: ratio(detected, labels.len()),
        recall_at_budget: ratio(detected_within_budget, labels.len()),
    };
    Report { scenarios, overall }
}

/// Marks, per UTC day, the `k` most severe findings (ties: earlier time, then fingerprint).
fn budget_selection(unique: &[FindingRef], k: usize) -> Vec<bool> {
    let mut by_day: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, f) in unique.iter().enumerate() {
        by_day.entry(utc_day(f.time)).or_default().push(i);
    }
    let mut selected = vec![false; unique.len()];
    for mut day in by_day.into_values() {
        day.sort_by_key(|&i| {
            (
                Reverse(unique[i].severity_rank()),
                unique[i].time,
                &unique[i].uid,
            )
        });
        for i in day.into_iter().take(k) {
            selected[i] = true;
        }
    }
    selected
}

fn utc_day(t: Timestamp) -> i64 {
    t.as_second().div_euclid(86_400)
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    /// 2025-03-01T00:00:00Z.
    const T0: i64 = 1_740_787_200;

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    fn label(id: &str, subjects: &[&str], start: i64) -> Label {
        Label {
            scenario: id.into(),
            title: format!("scenario {id}"),
            identity: None,
            credential: None,
            subjects: subjects.iter().map(|s| s.to_string()).collect(),
            first_malicious_time: ts(start),
            exposure_start: ts(start),
            event_count: 1,
            event_ids: vec![],
            last_malicious_time: ts(start + 60 * DAY),
            attack_entities: vec![],
        }
    }

    fn finding(uid: &str, rule: &str, secs: i64, severity_id: u8, names: &[&str]) -> FindingRef {
        FindingRef {
            uid: uid.into(),
            rule: rule.into(),
            time: ts(secs),
            since: None,
            severity_id,
            names: names.iter().map(|s| s.to_string()).collect(),
            observables: vec![],
        }
    }

    fn summary(days: u64, credentials: u64) -> Summary {
        Summary {
            start: ts(T0),
            end: ts(T0 + days as i64 * DAY),
            days,
            credentials,
            identities: 10,
        }
    }

    #[test]
    fn detected_and_missed() {
        let labels = [label("a", &["E1", "AKIA1"], T0), label("b", &["E2"], T0)];
        let findings = [
            finding("f2", "CW-B103", T0 + 5 * DAY, 4, &["AKIA1"]),
            finding(
                "f1",
                "CW-B102",
                T0 + 3 * DAY + 4 * 3600 + 59,
                5,
                &["E1", "x"],
            ),
            finding("f3", "CW-B101", T0 + 3 * DAY, 3, &["E9"]),
        ];
        let r = evaluate(&labels, &findings, None, 10);
        let a = &r.scenarios[0];
        assert!(a.detected && a.detected_within_budget);
        assert_eq!(a.first_rule.as_deref(), Some("CW-B102"));
        assert_eq!(a.first_finding_uid.as_deref(), Some("f1"));
        assert_eq!(a.time_to_detect_seconds, Some(3 * DAY + 4 * 3600 + 59));
        assert_eq!(a.matching_findings, 2);
        let b = &r.scenarios[1];
        assert!(!b.detected && !b.detected_within_budget);
        assert_eq!(
            (b.first_rule.clone(), b.time_to_detect_seconds),
            (None, None)
        );
        let o = &r.overall;
        assert_eq!(
            (o.true_findings, o.false_findings, o.unique_findings),
            (2, 1, 3)
        );
        assert_eq!(o.precision, Some(2.0 / 3.0));
        assert_eq!(o.recall, Some(0.5));
        assert_eq!(o.days, 3, "findings span 2025-03-04 .. 2025-03-06");
        assert_eq!(o.findings_per_day, 1.0);
        assert_eq!(o.credential_days, None);
        assert_eq!(o.false_findings_per_1000_credential_days, None);
    }

    #[test]
    fn matching_is_case_sensitive_on_any_name() {
        let labels = [label("a", &["arn:aws:iam::1:user/jkim"], T0)];
        let r = evaluate(
            &labels,
            &[finding("f", "R", T0, 5, &["ARN:AWS:IAM::1:USER/JKIM"])],
            None,
            1,
        );
        assert!(!r.scenarios[0].detected);
        let r = evaluate(
            &labels,
            &[finding("f", "R", T0, 5, &["x", "arn:aws:iam::1:user/jkim"])],
            None,
            1,
        );
        assert!(r.scenarios[0].detected);
    }

    #[test]
    fn with_attack_entities_only_the_attacks_own_names_detect() {
        // Subjects include the signing key every customer token carries; entities are the
        // attacker's network and a forged token id.
        let mut l = label("a", &["E1", "login-rs256-2019"], T0);
        l.attack_entities = vec!["45.133.16.0/24".into(), "jti-forged-1".into()];
        l.last_malicious_time = ts(T0 + 5 * DAY);
        let mut shared = finding("k", "CW-B104", T0 + 60, 4, &["login-rs256-2019"]);
        shared.observables = vec!["121.134.10.7".into()];
        let mut net = finding("n", "CW-B108", T0 + 600, 4, &["login-rs256-2019"]);
        net.observables = vec!["45.133.16.77".into()];
        let mut late = finding("z", "CW-B108", T0 + 9 * DAY, 4, &["x"]);
        late.observables = vec!["jti-forged-1".into()];
        let r = evaluate(&[l], &[shared, net, late], None, 5);
        let s = &r.scenarios[0];
        assert_eq!(
            (
                s.detected,
                s.first_finding_uid.as_deref(),
                s.time_to_detect_seconds
            ),
            (true, Some("n"), Some(600))
        );
        // The key-only finding and the one a day past the attack's end are false.
        assert_eq!((r.overall.true_findings, r.overall.false_findings), (1, 2));
        assert!(names_entity("2001:db8::1", "2001:db8::/32"));
        assert!(!names_entity("45.133.17.1", "45.133.16.0/24"));
    }

    #[test]
    fn an_exposure_finding_is_a_warning_with_lead_time_never_a_detection() {
        // Exposure (the departure) at T0 - 1 day; misuse 12 days after the finding.
        let mut l = label("a", &["E1"], T0 + 12 * DAY);
        l.exposure_start = ts(T0 - DAY);
        let r = evaluate(
            &[l.clone()],
            &[finding("f", "CW-A001", T0, 5, &["E1"])],
            None,
            5,
        );
        assert!(!r.scenarios[0].detected);
        assert_eq!(r.scenarios[0].exposure_lead_seconds, Some(12 * DAY));
        assert_eq!(r.overall.true_findings, 1);
        // A misuse rule before the misuse began detects nothing and warns of nothing.
        let r = evaluate(
            &[l.clone()],
            &[finding("f", "CW-B101", T0, 5, &["E1"])],
            None,
            5,
        );
        assert_eq!(
            (r.scenarios[0].detected, r.overall.false_findings),
            (false, 1)
        );
        // A finding about the same subject from before the exposure is not a detection.
        let r = evaluate(
            &[l],
            &[finding("g", "CW-B106", T0 - 2 * DAY, 3, &["E1"])],
            None,
            5,
        );
        assert!(!r.scenarios[0].detected);
        assert_eq!(r.overall.false_findings, 1);
    }

    #[test]
    fn a_condition_that_began_before_exposure_is_not_a_detection() {
        let mut l = label("a", &["K1"], T0 + 20 * DAY);
        l.exposure_start = ts(T0 + 5 * DAY);
        // One audit after the attack reports a key that was already too old before it.
        let mut f = finding("f", "CW-B106", T0 + 25 * DAY, 3, &["K1"]);
        f.since = Some(ts(T0));
        let r = evaluate(std::slice::from_ref(&l), &[f.clone()], None, 5);
        assert!(!r.scenarios[0].detected);
        // A condition that began with the exposure (the owner's departure) is.
        f.since = Some(ts(T0 + 5 * DAY));
        let r = evaluate(&[l], &[f], None, 5);
        assert!(r.scenarios[0].detected);
    }

    #[test]
    fn a_condition_first_reported_before_exposure_is_not_a_detection() {
        let mut l = label("a", &["K1"], T0 + 20 * DAY);
        l.exposure_start = ts(T0 + 5 * DAY);
        // The daily audit re-reports an old-key finding after the exposure: still the old condition.
        let runs = [
            finding("f", "CW-B106", T0, 3, &["K1"]),
            finding("f", "CW-B106", T0 + 7 * DAY, 3, &["K1"]),
        ];
        let r = evaluate(&[l], &runs, None, 5);
        assert!(!r.scenarios[0].detected);
        assert_eq!(r.overall.unique_findings, 1);
        assert_eq!(r.overall.false_findings, 1);
    }

    #[test]
    fn dedup_by_fingerprint_across_runs() {
        // A daily audit reports the same condition three times; the first report counts.
        let labels = [label("a", &["E1"], T0)];
        let findings = [
            finding("f", "CW-B102", T0 + 2 * DAY, 5, &["E1"]),
            finding("f", "CW-B102", T0 + DAY, 5, &["E1"]),
            finding("f", "CW-B102", T0 + 3 * DAY, 5, &["E1"]),
            finding("g", "CW-B109", T0 + 3 * DAY, 2, &["nobody"]),
        ];
        let r = evaluate(&labels, &findings, Some(&summary(10, 100)), 5);
        assert_eq!(r.scenarios[0].matching_findings, 1);
        assert_eq!(r.scenarios[0].time_to_detect_seconds, Some(DAY));
        let o = &r.overall;
        assert_eq!(
            (o.unique_findings, o.true_findings, o.false_findings),
            (2, 1, 1)
        );
        assert_eq!(o.days, 10);
        assert_eq!(o.credential_days, Some(1_000));
        assert_eq!(o.false_findings_per_1000_credential_days, Some(1.0));
        assert_eq!(o.findings_per_day, 0.2);
    }

    #[test]
    fn budget_ranks_by_severity_then_time_then_fingerprint() {
        let labels = [
            label("hi", &["H"], T0),
            label("late", &["L"], T0),
            label("tie", &["T"], T0),
            label("next", &["N"], T0),
        ];
        let findings = [
            // Day 0, budget 2: noise (sev 5) and "hi" (sev 5, later) beat "late" (sev 4, earliest).
            finding("n1", "R", T0 + 100, 5, &["noise"]),
            finding("h", "R", T0 + 200, 5, &["H"]),
            finding("l", "R", T0 + 10, 4, &["L"]),
            // Day 1: three sev-3 findings at the same time; fingerprint order decides: a, b.
            finding("b", "R", T0 + DAY + 5, 3, &["T"]),
            finding("a", "R", T0 + DAY + 5, 3, &["noise"]),
            finding("c", "R", T0 + DAY + 5, 3, &["N"]),
            // Day 2: "other" (99) ranks below informational (1).
            finding("o", "R", T0 + 2 * DAY, 99, &["noise"]),
            finding("i", "R", T0 + 2 * DAY + 1, 1, &["N"]),
            finding("z", "R", T0 + 2 * DAY + 2, 1, &["noise"]),
        ];
        let r = evaluate(&labels, &findings, None, 2);
        let within: Vec<(&str, bool)> = r
            .scenarios
            .iter()
            .map(|s| (s.scenario.as_str(), s.detected_within_budget))
            .collect();
        assert_eq!(
            within,
            [("hi", true), ("late", false), ("tie", true), ("next", true)]
        );
        let o = &r.overall;
        assert_eq!(o.recall, Some(1.0));
        assert_eq!(o.recall_at_budget, Some(0.75));
        // Selected: n1, h | a, b | i, z  -> true: h, b, i.
        assert_eq!(
            (o.findings_within_budget, o.true_findings_within_budget),
            (6, 3)
        );
        assert_eq!(o.precision_at_budget, Some(0.5));
        assert_eq!(o.precision, Some(5.0 / 9.0), "h, l, b, c, i");
    }

    #[test]
    fn zero_budget_and_empty_inputs() {
        let labels = [label("a", &["E1"], T0)];
        let r = evaluate(&labels, &[finding("f", "R", T0, 5, &["E1"])], None, 0);
        assert!(r.scenarios[0].detected && !r.scenarios[0].detected_within_budget);
        assert_eq!(r.overall.precision_at_budget, None);
        assert_eq!(r.overall.recall_at_budget, Some(0.0));

        let r = evaluate(&[], &[], None, 5);
        let o = &r.overall;
        assert_eq!((o.days, o.unique_findings, o.findings_per_day), (1, 0, 0.0));
        assert_eq!(
            (o.precision, o.recall, o.precision_at_budget),
            (None, None, None)
        );
        let r = evaluate(&[], &[], Some(&summary(0, 0)), 5);
        assert_eq!(r.overall.false_findings_per_1000_credential_days, None);
    }

    #[test]
    fn finding_matching_two_scenarios_counts_once() {
        let labels = [label("a", &["E1"], T0), label("b", &["K1"], T0)];
        let r = evaluate(&labels, &[finding("f", "R", T0, 5, &["E1", "K1"])], None, 1);
        assert!(r
            .scenarios
            .iter()
            .all(|s| s.detected && s.detected_within_budget));
        assert_eq!(
            (r.overall.true_findings, r.overall.findings_within_budget),
            (1, 1)
        );
    }
}
