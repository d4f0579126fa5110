//! The file sink: OCSF Detection Finding JSON lines appended to a file, created if absent. Each send is
//! encoded whole, then written with one `write_all` and flushed to disk, so a failed encode leaves the
//! file untouched and a delivered batch survives a crash.

use crate::error::SinkError;
use crate::{Delivery, Sink};
use credwarden_model::ocsf::DetectionFinding;
use credwarden_model::Finding;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Flush `f`'s data to disk, so what was written survives a crash; a device or pipe (`/dev/null`),
/// which cannot be synced, has nothing to make durable.
pub fn sync_to_disk(f: &File) -> std::io::Result<()> {
    match f.sync_data() {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// Appends findings to a file.
pub(crate) struct FileSink {
    path: PathBuf,
    file: File,
}

impl FileSink {
    /// Open `path` for appending, creating it if absent.
    pub(crate) fn open(path: &Path) -> Result<Self, SinkError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| SinkError::File {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }
}

impl Sink for FileSink {
    fn name(&self) -> String {
        format!("file:{}", self.path.display())
    }

    fn send(&mut self, findings: &[Finding]) -> Result<Delivery, SinkError> {
        if findings.is_empty() {
            return Ok(Delivery::default());
        }
        let mut buf = Vec::new();
        for f in findings {
            serde_json::to_writer(&mut buf, &DetectionFinding::from_finding(f))?;
            buf.push(b'\n');
        }
        self.file
            .write_all(&buf)
            .and_then(|()| self.file.flush())
            // On disk before the caller records these findings as reported.
            .and_then(|()| sync_to_disk(&self.file))
            .map_err(|source| SinkError::File {
                path: self.path.clone(),
                source,
            })?;
        Ok(Delivery {
            sent: findings.len(),
            attempts: 1,
        })
    }
}
