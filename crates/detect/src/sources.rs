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
        "gateway",
        "token_issuance",
        "shell",
        "db_access",
    ];

    /// The format named `name` (see [`Format::NAMES`]).
    pub fn from_name(name: &str) -> Option<Format> {
        use jsonlines::Kind::*;
        Some(match name {
            "cloudtrail" => Format::CloudTrail,
            "gcp_audit" => Format::GcpAudit,
            "vpcflow" => Format::VpcFlow,
            "gateway" => Format::JsonLines(Gateway),
            "token_issuance" | "issuance" => Format::JsonLines(Issuance),
            "shell" => Format::JsonLines(Shell),
            "db_access" | "db" => Format::JsonLines(DbAccess),
            _ => return None,
        })
    }
}

/// Files under `paths` (directories walked recursively, sorted; hidden files skipped; `-` is stdin).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out)?;
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let io = |e: std::io::Error| IngestError::Io {
        file: p.display().to_string(),
        reason: e.to_string(),
    };
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                continue;
            }
            walk(&e, out)?;
        }
    } else if p.exists() || p.as_os_str() == "-" {
        out.push(p.to_path_buf());
    } else {
        return Err(IngestError::Io {
            file: p.display().to_string(),
            reason: "no such file or directory".into(),
        });
    }
    Ok(())
}

/// How files are to be read: a forced format, and the field mappings of custom JSON-lines logs.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Read every file as this format instead of sniffing.
    pub format: Option<Format>,
    /// Custom JSON-lines logs (from the config file), tried before the built-in sniffing.
    pub mappings: Arc<Vec<jsonlines::LogMapping>>,
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
    // A configured mapping whose path pattern names this file wins over sniffing.
    if let Some(m) = opts.mappings.iter().find(|m| m.matches_path(label)) {
        return jsonlines::read_mapped(r, label, m, each).map(|_| m.kind.name());
    }
    // Sniffing order matters: a GCP export may be an array, which CloudTrail's sniff would claim.
    let format = opts.format.or_else(|| {
        if gcp_audit::looks_like(t) {
            Some(Format::GcpAudit)
        } else if cloudtrail::looks_like(t) {
            Some(Format::CloudTrail)
        } else if vpcflow::looks_like(t) {
            Some(Format::VpcFlow)
        } else {
            None
        }
    });
    match format {
        Some(Format::CloudTrail) => {
            cloudtrail::read(r, label, each)?;
            return Ok("cloudtrail");
        }
        Some(Format::GcpAudit) => {
            gcp_audit::read(r, label, each)?;
            return Ok("gcp_audit");
        }
        Some(Format::VpcFlow) => {
            vpcflow::read(r, label, each)?;
            return Ok("vpcflow");
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
