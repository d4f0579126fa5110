//! The engine over real files: event-time order across and inside files, late events counted, bad
//! records counted without stopping the run, deterministic results, and resumption from a saved state
//! without reading anything twice or reporting a finding twice.

use credwarden_detect::{Detector, Engine, Options, State};
use credwarden_model::{Event, Finding, RuleMeta};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Records the times it sees.
struct Recorder(Arc<Mutex<Vec<i64>>>);
impl Detector for Recorder {
    fn meta(&self) -> &'static RuleMeta {
        credwarden_detect::all()[0].meta()
    }
    fn on_event(&mut self, ev: &Event, _: &mut Vec<Finding>) {
        self.0.lock().unwrap().push(ev.time.as_second());
    }
}

const T0: i64 = 1_743_465_600; // 2025-04-01T00:00:00Z

fn ts(secs: i64) -> String {
    jiff::Timestamp::from_second(T0 + secs).unwrap().to_string()
}

fn ct(secs: i64, key: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"{}","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accessKeyId":"{key}"}},"eventID":"e{secs}","recipientAccountId":"111122223333"}}"#,
        ts(secs)
    )
}

fn gw(secs: i64, jti: &str) -> String {
    format!(
        r#"{{"time":"{}","request_id":"r{secs}","client_ip":"45.133.0.9","path":"/api/v1/members/1/address-book","status":200,"token":{{"sub":"1","jti":"{jti}","kid":"k1","iat":{},"client_id":"web"}}}}"#,
        ts(secs),
        T0 + secs - 1
    )
}

fn write(path: &Path, lines: &[String]) {
    let mut f = std::fs::File::create(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

type Seen = Arc<Mutex<Vec<i64>>>;

fn recorder() -> (Vec<Box<dyn Detector>>, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    (vec![Box::new(Recorder(seen.clone()))], seen)
}

fn run(engine: &mut Engine, paths: &[PathBuf]) -> (Vec<Finding>, credwarden_detect::RunStats) {
    engine
        .run(paths, &Options::default(), &mut |_, _, _| {})
        .unwrap()
}

#[test]
fn events_come_in_time_order_across_and_inside_files() {
    let d = tempfile::tempdir().unwrap();
    // Two files overlapping in time, each a little out of order inside (within the window).
    write(
        &d.path().join("a.jsonl"),
        &[
            ct(0, "AKIA1"),
            ct(120, "AKIA1"),
            ct(60, "AKIA1"),
            ct(3600, "AKIA1"),
        ],
    );
    write(
        &d.path().join("b.jsonl"),
        &[gw(30, "j1"), gw(90, "j2"), gw(7200, "j3")],
    );
    let (dets, seen) = recorder();
    let mut e = Engine::new(dets);
    let (_, stats) = run(&mut e, &[d.path().to_path_buf()]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            T0,
            T0 + 30,
            T0 + 60,
            T0 + 90,
            T0 + 120,
            T0 + 3600,
            T0 + 7200
        ]
    );
    assert_eq!(stats.late, 0);
    assert_eq!(stats.events.get("cloudtrail"), Some(&4));
    assert_eq!(stats.events.get("gateway"), Some(&3));
}

#[test]
fn an_event_later_than_the_window_is_processed_and_counted_late() {
    let d = tempfile::tempdir().unwrap();
    let lines = [
        ct(0, "AKIA1"),
        ct(7200, "AKIA1"),
        ct(8400, "AKIA1"),
        ct(60, "AKIA1"),
    ];
    write(&d.path().join("a.jsonl"), &lines);
    let (dets, seen) = recorder();
    let mut e = Engine::new(dets);
    let (_, stats) = run(&mut e, &[d.path().to_path_buf()]);
    assert_eq!(seen.lock().unwrap().len(), 4);
    assert_eq!(stats.late, 1);
}

#[test]
fn bad_records_and_files_are_counted_and_the_run_goes_on() {
    let d = tempfile::tempdir().unwrap();
    write(
        &d.path().join("a.jsonl"),
        &[ct(0, "AKIA1"), "{not json".into(), ct(60, "AKIA1")],
    );
    std::fs::write(d.path().join("b.txt"), "hello world\n").unwrap();
    // A CloudTrail digest file (S3 trees hold them beside the logs): no events, not bad input.
    std::fs::write(
        d.path().join("digest.json"),
        r#"{"awsAccountId":"111122223333","digestStartTime":"2025-04-01T00:00:00Z","digestEndTime":"2025-04-01T01:00:00Z","logFiles":[]}"#,
    )
    .unwrap();
    let (dets, seen) = recorder();
    let mut e = Engine::new(dets);
    let (_, stats) = run(&mut e, &[d.path().to_path_buf()]);
    assert_eq!(seen.lock().unwrap().len(), 2);
    let msgs: Vec<String> = stats.rejects.iter().map(|r| r.to_string()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("a.jsonl:2")), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("b.txt") && m.contains("not a supported activity log")),
        "{msgs:?}"
    );
}

fn dormant_gap_logs(d: &Path) -> (PathBuf, PathBuf) {
    let a = d.join("2025-04-01.jsonl");
    let b = d.join("2025-05-15.jsonl");
    write(&a, &[ct(0, "AKIAOLD"), ct(60, "AKIAOLD")]);
    write(&b, &[ct(44 * 86_400, "AKIAOLD")]);
    (a, b)
}

fn ids(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.rule.id).collect()
}

#[test]
fn state_carries_per_credential_memory_and_nothing_is_read_or_reported_twice() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = dormant_gap_logs(d.path());

    // One run over both files: the key was silent for 44 days.
    let (all, _) =
        credwarden_detect::run(&[a.clone(), b.clone()], credwarden_detect::all()).unwrap();
    assert_eq!(ids(&all), vec!["CW-D011"]);

    // Two runs, the second from the first's saved state (through JSON, as the store keeps it).
    let mut e1 = Engine::new(credwarden_detect::all());
    let (f1, s1) = run(&mut e1, std::slice::from_ref(&a));
    assert!(f1.is_empty());
    assert_eq!(s1.events.get("cloudtrail"), Some(&2));
    let saved: State = serde_json::from_str(&serde_json::to_string(&e1.state()).unwrap()).unwrap();
    let mut e2 = Engine::new(credwarden_detect::all());
    assert!(e2.restore(saved.clone()).is_empty());
    let (f2, s2) = run(&mut e2, &[a.clone(), b.clone()]);
    assert_eq!(s2.unchanged, 1, "the first file is not read again");
    assert_eq!(s2.events.get("cloudtrail"), Some(&1));
    assert_eq!(ids(&f2), vec!["CW-D011"]);
    assert_eq!(f2[0].fingerprint(), all[0].fingerprint());

    // Without the state, the second file alone shows nothing: the memory came from the state.
    let (alone, _) =
        credwarden_detect::run(std::slice::from_ref(&b), credwarden_detect::all()).unwrap();
    assert!(alone.is_empty());

    // A third run over the same files reads nothing and reports nothing again.
    let mut e3 = Engine::new(credwarden_detect::all());
    e3.restore(e2.state());
    let (f3, s3) = run(&mut e3, &[a.clone(), b.clone()]);
    assert!(f3.is_empty());
    assert_eq!((s3.unchanged, s3.files), (2, 0));
}

#[test]
fn an_appended_log_is_read_from_where_the_last_run_stopped() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("gw.jsonl");
    write(&p, &[gw(0, "j1"), gw(10, "j2")]);
    let (dets, seen) = recorder();
    let mut e = Engine::new(dets);
    run(&mut e, std::slice::from_ref(&p));
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    writeln!(f, "{}", gw(20, "j3")).unwrap();
    writeln!(f, "{}", gw(30, "j4")).unwrap();
    let (_, stats) = run(&mut e, std::slice::from_ref(&p));
    assert_eq!(stats.resumed_records, 2);
    assert_eq!(stats.events.get("gateway"), Some(&2));
    assert_eq!(*seen.lock().unwrap(), vec![T0, T0 + 10, T0 + 20, T0 + 30]);
    // A file rewritten from the start is a new file, read whole.
    write(&p, &[gw(100, "x1")]);
    let (_, stats) = run(&mut e, std::slice::from_ref(&p));
    assert_eq!(stats.events.get("gateway"), Some(&1));
}

#[test]
fn results_are_deterministic() {
    let d = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for i in 0..2000 {
        lines.push(ct(i * 3 + i * 37 % 500, &format!("AKIA{}", i % 7)));
    }
    write(&d.path().join("a.jsonl"), &lines);
    write(
        &d.path().join("b.jsonl"),
        &(0..500)
            .map(|i| gw(i * 11, &format!("j{i}")))
            .collect::<Vec<_>>(),
    );
    let once = || {
        let (dets, seen) = recorder();
        let mut e = Engine::new(dets);
        run(&mut e, &[d.path().to_path_buf()]);
        let v = seen.lock().unwrap().clone();
        v
    };
    let first = once();
    assert_eq!(first.len(), 2500);
    assert!(first.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(first, once());
}

/// A writer caught mid-line: the half line is reported as incomplete but not consumed, and the
/// next run reads it whole once it is finished — nothing lost, nothing read twice.
#[test]
fn a_half_written_last_line_is_read_once_it_is_complete() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("gw.jsonl");
    let third = gw(20, "j3");
    let (head, tail) = third.split_at(third.len() / 2);
    std::fs::write(&p, format!("{}\n{}\n{head}", gw(0, "j1"), gw(10, "j2"))).unwrap();
    let (dets, seen) = recorder();
    let mut e = Engine::new(dets);
    let (_, stats) = run(&mut e, std::slice::from_ref(&p));
    assert_eq!(stats.events.get("gateway"), Some(&2));
    assert!(
        stats.rejects.iter().any(|e| e.is_incomplete()),
        "{:?}",
        stats.rejects
    );
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    writeln!(f, "{tail}").unwrap();
    writeln!(f, "{}", gw(30, "j4")).unwrap();
    let (_, stats) = run(&mut e, std::slice::from_ref(&p));
    assert_eq!(stats.resumed_records, 2);
    assert_eq!(stats.events.get("gateway"), Some(&2));
    assert!(stats.rejects.is_empty(), "{:?}", stats.rejects);
    assert_eq!(*seen.lock().unwrap(), vec![T0, T0 + 10, T0 + 20, T0 + 30]);
}

/// One bad byte costs its line, never the file, in every line-based format.
#[test]
fn a_bad_byte_costs_one_line() {
    let d = tempfile::tempdir().unwrap();
    let mut gw_bytes = Vec::new();
    let mut ct_bytes = Vec::new();
    for i in 0..100 {
        let (mut g, mut c) = (
            gw(i, &format!("j{i}")).into_bytes(),
            ct(i, "AKIA1").into_bytes(),
        );
        if i == 50 {
            g.insert(10, 0xff);
            c.insert(10, 0xfe);
        }
        gw_bytes.extend(g);
        gw_bytes.push(b'\n');
        ct_bytes.extend(c);
        ct_bytes.push(b'\n');
    }
    std::fs::write(d.path().join("gw.jsonl"), gw_bytes).unwrap();
    std::fs::write(d.path().join("ct.jsonl"), ct_bytes).unwrap();
    let (dets, seen) = recorder();
    let mut e = Engine::new(dets);
    let (_, stats) = run(&mut e, &[d.path().to_path_buf()]);
    assert_eq!(stats.events.get("gateway"), Some(&99), "{stats:?}");
    assert_eq!(stats.events.get("cloudtrail"), Some(&99), "{stats:?}");
    assert_eq!(stats.rejects.len(), 2, "{:?}", stats.rejects);
    assert!(stats
        .rejects
        .iter()
        .all(|e| e.line() == Some(51) && e.to_string().contains("not UTF-8")));
    assert_eq!(seen.lock().unwrap().len(), 198);
}

/// What a folder holds besides logs never stops or hangs a run: a dangling symlink, a symlink back
/// up the tree and a FIFO are skipped with a located warning, and the logs are read.
#[cfg(unix)]
#[test]
fn odd_files_in_a_folder_are_skipped_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    write(&d.path().join("gw.jsonl"), &[gw(0, "j1"), gw(10, "j2")]);
    std::os::unix::fs::symlink(d.path().join("gone.jsonl"), d.path().join("dangling.jsonl"))
        .unwrap();
    std::os::unix::fs::symlink(d.path(), d.path().join("loop")).unwrap();
    let fifo = d.path().join("pipe.jsonl");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (dets, seen) = recorder();
    let mut e = Engine::new(dets);
    let (_, stats) = run(&mut e, &[d.path().to_path_buf()]);
    assert_eq!(seen.lock().unwrap().len(), 2);
    let why: Vec<String> = stats.rejects.iter().map(|e| e.to_string()).collect();
    assert!(
        why.iter()
            .any(|w| w.contains("dangling.jsonl") && w.contains("symlink"))
            && why
                .iter()
                .any(|w| w.contains("pipe.jsonl") && w.contains("FIFO")),
        "{why:?}"
    );
    // The loop is walked once (the file is not read twice).
    assert_eq!(stats.events.get("gateway"), Some(&2));
}
