//! The issuance ledger: every token the login service issued (`jti`, `sub`, `kid`, `iat`, `exp`,
//! `client_id`), kept until it expires, so that a gateway can ask — before it forwards a request —
//! whether the token it holds was ever issued. Coupang's gateway accepted any correctly signed
//! token; a token signed with a stolen key but never issued is refused here.
//!
//! What lives here: the [`Ledger`] (tokens by id, retired signing keys, revoked members' sessions)
//! and its [`Ledger::check`] decision; [`claims`] reads what a gateway sends (our JSON, a compact
//! JWT, an RFC 7662 introspection form); [`campaign`] counts forged tokens per campaign; the
//! persistence (a snapshot in the embedded store plus an append-only log of what arrived since,
//! flushed to disk before a write is acknowledged) is in [`wal`]. The HTTP endpoints are in
//! `credwarden-server`.
//!
//! Times are seconds since the Unix epoch (JWT `NumericDate`).

pub mod campaign;
pub mod claims;
pub mod wal;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use claims::Claims;

/// Errors of the ledger, each naming the file.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The snapshot or its lock.
    #[error(transparent)]
    Store(#[from] credwarden_store::StoreError),
    /// Reading or writing the log of changes.
    #[error("{file}: {reason}")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        reason: String,
    },
}

/// One issued token, as the login service reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    /// Token id (`jti`).
    pub jti: String,
    /// Subject (`sub`): the member or user the token is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Signing key id (`kid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expires at: the ledger forgets the token then.
    pub exp: i64,
    /// The client it was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// A change to the ledger (what the log of changes holds, one per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A token was issued.
    Issued(Issued),
    /// Every token signed with this key is refused from `at` on (the key was rolled out of the
    /// JWKS: offboarded with its last reader, or rotated).
    RetireKey {
        /// The key id.
        kid: String,
        /// When.
        at: i64,
    },
    /// Every token issued to this subject at or before `at` is refused (sessions revoked).
    RevokeSubject {
        /// The subject.
        sub: String,
        /// When.
        at: i64,
    },
    /// This token is refused.
    RevokeToken {
        /// The token id.
        jti: String,
    },
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No token id (`jti`) to look up: issuance cannot be proven.
    NoTokenId,
    /// The login service never issued this token id.
    NeverIssued,
    /// Issued, but under other claims (signing key, subject or issue time): a forged token
    /// reusing a real token id.
    ClaimsDiffer(&'static str),
    /// Issued, then revoked (the token, or every session of its subject).
    Revoked,
    /// Signed with a key that was retired.
    KeyRetired,
    /// Expired (issued or not: the ledger forgets tokens when they expire).
    Expired,
}

impl Reason {
    /// A short, stable text for answers and logs.
    pub fn as_str(&self) -> String {
        match self {
            Reason::NoTokenId => "no token id (jti): issuance cannot be checked".into(),
            Reason::NeverIssued => "never issued by the login service".into(),
            Reason::ClaimsDiffer(f) => {
                format!("the {f} differs from what the login service issued under this token id")
            }
            Reason::Revoked => "revoked".into(),
            Reason::KeyRetired => "signed with a retired key".into(),
            Reason::Expired => "expired".into(),
        }
    }

    /// A stable code (`never_issued`, `claims_differ`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoTokenId => "no_token_id",
            Reason::NeverIssued => "never_issued",
            Reason::ClaimsDiffer(_) => "claims_differ",
            Reason::Revoked => "revoked",
            Reason::KeyRetired => "key_retired",
            Reason::Expired => "expired",
        }
    }

    /// Is this a token that was never issued as presented — a forgery (CW-D007)?
    pub fn forged(&self) -> bool {
        matches!(
            self,
            Reason::NeverIssued | Reason::ClaimsDiffer(_) | Reason::NoTokenId
        )
    }
}

/// The ledger's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Issued, live, not revoked.
    Allow,
    /// Refused.
    Deny(Reason),
    /// Not in the ledger, but issued so recently that the login service's report may still be on
    /// its way: ask again until the grace ends (then it is [`Reason::NeverIssued`]).
    Wait,
}

/// A live token (the id is the map key).
#[derive(Debug, Clone)]
struct Entry {
    sub: Option<Box<str>>,
    kid: u32,
    client: u32,
    iat: i64,
    exp: i64,
    revoked: bool,
}

/// Strings seen often (key ids, client ids), stored once; 0 is "none".
#[derive(Debug, Default)]
struct Names {
    all: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Names {
    fn id(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s else { return 0 };
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        self.all.push(s.into());
        let i = self.all.len() as u32;
        self.ids.insert(s.into(), i);
        i
    }
    fn find(&self, s: Option<&str>) -> Option<u32> {
        match s {
            None => Some(0),
            Some(s) => self.ids.get(s).copied(),
        }
    }
    fn name(&self, i: u32) -> Option<&str> {
        (i > 0).then(|| &*self.all[i as usize - 1])
    }
}

/// Counts of what the ledger holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Live tokens.
    pub tokens: u64,
    /// Retired signing keys.
    pub retired_keys: u64,
    /// Subjects whose sessions were revoked.
    pub revoked_subjects: u64,
}

/// The issuance ledger, in memory. Persistence is [`wal::Durable`].
#[derive(Debug, Default)]
pub struct Ledger {
    tokens: HashMap<Box<str>, Entry>,
    names: Names,
    retired: HashMap<Box<str>, i64>,
    revoked_subs: HashMap<Box<str>, i64>,
}

/// Tokens issued up to this far in the future (clock skew between the login service and us) are
/// still taken as issued now.
pub const SKEW_SECS: i64 = 60;

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Apply one change at time `now`; returns the live tokens it revoked (for a revocation) or
    /// whether a token was taken (1) or was already expired (0).
    pub fn apply(&mut self, c: &Change, now: i64) -> u64 {
        match c {
            Change::Issued(t) => {
                if t.exp <= now {
                    return 0;
                }
                let entry = Entry {
                    sub: t.sub.as_deref().map(Into::into),
                    kid: self.names.id(t.kid.as_deref()),
                    client: self.names.id(t.client_id.as_deref()),
                    iat: t.iat.unwrap_or(i64::MIN),
                    exp: t.exp,
                    revoked: false,
                };
                // A token reported twice keeps a revocation it already had.
                let revoked = self.tokens.get(t.jti.as_str()).is_some_and(|e| e.revoked);
                self.tokens
                    .insert(t.jti.as_str().into(), Entry { revoked, ..entry });
                1
            }
            Change::RetireKey { kid, at } => {
                self.retired.entry(kid.as_str().into()).or_insert(*at);
                match self.names.find(Some(kid)) {
                    Some(k) => self
                        .tokens
                        .values()
                        .filter(|e| e.kid == k && e.exp > now)
                        .count() as u64,
                    None => 0,
                }
            }
            Change::RevokeSubject { sub, at } => {
                let t = self.revoked_subs.entry(sub.as_str().into()).or_insert(*at);
                *t = (*t).max(*at);
                let at = *t;
                self.tokens
                    .values()
                    .filter(|e| e.sub.as_deref() == Some(sub) && e.iat <= at && e.exp > now)
                    .count() as u64
            }
            Change::RevokeToken { jti } => match self.tokens.get_mut(jti.as_str()) {
                Some(e) if !e.revoked => {
                    e.revoked = true;
                    u64::from(e.exp > now)
                }
                _ => 0,
            },
        }
    }

    /// Is the token described by `c` one the login service issued, live and not revoked, at `now`?
    /// A token not in the ledger whose `iat` is within the last `grace_secs` is [`Verdict::Wait`].
    pub fn check(&self, c: &Claims, now: i64, grace_secs: i64) -> Verdict {
        let Some(jti) = c.jti.as_deref() else {
            return Verdict::Deny(Reason::NoTokenId);
        };
        if c.kid
            .as_deref()
            .is_some_and(|k| self.retired.contains_key(k))
        {
            return Verdict::Deny(Reason::KeyRetired);
        }
        let Some(e) = self.tokens.get(jti) else {
            // Forgotten at expiry, or never here: an expired token is refused as expired (the
            // ledger cannot tell which), a fresh one may still be on its way.
            if c.exp.is_some_and(|x| x <= now) {
                return Verdict::Deny(Reason::Expired);
            }
            if grace_secs > 0
                && c.iat
                    .is_some_and(|t| t > now - grace_secs && t <= now + SKEW_SECS)
            {
                return Verdict::Wait;
            }
            return Verdict::Deny(Reason::NeverIssued);
        };
        if c.kid.is_some() && self.names.name(e.kid) != c.kid.as_deref() {
            return Verdict::Deny(Reason::ClaimsDiffer("signing key (kid)"));
        }
        if c.sub.is_some() && e.sub.as_deref() != c.sub.as_deref() {
            return Verdict::Deny(Reason::ClaimsDiffer("subject (sub)"));
        }
        if let Some(iat) = c.iat {
            if e.iat != i64::MIN && e.iat != iat {
                return Verdict::Deny(Reason::ClaimsDiffer("issue time (iat)"));
            }
        }
        let sub_revoked = e
            .sub
            .as_deref()
            .and_then(|s| self.revoked_subs.get(s))
            .is_some_and(|at| e.iat <= *at);
        if e.revoked || sub_revoked {
            return Verdict::Deny(Reason::Revoked);
        }
        if self
            .names
            .name(e.kid)
            .is_some_and(|k| self.retired.contains_key(k))
        {
            return Verdict::Deny(Reason::KeyRetired);
        }
        if e.exp <= now {
            return Verdict::Deny(Reason::Expired);
        }
        Verdict::Allow
    }

    /// Forget tokens expired at `now`; returns how many.
    pub fn sweep(&mut self, now: i64) -> u64 {
        let before = self.tokens.len();
        self.tokens.retain(|_, e| e.exp > now);
        (before - self.tokens.len()) as u64
    }

    /// What the ledger holds.
    pub fn counts(&self) -> Counts {
        Counts {
            tokens: self.tokens.len() as u64,
            retired_keys: self.retired.len() as u64,
            revoked_subjects: self.revoked_subs.len() as u64,
        }
    }

    /// Everything, as the changes that rebuild it (for a snapshot).
    pub fn changes(&self) -> Vec<Change> {
        let mut out: Vec<Change> = Vec::with_capacity(self.tokens.len());
        for (jti, e) in &self.tokens {
            out.push(Change::Issued(Issued {
                jti: jti.to_string(),
                sub: e.sub.as_deref().map(str::to_string),
                kid: self.names.name(e.kid).map(str::to_string),
                iat: (e.iat != i64::MIN).then_some(e.iat),
                exp: e.exp,
                client_id: self.names.name(e.client).map(str::to_string),
            }));
            if e.revoked {
                out.push(Change::RevokeToken {
                    jti: jti.to_string(),
                });
            }
        }
        for (kid, at) in &self.retired {
            out.push(Change::RetireKey {
                kid: kid.to_string(),
                at: *at,
            });
        }
        for (sub, at) in &self.revoked_subs {
            out.push(Change::RevokeSubject {
                sub: sub.to_string(),
                at: *at,
            });
        }
        out
    }

    /// The client a live token was issued to.
    pub fn client_of(&self, jti: &str) -> Option<&str> {
        self.tokens.get(jti).and_then(|e| self.names.name(e.client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(jti: &str, sub: &str, kid: &str, iat: i64, exp: i64) -> Change {
        Change::Issued(Issued {
            jti: jti.into(),
            sub: Some(sub.into()),
            kid: Some(kid.into()),
            iat: Some(iat),
            exp,
            client_id: Some("web".into()),
        })
    }

    fn claims(jti: &str, sub: &str, kid: &str, iat: i64) -> Claims {
        Claims {
            jti: Some(jti.into()),
            sub: Some(sub.into()),
            kid: Some(kid.into()),
            iat: Some(iat),
            exp: Some(iat + 3600),
            client: None,
        }
    }

    #[test]
    fn issued_tokens_pass_and_forged_ones_do_not() {
        let mut l = Ledger::new();
        assert_eq!(l.apply(&issued("j1", "m1", "k1", 1000, 4600), 1000), 1);
        assert_eq!(
            l.check(&claims("j1", "m1", "k1", 1000), 1001, 0),
            Verdict::Allow
        );
        // Never issued.
        assert_eq!(
            l.check(&claims("j2", "m1", "k1", 1000), 1001, 0),
            Verdict::Deny(Reason::NeverIssued)
        );
        // A real token id with another member, key or issue time.
        assert_eq!(
            l.check(&claims("j1", "m2", "k1", 1000), 1001, 0),
            Verdict::Deny(Reason::ClaimsDiffer("subject (sub)"))
        );
        assert_eq!(
            l.check(&claims("j1", "m1", "k2", 1000), 1001, 0),
            Verdict::Deny(Reason::ClaimsDiffer("signing key (kid)"))
        );
        assert_eq!(
            l.check(&claims("j1", "m1", "k1", 999), 1001, 0),
            Verdict::Deny(Reason::ClaimsDiffer("issue time (iat)"))
        );
        // No token id.
        let mut c = claims("j1", "m1", "k1", 1000);
        c.jti = None;
        assert_eq!(l.check(&c, 1001, 0), Verdict::Deny(Reason::NoTokenId));
    }

    #[test]
    fn expiry_forgets_and_refuses() {
        let mut l = Ledger::new();
        l.apply(&issued("j1", "m1", "k1", 1000, 2000), 1000);
        assert_eq!(
            l.check(&claims("j1", "m1", "k1", 1000), 2000, 0),
            Verdict::Deny(Reason::Expired)
        );
        assert_eq!(l.sweep(2000), 1);
        // Forgotten: still refused as expired (its own exp says so), not as forged.
        let mut c = claims("j1", "m1", "k1", 1000);
        c.exp = Some(2000);
        assert_eq!(l.check(&c, 2001, 0), Verdict::Deny(Reason::Expired));
        // Issued already expired: not kept.
        assert_eq!(l.apply(&issued("j9", "m1", "k1", 1000, 1500), 1600), 0);
        assert_eq!(l.counts().tokens, 0);
    }

    #[test]
    fn grace_waits_only_for_fresh_tokens() {
        let l = Ledger::new();
        assert_eq!(
            l.check(&claims("j1", "m1", "k1", 995), 1000, 10),
            Verdict::Wait
        );
        assert_eq!(
            l.check(&claims("j1", "m1", "k1", 980), 1000, 10),
            Verdict::Deny(Reason::NeverIssued)
        );
        assert_eq!(
            l.check(&claims("j1", "m1", "k1", 995), 1000, 0),
            Verdict::Deny(Reason::NeverIssued)
        );
        // An iat far in the future is no reason to wait.
        assert_eq!(
            l.check(&claims("j1", "m1", "k1", 5000), 1000, 10),
            Verdict::Deny(Reason::NeverIssued)
        );
    }

    #[test]
    fn revocations_take_effect_at_once() {
        let mut l = Ledger::new();
        l.apply(&issued("a", "m1", "k1", 1000, 9000), 1000);
        l.apply(&issued("b", "m1", "k1", 1100, 9000), 1100);
        l.apply(&issued("c", "m2", "k1", 1100, 9000), 1100);
        l.apply(&issued("d", "m2", "k2", 1100, 9000), 1100);
        // Member m1's sessions up to 1200: both of its tokens.
        assert_eq!(
            l.apply(
                &Change::RevokeSubject {
                    sub: "m1".into(),
                    at: 1200
                },
                1200
            ),
            2
        );
        assert_eq!(
            l.check(&claims("a", "m1", "k1", 1000), 1201, 0),
            Verdict::Deny(Reason::Revoked)
        );
        // A new login after the revocation is fine.
        l.apply(&issued("e", "m1", "k1", 1300, 9000), 1300);
        assert_eq!(
            l.check(&claims("e", "m1", "k1", 1300), 1301, 0),
            Verdict::Allow
        );
        // Retiring k1 refuses every token it signed, issued or not.
        assert_eq!(
            l.apply(
                &Change::RetireKey {
                    kid: "k1".into(),
                    at: 1400
                },
                1400
            ),
            4
        );
        assert_eq!(
            l.check(&claims("c", "m2", "k1", 1100), 1401, 0),
            Verdict::Deny(Reason::KeyRetired)
        );
        assert_eq!(
            l.check(&claims("zz", "m2", "k1", 1100), 1401, 0),
            Verdict::Deny(Reason::KeyRetired)
        );
        assert_eq!(
            l.check(&claims("d", "m2", "k2", 1100), 1401, 0),
            Verdict::Allow
        );
        // One token.
        assert_eq!(l.apply(&Change::RevokeToken { jti: "d".into() }, 1500), 1);
        assert_eq!(
            l.check(&claims("d", "m2", "k2", 1100), 1501, 0),
            Verdict::Deny(Reason::Revoked)
        );
        // Reported again after its revocation: still revoked.
        l.apply(&issued("d", "m2", "k2", 1100, 9000), 1502);
        assert_eq!(
            l.check(&claims("d", "m2", "k2", 1100), 1503, 0),
            Verdict::Deny(Reason::Revoked)
        );
    }

    #[test]
    fn a_snapshot_rebuilds_the_same_ledger() {
        let mut l = Ledger::new();
        l.apply(&issued("a", "m1", "k1", 1000, 9000), 1000);
        l.apply(&issued("b", "m2", "k2", 1000, 9000), 1000);
        l.apply(&Change::RevokeToken { jti: "b".into() }, 1000);
        l.apply(
            &Change::RetireKey {
                kid: "k3".into(),
                at: 1000,
            },
            1000,
        );
        let mut m = Ledger::new();
        for c in l.changes() {
            m.apply(&c, 1001);
        }
        for (c, want) in [
            (claims("a", "m1", "k1", 1000), Verdict::Allow),
            (
                claims("b", "m2", "k2", 1000),
                Verdict::Deny(Reason::Revoked),
            ),
            (
                claims("x", "m2", "k3", 1000),
                Verdict::Deny(Reason::KeyRetired),
            ),
        ] {
            assert_eq!(l.check(&c, 1002, 0), want);
            assert_eq!(m.check(&c, 1002, 0), want);
        }
        assert_eq!(l.counts(), m.counts());
    }
}
