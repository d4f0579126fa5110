//! The simulator's promises: deterministic per seed, different per seed, outputs readable by
//! credwarden's own readers and by standard JSON/CSV parsers, labels consistent with the event files,
//! benign drift present, and the switches (issuance log, HR lag, scenarios) honoured.

use credwarden_ingest::{hr, iam_report, inventory, Input, Rejects};
use credwarden_sim::{simulate, SimConfig};
use flate2::read::GzDecoder;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

fn small(seed: u64) -> SimConfig {
    SimConfig {
        identities: 40,
        days: 35,
        seed,
        members: 1_000,
        logins_per_day: 80,
        forged_requests_per_day: Some(60),
        attacker_addresses: Some(40),
        ..SimConfig::default()
    }
}

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    GzDecoder::new(bytes).read_to_string(&mut s).unwrap();
    s
}

#[test]
fn same_seed_same_bytes_other_seed_other_company() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    simulate(&small(7), a.path(), false).unwrap();
    simulate(&small(7), b.path(), false).unwrap();
    simulate(&small(8), c.path(), false).unwrap();
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(
            v == &fb[k],
            "{} differs between two runs with the same seed",
            k.display()
        );
    }
    let roster = PathBuf::from("hr/roster.csv");
    assert_ne!(
        fa[&roster], fc[&roster],
        "different seeds should give different companies"
    );
}

#[test]
fn outputs_parse_labels_match_events_and_drift_is_present() {
    let dir = tempfile::tempdir().unwrap();
    let summary = simulate(&small(3), dir.path(), false).unwrap();
    let all = files(dir.path());
    // credwarden's own readers accept every roster snapshot, credential report and the inventory.
    for (path, bytes) in &all {
        let name = path.display().to_string();
        let input = Input::new(
            name.clone(),
            String::from_utf8(bytes.clone()).unwrap_or_default(),
        );
        let mut rj = Rejects::new(false);
        if name.starts_with("hr/") {
            assert!(!hr::read(&input, &mut rj).unwrap().is_empty(), "{name}");
        } else if name.starts_with("iam/") {
            assert!(
                iam_report::read(&input, &mut rj).unwrap().len() > 10,
                "{name}"
            );
        } else if name == "inventory/secrets.csv" {
            assert_eq!(inventory::read(&input, &mut rj).unwrap().len(), 3);
        }
    }
    // Every gzip file is valid; CloudTrail files are {"Records": [...]}; JSON lines are JSON.
    let mut text = String::new();
    let mut cloudtrail = 0;
    for (path, bytes) in &all {
        let name = path.display().to_string();
        if !name.ends_with(".gz") {
            continue;
        }
        let body = gunzip(bytes);
        if name.starts_with("cloudtrail/AWSLogs/210987654321/CloudTrail/ap-northeast-2/2025/") {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            cloudtrail += v["Records"].as_array().unwrap().len();
        } else if name.ends_with(".jsonl.gz") {
            for l in body.lines() {
                serde_json::from_str::<serde_json::Value>(l)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        } else {
            assert!(
                body.starts_with("version account-id interface-id"),
                "{name}"
            );
        }
        text.push_str(&body);
    }
    assert_eq!(cloudtrail as u64, summary.events["cloudtrail"]);
    // credwarden's own streaming CloudTrail reader agrees, with no rejected record.
    let (mut events, mut rejected) = (0, 0);
    for (path, _) in all.iter().filter(|(p, _)| p.starts_with("cloudtrail")) {
        let full = dir.path().join(path);
        let file: std::sync::Arc<str> = std::sync::Arc::from(full.display().to_string());
        let s = credwarden_ingest::cloudtrail::read(
            credwarden_ingest::open(&full).unwrap(),
            &file,
            &mut |_| {},
        )
        .unwrap();
        events += s.events;
        rejected += s.rejected;
    }
    assert_eq!((events, rejected), (summary.events["cloudtrail"], 0));
    // Labels: one row per scenario, each with events that really are in the files.
    let labels = String::from_utf8(all[&PathBuf::from("labels.csv")].clone()).unwrap();
    let mut rdr = csv::Reader::from_reader(labels.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut seen = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        seen.push(r[0].to_string());
        assert!(
            r[col("event_count")].parse::<u64>().unwrap() > 0 || &r[0] == "h",
            "scenario {} wrote no events",
            &r[0]
        );
        assert!(
            !r[col("first_malicious_time")].is_empty()
                && r[col("last_malicious_time")] >= r[col("first_malicious_time")],
            "scenario {} has no first event time",
            &r[0]
        );
        // Every scenario names entities of its own; scenario a never the key or the service every
        // customer token shares.
        let entities = &r[col("attack_entities")];
        assert!(
            !entities.is_empty(),
            "scenario {} has no attack entities",
            &r[0]
        );
        if &r[0] == "a" {
            assert!(!entities.contains("login-service") && !entities.contains("login-rs256"));
        }
        for id in r[col("event_ids")]
            .split(';')
            .filter(|s| !s.is_empty() && !s.starts_with("shell:"))
            .take(5)
        {
            assert!(
                text.contains(id),
                "scenario {}: event {id} not found in the logs",
                &r[0]
            );
        }
    }
    assert_eq!(seen, ["a", "a2", "b", "c", "d", "e", "f", "g", "h"]);
    for k in [
        "travel_days",
        "team_moves_happened",
        "month_end_batch_days",
        "new_hires",
        "leavers",
        "on_call_nights",
        "key_rotations",
        "customer_app_updates",
        "partner_go_live",
    ] {
        assert!(
            summary.drift.get(k).copied().unwrap_or(0) > 0,
            "no benign drift of kind {k}: {:?}",
            summary.drift
        );
    }
}

#[test]
fn switches_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SimConfig {
        issuance_log: false,
        hr_lag_days: 7,
        scenarios: ["a".to_string()].into(),
        ..small(5)
    };
    simulate(&cfg, dir.path(), false).unwrap();
    let all = files(dir.path());
    assert!(
        !all.keys().any(|k| k.starts_with("login")),
        "no issuance log when switched off"
    );
    let labels = String::from_utf8(all[&PathBuf::from("labels.csv")].clone()).unwrap();
    assert_eq!(labels.lines().count(), 2, "only scenario a");
    // Scenario a's leaver left on day 7 (days / 5); with a 7-day HR lag the day-13 snapshot still
    // shows them active, the day-20 one terminated.
    let who = labels
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .to_string();
    let status = |day: &str| {
        let roster = String::from_utf8(
            all[&PathBuf::from(format!("hr/snapshots/roster-{day}.csv"))].clone(),
        )
        .unwrap();
        roster
            .lines()
            .find(|l| l.starts_with(&format!("{who},")))
            .unwrap()
            .split(',')
            .nth(5)
            .unwrap()
            .to_string()
    };
    assert_eq!(status("2025-03-16"), "active");
    assert_eq!(status("2025-03-23"), "terminated");
}

#[test]
fn a_previous_simulation_is_not_mixed_in() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SimConfig {
        days: 21,
        scenarios: Default::default(),
        ..small(2)
    };
    simulate(&cfg, dir.path(), false).unwrap();
    let e = simulate(&cfg, dir.path(), false).unwrap_err().to_string();
    assert!(e.contains("already holds a simulation"), "{e}");
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    simulate(&SimConfig { seed: 9, ..cfg }, dir.path(), true).unwrap();
    assert!(
        dir.path().join("notes.txt").exists(),
        "--overwrite removes only simulation files"
    );
}

#[test]
fn bad_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for cfg in [
        SimConfig {
            identities: 5,
            ..small(1)
        },
        SimConfig {
            days: 3,
            ..small(1)
        },
        SimConfig {
            scenarios: ["zz".to_string()].into(),
            ..small(1)
        },
    ] {
        let e = simulate(&cfg, dir.path(), false).unwrap_err().to_string();
        assert!(e.starts_with("invalid simulation config"), "{e}");
    }
}

/// Every company the simulator builds is one HR would accept, whatever the seed: nobody leaves before
/// starting, HR never records a departure before the last day (seed 3 once made a contract that ended
/// before it began, and `demo --seed 3` stopped on the roster).
#[test]
fn people_end_after_they_start_for_many_seeds() {
    for seed in 1..=300 {
        let cfg = SimConfig {
            seed,
            ..SimConfig::default()
        };
        let c = credwarden_sim::company::Company::build(&cfg);
        for p in &c.people {
            if let Some(end) = p.end {
                assert!(
                    end >= p.start,
                    "seed {seed}: {} ends on day {end}, starts on day {}",
                    p.id,
                    p.start
                );
                assert!(
                    p.hr_recorded.is_some_and(|h| h >= end),
                    "seed {seed}: {}",
                    p.id
                );
            }
        }
    }
}
