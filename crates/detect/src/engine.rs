//! The engine: read every path, order events by time, run every detector, de-duplicate findings.

use crate::sources;
use crate::Detector;
use credwarden_ingest::IngestError;
use credwarden_model::{Event, Finding};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a run saw.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    /// Files read.
    pub files: usize,
    /// Events per source kind.
    pub events: BTreeMap<&'static str, u64>,
    /// Bad records (located errors), in the order met.
    pub rejects: Vec<IngestError>,
}

/// Run `detectors` over everything under `paths`; only a path that does not exist is an error, bad
/// files and records are counted in the stats. Findings are de-duplicated by fingerprint (the first
/// occurrence is kept) and come back in time order.
pub fn run(
    paths: &[PathBuf],
    detectors: &mut [Box<dyn Detector>],
) -> Result<(Vec<Finding>, RunStats), IngestError> {
    let mut stats = RunStats::default();
    let mut events: Vec<Event> = Vec::new();
    for file in sources::expand(paths)? {
        stats.files += 1;
        let before = events.len();
        let mut rejects = Vec::new();
        let res = sources::read_file(&file, &mut |r| match r {
            Ok(e) => events.push(e),
            Err(e) => rejects.push(e),
        });
        stats.rejects.append(&mut rejects);
        match res {
            Ok(kind) => *stats.events.entry(kind).or_insert(0) += (events.len() - before) as u64,
            // An unreadable or unsupported file is counted and reported; the run goes on.
            Err(e) => stats.rejects.push(e),
        }
    }
    // Event-time order across files; ties keep file order (stable sort).
    events.sort_by_key(|e| e.time);
    stats.events.retain(|_, v| *v > 0);
    let mut out = Vec::new();
    for e in &events {
        for d in detectors.iter_mut() {
            d.on_event(e, &mut out);
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(f.fingerprint()));
    Ok((out, stats))
}
