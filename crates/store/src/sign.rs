//! Ed25519 signatures over what the archive and evidence bundles keep: a signature names its public
//! key (hex) and signs a stated message, so `verify` needs no configuration to check integrity, and
//! a pinned public key (`--public-key`) to check who signed.
//!
//! Keys are loaded by the caller (PKCS#8 PEM files, as `credwarden offboard --keygen` or
//! `openssl genpkey -algorithm ed25519` write them).

use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

/// A signature and the public key that makes it check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Algorithm (always `Ed25519`).
    pub algorithm: String,
    /// Public key, 32 bytes in lowercase hex.
    pub public_key: String,
    /// Signature, 64 bytes in lowercase hex.
    pub signature: String,
}

/// Lowercase hex of `b`.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Bytes of lowercase or uppercase hex; `None` on anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The public key of `pair`, hex.
pub fn public_hex(pair: &Ed25519KeyPair) -> String {
    hex(pair.public_key().as_ref())
}

/// Sign `msg` with `pair`.
pub fn sign(pair: &Ed25519KeyPair, msg: &[u8]) -> Signature {
    Signature {
        algorithm: "Ed25519".into(),
        public_key: public_hex(pair),
        signature: hex(pair.sign(msg).as_ref()),
    }
}

impl Signature {
    /// Does the signature check for `msg` (and, when `trusted` is given, was it made by that key)?
    /// `Err` says why not.
    pub fn check(&self, msg: &[u8], trusted: Option<&str>) -> Result<(), String> {
        if self.algorithm != "Ed25519" {
            return Err(format!(
                "signature algorithm {:?} is not Ed25519",
                self.algorithm
            ));
        }
        if let Some(t) = trusted {
            if !t.eq_ignore_ascii_case(&self.public_key) {
                return Err(format!(
                    "signed by key {}, not the trusted key {t}",
                    self.public_key
                ));
            }
        }
        let key = unhex(&self.public_key)
            .filter(|k| k.len() == 32)
            .ok_or("the public key is not 32 bytes of hex")?;
        let sig = unhex(&self.signature)
            .filter(|s| s.len() == 64)
            .ok_or("the signature is not 64 bytes of hex")?;
        UnparsedPublicKey::new(&ED25519, key)
            .verify(msg, &sig)
            .map_err(|_| {
                "bad signature: the signed content was changed or the signature forged".into()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> Ed25519KeyPair {
        let rng = ring::rand::SystemRandom::new();
        let der = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Ed25519KeyPair::from_pkcs8(der.as_ref()).unwrap()
    }

    #[test]
    fn signs_checks_and_refuses() {
        let p = pair();
        let s = sign(&p, b"head 1");
        assert!(s.check(b"head 1", None).is_ok());
        assert!(s.check(b"head 1", Some(&public_hex(&p))).is_ok());
        assert!(s
            .check(b"head 2", None)
            .unwrap_err()
            .contains("bad signature"));
        let other = pair();
        assert!(s
            .check(b"head 1", Some(&public_hex(&other)))
            .unwrap_err()
            .contains("not the trusted key"));
        let mut bad = s.clone();
        bad.signature.replace_range(0..2, "00");
        bad.signature.replace_range(2..4, "ff");
        assert!(bad.check(b"head 1", None).is_err());
        assert_eq!(unhex(&hex(&[0, 255, 16])).unwrap(), vec![0, 255, 16]);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
