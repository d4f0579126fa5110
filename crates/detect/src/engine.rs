//! The engine: read every path, merge the files' events into event-time order, run every detector,
//! de-duplicate findings, and remember (in a [`State`] the caller may persist) what was read and what
//! the detectors know, so that the next run resumes where this one stopped.
//!
//! Ordering without holding everything: each file's start is peeked (its earliest time in the first
//! 32 KiB), files are opened in that order when the merge reaches their start (and one more per core
//! ahead, so parsing goes on while the detectors work), each open file is parsed on its own thread
//! (big line-based files by several) into a bounded queue, and the merge takes the earliest head
//! among open files. Records inside one file are not always in order (CloudTrail files are not), so merged
//! events pass through a reorder buffer that holds `reorder_window` of event time; an event that
//! arrives later than that is still processed, and counted as `late`. Memory is bounded by the window
//! and the open files' queues, not by the size of the input.
//!
//! Resumption without double counting: the state records, per file, its length, a hash of its first
//! bytes and how many records were consumed. An unchanged file is skipped; a file that grew (an
//! appended log) is read past the records already consumed; a file whose first bytes changed is new.
//! Detector state and the fingerprints of findings already reported are saved with it, and findings
//! already reported are not reported again.

use crate::sources::{self, ReadOptions};
use crate::Detector;
use credwarden_ingest::IngestError;
use credwarden_model::{Event, Finding};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BinaryHeap, HashSet, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

/// Format number of [`State`] snapshots.
pub const STATE_FORMAT: u32 = 1;

/// How a run orders and reads.
#[derive(Debug, Clone)]
pub struct Options {
    /// Event time held back to put out-of-order records in order.
    pub reorder_window: SignedDuration,
    /// At most this many events held back, whatever the window (bounds memory on dense logs).
    pub reorder_max_events: usize,
    /// Bytes read at the start of each file to find when it starts.
    pub peek_bytes: usize,
    /// Reader choices (forced format, custom mappings).
    pub read: ReadOptions,
    /// Every source is read to its end by this run (a one-shot run): decisions waiting for a
    /// lagging source are taken at the end ([`Detector::finish`]). `false` when following, or when
    /// a state carries them to a later run.
    pub sources_stopped: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reorder_window: SignedDuration::from_mins(10),
            reorder_max_events: 2_000_000,
            peek_bytes: 32 * 1024,
            read: ReadOptions::default(),
            sources_stopped: true,
        }
    }
}

/// What a run saw.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    /// Files read (skipped unchanged files not included).
    pub files: usize,
    /// Files skipped because an earlier run read them whole and they have not changed.
    pub unchanged: usize,
    /// Events per source kind.
    pub events: BTreeMap<&'static str, u64>,
    /// Records skipped in grown files because an earlier run consumed them.
    pub resumed_records: u64,
    /// Events processed after a later event (beyond the reorder window).
    pub late: u64,
    /// Findings not reported again because an earlier run (with the same state) reported them.
    pub suppressed: u64,
    /// Late events per source (gateway, token_issuance, cloudtrail…), and the furthest behind one
    /// was (seconds): what to raise the reorder window to.
    pub late_by_source: BTreeMap<String, (u64, i64)>,
    /// Bad records (located errors), in the order met.
    pub rejects: Vec<IngestError>,
}

/// What one file looked like when last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    /// Length in bytes.
    pub len: u64,
    /// SHA-256 (hex, 16 chars) of the first `head_len` bytes.
    pub head: String,
    /// Bytes hashed into `head` (4 KiB, or the whole file when shorter).
    pub head_len: u64,
    /// Records (events and rejects) consumed.
    pub records: u64,
}

/// Everything a run leaves for the next one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// Per file path, what was read.
    pub files: BTreeMap<String, FileMark>,
    /// Per detector id, its saved state.
    pub detectors: BTreeMap<String, serde_json::Value>,
    /// Fingerprints of findings already reported.
    pub reported: Vec<String>,
    /// Latest event time processed.
    pub watermark: Option<Timestamp>,
}

/// Runs detectors over files, keeping state between runs.
pub struct Engine {
    detectors: Vec<Box<dyn Detector>>,
    files: BTreeMap<String, FileMark>,
    reported: HashSet<String>,
    watermark: Option<Timestamp>,
    tap: Option<Tap>,
    networks: Option<std::sync::Arc<crate::enrich::Networks>>,
}

/// Sees every event the detectors see, in the same order, once they are done with it: the event
/// is handed over, not copied (the evidence archive uses it).
pub type Tap = Box<dyn FnMut(Box<Event>)>;

enum Item {
    Event(Box<Event>),
    Reject(IngestError),
    Done(Result<&'static str, IngestError>, u64),
}

struct Open {
    order: usize,
    key: String,
    mark: FileMark,
    rx: Receiver<Vec<Item>>,
    buf: VecDeque<Item>,
    thread: Option<JoinHandle<()>>,
    /// Events taken from this file so far.
    events: u64,
}

/// Held-back event, ordered by (time, arrival).
struct Held(Timestamp, u64, Box<Event>);
impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap, we want the earliest first.
        (o.0, o.1).cmp(&(self.0, self.1))
    }
}

/// Length of the file, and the hash of its first `upto` bytes (fewer when it is shorter).
fn head_hash(path: &Path, upto: usize) -> std::io::Result<(u64, String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut buf = vec![0; upto];
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let h = Sha256::digest(&buf[..n]);
    let hex: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok((len, hex, n as u64))
}

impl Engine {
    /// An engine with fresh `detectors`.
    pub fn new(detectors: Vec<Box<dyn Detector>>) -> Engine {
        Engine {
            detectors,
            files: BTreeMap::new(),
            reported: HashSet::new(),
            watermark: None,
            tap: None,
            networks: None,
        }
    }

    /// Enrich source addresses (ASN, country) from `networks` before the detectors see them.
    pub fn set_networks(&mut self, networks: Option<std::sync::Arc<crate::enrich::Networks>>) {
        self.networks = networks;
    }

    /// Give every processed event to `tap` as well (e.g. to archive it).
    pub fn set_tap(&mut self, tap: Option<Tap>) {
        self.tap = tap;
    }

    /// Take up a saved state. Detectors whose saved state cannot be read start afresh; their ids
    /// come back so the caller can say so.
    pub fn restore(&mut self, s: State) -> Vec<String> {
        let mut failed = Vec::new();
        for d in &mut self.detectors {
            if let Some(v) = s.detectors.get(d.meta().id) {
                if let Err(e) = d.restore(v.clone()) {
                    failed.push(format!("{}: {e}", d.meta().id));
                }
            }
        }
        self.files = s.files;
        self.reported = s.reported.into_iter().collect();
        self.watermark = s.watermark;
        failed
    }

    /// The state to save.
    pub fn state(&self) -> State {
        let mut reported: Vec<String> = self.reported.iter().cloned().collect();
        reported.sort();
        State {
            files: self.files.clone(),
            detectors: self
                .detectors
                .iter()
                .filter_map(|d| d.save().map(|v| (d.meta().id.to_string(), v)))
                .collect(),
            reported,
            watermark: self.watermark,
        }
    }

    /// The detectors (for listing which run).
    pub fn detectors(&self) -> &[Box<dyn Detector>] {
        &self.detectors
    }

    /// Read everything new under `paths` and return the new findings in time order. Only a path that
    /// does not exist is an error; bad files and records are counted in the stats. `progress` is
    /// called with (files finished, files to read, events so far) as files finish.
    pub fn run(
        &mut self,
        paths: &[PathBuf],
        opts: &Options,
        progress: &mut dyn FnMut(usize, usize, u64),
    ) -> Result<(Vec<Finding>, RunStats), IngestError> {
        let mut stats = RunStats::default();
        // Which files, from where, in which order.
        let mut todo: Vec<(Option<Timestamp>, usize, PathBuf, String, FileMark, u64)> = Vec::new();
        let (files, skipped) = sources::expand(paths)?;
        stats.rejects.extend(skipped);
        for (i, path) in files.into_iter().enumerate() {
            let key = path.display().to_string();
            let (mark, skip) = if key == "-" {
                (
                    FileMark {
                        len: 0,
                        head: String::new(),
                        head_len: 0,
                        records: 0,
                    },
                    0,
                )
            } else {
                let prev = self.files.get(&key);
                // Hash as many bytes as last time, so that a short file that grew still matches.
                let upto = prev.map_or(4096, |m| m.head_len as usize);
                let (len, head, head_len) = match head_hash(&path, upto) {
                    Ok(x) => x,
                    Err(e) => {
                        stats.rejects.push(IngestError::Io {
                            file: key,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                };
                // The mark to keep: for a short file, hash up to 4 KiB of what it holds now.
                let fresh_head = |len: u64| -> (String, u64) {
                    if head_len < 4096 && len > head_len {
                        head_hash(&path, 4096)
                            .map(|(_, h, n)| (h, n))
                            .unwrap_or((head.clone(), head_len))
                    } else {
                        (head.clone(), head_len)
                    }
                };
                match prev {
                    Some(m) if m.head == head && m.len == len => {
                        stats.unchanged += 1;
                        continue;
                    }
                    // Grown with the same beginning: an appended log; skip what was consumed.
                    Some(m) if m.head == head && len > m.len => {
                        let (head, head_len) = fresh_head(len);
                        stats.resumed_records += m.records;
                        (
                            FileMark {
                                len,
                                head,
                                head_len,
                                records: m.records,
                            },
                            m.records,
                        )
                    }
                    _ => {
                        let (head, head_len) = fresh_head(len);
                        (
                            FileMark {
                                len,
                                head,
                                head_len,
                                records: 0,
                            },
                            0,
                        )
                    }
                }
            };
            let start = sources::peek_start(&path, &opts.read, opts.peek_bytes);
            todo.push((start, i, path, key, mark, skip));
        }
        // Files whose start is unknown (stdin, unreadable head) open first.
        todo.sort_by_key(|t| (t.0.unwrap_or(Timestamp::MIN), t.1));
        let total = todo.len();
        let mut todo: VecDeque<_> = todo.into();

        let mut open: Vec<Open> = Vec::new();
        let mut held: BinaryHeap<Held> = BinaryHeap::new();
        let mut seq = 0u64;
        let mut newest: Option<Timestamp> = None;
        let mut last_out: Option<Timestamp> = None;
        let mut out = Vec::new();
        let mut finished = 0usize;
        let mut events = 0u64;
        let mut order = 0usize;

        loop {
            // The earliest head among open files (filling heads as needed).
            let mut min_head: Option<(Timestamp, usize)> = None;
            let mut i = 0;
            while i < open.len() {
                let o = &mut open[i];
                // Move rejects out; stop at an event or the end.
                let mut ended = false;
                loop {
                    if o.buf.is_empty() {
                        match o.rx.recv() {
                            Ok(batch) => o.buf.extend(batch),
                            Err(_) => {
                                ended = true;
                                break;
                            }
                        }
                    }
                    match o.buf.front() {
                        Some(Item::Event(_)) => break,
                        Some(Item::Reject(_)) => {
                            if let Some(Item::Reject(e)) = o.buf.pop_front() {
                                stats.rejects.push(e);
                            }
                        }
                        Some(Item::Done(..)) => {
                            if let Some(Item::Done(res, records)) = o.buf.pop_front() {
                                o.mark.records = records;
                                match res {
                                    Ok(kind) => {
                                        *stats.events.entry(kind).or_insert(0) += o.events;
                                    }
                                    Err(e) => stats.rejects.push(e),
                                }
                            }
                            ended = true;
                            break;
                        }
                        None => {}
                    }
                }
                if ended {
                    let mut o = open.remove(i);
                    if let Some(t) = o.thread.take() {
                        let _ = t.join();
                    }
                    if o.key != "-" {
                        self.files.insert(o.key.clone(), o.mark.clone());
                    }
                    finished += 1;
                    progress(finished, total, events);
                    continue;
                }
                if let Some(Item::Event(e)) = o.buf.front() {
                    if min_head.is_none_or(|(t, ord)| (e.time, o.order) < (t, ord)) {
                        min_head = Some((e.time, o.order));
                    }
                }
                i += 1;
            }
            // Open the next file when the merge has reached its start (or nothing is open).
            if let Some(next) = todo.front() {
                // Also keep a file parsing ahead while another is merged, so every core has work.
                let due = match (next.0, min_head) {
                    (_, None) => true,
                    (None, _) => true,
                    (Some(s), Some((t, _))) => s <= t,
                } || open.len() < parallelism();
                if due {
                    let (_, _, path, key, mark, skip) = todo.pop_front().expect("front exists");
                    open.push(spawn(path, key, mark, skip, &opts.read, order));
                    order += 1;
                    continue;
                }
            }
            let Some((_, ord)) = min_head else { break };
            let o = open
                .iter_mut()
                .find(|o| o.order == ord)
                .expect("head belongs to an open file");
            let Some(Item::Event(e)) = o.buf.pop_front() else {
                unreachable!("head is an event")
            };
            o.events += 1;
            let t = e.time;
            newest = Some(newest.map_or(t, |n| n.max(t)));
            seq += 1;
            held.push(Held(t, seq, e));
            // Release what is older than the window behind the newest event seen.
            let horizon = newest.expect("set above") - opts.reorder_window;
            while let Some(top) = held.peek() {
                if top.0 > horizon && held.len() <= opts.reorder_max_events {
                    break;
                }
                let Held(_, _, e) = held.pop().expect("peeked");
                self.process(e, &mut out, &mut stats, &mut last_out, &mut events);
            }
        }
        while let Some(Held(_, _, e)) = held.pop() {
            self.process(e, &mut out, &mut stats, &mut last_out, &mut events);
        }
        for d in self.detectors.iter_mut() {
            d.finish(opts.sources_stopped, &mut out);
        }
        // Decisions taken late (at the end, or once a lagging source caught up) go back to their
        // place in time.
        out.sort_by_key(|f| f.time);
        stats.files = total;
        stats.events.retain(|_, v| *v > 0);
        // De-duplicate: the first occurrence is kept; what an earlier run reported is not repeated.
        let mut fresh = Vec::new();
        let mut this_run = HashSet::new();
        for f in out {
            let fp = f.fingerprint();
            if !this_run.insert(fp.clone()) {
                continue;
            }
            if self.reported.insert(fp) {
                fresh.push(f);
            } else {
                stats.suppressed += 1;
            }
        }
        if let Some(l) = last_out {
            self.watermark = Some(self.watermark.map_or(l, |w| w.max(l)));
        }
        Ok((fresh, stats))
    }

    fn process(
        &mut self,
        mut e: Box<Event>,
        out: &mut Vec<Finding>,
        stats: &mut RunStats,
        last_out: &mut Option<Timestamp>,
        events: &mut u64,
    ) {
        if let Some(l) = last_out.filter(|l| e.time < *l) {
            stats.late += 1;
            let source = e
                .resource
                .kind
                .clone()
                .unwrap_or_else(|| "cloudtrail".into());
            let entry = stats.late_by_source.entry(source).or_insert((0, 0));
            entry.0 += 1;
            entry.1 = entry.1.max(l.as_second() - e.time.as_second());
        } else {
            *last_out = Some(e.time);
        }
        *events += 1;
        if let Some(n) = &self.networks {
            n.enrich(&mut e);
        }
        for d in self.detectors.iter_mut() {
            d.on_event(&e, out);
        }
        if let Some(tap) = &mut self.tap {
            tap(e);
        }
    }
}

/// Threads available for parsing; `CREDWARDEN_THREADS` overrides the number of cores seen. Asked
/// once: the answer comes from cgroup files and costs system calls.
fn parallelism() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("CREDWARDEN_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// Parse one file on its own thread into a bounded queue of batches.
fn spawn(
    path: PathBuf,
    key: String,
    mark: FileMark,
    skip: u64,
    read: &ReadOptions,
    order: usize,
) -> Open {
    const BATCH: usize = 512;
    let (tx, rx) = sync_channel::<Vec<Item>>(32);
    let read = read.clone();
    let thread = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let mut records = 0u64;
        let mut closed = false;
        // Fresh big line-based files are cut in blocks parsed on several threads (one core stays
        // with the detectors); a resumed file is read in order.
        let workers = if skip == 0 {
            parallelism().saturating_sub(1)
        } else {
            1
        };
        let res = sources::read_file_parallel(&path, &read, workers, &mut |r| {
            // An unfinished last line is reported, not consumed: the next run reads it whole.
            let incomplete = matches!(&r, Err(e) if e.is_incomplete());
            if !incomplete {
                records += 1;
            }
            if (records <= skip && !incomplete) || closed {
                return;
            }
            batch.push(match r {
                Ok(e) => Item::Event(Box::new(e)),
                Err(e) => Item::Reject(e),
            });
            if batch.len() >= BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // The engine only hangs up when it stops early: nothing more to do then.
                closed = tx.send(full).is_err();
            }
        });
        batch.push(Item::Done(res, records));
        let _ = tx.send(batch);
    });
    Open {
        order,
        key,
        mark,
        rx,
        buf: VecDeque::new(),
        thread: Some(thread),
        events: 0,
    }
}

/// Run `detectors` once over everything under `paths` with default options and no saved state;
/// findings are de-duplicated by fingerprint (the first occurrence is kept) and come back in time
/// order.
pub fn run(
    paths: &[PathBuf],
    detectors: Vec<Box<dyn Detector>>,
) -> Result<(Vec<Finding>, RunStats), IngestError> {
    Engine::new(detectors).run(paths, &Options::default(), &mut |_, _, _| {})
}
