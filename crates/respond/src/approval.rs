//! Second-person approval of an offboarding HR has not recorded (a suspicion, a finding), bound to
//! authenticated principals — never to a name someone typed. A request and its approval are lines
//! in the offboarding journal; the approver must be a different principal (and, with keys, hold a
//! different key) from the requester.
//!
//! Principals come from how the caller authenticated: on `serve`, the bearer token's principal; on
//! the command line, an Ed25519 key listed under `[respond.approvers]` (name → public key). On the
//! command line the approver signs an approval file naming the request (its journal hash), the
//! identity, their name and the time; `offboard --apply --approval FILE` checks the signature
//! against the configured key before anything is revoked.

use crate::journal::{Entry, Journal, Phase};
use crate::{Action, ActionKind, RespondError};
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Someone who authenticated, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Their name (`[respond.approvers]` key, the bearer token's principal, `detection`).
    pub name: String,
    /// How they proved it (`bearer token`, `Ed25519 key …`, `detection CW-B001`).
    pub how: String,
    /// Their public key, when they proved it with one.
    pub key: Option<Vec<u8>>,
}

/// The approval action of `identity` (one per identity: its id is stable).
pub fn action(identity: &str) -> Action {
    Action::new(
        "approval",
        ActionKind::Approval,
        identity,
        identity,
        "offboarding of someone HR has not recorded as gone",
    )
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
}

/// The open request for `identity`, if any.
pub fn open_request(journal: &Journal, identity: &str) -> Option<Entry> {
    journal
        .state()
        .remove(&action(identity).id)
        .filter(|e| e.phase == Phase::Open)
}

/// Record a request by `by` for `identity`, with `reason`.
pub fn request(
    journal: &mut Journal,
    identity: &str,
    by: &Principal,
    reason: &str,
) -> Result<Action, RespondError> {
    if !valid_name(&by.name) {
        return Err(RespondError::Local(format!(
            "principal name {:?}: letters, digits and . _ @ - only",
            by.name
        )));
    }
    let a = action(identity);
    let key = by
        .key
        .as_deref()
        .map(|k| format!(" key={}", crate::codec::base64url(k)))
        .unwrap_or_default();
    journal.record(
        &a,
        Phase::Open,
        &format!(
            "requested by {} ({}{key}): {}",
            by.name,
            by.how,
            reason.replace('\n', " ")
        ),
    )?;
    Ok(a)
}

/// Who asked (name and key), from a request entry.
fn requester(e: &Entry) -> (String, Option<String>) {
    let rest = e.detail.strip_prefix("requested by ").unwrap_or("");
    let name = rest.split(' ').next().unwrap_or("").to_string();
    let key = rest
        .split_once(" key=")
        .map(|(_, k)| k.split(')').next().unwrap_or("").to_string());
    (name, key)
}

/// Approve the open request for `identity` as `by`: refused when there is none, or when `by` is
/// the requester (by name or by key). Recorded in the journal.
pub fn approve(journal: &mut Journal, identity: &str, by: &Principal) -> Result<(), String> {
    let req = open_request(journal, identity).ok_or_else(|| {
        format!("no open approval request for {identity}: ask first (--request-approval)")
    })?;
    let (name, key) = requester(&req);
    let same_key = match (&key, &by.key) {
        (Some(k), Some(b)) => *k == crate::codec::base64url(b),
        _ => false,
    };
    if name == by.name || same_key {
        return Err(format!(
            "{} asked for this offboarding: a second person must approve it",
            by.name
        ));
    }
    journal
        .record(
            &action(identity),
            Phase::Closed,
            &format!("approved by {} ({})", by.name, by.how),
        )
        .map_err(|e| e.to_string())
}

/// `[respond.approvers]`: name → Ed25519 public key (base64 or base64url of the 32 raw bytes).
pub fn parse_approvers(
    table: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    table
        .iter()
        .map(|(name, k)| {
            if !valid_name(name) {
                return Err(format!(
                    "[respond.approvers]: name {name:?}: letters, digits and . _ @ - only"
                ));
            }
            let raw = crate::codec::base64url_decode(k.trim())
                .filter(|b| b.len() == 32)
                .ok_or_else(|| {
                    format!("[respond.approvers] {name}: not an Ed25519 public key (base64 of 32 bytes)")
                })?;
            Ok((name.clone(), raw))
        })
        .collect()
}

/// A new Ed25519 key: (PKCS#8 PEM private key, public key in base64url).
pub fn keygen() -> Result<(String, String), String> {
    let rng = ring::rand::SystemRandom::new();
    let der = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "no random source".to_string())?;
    let pair = Ed25519KeyPair::from_pkcs8(der.as_ref()).map_err(|_| "bad key".to_string())?;
    Ok((
        pem("PRIVATE KEY", der.as_ref()),
        crate::codec::base64url(pair.public_key().as_ref()),
    ))
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = crate::codec::base64(der);
    let lines: Vec<&str> = b
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// An Ed25519 private key from a PKCS#8 PEM file's text.
pub fn load_key(text: &str) -> Result<Ed25519KeyPair, String> {
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = crate::codec::base64url_decode(body.trim())
        .ok_or("not a PEM file (base64 between BEGIN/END lines)")?;
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|_| "not an Ed25519 private key (PKCS#8)".to_string())
}

/// The Ed25519 private key in the PKCS#8 PEM file at `path`; errors name the file.
pub fn load_key_file(path: &std::path::Path) -> Result<Ed25519KeyPair, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    load_key(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The name `[respond.approvers]` gives `pair`'s public key.
pub fn name_of(approvers: &BTreeMap<String, Vec<u8>>, pair: &Ed25519KeyPair) -> Option<String> {
    approvers
        .iter()
        .find(|(_, k)| k.as_slice() == pair.public_key().as_ref())
        .map(|(n, _)| n.clone())
}

/// Someone holding a key listed in `[respond.approvers]`.
pub struct Signer {
    pair: Ed25519KeyPair,
    /// Their name there.
    pub name: String,
}

impl Signer {
    /// Load the private key at `path` and find its name among `approvers`.
    pub fn load(
        path: &std::path::Path,
        approvers: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Signer, String> {
        let pair = load_key_file(path)?;
        let name = name_of(approvers, &pair).ok_or_else(|| {
            format!(
                "{}: its public key is not in [respond.approvers]",
                path.display()
            )
        })?;
        Ok(Signer { pair, name })
    }

    /// As a principal (authenticated by the key).
    pub fn principal(&self) -> Principal {
        Principal {
            name: self.name.clone(),
            how: "Ed25519 key".into(),
            key: Some(self.pair.public_key().as_ref().to_vec()),
        }
    }

    /// Sign an approval of the open request for `identity`.
    pub fn approve(&self, journal: &Journal, identity: &str) -> Result<SignedApproval, String> {
        SignedApproval::sign(journal, identity, &self.name, &self.pair)
    }
}

/// A signed approval, as written to a file by the approver.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedApproval {
    /// The identity to offboard.
    pub identity: String,
    /// The journal hash of the request line approved (binds the approval to that request).
    pub request: String,
    /// The approver's name in `[respond.approvers]`.
    pub approver: String,
    /// When it was signed.
    pub time: jiff::Timestamp,
    /// Ed25519 signature (base64url) over [`SignedApproval::message`].
    pub signature: String,
}

impl SignedApproval {
    /// What is signed.
    pub fn message(
        identity: &str,
        request: &str,
        approver: &str,
        time: &jiff::Timestamp,
    ) -> String {
        format!("credwarden approval v1\n{identity}\n{request}\n{approver}\n{time}\n")
    }

    /// Sign the open request for `identity` in `journal` with `pair` (named `approver`).
    pub fn sign(
        journal: &Journal,
        identity: &str,
        approver: &str,
        pair: &Ed25519KeyPair,
    ) -> Result<SignedApproval, String> {
        let req = open_request(journal, identity)
            .ok_or_else(|| format!("no open approval request for {identity}"))?;
        let time = jiff::Timestamp::now();
        let msg = Self::message(identity, &req.hash, approver, &time);
        Ok(SignedApproval {
            identity: identity.to_string(),
            request: req.hash,
            approver: approver.to_string(),
            time,
            signature: crate::codec::base64url(pair.sign(msg.as_bytes()).as_ref()),
        })
    }

    /// Check it against the configured keys and the journal's open request: the approver as a
    /// principal, or why not.
    pub fn verify(
        &self,
        journal: &Journal,
        approvers: &BTreeMap<String, Vec<u8>>,
        max_age: jiff::SignedDuration,
    ) -> Result<Principal, String> {
        let key = approvers
            .get(&self.approver)
            .ok_or_else(|| format!("approver {:?} is not in [respond.approvers]", self.approver))?;
        let sig = crate::codec::base64url_decode(&self.signature)
            .ok_or("the approval's signature is not base64url")?;
        let msg = Self::message(&self.identity, &self.request, &self.approver, &self.time);
        UnparsedPublicKey::new(&ED25519, key)
            .verify(msg.as_bytes(), &sig)
            .map_err(|_| {
                format!(
                    "the approval's signature does not verify with {}'s key",
                    self.approver
                )
            })?;
        let req = open_request(journal, &self.identity)
            .ok_or_else(|| format!("no open approval request for {}", self.identity))?;
        if req.hash != self.request {
            return Err("the approval is for another request than the open one".into());
        }
        let age = jiff::Timestamp::now().duration_since(self.time);
        if age > max_age || age < -jiff::SignedDuration::from_mins(5) {
            return Err(format!(
                "the approval was signed at {}: older than {} hours, or in the future",
                self.time,
                max_age.as_hours()
            ));
        }
        Ok(Principal {
            name: self.approver.clone(),
            how: "Ed25519-signed approval".into(),
            key: Some(key.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(name: &str, pair: &Ed25519KeyPair) -> Principal {
        Principal {
            name: name.into(),
            how: "Ed25519 key".into(),
            key: Some(pair.public_key().as_ref().to_vec()),
        }
    }

    #[test]
    fn only_another_key_can_approve_and_only_the_open_request() {
        let d = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&d.path().join("j.jsonl"), "test").unwrap();
        let (alice_pem, alice_pub) = keygen().unwrap();
        let (bob_pem, bob_pub) = keygen().unwrap();
        let alice = load_key(&alice_pem).unwrap();
        let bob = load_key(&bob_pem).unwrap();
        let approvers = parse_approvers(
            &[
                ("alice".to_string(), alice_pub),
                ("bob".to_string(), bob_pub),
            ]
            .into_iter()
            .collect(),
        )
        .unwrap();
        assert_eq!(name_of(&approvers, &bob).as_deref(), Some("bob"));
        let day = jiff::SignedDuration::from_hours(24);
        // No request yet: nothing to sign.
        assert!(SignedApproval::sign(&j, "E1", "bob", &bob).is_err());
        request(&mut j, "E1", &principal("alice", &alice), "CW-B001").unwrap();
        // Alice's own approval is refused, even under another name.
        let own = SignedApproval::sign(&j, "E1", "alice", &alice).unwrap();
        let p = own.verify(&j, &approvers, day).unwrap();
        assert!(approve(&mut j, "E1", &p)
            .unwrap_err()
            .contains("second person"));
        let renamed = Principal {
            name: "mallory".into(),
            ..p
        };
        assert!(approve(&mut j, "E1", &renamed).is_err(), "same key");
        // A forged or altered approval does not verify.
        let mut forged = SignedApproval::sign(&j, "E1", "bob", &alice).unwrap();
        assert!(forged
            .verify(&j, &approvers, day)
            .unwrap_err()
            .contains("does not verify"));
        forged = SignedApproval::sign(&j, "E1", "bob", &bob).unwrap();
        forged.identity = "E2".into();
        assert!(forged.verify(&j, &approvers, day).is_err());
        // Bob's approval verifies and closes the request; it cannot be replayed.
        let ok = SignedApproval::sign(&j, "E1", "bob", &bob).unwrap();
        let p = ok.verify(&j, &approvers, day).unwrap();
        approve(&mut j, "E1", &p).unwrap();
        assert!(open_request(&j, "E1").is_none());
        assert!(
            ok.verify(&j, &approvers, day).is_err(),
            "no open request any more"
        );
        // A new request is not approved by an old approval.
        request(&mut j, "E1", &principal("alice", &alice), "again").unwrap();
        assert!(ok
            .verify(&j, &approvers, day)
            .unwrap_err()
            .contains("another request"));
    }

    #[test]
    fn bad_approver_keys_are_refused_with_the_name() {
        let t = [("bob".to_string(), "not-a-key".to_string())]
            .into_iter()
            .collect();
        assert!(parse_approvers(&t).unwrap_err().contains("bob"));
        let t = [("b o b".to_string(), "x".to_string())]
            .into_iter()
            .collect();
        assert!(parse_approvers(&t).is_err());
    }
}
