//! GCP Cloud Audit Logs and VPC flow logs: the shared Panther GCP corpus runs clean through
//! `gcp_audit::normalize` (every event parses or is rejected with a located field error, never anything
//! else); the small fixtures in `tests/data` read as documented; and property tests standing in for
//! fuzzing feed arbitrary and mutated input to both readers (no panic, every error names the file).
//! Corpora come from `CREDWARDEN_CORPORA` or `../shared/corpora`; when absent the corpus test fails under
//! `CI=true` and skips with a message elsewhere.

use credwarden_ingest::{gcp_audit, vpcflow, IngestError};
use credwarden_model::{Event, EventOutcome};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

#[path = "support/corpora.rs"]
mod corpora;

#[test]
fn panther_gcp_events_parse_or_are_rejected_cleanly() {
    let Some(dir) = corpora::dir() else { return };
    let text = std::fs::read_to_string(dir.join("panther-gcp-auditlog/rule-tests.jsonl")).unwrap();
    let file: Arc<str> = Arc::from("panther");
    let (mut ok, mut with_key, mut denied) = (0, 0, 0);
    // Rejections by field, and how many of them were audit entries with a time (real partial tests).
    let mut rejected: BTreeMap<String, u32> = BTreeMap::new();
    let mut lines = 0;
    for (n, line) in text.lines().enumerate() {
        lines += 1;
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let event = &v["event"];
        match gcp_audit::normalize(event, &file, n as u64 + 1) {
            Ok(e) => {
                ok += 1;
                assert!(!e.action.is_empty());
                with_key += usize::from(e.credential_id.is_some());
                denied += usize::from(e.outcome == EventOutcome::Denied);
                if let Some(k) = &e.credential_id {
                    assert!(!k.contains('/'), "credential id is the key id: {k}");
                }
            }
            Err(e) => {
                let msg = e.to_string();
                let IngestError::Field { field, line, .. } = &e else {
                    panic!("not a field error: {msg}")
                };
                assert!(
                    msg.starts_with(&format!("panther:{}: field `", n + 1))
                        && *line == n as u64 + 1,
                    "unexpected error {msg}"
                );
                *rejected.entry(field.clone()).or_default() += 1;
            }
        }
    }
    assert_eq!(lines, 425, "the corpus has 425 rule tests");
    assert!(ok >= 130, "only {ok} GCP audit events parsed");
    assert!(
        with_key >= 15,
        "{with_key} events name a service-account key"
    );
    eprintln!(
        "panther gcp: {lines} rule tests, {ok} events parsed ({with_key} with a service-account key, \
         {denied} denied); rejected by field: {rejected:?}"
    );
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

type Got = Vec<Result<Event, IngestError>>;
type Each<'a> = &'a mut dyn FnMut(Result<Event, IngestError>);
/// A streaming reader: `vpcflow::read` or `gcp_audit::read`.
type Reader = fn(Box<dyn std::io::Read>, &Arc<str>, Each) -> Result<vpcflow::Stats, IngestError>;

fn read_fixture(name: &str, read: Reader) -> (vpcflow::Stats, Got) {
    let path = fixture(name);
    let file: Arc<str> = Arc::from(name);
    let mut got = Vec::new();
    let head = std::fs::read_to_string(&path).unwrap();
    assert!(
        vpcflow::looks_like(&head) != gcp_audit::looks_like(&head),
        "{name}: exactly one reader claims it"
    );
    let stats = read(credwarden_ingest::open(&path).unwrap(), &file, &mut |e| {
        got.push(e)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    (stats, got)
}

fn vpc(r: Box<dyn std::io::Read>, f: &Arc<str>, each: Each) -> Result<vpcflow::Stats, IngestError> {
    vpcflow::read(r, f, each)
}

fn gcp(r: Box<dyn std::io::Read>, f: &Arc<str>, each: Each) -> Result<vpcflow::Stats, IngestError> {
    gcp_audit::read(r, f, each)
}

fn errors(got: &Got) -> Vec<String> {
    got.iter()
        .filter_map(|g| g.as_ref().err().map(ToString::to_string))
        .collect()
}

#[test]
fn vpc_flow_fixture_as_delivered_to_s3() {
    let (stats, got) = read_fixture("vpcflow-s3.log", vpc);
    assert_eq!(
        stats,
        vpcflow::Stats {
            events: 4,
            rejected: 2,
            skipped: 2
        }
    );
    assert_eq!(
        errors(&got),
        [
            "vpcflow-s3.log:6: field `bytes`: not a number: \"n/a\"",
            "vpcflow-s3.log:8: expected 14 space-separated fields (as the header on line 1 names them), found 7",
        ]
    );
    let events: Vec<&Event> = got.iter().filter_map(|g| g.as_ref().ok()).collect();
    let rejected = events[1];
    assert_eq!(rejected.raw.line, 3);
    assert_eq!(rejected.action, "flow:REJECT");
    assert_eq!(rejected.outcome, EventOutcome::Denied);
    assert_eq!(rejected.src.ip.as_deref(), Some("185.220.101.34"));
    assert_eq!(rejected.resource.id.as_deref(), Some("10.20.1.14:22/6"));
    assert_eq!(events[0].volume.bytes, Some(2_381_742));
    assert_eq!(
        events[2].resource.id.as_deref(),
        Some("169.254.169.254:80/6")
    );
    assert_eq!(events[3].raw.line, 9);
}

#[test]
fn vpc_flow_fixture_in_a_custom_v5_format() {
    let (stats, got) = read_fixture("vpcflow-custom-v5.log", vpc);
    assert_eq!((stats.events, stats.rejected, stats.skipped), (2, 0, 0));
    let e = got[0].as_ref().unwrap();
    assert_eq!(e.principal.as_deref(), Some("i-0123456789abcdef0"));
    assert_eq!(e.resource.id.as_deref(), Some("52.94.236.248:443/6"));
    assert_eq!(e.volume.bytes, Some(52311));
    assert_eq!(e.detail["direction"], "egress");
    assert_eq!(e.detail["packets"], 61);
    let e = got[1].as_ref().unwrap();
    assert_eq!(e.principal.as_deref(), Some("eni-0aa11bb22cc33dd44"));
    assert_eq!(e.detail["direction"], "ingress");
}

#[test]
fn gcp_fixture_from_a_log_sink() {
    let (stats, got) = read_fixture("gcp-audit-sink.jsonl", gcp);
    assert_eq!(
        stats,
        vpcflow::Stats {
            events: 3,
            rejected: 2,
            skipped: 1
        }
    );
    let errs = errors(&got);
    assert!(
        errs[0].starts_with("gcp-audit-sink.jsonl:5: invalid JSON"),
        "{errs:?}"
    );
    assert_eq!(
        errs[1],
        "gcp-audit-sink.jsonl:6: field `timestamp`: missing (and no receiveTimestamp)"
    );
    let events: Vec<&Event> = got.iter().filter_map(|g| g.as_ref().ok()).collect();
    let e = events[0];
    assert_eq!(e.action, "google.iam.admin.v1.CreateServiceAccountKey");
    assert_eq!(
        e.credential_id.as_deref(),
        Some("3f6c0a9d1b2e4f5a6b7c8d9e0f1a2b3c4d5e6f70")
    );
    assert_eq!(e.detail["project"], "acme-prod");
    assert_eq!(e.detail["severity"], "NOTICE");
    let e = events[1];
    assert_eq!(e.outcome, EventOutcome::Denied);
    assert_eq!(e.detail["authorizationDenied"], 1);
    assert_eq!(e.raw.line, 2);
    let e = events[2];
    assert_eq!(e.raw.line, 4);
    assert_eq!(
        e.principal.as_deref(),
        Some("ops-backup@acme-prod.iam.gserviceaccount.com")
    );
    assert_eq!(
        e.detail["delegatedFrom"],
        "deployer@acme-prod.iam.gserviceaccount.com"
    );
    assert_eq!(e.credential_id, None);
}

#[test]
fn gcp_fixture_from_gcloud_logging_read() {
    let (stats, got) = read_fixture("gcp-audit-gcloud.json", gcp);
    assert_eq!((stats.events, stats.rejected, stats.skipped), (3, 0, 0));
    let lines: Vec<u64> = got.iter().map(|e| e.as_ref().unwrap().raw.line).collect();
    assert_eq!(
        lines,
        [2, 66, 120],
        "each entry at the line where it starts"
    );
    let (_, sink) = read_fixture("gcp-audit-sink.jsonl", gcp);
    let strip = |e: &Event| {
        let mut e = e.clone();
        e.raw.line = 0;
        e.raw.file = Arc::from("");
        e
    };
    let sink: Vec<Event> = sink
        .iter()
        .filter_map(|g| g.as_ref().ok())
        .map(strip)
        .collect();
    let pretty: Vec<Event> = got.iter().map(|g| strip(g.as_ref().unwrap())).collect();
    assert_eq!(
        pretty, sink,
        "the same entries give the same events in both layouts"
    );
}

// ---- property tests (fuzzing stand-in) ----

fn run_both(bytes: &[u8]) {
    let file: Arc<str> = Arc::from("fuzz.log");
    let check = |e: &IngestError| {
        assert_eq!(e.file(), "fuzz.log");
        assert!(e.to_string().starts_with("fuzz.log"), "{e}");
    };
    for reader in [vpc, gcp] {
        let mut n = 0u64;
        let r = reader(
            Box::new(std::io::Cursor::new(bytes.to_vec())),
            &file,
            &mut |r| {
                n += 1;
                match r {
                    Err(e) => check(&e),
                    Ok(ev) => assert_eq!(&*ev.raw.file, "fuzz.log"),
                }
            },
        );
        match r {
            Ok(s) => assert_eq!(s.events + s.rejected, n, "every callback is counted"),
            Err(e) => check(&e),
        }
    }
}

/// Apply byte-level mutations (replace, delete, insert) to a valid document.
fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut b = base.to_vec();
    for &(pos, op, byte) in edits {
        if b.is_empty() {
            break;
        }
        let p = pos % b.len();
        let byte = b" -\n\r{}[]:,\"0a7Z\x00\xef\xff"[byte as usize % 17];
        match op % 3 {
            0 => b[p] = byte,
            1 => {
                b.remove(p);
            }
            _ => b.insert(p, byte),
        }
    }
    b
}

fn bases() -> Vec<Vec<u8>> {
    [
        "vpcflow-s3.log",
        "vpcflow-custom-v5.log",
        "gcp-audit-sink.jsonl",
        "gcp-audit-gcloud.json",
    ]
    .iter()
    .map(|n| std::fs::read(fixture(n)).unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        run_both(s.as_bytes());
    }

    #[test]
    fn arbitrary_flow_like_lines_never_panic(
        lines in prop::collection::vec(
            prop::collection::vec(prop_oneof!["-", "[0-9]{1,12}", "[a-z-]{1,12}", "ACCEPT|REJECT|OK|NODATA", "\\PC{0,6}"], 0..20),
            0..6,
        ),
        header in any::<bool>(),
    ) {
        let mut text = String::new();
        if header {
            text.push_str(&vpcflow::DEFAULT_FIELDS.join(" "));
            text.push('\n');
        }
        for l in &lines {
            text.push_str(&l.join(" "));
            text.push('\n');
        }
        run_both(text.as_bytes());
    }

    #[test]
    fn mutated_documents_never_panic(which in 0usize..4, edits in prop::collection::vec((0usize..8192, 0u8..3, 0u8..17), 1..16)) {
        let base = &bases()[which];
        run_both(&mutate(base, &edits));
    }
}

#[test]
fn arbitrary_json_values_never_panic_normalize() {
    let file: Arc<str> = Arc::from("fuzz.log");
    for v in [
        serde_json::json!(null),
        serde_json::json!([]),
        serde_json::json!({"protoPayload": {"status": {"code": 1e300}}, "timestamp": "2025-01-01T00:00:00Z"}),
        serde_json::json!({"protoPayload": {"methodName": 7, "status": {"code": -1}}, "timestamp": "2025-01-01T00:00:00Z"}),
        serde_json::json!({"protoPayload": {"methodName": "m", "authenticationInfo": {"serviceAccountKeyName": "/keys/", "serviceAccountDelegationInfo": "x"}, "authorizationInfo": {"granted": false}}, "timestamp": "9999-12-31T23:59:59Z", "resource": "..."}),
    ] {
        if let Err(e) = gcp_audit::normalize(&v, &file, 1) {
            assert!(e.to_string().starts_with("fuzz.log:1: field `"), "{e}");
        }
    }
}
