//! The evidence archive: an append-only store of normalized [`Event`]s in Parquet, beside a copy of
//! every raw input they came from, whose loss or alteration is detectable — so the logs
//! investigators need cannot quietly disappear before they are read, and are quick to query.
//!
//! Layout under the archive folder (Hive-style partitions, as Amazon Security Lake lays out OCSF):
//!
//! ```text
//! manifest.jsonl                                              one line per sealed file (hash chain)
//! manifest.sig                                                Ed25519 signature of the chain head (optional)
//! events/source=SRC/eventDay=YYYYMMDD/part-NNNNNN.parquet    events of one log kind and UTC day
//! raw/SHA256/NAME                                             each input file as read, by content hash
//! findings/pass-NNNNNN.jsonl                                  the findings of each detect pass (OCSF JSON lines)
//! manifest.jsonl.lock                                         held by the operating system while a writer is open
//! ```
//!
//! Columns and clustering are described in [`columns`]. Each event row points at its raw record:
//! `raw_file` (the `raw/…` copy) and `raw_line` (the line, or the record's index in a JSON document).
//!
//! A part is written as `part-NNNNNN.parquet.tmp`, flushed to disk and renamed when sealed; only then
//! is its manifest line appended (and flushed). Files are never rewritten: a later run adds the next
//! part number. A manifest line is
//!
//! ```text
//! {"seq":1,"path":"events/source=gateway/eventDay=20250401/part-000001.parquet","events":3,
//!  "bytes":412,"sha256":"…","first":"…","last":"…","sealed_at":"…","prev":"000…0","hash":"…"}
//! ```
//!
//! `sha256` is the hash of the file, `first`/`last` the earliest and latest event time in it (empty
//! for a raw copy, whose `events` is 0), `prev` the `hash` of the previous line (64 zeros for the
//! first) and `hash` the SHA-256 of the line's compact JSON without the `hash` field and without the
//! newline (`jq -cj 'del(.hash)' | sha256sum`). Deleting, reordering or editing a file or a line
//! therefore breaks a hash or the chain, which [`verify`] reports. Removing the *last* lines together
//! with their files leaves a shorter valid chain: sign the head ([`Archive::set_signer`], which
//! rewrites `manifest.sig` after every commit) with a key kept off the archive's host, or record the
//! head ([`SealReport::head`]) elsewhere (ticket, SIEM, write-once bucket).
//!
//! Memory stays bounded: at most [`MAX_OPEN_PARTS`] parts are open at once and their buffered rows
//! stay under [`MAX_BUFFERED`] bytes (the largest open part is sealed early to make room).

pub mod columns;
pub mod spool;

pub use spool::Spool;

use crate::{io, Lock, StoreError};
use credwarden_model::Event;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Name of the manifest file in the archive folder.
pub const MANIFEST: &str = "manifest.jsonl";
/// Folder of the part files in the archive folder.
pub const EVENTS_DIR: &str = "events";
/// Folder of the raw input copies in the archive folder.
pub const RAW_DIR: &str = "raw";
/// Folder of the findings each detect pass reported.
pub const FINDINGS_DIR: &str = "findings";
/// Signature of the manifest's head, beside it.
pub const MANIFEST_SIG: &str = "manifest.sig";
/// Most parts open for writing at once; beyond, the least recently written part is sealed.
pub const MAX_OPEN_PARTS: usize = 16;
/// Most bytes of rows buffered in open parts (counted by what they hold; allocations may reach
/// twice this); beyond, the largest open part is sealed.
pub const MAX_BUFFERED: usize = 512 << 20;
/// Most rows in one part file.
pub const MAX_PART_ROWS: usize = 2_000_000;
/// `prev` of the first manifest line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the manifest: a sealed part and its link in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// Part or raw copy, relative to the archive folder, `/`-separated.
    pub path: String,
    /// Events (rows) in the part; 0 for a raw copy.
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
    /// Raw input copies listed in the manifest.
    pub raw_files: usize,
    /// Events counted in the readable listed parts.
    pub events: u64,
    /// Everything wrong, one sentence each, naming the file or manifest line.
    pub problems: Vec<String>,
    /// Hash of the last manifest line, to compare with a copy kept elsewhere.
    pub head: Option<String>,
    /// Public key (hex) whose valid signature of the head is in `manifest.sig`; `None` when the
    /// archive is not signed.
    pub signed_by: Option<String>,
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

/// Which part an event goes to: its log kind and UTC day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct PartKey {
    source: &'static str,
    day: Date,
}

fn part_dir(key: &PartKey) -> String {
    format!(
        "{EVENTS_DIR}/source={}/eventDay={}",
        key.source,
        key.day.strftime("%Y%m%d")
    )
}

const PART_EXT: &str = ".parquet";

/// `events/source=S/eventDay=YYYYMMDD/part-N.parquet` → (source, day, N).
fn parse_part_rel(rel: &str) -> Option<(String, Date, u64)> {
    let rest = rel.strip_prefix(EVENTS_DIR)?.strip_prefix("/source=")?;
    let (source, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("eventDay=")?;
    let (day, file) = rest.split_once('/')?;
    let num = parse_part_name(file, PART_EXT)?;
    if day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) || source.is_empty() {
        return None;
    }
    let date = Date::new(
        day[..4].parse().ok()?,
        day[4..6].parse().ok()?,
        day[6..].parse().ok()?,
    )
    .ok()?;
    Some((source.to_string(), date, num))
}

fn parse_part_name(file: &str, suffix: &str) -> Option<u64> {
    parse_numbered(file, "part-", suffix)
}

/// `PREFIX` + digits + `SUFFIX` → the number.
fn parse_numbered(file: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = file.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A raw copy's path: `raw/SHA256/NAME`.
fn is_raw_rel(rel: &str) -> bool {
    rel.strip_prefix(RAW_DIR)
        .and_then(|r| r.strip_prefix('/'))
        .and_then(|r| r.split_once('/'))
        .is_some_and(|(h, name)| {
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) && !name.is_empty()
        })
}

/// A findings file's path: `findings/pass-N.jsonl`.
fn is_findings_rel(rel: &str) -> bool {
    rel.strip_prefix(FINDINGS_DIR)
        .and_then(|r| r.strip_prefix('/'))
        .is_some_and(|name| parse_numbered(name, "pass-", ".jsonl").is_some())
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

/// Hash a file: (hex SHA-256, bytes).
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((format!("{:x}", h.finalize()), bytes))
}

/// A part being filled: rows wait in memory until the part is sealed (sorted, then written).
struct OpenPart {
    rows: columns::Rows,
    first: Timestamp,
    last: Timestamp,
    touched: u64,
}

/// A copy of an input file already in the archive, and the input's state when copied.
#[derive(Debug, Clone)]
struct RawCopy {
    rel: String,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

/// An evidence archive open for appending. Holds the archive's lock until dropped.
///
/// Call [`Archive::seal`] (or [`Archive::seal_parts`] then [`Archive::commit`]) before dropping:
/// rows still buffered are not on disk.
pub struct Archive {
    dir: PathBuf,
    manifest: PathBuf,
    open: BTreeMap<PartKey, OpenPart>,
    buffered: usize,
    /// Highest part number known per partition folder.
    last_num: HashMap<String, u64>,
    /// Raw copies by content hash (listed in the manifest), and by input name for this run.
    raw_by_hash: HashMap<String, String>,
    raw_by_input: HashMap<String, RawCopy>,
    seq: u64,
    head: String,
    pending: Vec<ManifestEntry>,
    clock: u64,
    signer: Option<ring::signature::Ed25519KeyPair>,
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
pub fn read_manifest(manifest: &Path) -> Result<Vec<ManifestEntry>, StoreError> {
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

/// The message `manifest.sig` signs: the number of lines and the head hash.
pub fn head_message(seq: u64, head: &str) -> Vec<u8> {
    format!("credwarden archive manifest\nseq {seq}\nhead {head}\n").into_bytes()
}

/// What `manifest.sig` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeadSignature {
    /// Manifest lines signed.
    pub seq: u64,
    /// Hash of the last of them.
    pub head: String,
    /// When signed (RFC 3339).
    pub signed_at: String,
    /// The signature of [`head_message`].
    #[serde(flatten)]
    pub signature: crate::sign::Signature,
}

impl Archive {
    /// Open the archive in `dir`, creating it if absent, and take its lock; what an interrupted
    /// run left (temporary or unlisted parts) is moved aside (see [`Archive::open_with`]).
    pub fn open(dir: &Path) -> Result<Archive, StoreError> {
        Ok(Self::open_with(dir, &[])?.0)
    }

    /// Open the archive in `dir` (creating it if absent) and take its lock, recovering from a run
    /// that was killed: manifest lines in `pending` that the caller's committed state holds but the
    /// manifest lacks are appended (rolled forward), when their file is on disk with the right
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
                && hash_file(&dir.join(&p.path))
                    .ok()
                    .is_some_and(|(sha, bytes)| sha == p.sha256 && bytes == p.bytes);
            if !ok {
                return Err(archive_err(
                    &manifest,
                    format!(
                        "the state's sealed file {} (line {}) cannot be rolled forward: missing, altered or off the chain; run verify",
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
        // Move aside what no manifest line lists (our own part names only; raw copies unlisted
        // are an interrupted seal's too).
        let listed: BTreeSet<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let mut found = BTreeSet::new();
        walk(&events, EVENTS_DIR, &mut found)?;
        walk(&dir.join(RAW_DIR), RAW_DIR, &mut found)?;
        walk(&dir.join(FINDINGS_DIR), FINDINGS_DIR, &mut found)?;
        let stamp = Timestamp::now().strftime("%Y%m%dT%H%M%S%.fZ").to_string();
        for rel in found {
            let name = rel.rsplit('/').next().unwrap_or("");
            let ours = parse_part_name(name, PART_EXT).is_some()
                || parse_part_name(name, ".parquet.tmp").is_some()
                || rel.starts_with(RAW_DIR)
                || rel.starts_with(FINDINGS_DIR);
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
        let mut raw_by_hash = HashMap::new();
        for e in &entries {
            if let Some((_, _, num)) = parse_part_rel(&e.path) {
                let folder = e.path.rsplit_once('/').map_or("", |x| x.0).to_string();
                let n = last_num.entry(folder).or_insert(0);
                *n = (*n).max(num);
            } else if is_raw_rel(&e.path) {
                raw_by_hash.insert(e.sha256.clone(), e.path.clone());
            }
        }
        let (seq, head) = entries
            .last()
            .map_or((0, GENESIS.to_string()), |e| (e.seq, e.hash.clone()));
        let archive = Archive {
            dir: dir.to_path_buf(),
            manifest,
            open: BTreeMap::new(),
            buffered: 0,
            last_num,
            raw_by_hash,
            raw_by_input: HashMap::new(),
            seq,
            head,
            pending: Vec::new(),
            clock: 0,
            signer: None,
            _lock: lock,
        };
        Ok((archive, recovery))
    }

    /// Sign the manifest's head with `pair` after every commit (`manifest.sig`).
    pub fn set_signer(&mut self, pair: ring::signature::Ed25519KeyPair) {
        self.signer = Some(pair);
    }

    /// Keep `jsonl` (one finding per line) as the next `findings/pass-N.jsonl`, chained with the
    /// parts sealed next; `lines` is the number of findings. Nothing is written for none.
    pub fn add_findings(&mut self, jsonl: &[u8], lines: u64) -> Result<(), StoreError> {
        if lines == 0 {
            return Ok(());
        }
        let folder = self.dir.join(FINDINGS_DIR);
        let num = self.next_num(FINDINGS_DIR, "pass-", &[".jsonl"])?;
        let rel = format!("{FINDINGS_DIR}/pass-{num:06}.jsonl");
        let path = self.dir.join(&rel);
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
            f.write_all(jsonl)?;
            f.sync_all()
        };
        write().map_err(|e| io(&path, e))?;
        sync_dir(&folder);
        let now = Timestamp::now().to_string();
        self.chain(ManifestEntry {
            seq: 0,
            path: rel,
            events: lines,
            bytes: jsonl.len() as u64,
            sha256: format!("{:x}", Sha256::digest(jsonl)),
            first: String::new(),
            last: String::new(),
            sealed_at: now,
            prev: String::new(),
            hash: String::new(),
        });
        Ok(())
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

    /// Add one event to the open part of its log kind and day (UTC), starting a part if needed.
    pub fn append(&mut self, ev: &Event) -> Result<(), StoreError> {
        let key = PartKey {
            source: columns::source_of(ev),
            day: day_of(ev.time),
        };
        if !self.open.contains_key(&key) && self.open.len() >= MAX_OPEN_PARTS {
            let lru = self
                .open
                .iter()
                .min_by_key(|(_, p)| p.touched)
                .map(|(k, _)| k.clone())
                .expect("open parts");
            self.seal_key(&lru)?;
        }
        self.clock += 1;
        let part = self.open.entry(key.clone()).or_insert_with(|| OpenPart {
            rows: columns::Rows::new(),
            first: Timestamp::MAX,
            last: Timestamp::MIN,
            touched: 0,
        });
        let before = part.rows.size();
        part.rows.push(ev);
        self.buffered = self.buffered + part.rows.size() - before;
        part.first = part.first.min(ev.time);
        part.last = part.last.max(ev.time);
        part.touched = self.clock;
        if part.rows.len() >= MAX_PART_ROWS {
            self.seal_key(&key)?;
        }
        while self.buffered > MAX_BUFFERED {
            let big = self
                .open
                .iter()
                .max_by_key(|(_, p)| p.rows.size())
                .map(|(k, _)| k.clone())
                .expect("buffered rows are in open parts");
            self.seal_key(&big)?;
        }
        Ok(())
    }

    /// Close every open part (write, flush, rename into place) and append their manifest lines:
    /// both phases at once ([`Archive::seal_parts`], then [`Archive::commit`]).
    pub fn seal(&mut self) -> Result<SealReport, StoreError> {
        let entries = self.seal_parts()?;
        self.commit(&entries)?;
        Ok(SealReport {
            events: entries.iter().map(|e| e.events).sum(),
            entries,
            head: self.head.clone(),
        })
    }

    /// First phase: write every open part (and copy the raw inputs its rows point at), flush,
    /// fsync, rename into place, and return the manifest lines they need — chained, but not yet
    /// appended (parts sealed early to bound memory included). Until [`Archive::commit`], the
    /// files are unlisted: a run killed now leaves them to be moved aside by the next open, unless
    /// the caller kept these lines (with its own state) and hands them to [`Archive::open_with`],
    /// which then appends them.
    pub fn seal_parts(&mut self) -> Result<Vec<ManifestEntry>, StoreError> {
        while let Some(key) = self.open.keys().next().cloned() {
            self.seal_key(&key)?;
        }
        Ok(std::mem::take(&mut self.pending))
    }

    /// Second phase: append `entries` (from [`Archive::seal_parts`]) to the manifest, flushed to
    /// disk, then sign the new head when a signer is set. Lines already there are skipped, so a
    /// repeated commit changes nothing.
    pub fn commit(&mut self, entries: &[ManifestEntry]) -> Result<(), StoreError> {
        let listed = read_manifest(&self.manifest)?;
        let last = listed.last().map_or(0, |e| e.seq);
        let fresh: Vec<&ManifestEntry> = entries.iter().filter(|e| e.seq > last).collect();
        let mut buf = Vec::new();
        for e in &fresh {
            serde_json::to_writer(&mut buf, e).expect("a manifest entry serializes");
            buf.push(b'\n');
        }
        if !buf.is_empty() {
            let append = || -> std::io::Result<()> {
                let mut f = OpenOptions::new().append(true).open(&self.manifest)?;
                f.write_all(&buf)?;
                f.sync_all()
            };
            append().map_err(|e| io(&self.manifest, format!("{e}; sealed parts are unlisted")))?;
        }
        if let Some(pair) = &self.signer {
            // The manifest now ends with the fresh lines, or is as it was.
            let (seq, head) = fresh
                .last()
                .copied()
                .or(listed.last())
                .map_or((0, GENESIS.to_string()), |e| (e.seq, e.hash.clone()));
            let sig = HeadSignature {
                seq,
                signature: crate::sign::sign(pair, &head_message(seq, &head)),
                head,
                signed_at: Timestamp::now().to_string(),
            };
            let path = self.dir.join(MANIFEST_SIG);
            let tmp = self.dir.join(format!("{MANIFEST_SIG}.tmp"));
            let mut text = serde_json::to_vec_pretty(&sig).expect("a signature serializes");
            text.push(b'\n');
            fs::write(&tmp, &text)
                .and_then(|_| File::open(&tmp)?.sync_all())
                .and_then(|_| fs::rename(&tmp, &path))
                .map_err(|e| io(&path, e))?;
            sync_dir(&self.dir);
        }
        Ok(())
    }

    /// The next number for `PREFIX`-numbered files in `folder` (created if absent).
    fn next_num(
        &mut self,
        folder: &str,
        prefix: &str,
        suffixes: &[&str],
    ) -> Result<u64, StoreError> {
        let dir = self.dir.join(folder);
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        // Never reuse a number: count sealed, unlisted and leftover temporary files too.
        let mut num = self.last_num.get(folder).copied().unwrap_or(0);
        for entry in fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = suffixes
                .iter()
                .find_map(|x| parse_numbered(&name, prefix, x))
            {
                num = num.max(n);
            }
        }
        self.last_num.insert(folder.to_string(), num + 1);
        Ok(num + 1)
    }

    /// The archive's copy of input `name` (copied now unless an identical copy is there);
    /// standard input, which cannot be read again, keeps its name.
    fn raw_copy(&mut self, name: &str) -> Result<String, StoreError> {
        if name == "-" || name.is_empty() {
            return Ok(name.to_string());
        }
        let src = Path::new(name);
        let meta = fs::metadata(src).map_err(|e| {
            io(
                src,
                format!("{e}: the raw input cannot be copied into the archive"),
            )
        })?;
        let modified = meta.modified().ok();
        if let Some(c) = self.raw_by_input.get(name) {
            if c.len == meta.len() && c.modified == modified {
                return Ok(c.rel.clone());
            }
        }
        let raw = self.dir.join(RAW_DIR);
        fs::create_dir_all(&raw).map_err(|e| io(&raw, e))?;
        let tmp = raw.join(format!(".copy-{}.tmp", std::process::id()));
        let copied = (|| -> std::io::Result<(String, u64)> {
            let mut from = File::open(src)?;
            let mut sink = HashWriter {
                inner: BufWriter::with_capacity(1 << 16, File::create(&tmp)?),
                hasher: Sha256::new(),
                bytes: 0,
            };
            std::io::copy(&mut from, &mut sink)?;
            let f = sink.inner.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            Ok((format!("{:x}", sink.hasher.finalize()), sink.bytes))
        })()
        .map_err(|e| io(&tmp, format!("copying {name}: {e}")))?;
        let (sha, bytes) = copied;
        let rel = match self.raw_by_hash.get(&sha) {
            Some(rel) => {
                let _ = fs::remove_file(&tmp);
                rel.clone()
            }
            None => {
                let base = src
                    .file_name()
                    .map(|n| n.to_string_lossy().replace(['/', '\\'], "_"))
                    .filter(|n| !n.is_empty() && n != "." && n != "..")
                    .unwrap_or_else(|| "input".into());
                let rel = format!("{RAW_DIR}/{sha}/{base}");
                let to = self.dir.join(&rel);
                let folder = to.parent().expect("raw/SHA");
                fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
                fs::rename(&tmp, &to).map_err(|e| io(&to, e))?;
                sync_dir(folder);
                self.chain(ManifestEntry {
                    seq: 0,
                    path: rel.clone(),
                    events: 0,
                    bytes,
                    sha256: sha.clone(),
                    first: String::new(),
                    last: String::new(),
                    sealed_at: Timestamp::now().to_string(),
                    prev: String::new(),
                    hash: String::new(),
                });
                self.raw_by_hash.insert(sha, rel.clone());
                rel
            }
        };
        self.raw_by_input.insert(
            name.to_string(),
            RawCopy {
                rel: rel.clone(),
                len: meta.len(),
                modified,
            },
        );
        Ok(rel)
    }

    /// Link `entry` into the chain and keep it for the next commit.
    fn chain(&mut self, mut entry: ManifestEntry) {
        entry.seq = self.seq + 1;
        entry.prev = self.head.clone();
        entry.hash = entry.compute_hash();
        self.seq = entry.seq;
        self.head = entry.hash.clone();
        self.pending.push(entry);
    }

    fn seal_key(&mut self, key: &PartKey) -> Result<(), StoreError> {
        let Some(mut part) = self.open.remove(key) else {
            return Ok(());
        };
        self.buffered -= part.rows.size();
        // Raw copies first: the rows then point at them.
        let mut names: HashMap<String, String> = HashMap::new();
        for name in part.rows.raw_files() {
            let rel = self.raw_copy(&name)?;
            names.insert(name, rel);
        }
        part.rows.rename_raw_files(&names);
        let folder = part_dir(key);
        let num = self.next_num(&folder, "part-", &[PART_EXT, ".parquet.tmp"])?;
        let rel = format!("{folder}/part-{num:06}{PART_EXT}");
        let path = self.dir.join(&rel);
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io(&tmp, e))?;
        let mut sink = HashWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let events = part
            .rows
            .write(&mut sink)
            .map_err(|e| io(&tmp, format!("{e}; this part is abandoned unsealed")))?
            as u64;
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
        self.chain(ManifestEntry {
            seq: 0,
            path: rel,
            events,
            bytes,
            sha256,
            first: part.first.to_string(),
            last: part.last.to_string(),
            sealed_at: Timestamp::now().to_string(),
            prev: String::new(),
            hash: String::new(),
        });
        Ok(())
    }
}

/// Check the archive in `dir`: the manifest hash chain, every listed file (present, same SHA-256 and
/// size; parts with as many rows as stated, times within their day), files under `events/` and
/// `raw/` nobody sealed, and `manifest.sig` when present (it must sign the current head; with
/// `trusted`, a public key in hex, it must be there and made by that key).
///
/// `Err` only when the folder or manifest cannot be read at all; everything found wrong is listed in
/// [`VerifyReport::problems`].
pub fn verify(dir: &Path, trusted: Option<&str>) -> Result<VerifyReport, StoreError> {
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
    let mut last_seq = 0;
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
        last_seq = entry.seq;
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
        let day = if let Some((_, day, _)) = parse_part_rel(&entry.path) {
            report.parts += 1;
            Some(day)
        } else if is_raw_rel(&entry.path) {
            report.raw_files += 1;
            None
        } else if is_findings_rel(&entry.path) {
            None
        } else {
            report.problems.push(format!(
                "{at}: {:?} is not a part or raw copy path",
                entry.path
            ));
            continue;
        };
        if let Some(day) = day {
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
        }
        let path = dir.join(&entry.path);
        match hash_file(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report
                .problems
                .push(format!("{}: missing file (listed at {at})", entry.path)),
            Err(e) => report
                .problems
                .push(format!("{}: unreadable file: {e}", entry.path)),
            Ok((sha, size)) => {
                if sha != entry.sha256 || size != entry.bytes {
                    report.problems.push(format!(
                        "{}: altered file: SHA-256 {sha} ({size} bytes), sealed as {} ({} bytes)",
                        entry.path, entry.sha256, entry.bytes
                    ));
                } else if day.is_some() {
                    match columns::count_rows(&path) {
                        Ok(k) => {
                            report.events += k;
                            if k != entry.events {
                                report.problems.push(format!(
                                    "{}: {k} events, manifest says {}",
                                    entry.path, entry.events
                                ));
                            }
                        }
                        Err(e) => report
                            .problems
                            .push(format!("{}: not a readable Parquet file: {e}", entry.path)),
                    }
                }
            }
        }
    }
    // The chain's head (empty when a line could not be read).
    let head = prev.as_ref().map_or(String::new(), |(_, h)| h.clone());
    report.head = prev.map(|(_, h)| h).filter(|_| last_seq > 0);

    // The head's signature.
    let sig_path = dir.join(MANIFEST_SIG);
    match fs::read(&sig_path) {
        Ok(b) => match serde_json::from_slice::<HeadSignature>(&b) {
            Ok(s) => {
                match s.signature.check(&head_message(s.seq, &s.head), trusted) {
                    Err(why) => report.problems.push(format!("{MANIFEST_SIG}: {why}")),
                    Ok(()) if s.seq != last_seq || s.head != head => {
                        report.problems.push(format!(
                            "{MANIFEST_SIG}: signs {} line(s) ending in {}, but the manifest has {last_seq} ending in {head} (lines removed or added after signing)",
                            s.seq, s.head
                        ))
                    }
                    Ok(()) => report.signed_by = Some(s.signature.public_key),
                }
            }
            Err(e) => report
                .problems
                .push(format!("{MANIFEST_SIG}: not a signature file ({e})")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if trusted.is_some() {
                report.problems.push(format!(
                    "{MANIFEST_SIG}: missing, but a trusted key was given (the archive is unsigned or its signature was deleted)"
                ));
            }
        }
        Err(e) => report.problems.push(format!("{MANIFEST_SIG}: {e}")),
    }

    // Files nobody sealed.
    let mut found = BTreeSet::new();
    walk(&dir.join(EVENTS_DIR), EVENTS_DIR, &mut found)?;
    walk(&dir.join(RAW_DIR), RAW_DIR, &mut found)?;
    walk(&dir.join(FINDINGS_DIR), FINDINGS_DIR, &mut found)?;
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

/// A sealed part as the manifest lists it, with its partition.
#[derive(Debug, Clone)]
pub struct Part {
    /// The manifest line.
    pub entry: ManifestEntry,
    /// Log kind (`source=` partition).
    pub source: String,
    /// UTC day (`eventDay=` partition).
    pub day: Date,
}

/// The parts the manifest lists, in chain order (raw copies left out).
pub fn parts(dir: &Path) -> Result<Vec<Part>, StoreError> {
    let manifest = dir.join(MANIFEST);
    if !manifest.exists() {
        return Err(archive_err(&manifest, "missing; not an evidence archive"));
    }
    Ok(read_manifest(&manifest)?
        .into_iter()
        .filter_map(|entry| {
            let (source, day, _) = parse_part_rel(&entry.path)?;
            Some(Part { entry, source, day })
        })
        .collect())
}

/// The findings files the manifest lists (relative paths), in chain order.
pub fn findings_files(dir: &Path) -> Result<Vec<String>, StoreError> {
    Ok(read_manifest(&dir.join(MANIFEST))?
        .into_iter()
        .filter(|e| is_findings_rel(&e.path))
        .map(|e| e.path)
        .collect())
}
