//! The evidence archive: an append-only store of normalized [`Event`]s whose loss or alteration is
//! detectable, so the logs investigators need cannot quietly disappear before they are read.
//!
//! Layout under the archive folder:
//!
//! ```text
//! manifest.jsonl                                   one line per sealed part (hash chain)
//! events/day=YYYY-MM-DD/part-NNNNNN.jsonl.gz       gzipped JSON lines of Event, by event day (UTC)
//! manifest.jsonl.lock                              locked by the operating system while a writer has the archive open
//! ```
//!
//! A part is written as `part-NNNNNN.jsonl.gz.tmp`, flushed to disk and renamed when sealed; only then
//! is its manifest line appended (and flushed). Parts are never rewritten: a later run adds the next
//! part number for the day. A manifest line is
//!
//! ```text
//! {"seq":1,"path":"events/day=2025-04-01/part-000001.jsonl.gz","events":3,"bytes":412,"sha256":"…",
//!  "first":"…","last":"…","sealed_at":"…","prev":"000…0","hash":"…"}
//! ```
//!
//! `sha256` is the hash of the part file, `first`/`last` the earliest and latest event time in it,
//! `prev` the `hash` of the previous line (64 zeros for the first) and `hash` the SHA-256 of the line's
//! compact JSON without the `hash` field and without the newline (`jq -cj 'del(.hash)' | sha256sum`).
//! Deleting, reordering or editing a part or a line therefore breaks a hash or the chain, which
//! [`verify`] reports. Removing the *last* lines together with their parts leaves a shorter valid
//! chain: record the chain head ([`SealReport::head`], [`VerifyReport::head`]) somewhere else (ticket,
//! SIEM, write-once bucket) to detect that too.
//!
//! Memory stays bounded: events stream into one gzip encoder per open day, and at most
//! [`MAX_OPEN_PARTS`] parts are open at once (the least recently written one is sealed to make room).

use crate::{io, Lock, StoreError};
use credwarden_model::Event;
use flate2::write::GzEncoder;
use flate2::Compression;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Name of the manifest file in the archive folder.
pub const MANIFEST: &str = "manifest.jsonl";
/// Folder of the part files in the archive folder.
pub const EVENTS_DIR: &str = "events";
/// Most parts open for writing at once; beyond, the least recently written part is sealed.
pub const MAX_OPEN_PARTS: usize = 16;
/// `prev` of the first manifest line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the manifest: a sealed part and its link in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// Part file, relative to the archive folder, `/`-separated.
    pub path: String,
    /// Events (lines) in the part.
    pub events: u64,
    /// Size of the part file.
    pub bytes: u64,
    /// SHA-256 of the part file, lowercase hex.
    pub sha256: String,
    /// Earliest event time in the part (RFC 3339).
    pub first: String,
    /// Latest event time in the part (RFC 3339).
    pub last: String,
    /// When the part was sealed (RFC 3339).
    pub sealed_at: String,
    /// `hash` of the previous line ([`GENESIS`] for the first).
    pub prev: String,
    /// SHA-256 of this line's compact JSON without `hash`.
    pub hash: String,
}

/// The hashed content of a line: every field but `hash`, in the order written.
#[derive(Serialize)]
struct Body<'a> {
    seq: u64,
    path: &'a str,
    events: u64,
    bytes: u64,
    sha256: &'a str,
    first: &'a str,
    last: &'a str,
    sealed_at: &'a str,
    prev: &'a str,
}

impl ManifestEntry {
    /// The hash this line's content calls for.
    pub fn compute_hash(&self) -> String {
        let body = Body {
            seq: self.seq,
            path: &self.path,
            events: self.events,
            bytes: self.bytes,
            sha256: &self.sha256,
            first: &self.first,
            last: &self.last,
            sealed_at: &self.sealed_at,
            prev: &self.prev,
        };
        let text = serde_json::to_vec(&body).expect("a manifest body serializes");
        format!("{:x}", Sha256::digest(&text))
    }
}

/// What a [`Archive::seal`] call wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Manifest lines appended since the previous seal (including parts sealed early to bound
    /// memory), in chain order.
    pub entries: Vec<ManifestEntry>,
    /// Events in those parts.
    pub events: u64,
    /// Hash of the last manifest line (the chain head); [`GENESIS`] for an empty archive.
    pub head: String,
}

/// What [`Archive::open_with`] did to recover from an interrupted run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Manifest lines appended from the caller's state.
    pub rolled_forward: usize,
    /// Temporary or unlisted parts moved to `interrupted/` (paths relative to the archive).
    pub moved_aside: Vec<String>,
}

/// Result of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Parts listed in the manifest.
    pub parts: usize,
    /// Events counted in the readable listed parts.
    pub events: u64,
    /// Everything wrong, one sentence each, naming the file or manifest line.
    pub problems: Vec<String>,
    /// Hash of the last manifest line, to compare with a copy kept elsewhere.
    pub head: Option<String>,
}

impl VerifyReport {
    /// No problem found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn archive_err(file: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Archive {
        file: file.display().to_string(),
        reason: reason.into(),
    }
}

fn sync_dir(dir: &Path) {
    // Makes creations and renames durable (directories can be opened for reading on Unix).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn day_of(t: Timestamp) -> Date {
    TimeZone::UTC.to_datetime(t).date()
}

fn part_rel(day: Date, num: u64) -> String {
    format!("{EVENTS_DIR}/day={day}/part-{num:06}.jsonl.gz")
}

/// `events/day=YYYY-MM-DD/part-N.jsonl.gz` → (day, N).
fn parse_part_rel(rel: &str) -> Option<(Date, u64)> {
    let rest = rel.strip_prefix(EVENTS_DIR)?.strip_prefix("/day=")?;
    let (day, file) = rest.split_once('/')?;
    let num = parse_part_name(file, ".jsonl.gz")?;
    let date: Date = day.parse().ok()?;
    (date.to_string() == day).then_some((date, num))
}

fn parse_part_name(file: &str, suffix: &str) -> Option<u64> {
    let digits = file.strip_prefix("part-")?.strip_suffix(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Hashes and counts what passes through a writer.
struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes and counts what passes through a reader.
struct HashReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
    /// Read what is left, then return (hex SHA-256, total bytes).
    fn finish(mut self) -> std::io::Result<(String, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((format!("{:x}", self.hasher.finalize()), self.bytes))
    }
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A part being written.
struct OpenPart {
    rel: String,
    tmp: PathBuf,
    path: PathBuf,
    enc: GzEncoder<HashWriter<BufWriter<File>>>,
    events: u64,
    first: Timestamp,
    last: Timestamp,
    touched: u64,
}

/// An evidence archive open for appending. Holds the archive's lock until dropped.
///
/// Call [`Archive::seal`] before dropping: parts still open are left as `*.tmp` files, which
/// [`verify`] reports as unsealed.
pub struct Archive {
    dir: PathBuf,
    manifest: PathBuf,
    open: BTreeMap<Date, OpenPart>,
    /// Highest part number known per day (manifest, files on disk, parts started in this run).
    last_num: HashMap<Date, u64>,
    seq: u64,
    head: String,
    pending: Vec<ManifestEntry>,
    clock: u64,
    line: Vec<u8>,
    _lock: Lock,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("dir", &self.dir)
            .field("seq", &self.seq)
            .field("head", &self.head)
            .field("open_parts", &self.open.len())
            .finish()
    }
}

/// Read and parse every manifest line; any unreadable line is an error. Missing manifest: empty.
fn read_manifest(manifest: &Path) -> Result<Vec<ManifestEntry>, StoreError> {
    let bytes = match fs::read(manifest) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(manifest, e)),
    };
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let Some(body) = bytes.strip_suffix(b"\n") else {
        return Err(archive_err(
            manifest,
            "last line is incomplete (a seal was interrupted?); run verify",
        ));
    };
    body.split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_slice(line).map_err(|e| {
                archive_err(
                    manifest,
                    format!("line {}: not a manifest entry: {e}; run verify", i + 1),
                )
            })
        })
        .collect()
}

impl Archive {
    /// Open the archive in `dir`, creating it if absent, and take its lock; what an interrupted
    /// run left (temporary or unlisted parts) is moved aside (see [`Archive::open_with`]).
    pub fn open(dir: &Path) -> Result<Archive, StoreError> {
        Ok(Self::open_with(dir, &[])?.0)
    }

    /// Open the archive in `dir` (creating it if absent) and take its lock, recovering from a run
    /// that was killed: manifest lines in `pending` that the caller's committed state holds but the
    /// manifest lacks are appended (rolled forward), when their part is on disk with the right
    /// hash and they continue the chain; then every temporary part and every part the manifest does
    /// not list — left by a run killed before its state was saved, so its events will be read
    /// again — is moved aside to `interrupted/<time>/`, so the archive verifies and holds no event
    /// twice.
    pub fn open_with(
        dir: &Path,
        pending: &[ManifestEntry],
    ) -> Result<(Archive, Recovery), StoreError> {
        let events = dir.join(EVENTS_DIR);
        fs::create_dir_all(&events).map_err(|e| io(&events, e))?;
        let manifest = dir.join(MANIFEST);
        let lock = Lock::acquire(&manifest)?;
        let mut recovery = Recovery::default();
        let mut entries = read_manifest(&manifest)?;
        // Roll forward what the caller's state says was sealed.
        let mut roll = Vec::new();
        for p in pending {
            let (last, head) = roll
                .last()
                .or(entries.last())
                .map_or((0, GENESIS.to_string()), |e: &ManifestEntry| {
                    (e.seq, e.hash.clone())
                });
            if p.seq <= last {
                continue;
            }
            let ok = p.seq == last + 1
                && p.prev == head
                && p.hash == p.compute_hash()
                && check_part(&dir.join(&p.path))
                    .ok()
                    .is_some_and(|(sha, bytes, _)| sha == p.sha256 && bytes == p.bytes);
            if !ok {
                return Err(archive_err(
                    &manifest,
                    format!(
                        "the state's sealed part {} (line {}) cannot be rolled forward: missing, altered or off the chain; run verify",
                        p.path, p.seq
                    ),
                ));
            }
            roll.push(p.clone());
        }
        if !roll.is_empty() {
            let mut buf = Vec::new();
            for e in &roll {
                serde_json::to_writer(&mut buf, e).expect("a manifest entry serializes");
                buf.push(b'\n');
            }
            let mut f = OpenOptions::new()
                .append(true)
                .create(true)
                .open(&manifest)
                .map_err(|e| io(&manifest, e))?;
            f.write_all(&buf)
                .and_then(|_| f.sync_all())
                .map_err(|e| io(&manifest, e))?;
            recovery.rolled_forward = roll.len();
            entries.extend(roll);
        }
        // Move aside what no manifest line lists.
        let listed: BTreeSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let mut found = BTreeSet::new();
        walk(&events, EVENTS_DIR, &mut found)?;
        let stamp = Timestamp::now().strftime("%Y%m%dT%H%M%S%.fZ").to_string();
        for rel in found {
            let name = rel.rsplit('/').next().unwrap_or("");
            let ours = parse_part_name(name, ".jsonl.gz").is_some()
                || parse_part_name(name, ".jsonl.gz.tmp").is_some();
            if listed.contains(rel.as_str()) || !ours {
                continue;
            }
            let to = dir.join("interrupted").join(&stamp).join(&rel);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            fs::rename(dir.join(&rel), &to).map_err(|e| io(&to, e))?;
            recovery.moved_aside.push(rel);
        }
        if !recovery.moved_aside.is_empty() {
            sync_dir(dir);
        }
        if entries.is_empty() && !manifest.exists() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&manifest)
                .map_err(|e| io(&manifest, e))?;
            f.sync_all().map_err(|e| io(&manifest, e))?;
            sync_dir(dir);
        }
        let mut last_num = HashMap::new();
        for e in &entries {
            if let Some((day, num)) = parse_part_rel(&e.path) {
                let n = last_num.entry(day).or_insert(0);
                *n = (*n).max(num);
            }
        }
        let (seq, head) = entries
            .last()
            .map_or((0, GENESIS.to_string()), |e| (e.seq, e.hash.clone()));
        let archive = Archive {
            dir: dir.to_path_buf(),
            manifest,
            open: BTreeMap::new(),
            last_num,
            seq,
            head,
            pending: Vec::new(),
            clock: 0,
            line: Vec::new(),
            _lock: lock,
        };
        Ok((archive, recovery))
    }

    /// The archive folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hash of the last manifest line written ([`GENESIS`] when none).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Parts currently open (appended to, not yet sealed).
    pub fn open_parts(&self) -> usize {
        self.open.len()
    }

    /// Add one event to the open part of its day (UTC), starting a part if needed.
    pub fn append(&mut self, ev: &Event) -> Result<(), StoreError> {
        let day = day_of(ev.time);
        if !self.open.contains_key(&day) {
            if self.open.len() >= MAX_OPEN_PARTS {
                let lru = self
                    .open
                    .iter()
                    .min_by_key(|(_, p)| p.touched)
                    .map(|(d, _)| *d)
                    .expect("open parts");
                let part = self.open.remove(&lru).expect("present");
                self.seal_part(part)?;
            }
            let part = self.start_part(day)?;
            self.open.insert(day, part);
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, ev).map_err(|e| {
            archive_err(
                &self.dir,
                format!("event at {} not serializable: {e}", ev.time),
            )
        })?;
        self.line.push(b'\n');
        self.clock += 1;
        let part = self.open.get_mut(&day).expect("opened above");
        if let Err(e) = part.enc.write_all(&self.line) {
            // The part may now end in half a line: stop using it. Its `.tmp` stays on disk, where
            // `verify` reports it as unsealed.
            let part = self.open.remove(&day).expect("present");
            return Err(io(
                &part.tmp,
                format!("{e}; this part is abandoned unsealed"),
            ));
        }
        part.events += 1;
        part.first = part.first.min(ev.time);
        part.last = part.last.max(ev.time);
        part.touched = self.clock;
        Ok(())
    }

    /// Close every open part (flush, rename into place) and append their manifest lines: both
    /// phases at once ([`Archive::seal_parts`], then [`Archive::commit`]).
    pub fn seal(&mut self) -> Result<SealReport, StoreError> {
        let entries = self.seal_parts()?;
        self.commit(&entries)?;
        Ok(SealReport {
            events: entries.iter().map(|e| e.events).sum(),
            entries,
            head: self.head.clone(),
        })
    }

    /// First phase: close every open part (flush, fsync, rename into place) and return the
    /// manifest lines they need — chained, but not yet appended (parts sealed early to bound
    /// memory included). Until [`Archive::commit`], the parts are unlisted: a run killed now leaves
    /// them to be moved aside by the next open, unless the caller kept these lines (with its own
    /// state) and hands them to [`Archive::open_with`], which then appends them.
    pub fn seal_parts(&mut self) -> Result<Vec<ManifestEntry>, StoreError> {
        while let Some((_, part)) = self.open.pop_first() {
            self.seal_part(part)?;
        }
        Ok(std::mem::take(&mut self.pending))
    }

    /// Second phase: append `entries` (from [`Archive::seal_parts`]) to the manifest, flushed to
    /// disk. Lines already there are skipped, so a repeated commit changes nothing.
    pub fn commit(&mut self, entries: &[ManifestEntry]) -> Result<(), StoreError> {
        let listed = read_manifest(&self.manifest)?;
        let last = listed.last().map_or(0, |e| e.seq);
        let mut buf = Vec::new();
        for e in entries.iter().filter(|e| e.seq > last) {
            serde_json::to_writer(&mut buf, e).expect("a manifest entry serializes");
            buf.push(b'\n');
        }
        if buf.is_empty() {
            return Ok(());
        }
        let append = || -> std::io::Result<()> {
            let mut f = OpenOptions::new().append(true).open(&self.manifest)?;
            f.write_all(&buf)?;
            f.sync_all()
        };
        append().map_err(|e| io(&self.manifest, format!("{e}; sealed parts are unlisted")))
    }

    fn start_part(&mut self, day: Date) -> Result<OpenPart, StoreError> {
        let day_dir = self.dir.join(EVENTS_DIR).join(format!("day={day}"));
        fs::create_dir_all(&day_dir).map_err(|e| io(&day_dir, e))?;
        // Never reuse a number: count sealed, unlisted and leftover temporary files too.
        let mut num = self.last_num.get(&day).copied().unwrap_or(0);
        let list = fs::read_dir(&day_dir).map_err(|e| io(&day_dir, e))?;
        for entry in list {
            let entry = entry.map_err(|e| io(&day_dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = parse_part_name(&name, ".jsonl.gz")
                .or_else(|| parse_part_name(&name, ".jsonl.gz.tmp"))
            {
                num = num.max(n);
            }
        }
        let num = num + 1;
        self.last_num.insert(day, num);
        let rel = part_rel(day, num);
        let path = self.dir.join(&rel);
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io(&tmp, e))?;
        sync_dir(&day_dir);
        let sink = HashWriter {
            inner: BufWriter::new(file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        Ok(OpenPart {
            rel,
            tmp,
            path,
            enc: GzEncoder::new(sink, Compression::default()),
            events: 0,
            first: Timestamp::MAX,
            last: Timestamp::MIN,
            touched: self.clock,
        })
    }

    fn seal_part(&mut self, part: OpenPart) -> Result<(), StoreError> {
        let OpenPart {
            rel,
            tmp,
            path,
            enc,
            events,
            first,
            last,
            ..
        } = part;
        let sink = enc.finish().map_err(|e| io(&tmp, e))?;
        let sha256 = format!("{:x}", sink.hasher.finalize());
        let bytes = sink.bytes;
        let file = sink.inner.into_inner().map_err(|e| io(&tmp, e.error()))?;
        file.sync_all().map_err(|e| io(&tmp, e))?;
        drop(file);
        if path.exists() {
            return Err(archive_err(
                &path,
                "already exists; refusing to overwrite a sealed part",
            ));
        }
        fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        if let Some(d) = path.parent() {
            sync_dir(d);
        }
        let mut entry = ManifestEntry {
            seq: self.seq + 1,
            path: rel,
            events,
            bytes,
            sha256,
            first: first.to_string(),
            last: last.to_string(),
            sealed_at: Timestamp::now().to_string(),
            prev: self.head.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        self.seq = entry.seq;
        self.head = entry.hash.clone();
        self.pending.push(entry);
        Ok(())
    }
}

/// Hash a part file and count its lines (decompressing it). `Err` is the problem text.
fn check_part(path: &Path) -> Result<(String, u64, Result<u64, String>), std::io::Error> {
    let file = File::open(path)?;
    let mut hr = HashReader::new(BufReader::new(file));
    let lines = {
        let mut dec = flate2::read::GzDecoder::new(&mut hr);
        let mut buf = [0u8; 64 * 1024];
        let mut lines = 0u64;
        let mut partial = false;
        loop {
            match dec.read(&mut buf) {
                Ok(0) => break Ok(lines + u64::from(partial)),
                Ok(n) => {
                    let chunk = &buf[..n];
                    lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
                    partial = chunk.last() != Some(&b'\n');
                }
                Err(e) => break Err(format!("cannot be decompressed: {e}")),
            }
        }
    };
    let (sha, bytes) = hr.finish()?;
    Ok((sha, bytes, lines))
}

/// Check the archive in `dir`: the manifest hash chain, every listed part (present, same SHA-256 and
/// size, as many lines as stated, times within its day) and files under `events/` nobody sealed.
///
/// `Err` only when the folder or manifest cannot be read at all; everything found wrong is listed in
/// [`VerifyReport::problems`].
pub fn verify(dir: &Path) -> Result<VerifyReport, StoreError> {
    if !dir.is_dir() {
        return Err(io(dir, "no such archive folder"));
    }
    let manifest = dir.join(MANIFEST);
    let mut report = VerifyReport::default();
    let bytes = match fs::read(&manifest) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.problems.push(format!("{MANIFEST}: missing"));
            Vec::new()
        }
        Err(e) => return Err(io(&manifest, e)),
    };
    let body: &[u8] = if bytes.is_empty() {
        &[]
    } else if let Some(b) = bytes.strip_suffix(b"\n") {
        b
    } else {
        report
            .problems
            .push(format!("{MANIFEST}: last line is incomplete (no newline)"));
        &bytes
    };

    let mut listed: HashMap<String, usize> = HashMap::new();
    // (seq, hash) of the previous readable line; None after an unreadable one.
    let mut prev: Option<(u64, String)> = Some((0, GENESIS.to_string()));
    let lines: Vec<&[u8]> = if body.is_empty() {
        Vec::new()
    } else {
        body.split(|b| *b == b'\n').collect()
    };
    for (i, raw) in lines.into_iter().enumerate() {
        let n = i + 1;
        let entry: ManifestEntry = match serde_json::from_slice(raw) {
            Ok(e) => e,
            Err(e) => {
                report
                    .problems
                    .push(format!("{MANIFEST} line {n}: not a manifest entry ({e})"));
                prev = None;
                continue;
            }
        };
        report.parts += 1;
        let at = format!("{MANIFEST} line {n} (seq {})", entry.seq);
        if entry.compute_hash() != entry.hash {
            report.problems.push(format!(
                "{at}: content does not match its hash (line edited)"
            ));
        } else if serde_json::to_vec(&entry).ok().as_deref() != Some(raw) {
            report.problems.push(format!(
                "{at}: not in the form it was written (line edited)"
            ));
        }
        if let Some((pseq, phash)) = &prev {
            if entry.prev != *phash || entry.seq != pseq + 1 {
                let what = if n == 1 {
                    "does not start the chain".to_string()
                } else {
                    format!("does not follow line {}", n - 1)
                };
                report.problems.push(format!(
                    "{at}: chain broken: {what} (a line was removed, inserted or reordered)"
                ));
            }
        }
        prev = Some((entry.seq, entry.hash.clone()));

        if let Some(first) = listed.insert(entry.path.clone(), n) {
            report.problems.push(format!(
                "{at}: {} is already listed at line {first}",
                entry.path
            ));
            continue;
        }
        let Some((day, _)) = parse_part_rel(&entry.path) else {
            report
                .problems
                .push(format!("{at}: {:?} is not a part path", entry.path));
            continue;
        };
        for (name, t) in [("first", &entry.first), ("last", &entry.last)] {
            match t.parse::<Timestamp>() {
                Ok(t) if day_of(t) == day => {}
                Ok(_) => report.problems.push(format!(
                    "{at}: {name} time {t} is not on day {day} of {}",
                    entry.path
                )),
                Err(_) => report
                    .problems
                    .push(format!("{at}: {name} time {t:?} is not a time")),
            }
        }
        let path = dir.join(&entry.path);
        match check_part(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report
                .problems
                .push(format!("{}: missing part (listed at {at})", entry.path)),
            Err(e) => report
                .problems
                .push(format!("{}: unreadable part: {e}", entry.path)),
            Ok((sha, size, lines)) => {
                if sha != entry.sha256 || size != entry.bytes {
                    report.problems.push(format!(
                        "{}: altered part: SHA-256 {sha} ({size} bytes), sealed as {} ({} bytes)",
                        entry.path, entry.sha256, entry.bytes
                    ));
                }
                match lines {
                    Ok(k) => {
                        report.events += k;
                        if k != entry.events {
                            report.problems.push(format!(
                                "{}: {k} events, manifest says {}",
                                entry.path, entry.events
                            ));
                        }
                    }
                    Err(why) => report.problems.push(format!("{}: {why}", entry.path)),
                }
            }
        }
    }
    report.head = prev.map(|(_, h)| h).filter(|_| report.parts > 0);

    // Files nobody sealed.
    let mut found = BTreeSet::new();
    walk(&dir.join(EVENTS_DIR), EVENTS_DIR, &mut found)?;
    for rel in found {
        if listed.contains_key(&rel) {
            continue;
        }
        if rel.ends_with(".tmp") {
            report.problems.push(format!(
                "{rel}: unsealed temporary file (a run stopped before sealing)"
            ));
        } else {
            report
                .problems
                .push(format!("{rel}: unlisted file (not in the manifest)"));
        }
    }
    Ok(report)
}

/// Every file under `dir`, as `/`-separated paths starting with `rel`.
fn walk(dir: &Path, rel: &str, out: &mut BTreeSet<String>) -> Result<(), StoreError> {
    let list = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir, e)),
    };
    for entry in list {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = format!("{rel}/{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
        if kind.is_dir() {
            walk(&entry.path(), &name, out)?;
        } else {
            out.insert(name);
        }
    }
    Ok(())
}

/// Stream the events of `day` (UTC) from the parts the manifest lists for it, in sealing order, one
/// part open at a time. Each part's SHA-256 and line count are checked as it ends: a mismatch or a
/// missing part is yielded as an `Err`, and reading goes on with the next part.
pub fn read_day(dir: &Path, day: Date) -> Result<DayEvents, StoreError> {
    let manifest = dir.join(MANIFEST);
    if !manifest.exists() {
        return Err(archive_err(&manifest, "missing; not an evidence archive"));
    }
    let queue = read_manifest(&manifest)?
        .into_iter()
        .filter(|e| parse_part_rel(&e.path).is_some_and(|(d, _)| d == day))
        .collect();
    Ok(DayEvents {
        dir: dir.to_path_buf(),
        queue,
        current: None,
        buf: Vec::new(),
    })
}

type PartLines = BufReader<flate2::read::GzDecoder<HashReader<BufReader<File>>>>;

struct PartReader {
    entry: ManifestEntry,
    path: PathBuf,
    lines: PartLines,
    line: u64,
}

/// Events of one day, from [`read_day`].
pub struct DayEvents {
    dir: PathBuf,
    queue: VecDeque<ManifestEntry>,
    current: Option<PartReader>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for DayEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DayEvents")
            .field("dir", &self.dir)
            .field("parts_left", &self.queue.len())
            .field("current", &self.current.as_ref().map(|c| &c.entry.path))
            .finish()
    }
}

impl Iterator for DayEvents {
    type Item = Result<Event, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(cur) = self.current.as_mut() else {
                let entry = self.queue.pop_front()?;
                let path = self.dir.join(&entry.path);
                match File::open(&path) {
                    Ok(f) => {
                        let dec = flate2::read::GzDecoder::new(HashReader::new(BufReader::new(f)));
                        self.current = Some(PartReader {
                            entry,
                            path,
                            lines: BufReader::new(dec),
                            line: 0,
                        });
                        continue;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Some(Err(archive_err(
                            &path,
                            format!("missing part (manifest seq {})", entry.seq),
                        )))
                    }
                    Err(e) => return Some(Err(io(&path, e))),
                }
            };
            self.buf.clear();
            match cur.lines.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    let cur = self.current.take().expect("current part");
                    let (sha, bytes) = match cur.lines.into_inner().into_inner().finish() {
                        Ok(x) => x,
                        Err(e) => return Some(Err(io(&cur.path, e))),
                    };
                    if sha != cur.entry.sha256 || bytes != cur.entry.bytes {
                        return Some(Err(archive_err(
                            &cur.path,
                            "altered part: SHA-256 differs from the manifest",
                        )));
                    }
                    if cur.line != cur.entry.events {
                        return Some(Err(archive_err(
                            &cur.path,
                            format!("{} events, manifest says {}", cur.line, cur.entry.events),
                        )));
                    }
                }
                Ok(_) => {
                    cur.line += 1;
                    return Some(serde_json::from_slice(&self.buf).map_err(|e| {
                        archive_err(&cur.path, format!("line {}: not an event: {e}", cur.line))
                    }));
                }
                Err(e) => {
                    let cur = self.current.take().expect("current part");
                    return Some(Err(io(&cur.path, e)));
                }
            }
        }
    }
}
