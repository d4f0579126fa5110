//! Which reader a file needs, sniffed from its first bytes (gzip undone first) or forced by the caller:
//! CloudTrail documents, arrays or JSON lines; the JSON-lines activity logs (gateway, token issuance,
//! shell, DB access, or any log a [`LogMapping`] describes). Directories are walked in sorted order,
//! hidden files skipped.
//!
//! Adding a log source: one reader module in `credwarden-ingest` (`looks_like` + `read`) and one arm in
//! [`Format`] (its name, its sniff and its read).

use credwarden_ingest::{cloudtrail, gcp_audit, jsonlines, vpcflow, IngestError};
use credwarden_model::Event;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source format, as sniffed or as forced with `--source-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// AWS CloudTrail (`{"Records":[…]}`, an array of records, or JSON lines).
    CloudTrail,
    /// A JSON-lines activity log of a known kind.
    JsonLines(jsonlines::Kind),
    /// AWS VPC flow logs (v2 default or a custom format with its header line).
    VpcFlow,
    /// GCP Cloud Audit Logs (LogEntry JSON lines or arrays, as Cloud Logging exports them).
    GcpAudit,
}

impl Format {
    /// Every format's name, as `--source-format` takes it.
    pub const NAMES: &'static [&'static str] = &[
        "cloudtrail",
        "gcp_audit",
        "vpcflow",
        "gateway",
        "token_issuance",
        "shell",
        "db_access",
    ];

    /// The source kind events read in this format are counted under.
    pub fn kind_name(self) -> &'static str {
        match self {
            Format::CloudTrail => "cloudtrail",
            Format::GcpAudit => "gcp_audit",
            Format::VpcFlow => "vpcflow",
            Format::JsonLines(k) => k.name(),
        }
    }

    /// The format named `name` (see [`Format::NAMES`]).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "cloudtrail" => Some(Format::CloudTrail),
            "gcp_audit" => Some(Format::GcpAudit),
            "vpcflow" => Some(Format::VpcFlow),
            _ => jsonlines::Kind::from_name(name).map(Format::JsonLines),
        }
    }
}

/// The format a stream starting with `t` holds, by its shape (JSON-lines kinds are told apart by the
/// JSON-lines reader itself, record by record). Order matters: a GCP export may be an array, which
/// CloudTrail's sniff would claim.
fn sniff(t: &str) -> Option<Format> {
    if gcp_audit::looks_like(t) {
        Some(Format::GcpAudit)
    } else if cloudtrail::looks_like(t) {
        Some(Format::CloudTrail)
    } else if vpcflow::looks_like(t) {
        Some(Format::VpcFlow)
    } else {
        None
    }
}

/// Files under `paths` (directories walked recursively, sorted; hidden files skipped; `-` is stdin).
/// A path given that does not exist is an error; what is met while walking a directory and cannot be
/// read as a log — a dangling symlink, a symlink loop, an unreadable folder, a FIFO, a socket or a
/// device — is skipped with a located warning in the returned list, and the walk goes on. A path
/// given explicitly is read whatever it is (a FIFO from process substitution included).
pub fn expand(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<IngestError>), IngestError> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut out, &mut skipped, &mut seen),
            Ok(_) => out.push(p.clone()),
            Err(e) => {
                return Err(IngestError::Io {
                    file: p.display().to_string(),
                    reason: if e.kind() == std::io::ErrorKind::NotFound {
                        "no such file or directory".into()
                    } else {
                        e.to_string()
                    },
                })
            }
        }
    }
    Ok((out, skipped))
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<IngestError>,
    seen: &mut std::collections::HashSet<PathBuf>,
) {
    let skip = |p: &Path, why: String| IngestError::Io {
        file: p.display().to_string(),
        reason: format!("{why}: skipped"),
    };
    // A folder reached twice (a symlink back up the tree) is walked once.
    match std::fs::canonicalize(dir) {
        Ok(c) => {
            if !seen.insert(c) {
                return;
            }
        }
        Err(e) => {
            skipped.push(skip(dir, e.to_string()));
            return;
        }
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            skipped.push(skip(dir, format!("cannot list: {e}")));
            return;
        }
    };
    entries.sort();
    for e in entries {
        if e.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            continue;
        }
        match std::fs::metadata(&e) {
            Ok(m) if m.is_dir() => walk(&e, out, skipped, seen),
            Ok(m) if m.is_file() => out.push(e),
            Ok(_) => skipped.push(skip(
                &e,
                "not a regular file (a FIFO, socket or device)".into(),
            )),
            Err(err) => skipped.push(skip(
                &e,
                if std::fs::symlink_metadata(&e).is_ok() {
                    format!("a symlink that cannot be followed ({err})")
                } else {
                    err.to_string()
                },
            )),
        }
    }
}

/// How files are to be read: a forced format, and the field mappings of custom JSON-lines logs.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Read every file as this format instead of sniffing.
    pub format: Option<Format>,
    /// Custom JSON-lines logs (from the config file), tried before the built-in sniffing.
    pub mappings: Arc<Vec<jsonlines::LogMapping>>,
}

/// The format a stream starting with `head` would be read as, and whether it is one record per line
/// (so that blocks of whole lines can be read apart, in parallel). `None`: a configured mapping
/// applies, or nothing does.
pub fn line_format(head: &str, label: &str, opts: &ReadOptions) -> Option<Format> {
    let t = head.trim_start_matches('\u{feff}').trim_start();
    if opts
        .mappings
        .iter()
        .any(|m| m.matches_path(label) || m.matches_head(t))
    {
        return None;
    }
    let f = opts.format.or_else(|| match sniff(t) {
        Some(f) => Some(f),
        None if t.starts_with('{') => {
            let v: serde_json::Value = serde_json::from_str(t.lines().next()?).ok()?;
            jsonlines::Kind::sniff(&v).map(Format::JsonLines)
        }
        None => None,
    })?;
    // A CloudTrail file is line-based only when its first line is a whole record.
    let one_per_line = match f {
        Format::CloudTrail => t.starts_with('{') && !t[1..].trim_start().starts_with("\"Records\""),
        Format::JsonLines(_) => true,
        Format::VpcFlow | Format::GcpAudit => false,
    };
    one_per_line.then_some(f)
}

/// Read one stream with the reader its content calls for; returns the source kind (`empty` for a
/// stream with no records, which is normal for a quiet hour's log).
pub fn read_stream(
    mut r: impl BufRead,
    label: &Arc<str>,
    opts: &ReadOptions,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<&'static str, IngestError> {
    let head = r.fill_buf().map_err(|e| IngestError::Io {
        file: label.to_string(),
        reason: e.to_string(),
    })?;
    let head = String::from_utf8_lossy(&head[..head.len().min(8192)]).to_string();
    let t = head.trim_start_matches('\u{feff}').trim_start();
    if t.is_empty() {
        // A log file for a quiet hour or day holds nothing: that is not bad input.
        return Ok("empty");
    }
    // CloudTrail digest files (integrity hashes, delivered beside the logs in S3 trees) hold no events.
    if opts.format.is_none()
        && t.starts_with('{')
        && t.contains("\"digestStartTime\"")
        && t.contains("\"digestEndTime\"")
    {
        return Ok("cloudtrail_digest");
    }
    // A configured mapping whose path pattern names this file wins over sniffing.
    if let Some(m) = opts.mappings.iter().find(|m| m.matches_path(label)) {
        return jsonlines::read_mapped(r, label, m, each).map(|_| m.kind.name());
    }
    let format = opts.format.or_else(|| sniff(t));
    match format {
        Some(f @ Format::CloudTrail) => {
            cloudtrail::read(r, label, each)?;
            return Ok(f.kind_name());
        }
        Some(f @ Format::GcpAudit) => {
            gcp_audit::read(r, label, each)?;
            return Ok(f.kind_name());
        }
        Some(f @ Format::VpcFlow) => {
            vpcflow::read(r, label, each)?;
            return Ok(f.kind_name());
        }
        Some(Format::JsonLines(k)) => {
            return jsonlines::read(r, label, Some(k), each).map(jsonlines::Kind::name)
        }
        None => {}
    }
    if t.starts_with('{') {
        if let Some(m) = opts.mappings.iter().find(|m| m.matches_head(t)) {
            return jsonlines::read_mapped(r, label, m, each).map(|_| m.kind.name());
        }
        return jsonlines::read(r, label, None, each).map(jsonlines::Kind::name);
    }
    Err(IngestError::Format {
        file: label.to_string(),
        reason: format!(
            "not a supported activity log; formats: {} (or a JSON-lines log with a mapping in the config)",
            Format::NAMES.join(", ")
        ),
    })
}

/// Read one file (`-` is standard input); see [`read_stream`].
pub fn read_file(
    path: &Path,
    opts: &ReadOptions,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<&'static str, IngestError> {
    let label: Arc<str> = Arc::from(path.display().to_string());
    let r = std::io::BufReader::with_capacity(1 << 16, credwarden_ingest::open(path)?);
    read_stream(r, &label, opts, each)
}

/// Blocks of this many bytes (cut at a line end) are read apart by [`read_file_parallel`].
const BLOCK: usize = 2 << 20;

/// Read one file like [`read_file`], but when it is a plain (not gzip) file of one record per line
/// and larger than a few blocks, cut it into blocks of whole lines and parse them on `workers`
/// threads; results come back in file order, with the same lines as a sequential read.
pub fn read_file_parallel(
    path: &Path,
    opts: &ReadOptions,
    workers: usize,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<&'static str, IngestError> {
    let label: Arc<str> = Arc::from(path.display().to_string());
    let io = |e: std::io::Error| IngestError::Io {
        file: label.to_string(),
        reason: e.to_string(),
    };
    let big = path.as_os_str() != "-"
        && workers > 1
        && std::fs::metadata(path).is_ok_and(|m| m.len() > 4 * BLOCK as u64);
    if !big {
        return read_file(path, opts, each);
    }
    let mut r = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path).map_err(io)?);
    let head = r.fill_buf().map_err(io)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return read_file(path, opts, each);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(8192)]).to_string();
    let Some(format) = line_format(&text, &label, opts) else {
        return read_file(path, opts, each);
    };
    let kind = format.kind_name();
    let block_opts = ReadOptions {
        format: Some(format),
        mappings: opts.mappings.clone(),
    };
    type Parsed = Vec<Result<Event, IngestError>>;
    let (job_tx, job_rx) = std::sync::mpsc::sync_channel::<(u64, Vec<u8>, u64)>(workers);
    let job_rx = std::sync::Mutex::new(job_rx);
    let (res_tx, res_rx) = std::sync::mpsc::sync_channel::<(u64, Parsed)>(workers * 2);
    std::thread::scope(|scope| -> Result<(), IngestError> {
        for _ in 0..workers {
            let (job_rx, res_tx, block_opts, label) =
                (&job_rx, res_tx.clone(), &block_opts, &label);
            scope.spawn(move || loop {
                let job = job_rx.lock().expect("not poisoned").recv();
                let Ok((seq, block, lines_before)) = job else {
                    break;
                };
                let mut out = Vec::with_capacity(block.len() / 512);
                let res = read_stream(&block[..], label, block_opts, &mut |r| {
                    out.push(match r {
                        Ok(mut e) => {
                            e.raw.line += lines_before;
                            Ok(e)
                        }
                        Err(e) => Err(e.shift_line(lines_before)),
                    })
                });
                if let Err(e) = res {
                    out.push(Err(e.shift_line(lines_before)));
                }
                if res_tx.send((seq, out)).is_err() {
                    break;
                }
            });
        }
        drop(res_tx);
        // The reader: cut blocks at line ends and hand them out; meanwhile put results in order.
        let reader = scope.spawn(move || -> Result<(), IngestError> {
            let (mut seq, mut lines) = (0u64, 0u64);
            loop {
                let mut block = Vec::with_capacity(BLOCK + 4096);
                let n = (&mut r)
                    .take(BLOCK as u64)
                    .read_to_end(&mut block)
                    .map_err(io)?;
                if n == 0 {
                    break;
                }
                r.read_until(b'\n', &mut block).map_err(io)?;
                let newlines = block.iter().filter(|&&b| b == b'\n').count() as u64;
                if job_tx.send((seq, block, lines)).is_err() {
                    break;
                }
                seq += 1;
                lines += newlines;
            }
            Ok(())
        });
        let mut pending: std::collections::BTreeMap<u64, Parsed> = Default::default();
        let mut next = 0u64;
        for (seq, out) in res_rx.iter() {
            pending.insert(seq, out);
            while let Some(out) = pending.remove(&next) {
                out.into_iter().for_each(&mut *each);
                next += 1;
            }
        }
        reader.join().expect("reader thread")
    })?;
    Ok(kind)
}

/// The earliest event time among the first `budget` bytes of a file (decompressed), used to order
/// files before merging them; `None` when nothing could be read there (the file then starts at once).
pub fn peek_start(path: &Path, opts: &ReadOptions, budget: usize) -> Option<jiff::Timestamp> {
    if path.as_os_str() == "-" {
        return None;
    }
    let mut buf = Vec::with_capacity(budget.min(1 << 20));
    credwarden_ingest::open(path)
        .ok()?
        .take(budget as u64)
        .read_to_end(&mut buf)
        .ok()?;
    let label: Arc<str> = Arc::from(path.display().to_string());
    let mut min: Option<jiff::Timestamp> = None;
    // The cut at `budget` makes the last record invalid: errors here are expected and ignored.
    let _ = read_stream(&buf[..], &label, opts, &mut |r| {
        if let Ok(e) = r {
            min = Some(min.map_or(e.time, |m| m.min(e.time)));
        }
    });
    min
}

#[cfg(test)]
mod names {
    use super::Format;

    /// Every name `--source-format` offers is a format, and the name its events are counted under.
    #[test]
    fn every_offered_name_is_a_format() {
        for n in Format::NAMES {
            let f = Format::from_name(n).unwrap_or_else(|| panic!("{n}"));
            assert_eq!(f.kind_name(), *n);
        }
    }
}
