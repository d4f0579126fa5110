//! Evidence archive: round trip, later sessions, and tampering that `verify` must catch.

use credwarden_model::{Event, EventOutcome, Network, ResourceRef, SourceRef, Volume};
use credwarden_store::archive::columns::{self, Filter, ScanStats};
use credwarden_store::archive::{parts, Archive, ManifestEntry, GENESIS, MAX_OPEN_PARTS};
use credwarden_store::StoreError;
use jiff::civil::Date;
use serde_json::json;
use std::fs;
use std::path::Path;

fn ev(time: &str, id: &str) -> Event {
    Event {
        time: time.parse().unwrap(),
        credential_id: Some("AKIAEXAMPLE".into()),
        principal: Some("arn:aws:iam::111122223333:user/bob".into()),
        token: None,
        action: "GetObject".into(),
        resource: ResourceRef {
            kind: Some("s3.amazonaws.com".into()),
            id: Some("arn:aws:s3:::bucket/key".into()),
            sensitivity: None,
        },
        src: Network {
            ip: Some("198.51.100.7".into()),
            asn: None,
            country: None,
        },
        user_agent: Some("aws-cli/2".into()),
        outcome: EventOutcome::Success,
        volume: Volume {
            bytes: Some(1024),
            records: None,
        },
        event_id: Some(id.into()),
        detail: json!({"eventSource": "s3.amazonaws.com", "requestParameters": {"key": "k\nv"}}),
        raw: SourceRef::new(raw_input(), 1),
    }
}

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

/// An input file the events point at (its copy goes into the archive).
fn raw_input() -> &'static str {
    static P: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let p = std::env::temp_dir().join(format!(
            "credwarden-archive-test-{}.json",
            std::process::id()
        ));
        fs::write(&p, b"{\"Records\":[]}\n").unwrap();
        p.display().to_string()
    })
}

fn verify(dir: &Path) -> Result<credwarden_store::archive::VerifyReport, StoreError> {
    credwarden_store::archive::verify(dir, None)
}

/// Event ids archived for day `d`, in time order.
fn read(dir: &Path, d: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in parts(dir).unwrap().into_iter().filter(|p| p.day == day(d)) {
        columns::scan(
            &dir.join(&p.entry.path),
            &[
                columns::col::TIME,
                columns::col::EVENT_UID,
                columns::col::RAW_FILE,
            ],
            &Filter::default(),
            &mut ScanStats::default(),
            &mut |b| {
                for i in 0..b.rows {
                    let raw = b.s(columns::col::RAW_FILE)[i].clone().unwrap();
                    assert!(raw.starts_with("raw/"), "{raw}");
                    out.push((
                        b.i(columns::col::TIME)[i].unwrap(),
                        b.s(columns::col::EVENT_UID)[i].clone().unwrap().to_string(),
                    ));
                }
            },
        )
        .unwrap();
    }
    out.sort();
    out.into_iter().map(|x| x.1).collect()
}

fn ids(evs: &[Event]) -> Vec<String> {
    let mut v: Vec<_> = evs
        .iter()
        .map(|e| (e.time, e.event_id.clone().unwrap()))
        .collect();
    v.sort();
    v.into_iter().map(|x| x.1).collect()
}

fn manifest(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn entries(dir: &Path) -> Vec<ManifestEntry> {
    manifest(dir)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Day 1: e1, e3, e4; day 2: e2, e5 (interleaved, out of order within day 1), sealed once.
fn two_days(dir: &Path) -> (Vec<Event>, Vec<Event>) {
    let d1 = vec![
        ev("2025-04-01T03:00:00Z", "e1"),
        ev("2025-04-01T01:00:00Z", "e3"),
        ev("2025-04-01T23:59:59.5Z", "e4"),
    ];
    let d2 = vec![
        ev("2025-04-02T00:00:00Z", "e2"),
        ev("2025-04-02T12:00:00Z", "e5"),
    ];
    let mut a = Archive::open(dir).unwrap();
    for e in [&d1[0], &d2[0], &d1[1], &d1[2], &d2[1]] {
        a.append(e).unwrap();
    }
    let r = a.seal().unwrap();
    // The raw input's copy, then the two parts.
    assert_eq!(r.entries.len(), 3);
    assert!(r.entries[0].path.starts_with("raw/"));
    assert_eq!(r.events, 5);
    assert_eq!(r.head, a.head());
    (d1, d2)
}

/// Three parts: day 1 part 1, day 2 part 1, day 1 part 2 (second session).
fn three_parts(dir: &Path) {
    two_days(dir);
    let mut a = Archive::open(dir).unwrap();
    a.append(&ev("2025-04-01T05:00:00Z", "e6")).unwrap();
    a.seal().unwrap();
}

fn problems(dir: &Path) -> Vec<String> {
    let r = verify(dir).unwrap();
    assert!(!r.ok());
    r.problems
}

fn has(problems: &[String], needles: &[&str]) -> bool {
    problems
        .iter()
        .any(|p| needles.iter().all(|n| p.contains(n)))
}

const P1: &str = "events/source=cloudtrail/eventDay=20250401/part-000001.parquet";
const P2: &str = "events/source=cloudtrail/eventDay=20250402/part-000001.parquet";
const P3: &str = "events/source=cloudtrail/eventDay=20250401/part-000002.parquet";

#[test]
fn round_trip_two_days() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("archive");
    let (d1, d2) = two_days(&dir);
    assert!(dir.join(P1).is_file() && dir.join(P2).is_file());
    let es = entries(&dir);
    assert_eq!(es.len(), 3);
    let raw = &es[0];
    assert_eq!((raw.seq, raw.events, raw.bytes), (1, 0, 15));
    assert_eq!(
        fs::read(dir.join(&raw.path)).unwrap(),
        fs::read(raw_input()).unwrap(),
        "the raw input is kept byte for byte"
    );
    let es = &es[1..];
    assert_eq!((es[0].seq, es[0].path.as_str(), es[0].events), (2, P1, 3));
    assert_eq!((es[1].seq, es[1].path.as_str(), es[1].events), (3, P2, 2));
    assert_eq!(raw.prev, GENESIS);
    assert_eq!(es[0].prev, raw.hash);
    assert_eq!(es[1].prev, es[0].hash);
    assert_eq!(es[0].first, "2025-04-01T01:00:00Z");
    assert_eq!(es[0].last, "2025-04-01T23:59:59.5Z");
    assert_eq!(es[0].bytes, fs::metadata(dir.join(P1)).unwrap().len());
    assert_eq!(read(&dir, "2025-04-01"), ids(&d1));
    assert_eq!(read(&dir, "2025-04-02"), ids(&d2));
    assert!(read(&dir, "2025-04-03").is_empty());
    // The lock is released when the writer is dropped: another writer may open it.
    drop(Archive::open(&dir).unwrap());
    let r = verify(&dir).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!((r.parts, r.events), (2, 5));
    assert_eq!(r.head.as_deref(), Some(es[1].hash.as_str()));
}

#[test]
fn second_session_appends_next_part() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let (d1, _) = two_days(dir);
    let first = fs::read(dir.join(P1)).unwrap();
    let mut a = Archive::open(dir).unwrap();
    let e6 = ev("2025-04-01T05:00:00Z", "e6");
    a.append(&e6).unwrap();
    let r = a.seal().unwrap();
    assert_eq!(r.entries.len(), 1);
    assert_eq!(r.entries[0].path, P3);
    assert_eq!(
        r.entries[0].seq, 4,
        "the raw input, already copied, is not copied again"
    );
    // Sealing with nothing open writes nothing.
    assert!(a.seal().unwrap().entries.is_empty());
    drop(a);
    assert_eq!(
        fs::read(dir.join(P1)).unwrap(),
        first,
        "sealed parts are never rewritten"
    );
    let es = entries(dir);
    assert_eq!(es.len(), 4);
    assert_eq!(es[3].prev, es[2].hash);
    let mut want = d1;
    want.push(e6);
    assert_eq!(read(dir, "2025-04-01"), ids(&want));
    let r = verify(dir).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!((r.parts, r.events), (3, 6));
}

#[test]
fn one_writer_at_a_time() {
    let t = tempfile::tempdir().unwrap();
    let a = Archive::open(t.path()).unwrap();
    assert!(matches!(
        Archive::open(t.path()),
        Err(StoreError::Locked { .. })
    ));
    drop(a);
    Archive::open(t.path()).unwrap();
}

#[test]
fn empty_archive_verifies() {
    let t = tempfile::tempdir().unwrap();
    drop(Archive::open(t.path()).unwrap());
    let r = verify(t.path()).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!((r.parts, r.events, r.head), (0, 0, None));
    assert!(verify(&t.path().join("nope")).is_err());
}

#[test]
fn many_days_bound_open_parts() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mut a = Archive::open(dir).unwrap();
    let days = MAX_OPEN_PARTS + 4;
    for i in 0..days {
        a.append(&ev(&format!("2025-03-{:02}T10:00:00Z", i + 1), "a"))
            .unwrap();
        assert!(a.open_parts() <= MAX_OPEN_PARTS);
    }
    // Day 1 was sealed early to make room: its next event starts part 2.
    a.append(&ev("2025-03-01T11:00:00Z", "b")).unwrap();
    let r = a.seal().unwrap();
    assert_eq!(r.entries.len(), days + 1 + 1);
    assert_eq!(r.events as usize, days + 1);
    drop(a);
    assert!(dir
        .join("events/source=cloudtrail/eventDay=20250301/part-000002.parquet")
        .is_file());
    assert_eq!(read(dir, "2025-03-01").len(), 2);
    assert!(verify(dir).unwrap().ok());
}

#[test]
fn detects_deleted_part() {
    let t = tempfile::tempdir().unwrap();
    two_days(t.path());
    fs::remove_file(t.path().join(P1)).unwrap();
    let p = problems(t.path());
    assert!(has(&p, &[P1, "missing file"]), "{p:?}");
    assert_eq!(p.len(), 1, "{p:?}");
}

#[test]
fn detects_modified_part() {
    let t = tempfile::tempdir().unwrap();
    two_days(t.path());
    let path = t.path().join(P2);
    let mut bytes = fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&path, bytes).unwrap();
    let p = problems(t.path());
    assert!(has(&p, &[P2, "altered file"]), "{p:?}");
}

#[test]
fn detects_edited_manifest_line() {
    let t = tempfile::tempdir().unwrap();
    two_days(t.path());
    let lines = manifest(t.path());
    assert!(lines[1].contains("\"events\":3,"));
    let edited = lines[1].replace("\"events\":3,", "\"events\":4,");
    fs::write(
        t.path().join("manifest.jsonl"),
        format!("{}\n{edited}\n{}\n", lines[0], lines[2]),
    )
    .unwrap();
    let p = problems(t.path());
    assert!(has(&p, &["line 2", "does not match its hash"]), "{p:?}");
    assert!(has(&p, &[P1, "3 events, manifest says 4"]), "{p:?}");
}

#[test]
fn detects_removed_middle_manifest_line() {
    let t = tempfile::tempdir().unwrap();
    three_parts(t.path());
    let lines = manifest(t.path());
    assert_eq!(lines.len(), 4);
    fs::write(
        t.path().join("manifest.jsonl"),
        format!("{}\n{}\n{}\n", lines[0], lines[1], lines[3]),
    )
    .unwrap();
    let p = problems(t.path());
    assert!(has(&p, &["line 3", "chain broken"]), "{p:?}");
    assert!(has(&p, &[P2, "unlisted"]), "{p:?}");
}

#[test]
fn detects_reordered_manifest_lines() {
    let t = tempfile::tempdir().unwrap();
    three_parts(t.path());
    let lines = manifest(t.path());
    fs::write(
        t.path().join("manifest.jsonl"),
        format!("{}\n{}\n{}\n{}\n", lines[0], lines[1], lines[3], lines[2]),
    )
    .unwrap();
    let p = problems(t.path());
    assert!(has(&p, &["chain broken"]), "{p:?}");
}

#[test]
fn detects_unlisted_part_file() {
    let t = tempfile::tempdir().unwrap();
    two_days(t.path());
    let extra = "events/source=cloudtrail/eventDay=20250402/part-000009.parquet";
    fs::copy(t.path().join(P2), t.path().join(extra)).unwrap();
    let p = problems(t.path());
    assert!(has(&p, &[extra, "unlisted file"]), "{p:?}");
    assert_eq!(p.len(), 1, "{p:?}");
    // The next writer moves it aside (an interrupted run's leftover, or a planted file): the
    // archive verifies again, and the file is kept under interrupted/ for whoever asks.
    let (mut a, rec) = Archive::open_with(t.path(), &[]).unwrap();
    assert_eq!(rec.moved_aside, vec![extra.to_string()]);
    a.append(&ev("2025-04-02T13:00:00Z", "e7")).unwrap();
    let r = a.seal().unwrap();
    assert_eq!(
        r.entries[0].path,
        "events/source=cloudtrail/eventDay=20250402/part-000002.parquet"
    );
    drop(a);
    assert!(
        verify(t.path()).unwrap().ok(),
        "{:?}",
        verify(t.path()).unwrap().problems
    );
    let kept: Vec<_> = fs::read_dir(t.path().join("interrupted"))
        .unwrap()
        .collect();
    assert_eq!(kept.len(), 1);
}

/// Killed between sealing parts and listing them: with the lines kept in the caller's state,
/// the next open appends them; without, it moves the parts aside (their events are read again).
/// Either way the archive verifies and holds each event once.
#[test]
fn a_run_killed_between_the_two_phases_recovers() {
    for kept in [true, false] {
        let t = tempfile::tempdir().unwrap();
        let mut a = Archive::open(t.path()).unwrap();
        a.append(&ev("2025-04-01T03:00:00Z", "e1")).unwrap();
        a.append(&ev("2025-04-02T03:00:00Z", "e2")).unwrap();
        let lines = a.seal_parts().unwrap();
        assert_eq!(lines.len(), 3, "the raw copy and two parts");
        drop(a); // killed before commit
        let p = problems(t.path());
        assert!(has(&p, &["unlisted"]), "{p:?}");
        let pending = if kept { lines.clone() } else { vec![] };
        let (a, rec) = Archive::open_with(t.path(), &pending).unwrap();
        drop(a);
        if kept {
            assert_eq!((rec.rolled_forward, rec.moved_aside.len()), (3, 0));
            assert_eq!(verify(t.path()).unwrap().events, 2);
        } else {
            assert_eq!((rec.rolled_forward, rec.moved_aside.len()), (0, 3));
            assert_eq!(verify(t.path()).unwrap().events, 0);
        }
        assert!(
            verify(t.path()).unwrap().ok(),
            "{:?}",
            verify(t.path()).unwrap().problems
        );
        // Rolling forward twice changes nothing.
        let (_, rec) = Archive::open_with(t.path(), &pending).unwrap();
        assert_eq!(rec, Default::default());
    }
}

#[test]
fn unsealed_part_is_reported() {
    let t = tempfile::tempdir().unwrap();
    let mut a = Archive::open(t.path()).unwrap();
    a.append(&ev("2025-04-01T03:00:00Z", "e1")).unwrap();
    drop(a);
    // Rows not sealed were never on disk: nothing to report.
    assert!(verify(t.path()).unwrap().ok());
    // A seal killed while writing leaves a temporary part.
    let tmp = t.path().join(format!("{P1}.tmp"));
    fs::create_dir_all(tmp.parent().unwrap()).unwrap();
    fs::write(&tmp, b"PAR1").unwrap();
    let p = problems(t.path());
    assert!(has(&p, &[&format!("{P1}.tmp"), "unsealed"]), "{p:?}");
    // The next writer moves it aside; the archive verifies.
    drop(Archive::open(t.path()).unwrap());
    assert!(
        verify(t.path()).unwrap().ok(),
        "{:?}",
        verify(t.path()).unwrap().problems
    );
}

#[test]
fn truncated_manifest_refuses_to_open() {
    let t = tempfile::tempdir().unwrap();
    two_days(t.path());
    let m = t.path().join("manifest.jsonl");
    let text = fs::read_to_string(&m).unwrap();
    fs::write(&m, &text[..text.len() - 10]).unwrap();
    let e = Archive::open(t.path()).unwrap_err().to_string();
    assert!(
        e.contains("manifest.jsonl") && e.contains("incomplete"),
        "{e}"
    );
    let p = problems(t.path());
    assert!(has(&p, &["incomplete"]), "{p:?}");
}

/// The manifest's head signed: verify checks it, pins the key when asked, and sees lines removed
/// from the end (which the hash chain alone cannot).
#[test]
fn signed_head_detects_a_truncated_manifest() {
    let t = tempfile::tempdir().unwrap();
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(der.as_ref()).unwrap();
    let public = credwarden_store::sign::public_hex(&pair);
    let mut a = Archive::open(t.path()).unwrap();
    a.set_signer(pair);
    a.append(&ev("2025-04-01T03:00:00Z", "e1")).unwrap();
    a.seal().unwrap();
    a.append(&ev("2025-04-02T03:00:00Z", "e2")).unwrap();
    a.seal().unwrap();
    drop(a);
    let r = credwarden_store::archive::verify(t.path(), Some(&public)).unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(r.signed_by.as_deref(), Some(public.as_str()));
    // Another key is not trusted.
    let r = credwarden_store::archive::verify(t.path(), Some(&"ab".repeat(32))).unwrap();
    assert!(
        has(&r.problems, &["manifest.sig", "not the trusted key"]),
        "{:?}",
        r.problems
    );
    // The last line and its part removed: the chain is valid, the signature says otherwise.
    let lines = manifest(t.path());
    let last: ManifestEntry = serde_json::from_str(lines.last().unwrap()).unwrap();
    fs::remove_file(t.path().join(&last.path)).unwrap();
    fs::write(
        t.path().join("manifest.jsonl"),
        lines[..lines.len() - 1].join("\n") + "\n",
    )
    .unwrap();
    let p = problems(t.path());
    assert!(
        has(
            &p,
            &["manifest.sig", "lines removed or added after signing"]
        ),
        "{p:?}"
    );
    // The signature deleted: only a verifier that expects one notices.
    fs::remove_file(t.path().join("manifest.sig")).unwrap();
    assert!(verify(t.path()).unwrap().ok());
    let r = credwarden_store::archive::verify(t.path(), Some(&public)).unwrap();
    assert!(
        has(&r.problems, &["manifest.sig", "missing"]),
        "{:?}",
        r.problems
    );
}

/// One credential among many in a big part: the page index narrows the read to a few pages, and what
/// is read holds every one of its rows (nothing lost at page edges), with other keys' rows only from
/// the pages it shares.
#[test]
fn page_index_reads_one_credentials_pages_and_all_its_rows() {
    let t = tempfile::tempdir().unwrap();
    let mut a = Archive::open(t.path()).unwrap();
    let (keys, per_key) = (300, 60);
    let mut n = 0;
    for i in 0..per_key {
        for k in 0..keys {
            let mut e = ev(
                &format!("2025-04-01T{:02}:{:02}:{:02}Z", i / 10, k % 60, i % 60),
                &format!("e{n}"),
            );
            e.credential_id = Some(format!("AKIA{k:08}"));
            a.append(&e).unwrap();
            n += 1;
        }
    }
    a.seal().unwrap();
    let part = parts(t.path()).unwrap().remove(0);
    let want = "AKIA00000137";
    let mut stats = ScanStats::default();
    let mut seen = Vec::new();
    columns::scan(
        &t.path().join(&part.entry.path),
        &[columns::col::CREDENTIAL, columns::col::EVENT_UID],
        &Filter {
            equals: Some((columns::col::CREDENTIAL, want.into())),
            ..Filter::default()
        },
        &mut stats,
        &mut |b| {
            for i in 0..b.rows {
                if b.s(columns::col::CREDENTIAL)[i].as_deref() == Some(want) {
                    seen.push(b.s(columns::col::EVENT_UID)[i].clone().unwrap());
                }
            }
        },
    )
    .unwrap();
    assert_eq!(seen.len(), per_key, "every row of the key is read");
    assert_eq!(stats.row_groups_read, 1);
    assert!(
        stats.rows_read <= 2 * columns::PAGE_ROWS as u64,
        "read {} of {} rows",
        stats.rows_read,
        keys * per_key
    );
    // A key that is not there reads nothing.
    let mut none = ScanStats::default();
    columns::scan(
        &t.path().join(&part.entry.path),
        &[columns::col::CREDENTIAL],
        &Filter {
            equals: Some((columns::col::CREDENTIAL, "AKIA00000137x".into())),
            ..Filter::default()
        },
        &mut none,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(none.rows_read, 0);
}
