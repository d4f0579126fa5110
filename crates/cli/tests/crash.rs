//! Crash consistency of `detect --state --archive -o --sink file:` through the real binary: the first
//! or the second of two runs (the second reads what was appended to the logs) is killed with SIGKILL at every write point — each `write`, `rename`, `fsync`/
//! `fdatasync`, `openat` and `unlink` it makes and every other `close`, one kill per run, injected
//! by strace (its counters are per thread) — then run again; the
//! output, the file sink and the archive must equal those of an uninterrupted pair of runs: every
//! finding once (none lost, none doubled), every event archived once, `archive verify` green.
//! Needs strace (Debian's package; .ci/run installs it); absent, the test fails under CI=true and
//! is skipped elsewhere.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

#[path = "support/servers.rs"]
mod servers;
use servers::*;

fn ts(day: u32, sec: u32) -> String {
    format!(
        "2025-05-{:02}T{:02}:{:02}:{:02}Z",
        day + 1,
        sec / 3600,
        sec / 60 % 60,
        sec % 60
    )
}

/// CloudTrail JSON lines and a shell log for `days`: routine calls, and calls that fire rules with
/// a different subject each (log tampering, keys made for another user, bulk exports).
fn batch(days: std::ops::Range<u32>) -> (String, String) {
    let (mut ct, mut sh) = (String::new(), String::new());
    for day in days {
        for i in 0..60u32 {
            let t = ts(day, i * 700);
            let (name, extra) = match i % 20 {
                3 => (
                    "StopLogging",
                    r#","requestParameters":{"name":"main-trail"}"#.to_string(),
                ),
                11 => (
                    "CreateAccessKey",
                    format!(r#","requestParameters":{{"userName":"victim{day}{i}"}}"#),
                ),
                _ => ("ListBuckets", String::new()),
            };
            let user = format!("u{day}-{i}");
            ct.push_str(&format!(
                r#"{{"eventVersion":"1.08","eventTime":"{t}","eventSource":"{}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}","userName":"{user}","accessKeyId":"AKIA{day}X{i}"}},"eventID":"e{day}-{i}","recipientAccountId":"111122223333"{extra}}}"#,
                if name == "ListBuckets" { "s3.amazonaws.com" } else if name == "StopLogging" { "cloudtrail.amazonaws.com" } else { "iam.amazonaws.com" }
            ));
            ct.push('\n');
            if i % 15 == 7 {
                sh.push_str(&format!(
                    r#"{{"time":"{t}","user":"{user}","host":"bastion-1","command":"aws s3 sync s3://shop-customer-pii ./loot-{day}-{i}"}}"#
                ));
                sh.push('\n');
            }
        }
    }
    (ct, sh)
}

fn append(dir: &Path, (ct, sh): &(String, String)) {
    use std::io::Write;
    for (name, text) in [("cloudtrail.jsonl", ct), ("shell.jsonl", sh)] {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(name))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }
}

fn detect_args(d: &Path) -> Vec<String> {
    let p = |n: &str| d.join(n).display().to_string();
    vec![
        "detect".into(),
        "--format".into(),
        "json".into(),
        "--state".into(),
        p("state.json"),
        "--archive".into(),
        p("archive"),
        "-o".into(),
        p("findings.jsonl"),
        "--sink".into(),
        format!("file:{}", p("sink.jsonl")),
        "--no-progress".into(),
        p("logs"),
    ]
}

fn run(d: &Path, inject: Option<(&str, usize)>) -> Output {
    let bin = env!("CARGO_BIN_EXE_credwarden");
    let mut c = match inject {
        Some((calls, k)) => {
            let mut c = Command::new("strace");
            c.args(["-f", "-qq", "-o", "/dev/null", "-e"])
                .arg(format!("trace={calls}"))
                .arg("-e")
                .arg(format!("inject={calls}:signal=SIGKILL:when={k}"))
                .arg(bin);
            c
        }
        None => Command::new(bin),
    };
    c.args(detect_args(d))
        .env_remove("CREDWARDEN_CONFIG")
        .output()
        .unwrap()
}

/// Fingerprint → how many times, in a findings file.
fn counted(path: &Path) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for l in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        *m.entry(v["finding_info"]["uid"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

/// (findings in the output, in the sink, archived events) after the two runs, the second killed
/// at the `k`th of `calls` (then run again) when given; `None` when the run was not killed (k is
/// past the last such call).
type Outcome = (BTreeMap<String, usize>, BTreeMap<String, usize>, u64);

fn pair(inject: Option<(&str, usize)>, in_run: usize) -> Option<Outcome> {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("logs")).unwrap();
    let mut killed = false;
    for (run_no, days) in [(1, 0..2), (2, 2..4)] {
        append(&d.path().join("logs"), &batch(days));
        let out = run(d.path(), inject.filter(|_| run_no == in_run));
        if out.status.success() {
            continue;
        }
        assert!(
            inject.is_some() && run_no == in_run,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        killed = true;
        let again = run(d.path(), None);
        assert!(
            again.status.success(),
            "rerun after a kill at {inject:?}: {}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
    if inject.is_some() && !killed {
        return None;
    }
    let verify = Command::new(env!("CARGO_BIN_EXE_credwarden"))
        .args(["archive", "verify"])
        .arg(d.path().join("archive"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "verify after a kill at {inject:?}: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let events = std::str::from_utf8(&verify.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[1].starts_with("event"))
        .and_then(|w| w[0].replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&verify.stdout)));
    Some((
        counted(&d.path().join("findings.jsonl")),
        counted(&d.path().join("sink.jsonl")),
        events,
    ))
}

#[test]
fn a_kill_at_any_write_point_loses_and_doubles_nothing() {
    if !needed(
        on_path("strace").is_some(),
        "strace (apt-get install strace)",
    ) {
        return;
    }
    let reference = pair(None, 0).unwrap();
    assert!(reference.0.len() >= 20, "{:?}", reference.0);
    assert!(reference.0.values().all(|&n| n == 1));
    assert_eq!(reference.0, reference.1);
    let mut kills = 0;
    // Every point of the rare calls (renames, fsyncs); a spread of the many writes and opens.
    for (in_run, calls, step, cap) in [1, 2].into_iter().flat_map(|r| {
        [
            ("rename", 1, 40),
            ("fsync,fdatasync", 1, 40),
            ("write", 1, 40),
            ("openat", 1, 25),
            ("close", 2, 20),
            ("unlink,unlinkat", 1, 20),
        ]
        .map(|(c, s, n)| (r, c, s, n))
    }) {
        let (mut k, mut here) = (1, 0);
        while here < cap {
            let Some(got) = pair(Some((calls, k)), in_run) else {
                break;
            };
            here += 1;
            assert_eq!(got.0, reference.0, "output after a kill at {calls} #{k}");
            assert_eq!(got.1, reference.1, "sink after a kill at {calls} #{k}");
            assert_eq!(
                got.2, reference.2,
                "archived events after a kill at {calls} #{k}"
            );
            k += step;
        }
        eprintln!("run {in_run}, {calls}: {here} kill points");
        kills += here;
    }
    eprintln!("{kills} kills, 0 findings lost or doubled, archive verified each time");
    assert!(kills >= 100, "only {kills} kill points reached");
}
