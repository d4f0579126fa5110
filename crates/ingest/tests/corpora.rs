//! The shared corpora of real logs written by others must run clean through our CloudTrail reader:
//! every Stratus Red Team detonation record parses; every Panther rule-test event that is a CloudTrail
//! record parses, and the partial or redacted ones (no `eventTime`, `"eventTime": "redacted"`) are
//! rejected with a located field error, never anything else. Corpora come from `CREDWARDEN_CORPORA` or `../shared/corpora`; when absent the
//! tests fail under `CI=true` and skip with a message elsewhere.

use credwarden_ingest::cloudtrail;
use std::sync::Arc;

#[path = "support/corpora.rs"]
mod corpora;

#[test]
fn every_stratus_detonation_parses() {
    let Some(dir) = corpora::dir() else { return };
    let mut files = 0;
    let mut events = 0;
    for e in std::fs::read_dir(dir.join("stratus-detonations")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        files += 1;
        let file: Arc<str> = Arc::from(path.display().to_string());
        let mut errors = Vec::new();
        let stats = cloudtrail::read(credwarden_ingest::open(&path).unwrap(), &file, &mut |r| {
            if let Err(e) = r {
                errors.push(e.to_string())
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(stats.events > 0, "{} has no events", path.display());
        events += stats.events;
    }
    assert!(files >= 30, "expected the 35 Stratus files, found {files}");
    eprintln!("stratus: {files} files, {events} events, 0 errors");
}

#[test]
fn panther_cloudtrail_events_parse_or_are_rejected_cleanly() {
    let Some(dir) = corpora::dir() else { return };
    let text = std::fs::read_to_string(dir.join("panther-cloudtrail/cloudtrail-rule-tests.jsonl"))
        .unwrap();
    let file: Arc<str> = Arc::from("panther");
    let (mut ok, mut partial) = (0, 0);
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let event = v["event"].clone();
        let has_time = event.get("eventTime").is_some();
        match cloudtrail::normalize(event, &file, n as u64 + 1) {
            Ok(_) => ok += 1,
            Err(e) => {
                // Partial or redacted test events (no eventTime, `"eventTime": "redacted"`): each must
                // be one located field error, never a panic or an unlocated failure.
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("panther:{}: field `", n + 1)),
                    "unexpected error {msg}"
                );
                if has_time {
                    eprintln!("rejected: {msg}");
                }
                partial += 1;
            }
        }
    }
    assert!(ok >= 440, "only {ok} Panther events parsed");
    eprintln!("panther: {ok} events parsed, {partial} partial test events rejected as incomplete");
}
