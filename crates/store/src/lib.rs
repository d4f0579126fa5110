//! The embedded store: what must survive a restart lives in one state file per deployment, written
//! atomically (a temporary file in the same folder, flushed, then renamed over the old one), so a crash
//! leaves either the previous snapshot or the new one, never half of each. A lock file next to it stops
//! two runs from sharing (and corrupting) one state.
//!
//! The snapshot is JSON with a `format` number: readable by people and by `jq`, and refused with a clear
//! error when written by an incompatible version instead of being misread.

pub mod archive;
pub mod sign;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Errors of the store, each naming the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("{file}: {reason}")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// The file is not a state snapshot we can read.
    #[error("{file}: not a credwarden state file: {reason}")]
    Corrupt {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// Written by a version with another snapshot format.
    #[error("{file}: state format {found} is not the {expected} this version reads; move the file away to start afresh")]
    Version {
        /// The file.
        file: String,
        /// Format in the file.
        found: u32,
        /// Format we read.
        expected: u32,
    },
    /// The evidence archive is not in a state we can use (see [`archive`]).
    #[error("{file}: evidence archive: {reason}")]
    Archive {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
    /// Another live run holds the lock (the operating system's lock, released when that process
    /// ends however it ends, so a lock is never stale).
    #[error("{file}: another run is using this state ({holder})")]
    Locked {
        /// The lock file.
        file: String,
        /// Who holds it, as it wrote itself into the file (process id, host, start).
        holder: String,
    },
}

fn io(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    format: u32,
    state: T,
}

#[derive(Deserialize)]
struct Header {
    format: u32,
}

/// Read the snapshot at `path`; `Ok(None)` when there is none yet.
pub fn load<T: DeserializeOwned>(path: &Path, format: u32) -> Result<Option<T>, StoreError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path, e)),
    };
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        file: path.display().to_string(),
        reason: e.to_string(),
    };
    let h: Header = serde_json::from_str(&text).map_err(corrupt)?;
    if h.format != format {
        return Err(StoreError::Version {
            file: path.display().to_string(),
            found: h.format,
            expected: format,
        });
    }
    let env: Envelope<T> = serde_json::from_str(&text).map_err(corrupt)?;
    Ok(Some(env.state))
}

/// Write `state` to `path` atomically.
pub fn save<T: Serialize>(path: &Path, format: u32, state: &T) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let f = File::create(&tmp)?;
        let mut w = BufWriter::new(f);
        serde_json::to_writer(&mut w, &Envelope { format, state })?;
        w.write_all(b"\n")?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable (directories can be opened for reading on Unix).
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io(path, e)
    })
}

/// The lock of one state (or archive): an operating-system file lock on `<state>.lock`, held while
/// the value lives. The system releases it when the process ends, however it ends (a kill -9
/// included), so a lock is never stale and never needs deleting by hand; the file names its last
/// holder (process id, host, start time) for the message a second run gets.
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Take the lock for the state at `state` (`<state>.lock`), or say who holds it.
    pub fn acquire(state: &Path) -> Result<Lock, StoreError> {
        let mut p = state.as_os_str().to_owned();
        p.push(".lock");
        let path = PathBuf::from(p);
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(d).map_err(|e| io(d, e))?;
        }
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        match f.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path)
                    .ok()
                    .map(|t| t.trim().chars().take(200).collect::<String>())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "a process that has not said who it is".into());
                return Err(StoreError::Locked {
                    file: path.display().to_string(),
                    holder,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(&path, e)),
        }
        let host = fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        let me = format!(
            "process {} on {host}, since {}",
            std::process::id(),
            jiff::Timestamp::now()
        );
        f.set_len(0).map_err(|e| io(&path, e))?;
        f.write_all(me.as_bytes()).map_err(|e| io(&path, e))?;
        let _ = f.sync_data();
        // Temporary snapshots a killed holder left behind are garbage now that we hold the lock.
        if let (Some(dir), Some(name)) = (state.parent(), state.file_name()) {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let prefix = format!(".{}.tmp.", name.to_string_lossy());
            if let Ok(rd) = fs::read_dir(dir) {
                for e in rd.flatten() {
                    if e.file_name().to_string_lossy().starts_with(&prefix) {
                        let _ = fs::remove_file(e.path());
                    }
                }
            }
        }
        Ok(Lock { _file: f })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_absent_and_version() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/state.json");
        assert_eq!(load::<Vec<u32>>(&p, 1).unwrap(), None);
        save(&p, 1, &vec![1u32, 2]).unwrap();
        assert_eq!(load::<Vec<u32>>(&p, 1).unwrap(), Some(vec![1, 2]));
        save(&p, 1, &vec![3u32]).unwrap();
        assert_eq!(load::<Vec<u32>>(&p, 1).unwrap(), Some(vec![3]));
        let e = load::<Vec<u32>>(&p, 2).unwrap_err().to_string();
        assert!(e.contains("state format 1 is not the 2"), "{e}");
        // No temporary files left behind.
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn corrupt_file_is_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state.json");
        fs::write(&p, "{\"format\":1,\"state\":").unwrap();
        let e = load::<Vec<u32>>(&p, 1).unwrap_err().to_string();
        assert!(
            e.starts_with(&p.display().to_string()) && e.contains("not a credwarden state file"),
            "{e}"
        );
    }

    #[test]
    fn lock_is_exclusive_and_released() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state.json");
        let l = Lock::acquire(&p).unwrap();
        assert!(matches!(Lock::acquire(&p), Err(StoreError::Locked { .. })));
        drop(l);
        Lock::acquire(&p).unwrap();
    }

    /// A holder killed with SIGKILL leaves its lock file behind, but not its lock: the next run
    /// takes it at once. A live holder is named in the refusal.
    #[test]
    fn a_dead_holders_lock_is_taken_over_and_a_live_one_is_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state.json");
        // A child process takes the lock with flock(1) semantics through this very code: emulate
        // with a second open file description in another process (`sleep` holding an flock).
        let lock_path = d.path().join("state.json.lock");
        fs::write(&lock_path, "process 999999 on elsewhere").unwrap();
        let held = Lock::acquire(&p).unwrap();
        let e = Lock::acquire(&p).err().unwrap().to_string();
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        drop(held);
        // A stale lock file from a dead process (content only, no OS lock) is no obstacle.
        fs::write(&lock_path, "process 1 on elsewhere, since long ago").unwrap();
        fs::write(d.path().join(".state.json.tmp.424242"), "half").unwrap();
        let _l = Lock::acquire(&p).unwrap();
        assert!(!d.path().join(".state.json.tmp.424242").exists());
    }
}
