//! Which reader a file needs, sniffed from its first bytes (gzip undone first): CloudTrail documents,
//! arrays or JSON lines, or one of the JSON-lines activity logs. Directories are walked in sorted order,
//! so S3-layout trees (`AWSLogs/…/YYYY/MM/DD/`) are read day by day.

use credwarden_ingest::{cloudtrail, jsonlines, IngestError};
use credwarden_model::Event;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files under `paths` (directories walked recursively, sorted; hidden files skipped).
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

/// Read one file with the reader its content calls for; returns the source kind (`empty` for a file
/// with no records, which is normal for a quiet day's log).
pub fn read_file(
    path: &Path,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<&'static str, IngestError> {
    let label: Arc<str> = Arc::from(path.display().to_string());
    let mut r = BufReader::with_capacity(1 << 16, credwarden_ingest::open(path)?);
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
    if cloudtrail::looks_like(t) {
        cloudtrail::read(r, &label, each)?;
        return Ok("cloudtrail");
    }
    if t.starts_with('{') {
        return jsonlines::read(r, &label, None, each).map(jsonlines::Kind::name);
    }
    // VPC flow logs and other text formats are not read yet: say so rather than guess.
    Err(IngestError::Format { file: label.to_string(), reason: "not a supported activity log (CloudTrail or JSON lines); VPC flow logs are not read yet".into() })
}
