//! SSH access of the leaver: their public keys, and every certificate an SSH CA issued them (the
//! certificates that outlive a deleted user, as at Teleport), revoked in an OpenSSH key revocation
//! list — the file sshd reads through `RevokedKeys` — with `ssh-keygen -k`.
//!
//! Proof: a key is dead when `ssh-keygen -Q` (the check sshd makes) reports it REVOKED in the KRL;
//! certificates by key id are dead when the KRL lists that key id under the configured CA's section.
//! Keys come from the inventory: an `ssh_key` credential whose id is the public key line itself, or
//! whose `<id>.pub` is in the keys directory. A key with no public key to revoke is a refusal that
//! stays open, never a silent skip.
//!
//! Here: `Ssh` (the connector), `SshConfig` (its settings), `[respond.ssh]` as `SshSection`
//! (config.rs).

mod config;
pub use config::SshSection;

use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Settings.
#[derive(Clone, Debug)]
pub struct SshConfig {
    /// The KRL sshd reads (`RevokedKeys`); created if absent, updated in place.
    pub krl: PathBuf,
    /// The SSH CA's public key, to revoke its certificates by key id (the leaver's logins and
    /// addresses).
    pub ca_public_key: Option<PathBuf>,
    /// Where `<credential id>.pub` files are.
    pub keys_dir: Option<PathBuf>,
    /// The `ssh-keygen` to run (default: from PATH).
    pub ssh_keygen: PathBuf,
}

/// The connector.
pub struct Ssh {
    cfg: SshConfig,
}

const KEY: &str = "key:";
const ID: &str = "id:";

impl Ssh {
    /// A connector for `cfg`.
    pub fn new(cfg: SshConfig) -> Ssh {
        Ssh { cfg }
    }

    fn local(&self, what: impl std::fmt::Display) -> RespondError {
        RespondError::Local(format!("ssh: {what}"))
    }

    fn refused(&self, reason: impl Into<String>) -> RespondError {
        RespondError::Refused {
            connector: self.name(),
            reason: reason.into(),
        }
    }

    /// The public key line of an inventory SSH key, if we have it.
    fn public_key(&self, id: &str) -> Option<String> {
        let looks_like_key = |s: &str| {
            let mut p = s.split_whitespace();
            matches!((p.next(), p.next()), (Some(t), Some(b)) if (t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-")) && b.len() > 20)
        };
        if looks_like_key(id) {
            return Some(id.trim().to_string());
        }
        let dir = self.cfg.keys_dir.as_ref()?;
        let name: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let text = std::fs::read_to_string(dir.join(format!("{name}.pub"))).ok()?;
        text.lines()
            .map(str::trim)
            .find(|l| looks_like_key(l))
            .map(str::to_string)
    }

    fn run(&self, args: &[&std::ffi::OsStr]) -> Result<(i32, String), RespondError> {
        let out = Command::new(&self.cfg.ssh_keygen)
            .args(args)
            .output()
            .map_err(|e| self.local(format!("{}: {e}", self.cfg.ssh_keygen.display())))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.code().unwrap_or(-1), text))
    }

    /// The SHA-256 fingerprint of the CA key.
    fn ca_fingerprint(&self, ca: &Path) -> Result<String, RespondError> {
        let (code, text) = self.run(&[
            "-l".as_ref(),
            "-E".as_ref(),
            "sha256".as_ref(),
            "-f".as_ref(),
            ca.as_os_str(),
        ])?;
        text.split_whitespace()
            .find(|w| w.starts_with("SHA256:"))
            .filter(|_| code == 0)
            .map(str::to_string)
            .ok_or_else(|| {
                self.local(format!(
                    "{}: not an SSH public key: {}",
                    ca.display(),
                    text.trim()
                ))
            })
    }
}

impl Connector for Ssh {
    fn name(&self) -> String {
        "ssh".into()
    }

    fn covers(&self, c: &credwarden_model::Credential) -> bool {
        c.kind == credwarden_model::CredentialKind::SshKey
    }

    fn already_done(&mut self, a: &Action) -> Option<Proof> {
        // `ssh-keygen -Q` answering REVOKED is sshd's own decision: nothing to add to the KRL.
        self.verify(a)
            .ok()
            .filter(|p| p.strength() == Some(crate::Strength::Refused))
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        let name = self.name();
        let mut plan: Vec<Action> = who
            .credentials
            .iter()
            .filter(|c| c.kind == credwarden_model::CredentialKind::SshKey)
            .map(|c| {
                Action::new(
                    &name,
                    ActionKind::RevokeSshKey,
                    &c.id,
                    &who.identity.id,
                    format!(
                        "SSH key {} ({}): into the KRL {}",
                        short(&c.id),
                        c.system,
                        self.cfg.krl.display()
                    ),
                )
            })
            .collect();
        if self.cfg.ca_public_key.is_some() {
            let mut ids: Vec<String> = who
                .identity
                .usernames
                .iter()
                .chain(&who.identity.emails)
                .cloned()
                .collect();
            ids.sort();
            ids.dedup();
            plan.extend(ids.into_iter().map(|id| {
                Action::new(
                    &name,
                    ActionKind::RevokeSshCertificates,
                    &id,
                    &who.identity.id,
                    format!("every certificate the SSH CA issued with key id {id}: into the KRL"),
                )
            }));
        }
        Ok(plan)
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        let spec_line = match a.kind {
            ActionKind::RevokeSshKey => {
                let key = self.public_key(&a.target).ok_or_else(|| {
                    self.refused(format!(
                        "no public key for {} (put {}.pub in the keys directory)",
                        short(&a.target),
                        short(&a.target)
                    ))
                })?;
                format!("{KEY} {key}\n")
            }
            ActionKind::RevokeSshCertificates => format!("{ID} {}\n", a.target),
            _ => return Err(self.local(format!("not an SSH action: {:?}", a.kind))),
        };
        let spec = tempfile_in(&self.cfg.krl, &spec_line).map_err(|e| self.local(e))?;
        let mut args: Vec<&std::ffi::OsStr> = vec!["-k".as_ref()];
        if self.cfg.krl.exists() {
            args.push("-u".as_ref());
        }
        if a.kind == ActionKind::RevokeSshCertificates {
            let ca = self
                .cfg
                .ca_public_key
                .as_ref()
                .expect("planned only with a CA");
            args.push("-s".as_ref());
            args.push(ca.as_os_str());
        }
        args.push("-f".as_ref());
        args.push(self.cfg.krl.as_os_str());
        args.push(spec.path().as_os_str());
        let (code, text) = self.run(&args)?;
        if code != 0 {
            return Err(self.refused(format!("ssh-keygen -k: {}", text.trim())));
        }
        Ok(format!("added to {}", self.cfg.krl.display()))
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        if !self.cfg.krl.exists() {
            return Ok(Proof::alive(format!(
                "{} does not exist yet",
                self.cfg.krl.display()
            )));
        }
        match a.kind {
            ActionKind::RevokeSshKey => {
                let Some(key) = self.public_key(&a.target) else {
                    return Ok(Proof::ambiguous("no public key to test"));
                };
                let file =
                    tempfile_in(&self.cfg.krl, &format!("{key}\n")).map_err(|e| self.local(e))?;
                let (_, text) = self.run(&[
                    "-Q".as_ref(),
                    "-f".as_ref(),
                    self.cfg.krl.as_os_str(),
                    file.path().as_os_str(),
                ])?;
                let revoked = text.contains("REVOKED");
                Ok(if revoked {
                    Proof::refused("ssh-keygen -Q (the check sshd makes): REVOKED in the KRL")
                } else {
                    Proof::alive("ssh-keygen -Q: not revoked")
                })
            }
            ActionKind::RevokeSshCertificates => {
                let ca = self
                    .cfg
                    .ca_public_key
                    .clone()
                    .expect("planned only with a CA");
                let fp = self.ca_fingerprint(&ca)?;
                let (_, text) = self.run(&[
                    "-Q".as_ref(),
                    "-l".as_ref(),
                    "-f".as_ref(),
                    self.cfg.krl.as_os_str(),
                ])?;
                // The KRL lists revoked key ids under a `# CA key <type> <fingerprint>` header.
                let mut under_ca = false;
                let mut listed = false;
                for l in text.lines() {
                    if l.starts_with("# CA key") {
                        under_ca = l.contains(&fp);
                    } else if under_ca && l.trim() == format!("{ID} {}", a.target) {
                        listed = true;
                    }
                }
                Ok(if listed {
                    Proof::refused(format!(
                        "ssh-keygen -Q -l: the KRL revokes key id {} for the CA {fp}",
                        a.target
                    ))
                } else {
                    Proof::alive(format!(
                        "the KRL does not list key id {} for the CA",
                        a.target
                    ))
                })
            }
            _ => Err(self.local(format!("not an SSH action: {:?}", a.kind))),
        }
    }
}

/// A key shortened for notes (`ssh-ed25519 AAAA…` is long; an id stays as it is).
fn short(id: &str) -> String {
    if id.len() > 48 {
        format!(
            "{}…",
            &id[..id.char_indices().nth(40).map_or(id.len(), |(i, _)| i)]
        )
    } else {
        id.to_string()
    }
}

/// A temporary file beside `near` (so no other directory needs to be writable), removed on drop.
fn tempfile_in(near: &Path, text: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match near.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut f = tempfile::Builder::new()
        .prefix(".credwarden-ssh-")
        .tempfile_in(dir)?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    Ok(f)
}
