//! The hot path, stage by stage, on synthetic CloudTrail (`credwarden_sim::synthetic`): parse and
//! normalize JSON lines, parse and normalize a `{"Records":[…]}` document, and every built-in
//! detector over normalized events. Throughput is reported in bytes (parsing) and events
//! (detection). Run: `cargo bench -p credwarden-detect`. The end-to-end figure with files, threads
//! and the merge is `credwarden bench`.

use credwarden_ingest::cloudtrail;
use credwarden_model::Event;
use credwarden_sim::synthetic::CloudTrailGen;
use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use std::sync::Arc;

const N: usize = 20_000;

fn main() {
    divan::main();
}

fn records() -> Vec<String> {
    let mut g = CloudTrailGen::new(1, 1_743_465_600, 2_000, 5_000);
    (0..N).map(|_| g.next_record()).collect()
}

fn lines() -> String {
    records().join("\n") + "\n"
}

#[divan::bench]
fn parse_normalize_json_lines(b: Bencher) {
    let text = lines();
    let file: Arc<str> = Arc::from("bench.jsonl");
    b.counter(BytesCount::of_str(&text)).bench(|| {
        let mut n = 0usize;
        cloudtrail::read(text.as_bytes(), &file, &mut |e| n += e.is_ok() as usize).unwrap();
        assert_eq!(n, N);
    });
}

#[divan::bench]
fn parse_normalize_records_document(b: Bencher) {
    let text = format!("{{\"Records\":[{}]}}", records().join(","));
    let file: Arc<str> = Arc::from("bench.json");
    b.counter(BytesCount::of_str(&text)).bench(|| {
        let mut n = 0usize;
        cloudtrail::read(text.as_bytes(), &file, &mut |e| n += e.is_ok() as usize).unwrap();
        assert_eq!(n, N);
    });
}

#[divan::bench]
fn detect_all_detectors(b: Bencher) {
    let text = lines();
    let file: Arc<str> = Arc::from("bench.jsonl");
    let mut events: Vec<Event> = Vec::with_capacity(N);
    cloudtrail::read(text.as_bytes(), &file, &mut |e| events.push(e.unwrap())).unwrap();
    events.sort_by_key(|e| e.time);
    b.counter(ItemsCount::new(N)).bench(|| {
        let mut detectors = credwarden_detect::all();
        let mut out = Vec::new();
        for e in &events {
            for d in detectors.iter_mut() {
                d.on_event(e, &mut out);
            }
        }
        out.len()
    });
}
