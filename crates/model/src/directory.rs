//! Directory: joins the owner and reader names found in inventories to HR identities by any alias.
//!
//! Resolution order: explicit mapping (`alias → identity`), then exact alias (id, email, username),
//! then the local part of an email (only when exactly one identity claims it), then groups (for
//! readers). Ambiguity is reported, never guessed.

use crate::Identity;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Outcome of resolving one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Resolved to the identity at this index, and how.
    Found(usize, &'static str),
    /// Several identities match; lists their ids.
    Ambiguous(Vec<String>),
    /// Nothing matches.
    NotFound,
}

/// Alias index over a roster, with an optional owner mapping and group membership.
#[derive(Debug, Default)]
pub struct Directory {
    identities: Vec<Identity>,
    exact: HashMap<String, Slot>,
    local: HashMap<String, Slot>,
    mapping: HashMap<String, String>,
    groups: BTreeMap<String, Vec<String>>,
}

/// Identities claiming one alias: almost always exactly one, so no set is allocated for it.
#[derive(Debug, Clone)]
enum Slot {
    One(u32),
    Many(Vec<u32>),
}

impl Slot {
    /// Add identity `i` to an existing slot, or return the new slot to insert.
    fn add(slot: Option<&mut Slot>, i: u32) -> Option<Slot> {
        let Some(s) = slot else {
            return Some(Slot::One(i));
        };
        match s {
            Slot::One(j) if *j == i => {}
            Slot::One(j) => *s = Slot::Many(vec![*j, i]),
            Slot::Many(v) if !v.contains(&i) => v.push(i),
            Slot::Many(_) => {}
        }
        None
    }
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

fn local_part(s: &str) -> Option<&str> {
    s.split_once('@').map(|(l, _)| l).filter(|l| !l.is_empty())
}

impl Directory {
    /// Index a roster.
    pub fn new(identities: Vec<Identity>) -> Self {
        let mut d = Directory {
            identities,
            ..Default::default()
        };
        for (i, id) in d.identities.iter().enumerate() {
            for a in id.aliases() {
                let a = norm(&a);
                if a.is_empty() {
                    continue;
                }
                let i = i as u32;
                if let Some(l) = local_part(&a) {
                    if let Some(new) = Slot::add(d.local.get_mut(l), i) {
                        d.local.insert(l.to_string(), new);
                    }
                }
                if let Some(new) = Slot::add(d.exact.get_mut(&a), i) {
                    d.exact.insert(a, new);
                }
            }
        }
        d
    }

    /// Add explicit `alias → identity alias` mappings (IAM user names, service accounts, key ids).
    pub fn with_mapping(mut self, pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        for (k, v) in pairs {
            self.mapping.insert(norm(&k), v);
        }
        self
    }

    /// Add group memberships (`group → members`); group names are matched case-insensitively.
    pub fn with_groups(mut self, groups: impl IntoIterator<Item = (String, Vec<String>)>) -> Self {
        for (g, members) in groups {
            self.groups.entry(norm(&g)).or_default().extend(members);
        }
        self
    }

    /// True when the mapping file names this alias explicitly.
    pub fn mapped(&self, name: &str) -> bool {
        self.mapping.contains_key(&norm(name))
    }

    /// All identities, in roster order.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// Identity at an index returned by [`Directory::resolve`].
    pub fn get(&self, idx: usize) -> &Identity {
        &self.identities[idx]
    }

    fn pick(&self, slot: Option<&Slot>, how: &'static str) -> Option<Resolution> {
        Some(match slot? {
            Slot::One(i) => Resolution::Found(*i as usize, how),
            Slot::Many(v) => {
                let mut v = v.clone();
                v.sort_unstable();
                Resolution::Ambiguous(
                    v.iter()
                        .map(|&i| self.identities[i as usize].id.clone())
                        .collect(),
                )
            }
        })
    }

    /// Resolve a name (owner field, IAM user name, email, mapped principal) to one identity.
    pub fn resolve(&self, name: &str) -> Resolution {
        let n = norm(name);
        if n.is_empty() {
            return Resolution::NotFound;
        }
        if let Some(target) = self.mapping.get(&n) {
            let t = norm(target);
            if let Some(r) = self.pick(self.exact.get(&t), "mapping") {
                return r;
            }
            if let Some(r) = local_part(&t).and_then(|l| self.pick(self.local.get(l), "mapping")) {
                return r;
            }
            return Resolution::NotFound;
        }
        if let Some(r) = self.pick(self.exact.get(&n), "alias") {
            return r;
        }
        // An email whose local part is someone's username or email local part.
        if let Some(l) = local_part(&n) {
            if let Some(r) = self.pick(self.exact.get(l), "email local part") {
                return r;
            }
            if let Some(r) = self.pick(self.local.get(l), "email local part") {
                return r;
            }
        } else if let Some(r) = self.pick(self.local.get(&n), "email local part") {
            // A bare username (IAM user `alice.smith`) matching one identity's email local part.
            return r;
        }
        Resolution::NotFound
    }

    /// Expand a reader entry: a group name yields its members (recursively, cycle-safe), anything
    /// else yields itself.
    pub fn expand_reader(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.expand_into(name, &mut out, &mut seen);
        out
    }

    fn expand_into(&self, name: &str, out: &mut Vec<String>, seen: &mut BTreeSet<String>) {
        let n = norm(name);
        match self.groups.get(&n) {
            Some(members) => {
                if !seen.insert(n) {
                    return;
                }
                for m in members {
                    self.expand_into(m, out, seen);
                }
            }
            None => out.push(name.trim().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IdentityKind, IdentityStatus, SourceRef};

    fn ident(id: &str, email: &str, user: &str) -> Identity {
        Identity {
            id: id.into(),
            display_name: None,
            emails: vec![email.into()],
            usernames: if user.is_empty() {
                vec![]
            } else {
                vec![user.into()]
            },
            kind: IdentityKind::Employee,
            status: IdentityStatus::Active,
            start_date: None,
            end_date: None,
            manager: None,
            department: None,
            source: SourceRef::new("hr.csv", 2),
        }
    }

    fn dir() -> Directory {
        Directory::new(vec![
            ident("E1", "alice.smith@corp.example", "asmith"),
            ident("E2", "bob@corp.example", ""),
            ident("E3", "bob@contractor.example", ""),
        ])
    }

    #[test]
    fn resolves_by_every_alias() {
        let d = dir();
        assert_eq!(d.resolve("E1"), Resolution::Found(0, "alias"));
        assert_eq!(
            d.resolve("ALICE.SMITH@corp.example"),
            Resolution::Found(0, "alias")
        );
        assert_eq!(d.resolve("asmith"), Resolution::Found(0, "alias"));
        assert_eq!(
            d.resolve("alice.smith"),
            Resolution::Found(0, "email local part")
        );
        assert_eq!(
            d.resolve("asmith@other.example"),
            Resolution::Found(0, "email local part")
        );
    }

    #[test]
    fn ambiguous_local_part_is_not_guessed() {
        let d = dir();
        assert!(matches!(d.resolve("bob"), Resolution::Ambiguous(ids) if ids == ["E2", "E3"]));
        assert_eq!(d.resolve("carol"), Resolution::NotFound);
        assert_eq!(d.resolve(""), Resolution::NotFound);
    }

    #[test]
    fn mapping_wins_and_groups_expand_without_cycles() {
        let d = dir()
            .with_mapping([(
                "ci-deployer".to_string(),
                "bob@contractor.example".to_string(),
            )])
            .with_groups([
                (
                    "login-team".to_string(),
                    vec!["E1".to_string(), "ops".to_string()],
                ),
                (
                    "ops".to_string(),
                    vec!["E2".to_string(), "login-team".to_string()],
                ),
            ]);
        assert_eq!(d.resolve("ci-deployer"), Resolution::Found(2, "mapping"));
        assert_eq!(d.expand_reader("Login-Team"), vec!["E1", "E2"]);
        assert_eq!(d.expand_reader("E3"), vec!["E3"]);
    }
}
