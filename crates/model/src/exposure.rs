//! The one exposure join, beside [`Directory`]: who owns a credential and who could read a secret's
//! material, resolved the same way everywhere — the audit's posture rules, the detectors that name
//! a key's leavers (CW-D013) or its missing owner (CW-D014), and the offboarding's "what did this
//! leaver own or read".
//!
//! * Owner: an explicit mapping for the credential id wins, then the inventory's stated owner, then
//!   the principal; the first name that resolves decides (ambiguity is not an owner); an
//!   account-level credential is the account's.
//! * Readers: every `readers` entry, groups expanded, each name resolved; for kinds whose material a
//!   person holds a copy of ([`is_readable_secret`]), the owner too.

use crate::{Credential, CredentialKind, Directory, Identity, Resolution};

/// Who owns a credential, after resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner<'a> {
    /// Resolved to one identity, and how (`alias`, `mapping`, `email local part`).
    Identity(&'a Identity, &'static str),
    /// Several identities match.
    Ambiguous(Vec<String>),
    /// Nothing matches; lists the names tried (empty if the inventory names no owner at all).
    Unresolved(Vec<String>),
    /// Account-level credential (cloud root): owned by the account, not a person.
    Account,
}

impl<'a> Owner<'a> {
    /// The owning identity, when resolved.
    pub fn identity(&self) -> Option<&'a Identity> {
        match self {
            Owner::Identity(i, _) => Some(i),
            _ => None,
        }
    }
}

/// The owner of `c`.
pub fn owner<'a>(dir: &'a Directory, c: &Credential) -> Owner<'a> {
    if c.account_level {
        return Owner::Account;
    }
    let mut tried = Vec::new();
    let names = [
        dir.mapped(&c.id).then_some(c.id.as_str()),
        c.owner.as_deref(),
        c.principal.as_deref(),
    ];
    for name in names.into_iter().flatten() {
        match dir.resolve(name) {
            Resolution::Found(i, how) => return Owner::Identity(dir.get(i), how),
            Resolution::Ambiguous(ids) => return Owner::Ambiguous(ids),
            Resolution::NotFound => tried.push(name.to_string()),
        }
    }
    Owner::Unresolved(tried)
}

/// Kinds whose secret material a person could read and keep: whoever owns or reads them holds a
/// copy.
pub fn is_readable_secret(kind: CredentialKind) -> bool {
    matches!(
        kind,
        CredentialKind::SigningKey
            | CredentialKind::KmsKey
            | CredentialKind::SharedSecret
            | CredentialKind::ServiceAccountKey
            | CredentialKind::ApiKey
    )
}

/// Who one `readers` entry (a person or a group) names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readers {
    /// Directory indexes of the identities found (sorted, no duplicates).
    pub found: Vec<usize>,
    /// Names that matched no identity (or several).
    pub unresolved: Vec<String>,
}

/// Resolve one `readers` entry: a group is expanded, every name resolved.
pub fn reader_entry(dir: &Directory, entry: &str) -> Readers {
    let mut r = Readers::default();
    for name in dir.expand_reader(entry) {
        match dir.resolve(&name) {
            Resolution::Found(i, _) => r.found.push(i),
            _ => r.unresolved.push(name),
        }
    }
    r.found.sort_unstable();
    r.found.dedup();
    r
}

/// Everyone who could read `c`'s material: its readers (groups expanded) and, for a readable
/// secret, its owner.
pub fn readers(dir: &Directory, c: &Credential) -> Readers {
    let mut all = Readers::default();
    for entry in &c.readers {
        let r = reader_entry(dir, entry);
        all.found.extend(r.found);
        all.unresolved.extend(r.unresolved);
    }
    if is_readable_secret(c.kind) {
        if let Some(who) = owner(dir, c).identity() {
            if let Some(i) = dir.identities().iter().position(|x| std::ptr::eq(x, who)) {
                all.found.push(i);
            }
        }
    }
    all.found.sort_unstable();
    all.found.dedup();
    all.unresolved.sort();
    all.unresolved.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IdentityKind, IdentityStatus, SourceRef};

    fn person(id: &str, email: &str) -> Identity {
        Identity {
            id: id.into(),
            display_name: None,
            emails: vec![email.into()],
            usernames: vec![],
            kind: IdentityKind::Employee,
            status: IdentityStatus::Active,
            start_date: None,
            end_date: None,
            manager: None,
            department: None,
            source: SourceRef::new("hr.csv", 2),
        }
    }

    #[test]
    fn owner_order_and_readers_with_groups_and_owner() {
        let dir = Directory::new(vec![
            person("E1", "ann@x.example"),
            person("E2", "bob@x.example"),
        ])
        .with_groups([(
            "login".to_string(),
            vec!["E2".to_string(), "ghost".to_string()],
        )]);
        let mut k = Credential::new(
            "kid-1",
            CredentialKind::SigningKey,
            "login-service",
            SourceRef::new("inv.csv", 2),
        );
        k.owner = Some("ann@x.example".into());
        k.readers = vec!["login".into()];
        assert_eq!(
            owner(&dir, &k).identity().map(|i| i.id.as_str()),
            Some("E1")
        );
        let r = readers(&dir, &k);
        assert_eq!(r.found, [0, 1], "the owner of a signing key reads it too");
        assert_eq!(r.unresolved, ["ghost"]);
        // An access key's owner is not a reader of secret material.
        k.kind = CredentialKind::AccessKey;
        assert_eq!(readers(&dir, &k).found, [1]);
        k.owner = Some("nobody".into());
        assert_eq!(owner(&dir, &k), Owner::Unresolved(vec!["nobody".into()]));
    }
}
