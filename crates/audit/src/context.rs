//! The joined view the rules read: every credential with its resolved owner, the as-of instant and
//! the policy. Built once; rules only read it.

use crate::Policy;
use credwarden_model::{Credential, Directory, Identity};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::collections::HashMap;

pub use credwarden_model::exposure::{is_readable_secret, Owner};

/// A credential with its owner.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    /// The credential.
    pub cred: &'a Credential,
    /// Its owner.
    pub owner: Owner<'a>,
}

impl<'a> Resolved<'a> {
    /// The owning identity, when resolved.
    pub fn identity(&self) -> Option<&'a Identity> {
        match self.owner {
            Owner::Identity(i, _) => Some(i),
            _ => None,
        }
    }
}

/// Everything a rule needs.
pub struct Context<'a> {
    /// Alias index over the roster.
    pub directory: &'a Directory,
    /// Credentials with owners, in input order.
    pub creds: Vec<Resolved<'a>>,
    /// Date the audit is "as of" (UTC).
    pub as_of: Date,
    /// End of the as-of day (UTC): the instant findings are stamped with.
    pub now: Timestamp,
    /// Thresholds.
    pub policy: &'a Policy,
    reader_entries: HashMap<&'a str, ReaderEntry>,
}

impl<'a> Context<'a> {
    /// Join credentials to the directory.
    pub fn new(
        directory: &'a Directory,
        credentials: &'a [Credential],
        as_of: Date,
        policy: &'a Policy,
    ) -> Self {
        let now = as_of
            .at(23, 59, 59, 0)
            .to_zoned(TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX);
        let creds = credentials
            .iter()
            .map(|c| Resolved {
                cred: c,
                owner: resolve_owner(directory, c),
            })
            .collect();
        let reader_entries = reader_entries(directory, credentials, as_of);
        Self {
            directory,
            creds,
            as_of,
            now,
            policy,
            reader_entries,
        }
    }

    /// Credentials that can authenticate as of the audit.
    pub fn live(&self) -> impl Iterator<Item = &Resolved<'a>> {
        self.creds.iter().filter(|r| r.cred.is_live(self.now))
    }

    /// UTC calendar date of an instant.
    pub fn date(t: Timestamp) -> Date {
        t.to_zoned(TimeZone::UTC).date()
    }

    /// Midnight UTC at the start of `d`.
    pub fn start_of(d: Date) -> Option<Timestamp> {
        d.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
    }

    /// `t` plus whole `days`.
    pub fn plus_days(t: Timestamp, days: i64) -> Option<Timestamp> {
        t.checked_add(jiff::SignedDuration::from_hours(24 * days))
            .ok()
    }

    /// Whole days from `t` to the as-of date.
    pub fn days_since(&self, t: Timestamp) -> i64 {
        credwarden_model::days_between(Self::date(t), self.as_of)
    }

    /// Departed identities who could read a secret: listed readers (groups expanded) and, for secret
    /// kinds, the owner. Deduplicated; order unspecified.
    pub fn departed_readers(&self, r: &Resolved<'a>) -> Vec<&'a Identity> {
        let mut idx: Vec<usize> = Vec::new();
        for entry in &r.cred.readers {
            if let Some(e) = self.reader_entries.get(entry.as_str()) {
                idx.extend_from_slice(&e.departed);
            }
        }
        idx.sort_unstable();
        idx.dedup();
        let mut out: Vec<&'a Identity> = idx.into_iter().map(|i| self.directory.get(i)).collect();
        if is_readable_secret(r.cred.kind) {
            if let Some(i) = r.identity().filter(|i| i.is_departed(self.as_of)) {
                if !out.iter().any(|o| std::ptr::eq(*o, i)) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// Reader names of a secret that match no identity (after group expansion).
    pub fn unresolved_readers(&self, r: &Resolved<'a>) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for entry in &r.cred.readers {
            if let Some(e) = self.reader_entries.get(entry.as_str()) {
                out.extend(
                    e.unresolved
                        .iter()
                        .filter(|n| seen.insert(n.as_str()))
                        .cloned(),
                );
            }
        }
        out
    }
}

/// One distinct `readers` entry (a person or a group), expanded and resolved once per audit: a group of
/// thousands named on thousands of secrets costs one expansion, not millions of lookups.
#[derive(Debug, Default)]
struct ReaderEntry {
    departed: Vec<usize>,
    unresolved: Vec<String>,
}

fn reader_entries<'c>(
    dir: &Directory,
    credentials: &'c [Credential],
    as_of: Date,
) -> HashMap<&'c str, ReaderEntry> {
    let mut map: HashMap<&'c str, ReaderEntry> = HashMap::new();
    for entry in credentials.iter().flat_map(|c| c.readers.iter()) {
        if map.contains_key(entry.as_str()) {
            continue;
        }
        let r = credwarden_model::exposure::reader_entry(dir, entry);
        let e = ReaderEntry {
            departed: r
                .found
                .into_iter()
                .filter(|&i| dir.get(i).is_departed(as_of))
                .collect(),
            unresolved: r.unresolved,
        };
        map.insert(entry.as_str(), e);
    }
    map
}

fn resolve_owner<'a>(dir: &'a Directory, c: &Credential) -> Owner<'a> {
    credwarden_model::exposure::owner(dir, c)
}
