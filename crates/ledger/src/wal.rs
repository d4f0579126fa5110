//! A ledger that survives restarts: [`Durable`] keeps a snapshot in the embedded store
//! (`ledger.json`, written atomically) and an append-only log of every change since
//! (`ledger.log.jsonl`, one [`Change`] per line). A write is acknowledged only once its lines are
//! flushed to disk, so a crash loses nothing that was acknowledged. Opening replays the log over the
//! snapshot; a torn last line (a crash in mid-write, never acknowledged) is counted and skipped, any
//! other bad line is an error naming the file and line. [`Durable::compact`] writes a fresh
//! snapshot (expired tokens dropped) and empties the log. A lock file stops two servers from
//! sharing one ledger.

use crate::{Change, Ledger, LedgerError};
use credwarden_store::{load, save, Lock};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Snapshot format number.
const FORMAT: u32 = 1;
/// The snapshot's name in the ledger folder.
pub const SNAPSHOT: &str = "ledger.json";
/// The log's name in the ledger folder.
pub const LOG: &str = "ledger.log.jsonl";

/// What opening found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// Changes in the snapshot.
    pub from_snapshot: u64,
    /// Changes replayed from the log.
    pub from_log: u64,
    /// A torn last line skipped (a write that was never acknowledged).
    pub torn: bool,
}

/// A ledger kept on disk under one folder.
pub struct Durable {
    /// The ledger.
    pub ledger: Ledger,
    dir: PathBuf,
    log: File,
    /// Lines in the log since the last snapshot.
    pub logged: u64,
    _lock: Lock,
}

fn io(path: &Path, e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    }
}

impl Durable {
    /// Open (or create) the ledger in `dir` at time `now`.
    pub fn open(dir: &Path, now: i64) -> Result<(Durable, Opened), LedgerError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let snap = dir.join(SNAPSHOT);
        let lock = Lock::acquire(&snap)?;
        let mut ledger = Ledger::new();
        let mut opened = Opened::default();
        if let Some(changes) = load::<Vec<Change>>(&snap, FORMAT)? {
            for c in &changes {
                ledger.apply(c, now);
            }
            opened.from_snapshot = changes.len() as u64;
        }
        let log_path = dir.join(LOG);
        match File::open(&log_path) {
            Ok(f) => {
                let mut lines = BufReader::new(f).lines().enumerate().peekable();
                while let Some((i, line)) = lines.next() {
                    let line = line.map_err(|e| io(&log_path, e))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Change>(&line) {
                        Ok(c) => {
                            ledger.apply(&c, now);
                            opened.from_log += 1;
                        }
                        // Only the last line can be torn by a crash.
                        Err(_) if lines.peek().is_none() && !line.ends_with('}') => {
                            opened.torn = true;
                        }
                        Err(e) => {
                            return Err(io(&log_path, format!("line {}: {e}", i + 1)));
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&log_path, e)),
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| io(&log_path, e))?;
        let mut d = Durable {
            ledger,
            dir: dir.to_path_buf(),
            log,
            logged: 0,
            _lock: lock,
        };
        // Start from a clean snapshot: the log replayed, expired tokens gone, a torn line dropped.
        d.compact(now)?;
        Ok((d, opened))
    }

    /// Write `changes` to the log, flushed to disk, then apply them; returns the sum of what
    /// [`Ledger::apply`] returned.
    pub fn record(&mut self, changes: &[Change], now: i64) -> Result<u64, LedgerError> {
        let mut buf = Vec::with_capacity(changes.len() * 160);
        for c in changes {
            serde_json::to_writer(&mut buf, c).expect("a change serializes");
            buf.push(b'\n');
        }
        let path = self.dir.join(LOG);
        self.log.write_all(&buf).map_err(|e| io(&path, e))?;
        self.log.sync_data().map_err(|e| io(&path, e))?;
        self.logged += changes.len() as u64;
        Ok(changes.iter().map(|c| self.ledger.apply(c, now)).sum())
    }

    /// Drop expired tokens, write a snapshot of the rest and empty the log.
    pub fn compact(&mut self, now: i64) -> Result<(), LedgerError> {
        self.ledger.sweep(now);
        save(&self.dir.join(SNAPSHOT), FORMAT, &self.ledger.changes())?;
        let path = self.dir.join(LOG);
        self.log.set_len(0).map_err(|e| io(&path, e))?;
        self.log.sync_all().map_err(|e| io(&path, e))?;
        self.logged = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Claims, Issued, Reason, Verdict};

    fn issued(jti: &str) -> Change {
        Change::Issued(Issued {
            jti: jti.into(),
            sub: Some("m1".into()),
            kid: Some("k1".into()),
            iat: Some(100),
            exp: 10_000,
            client_id: None,
        })
    }

    fn claims(jti: &str) -> Claims {
        Claims {
            jti: Some(jti.into()),
            kid: Some("k1".into()),
            sub: Some("m1".into()),
            iat: Some(100),
            ..Claims::default()
        }
    }

    #[test]
    fn a_restart_loses_nothing_acknowledged() {
        let t = tempfile::tempdir().unwrap();
        {
            let (mut d, _) = Durable::open(t.path(), 100).unwrap();
            d.record(&[issued("a"), issued("b")], 100).unwrap();
            d.record(&[Change::RevokeToken { jti: "b".into() }], 101)
                .unwrap();
            // No compaction, no clean shutdown: the log alone carries it.
        }
        let (d, o) = Durable::open(t.path(), 102).unwrap();
        assert_eq!(o.from_log, 3);
        assert_eq!(d.ledger.check(&claims("a"), 103, 0), Verdict::Allow);
        assert_eq!(
            d.ledger.check(&claims("b"), 103, 0),
            Verdict::Deny(Reason::Revoked)
        );
        drop(d);
        // Compacted at open: now in the snapshot.
        let (d, o) = Durable::open(t.path(), 104).unwrap();
        assert_eq!((o.from_snapshot, o.from_log), (3, 0));
        assert_eq!(d.ledger.check(&claims("a"), 105, 0), Verdict::Allow);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_a_bad_one_named() {
        let t = tempfile::tempdir().unwrap();
        {
            let (mut d, _) = Durable::open(t.path(), 100).unwrap();
            d.record(&[issued("a")], 100).unwrap();
        }
        let log = t.path().join(LOG);
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"{\"issued\":{\"jti\":\"c\",\"ex").unwrap();
        drop(f);
        let (d, o) = Durable::open(t.path(), 101).unwrap();
        assert!(o.torn);
        assert_eq!(d.ledger.check(&claims("a"), 102, 0), Verdict::Allow);
        drop(d);
        std::fs::write(
            &log,
            "{\"nonsense\":1}\n{\"issued\":{\"jti\":\"z\",\"exp\":9999}}\n",
        )
        .unwrap();
        let e = Durable::open(t.path(), 103).err().unwrap().to_string();
        assert!(
            e.contains("ledger.log.jsonl") && e.contains("line 1"),
            "{e}"
        );
    }

    #[test]
    fn two_servers_cannot_share_a_ledger() {
        let t = tempfile::tempdir().unwrap();
        let (_d, _) = Durable::open(t.path(), 100).unwrap();
        assert!(Durable::open(t.path(), 100).is_err());
    }
}
