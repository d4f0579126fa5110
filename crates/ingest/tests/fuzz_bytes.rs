//! Property tests standing in for fuzzing, over bytes rather than text (see also fuzz_readers.rs
//! and corpora_gcp.rs): arbitrary bytes — invalid UTF-8, stray line ends, truncated and mutated
//! records of the real formats — never panic, every error names the file, and a bad line costs at
//! most that line (the good lines around it are still read).
//! Cases are bounded so that this runs in CI in seconds (`PROPTEST_CASES` raises it for a longer
//! hunt).

use credwarden_ingest::{cloudtrail, gcp_keys, hr, iam_report, inventory, jsonlines, mapping};
use credwarden_ingest::{IngestError, Input, Rejects};
use proptest::prelude::*;
use std::sync::Arc;

const GATEWAY: &str = r#"{"time":"2025-03-04T00:00:00Z","request_id":"r1","client_ip":"45.133.0.9","path":"/api/v1/members/1/address-book","status":200,"token":{"sub":"1","jti":"j1","kid":"k1","iat":1741046399,"client_id":"web"}}"#;
const ISSUED: &str =
    r#"{"time":"2025-03-04T00:00:00Z","event":"token_issued","sub":"1","jti":"j1","kid":"k"}"#;
const TRAIL: &str = r#"{"eventVersion":"1.08","eventTime":"2025-04-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accessKeyId":"AKIA1"},"eventID":"e1","recipientAccountId":"111122223333"}"#;
const HR: &str = "employee_id,name,email,status,end_date\nE1,Ana,ana@x.example,active,\nE2,Bo,bo@x.example,terminated,2025-01-31\n";
const INVENTORY: &str =
    "id,kind,system,owner,created,readers\nk1,signing_key,login,E1,2020-01-01,team\n";

fn check(e: &IngestError, file: &str) {
    assert_eq!(e.file(), file, "{e}");
    assert!(e.to_string().starts_with(file), "{e}");
}

/// Every line-based log reader over `bytes`: no panic, errors name the file.
fn logs(bytes: &[u8]) {
    let file: Arc<str> = Arc::from("fuzz.jsonl");
    let mut got = Vec::new();
    let r = jsonlines::read(bytes, &file, None, &mut |e| got.push(e));
    if let Err(e) = r {
        check(&e, "fuzz.jsonl");
    }
    for e in got.iter().filter_map(|r| r.as_ref().err()) {
        check(e, "fuzz.jsonl");
    }
    let mut n = 0u64;
    match cloudtrail::read(bytes, &file, &mut |r| {
        n += 1;
        if let Err(e) = r {
            check(&e, "fuzz.jsonl");
        }
    }) {
        Ok(s) => assert_eq!(s.events + s.rejected, n),
        Err(e) => check(&e, "fuzz.jsonl"),
    }
}

/// Every table reader over `bytes`, with --keep-going and without: no panic, errors name the file.
fn tables(bytes: &[u8]) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("fuzz.csv");
    std::fs::write(&p, bytes).unwrap();
    let Ok(input) = Input::read(&p) else { return };
    let name = p.display().to_string();
    for keep in [true, false] {
        let mut rj = Rejects::new(keep);
        let errs: Vec<IngestError> = [
            hr::read(&input, &mut rj).err(),
            inventory::read(&input, &mut rj).err(),
            iam_report::read(&input, &mut rj).err(),
            gcp_keys::read(&input, &mut rj).err(),
            mapping::read_groups(&input, &mut rj).err(),
            mapping::read_owners(&input, &mut rj).err(),
        ]
        .into_iter()
        .flatten()
        .collect();
        for e in errs.iter().chain(rj.items().iter().map(|r| &r.error)) {
            check(e, &name);
        }
    }
}

/// `base` with `edits` applied: (offset, 0 = replace / 1 = insert / 2 = delete, byte).
fn mutate(base: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut b = base.as_bytes().to_vec();
    for &(at, how, byte) in edits {
        if b.is_empty() {
            break;
        }
        let at = at % b.len();
        let byte =
            [b'\n', b'"', b'{', b'}', b',', 0xff, 0xc3, b'\\', b':', b'0'][byte as usize % 10];
        match how {
            0 => b[at] = byte,
            1 => b.insert(at, byte),
            _ => {
                b.remove(at);
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        logs(&bytes);
        tables(&bytes);
    }

    #[test]
    fn mutated_logs_never_panic(which in 0usize..3, copies in 1usize..6, edits in prop::collection::vec((0usize..4096, 0u8..3, 0u8..10), 1..12)) {
        let line = [GATEWAY, ISSUED, TRAIL][which];
        let text = vec![line; copies].join("\n") + "\n";
        logs(&mutate(&text, &edits));
    }

    #[test]
    fn mutated_tables_never_panic(which in 0usize..2, edits in prop::collection::vec((0usize..4096, 0u8..3, 0u8..10), 1..12)) {
        tables(&mutate([HR, INVENTORY][which], &edits));
    }

    /// One bad byte in one line of a log: the other lines are all read.
    #[test]
    fn one_bad_byte_costs_one_line(which in 0usize..3, copies in 2usize..20, bad in 0usize..20, at in 0usize..200) {
        let line = [GATEWAY, ISSUED, TRAIL][which];
        let bad = bad % copies;
        let mut bytes = Vec::new();
        for i in 0..copies {
            let mut l = line.as_bytes().to_vec();
            if i == bad {
                let at = at % l.len();
                l.insert(at, 0xff);
            }
            bytes.extend(l);
            bytes.push(b'\n');
        }
        let file: Arc<str> = Arc::from("fuzz.jsonl");
        let (mut ok, mut bad_lines) = (0, 0);
        let read = |ok: &mut usize, bad_lines: &mut usize| {
            let mut each = |r: Result<credwarden_model::Event, IngestError>| match r {
                Ok(_) => *ok += 1,
                Err(_) => *bad_lines += 1,
            };
            if which == 2 {
                cloudtrail::read(&bytes[..], &file, &mut each).map(|_| ())
            } else {
                jsonlines::read(&bytes[..], &file, None, &mut each).map(|_| ())
            }
        };
        // The sniffed first line may be the bad one: then the file is "not a known log" at worst.
        if read(&mut ok, &mut bad_lines).is_ok() {
            prop_assert!(ok >= copies - 1, "{ok} of {copies}");
            prop_assert!(bad_lines <= 1);
        } else {
            prop_assert_eq!(bad, 0);
        }
    }
}
