//! The journal: one JSON line per planned, applied, verified, failed or closed action, append-only and
//! hash-chained (each line carries the hash of the one before), flushed to disk line by line. The
//! state of every action is its last line; anything not verified or closed is open, and stays open
//! across runs until it is.

use crate::{Action, RespondError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Planned (dry run, or about to be applied).
    Planned,
    /// Done in the system; not yet shown to hold.
    Applied,
    /// Shown to hold: the credential is dead.
    Verified,
    /// Tried and failed; open.
    Failed,
    /// Needs a person (or a system that is down); open.
    Open,
    /// Closed by a person without verification (with their reason).
    Closed,
}

impl Phase {
    /// Is the action finished?
    pub fn is_done(self) -> bool {
        matches!(self, Phase::Verified | Phase::Closed)
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Line number (from 1).
    pub seq: u64,
    /// When.
    pub time: Timestamp,
    /// Who ran it (`$USER@host` or the service name).
    pub actor: String,
    /// The action.
    pub action: Action,
    /// Its new phase.
    pub phase: Phase,
    /// What happened (result, error, proof).
    pub detail: String,
    /// How strong the proof was, for a verified action (refused, gone, notified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<crate::Strength>,
    /// Hash of the previous line (zeros for the first).
    pub prev: String,
    /// Hash of this line without this field.
    pub hash: String,
}

/// The journal file.
pub struct Journal {
    path: PathBuf,
    entries: Vec<Entry>,
    actor: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn hash_of(e: &Entry) -> String {
    let mut v = serde_json::to_value(e).expect("serializable");
    v.as_object_mut().expect("object").remove("hash");
    let h = Sha256::digest(v.to_string().as_bytes());
    h.iter().map(|b| format!("{b:02x}")).collect()
}

impl Journal {
    /// Open (or create) the journal at `path`, checking its chain: a journal that was edited or cut
    /// in the middle is refused, never extended.
    pub fn open(path: &Path, actor: &str) -> Result<Journal, RespondError> {
        let err = |e: String| RespondError::Local(format!("{}: {e}", path.display()));
        let mut entries = Vec::new();
        match std::fs::File::open(path) {
            Ok(f) => {
                for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
                    let line = line.map_err(|e| err(e.to_string()))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let e: Entry = serde_json::from_str(&line)
                        .map_err(|e| err(format!("line {}: {e}", i + 1)))?;
                    let prev = entries
                        .last()
                        .map_or(GENESIS.to_string(), |p: &Entry| p.hash.clone());
                    if e.prev != prev || e.hash != hash_of(&e) || e.seq != entries.len() as u64 + 1
                    {
                        return Err(err(format!("line {}: the hash chain is broken (edited, removed or reordered lines); not extending it", i + 1)));
                    }
                    entries.push(e);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e.to_string())),
        }
        Ok(Journal {
            path: path.to_path_buf(),
            entries,
            actor: actor.to_string(),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Record `action` entering `phase`.
    pub fn record(
        &mut self,
        action: &Action,
        phase: Phase,
        detail: &str,
    ) -> Result<(), RespondError> {
        self.append(action, phase, detail, None)
    }

    /// Append a verification with its strength of proof.
    pub fn record_proof(
        &mut self,
        action: &Action,
        strength: crate::Strength,
        detail: &str,
    ) -> Result<(), RespondError> {
        self.append(
            action,
            Phase::Verified,
            &format!("{}: {detail}", strength.label()),
            Some(strength),
        )
    }

    fn append(
        &mut self,
        action: &Action,
        phase: Phase,
        detail: &str,
        strength: Option<crate::Strength>,
    ) -> Result<(), RespondError> {
        let mut e = Entry {
            seq: self.entries.len() as u64 + 1,
            time: Timestamp::now(),
            actor: self.actor.clone(),
            action: action.clone(),
            phase,
            detail: detail.to_string(),
            strength,
            prev: self
                .entries
                .last()
                .map_or(GENESIS.to_string(), |p| p.hash.clone()),
            hash: String::new(),
        };
        e.hash = hash_of(&e);
        let err = |x: std::io::Error| RespondError::Local(format!("{}: {x}", self.path.display()));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        writeln!(f, "{}", serde_json::to_string(&e).expect("serializable")).map_err(err)?;
        f.sync_data().map_err(err)?;
        self.entries.push(e);
        Ok(())
    }

    /// Every line.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The last line of each action (its current state), by action id.
    pub fn state(&self) -> BTreeMap<String, Entry> {
        let mut m = BTreeMap::new();
        for e in &self.entries {
            m.insert(e.action.id.clone(), e.clone());
        }
        m
    }

    /// Actions not done, optionally for one identity.
    pub fn open_items(&self, identity: Option<&str>) -> Vec<Entry> {
        self.state()
            .into_values()
            .filter(|e| {
                !e.phase.is_done()
                    && e.phase != Phase::Planned
                    && identity.is_none_or(|i| e.action.identity == i)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ActionKind;

    #[test]
    fn chain_state_and_tampering() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j.jsonl");
        let a = Action::new("aws-iam", ActionKind::DeleteAccessKey, "AKIA1", "E1", "n");
        let b = Action::new("scim", ActionKind::DeactivateUser, "alice", "E1", "n");
        {
            let mut j = Journal::open(&p, "tester").unwrap();
            j.record(&a, Phase::Applied, "").unwrap();
            j.record(&a, Phase::Verified, "refused").unwrap();
            j.record(&b, Phase::Failed, "down").unwrap();
        }
        let j = Journal::open(&p, "tester").unwrap();
        assert_eq!(j.entries().len(), 3);
        let open = j.open_items(Some("E1"));
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].action.kind, ActionKind::DeactivateUser);
        // Ids are stable.
        assert_eq!(
            a.id,
            Action::new(
                "aws-iam",
                ActionKind::DeleteAccessKey,
                "AKIA1",
                "E2",
                "other"
            )
            .id
        );
        // Edit a line: refused.
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("refused", "accepted");
        std::fs::write(&p, text).unwrap();
        let e = Journal::open(&p, "tester").err().unwrap().to_string();
        assert!(
            e.contains("line 2") && e.contains("hash chain is broken"),
            "{e}"
        );
    }
}
