//! The estate: HR roster, credential inventories, group membership and owner mapping, read and joined
//! into a [`Directory`] and a credential list. Shared by `audit`, `detect` and `demo`.

use credwarden_ingest::{hr, mapping, read_inventory, Input, Rejects};
use credwarden_model::{Credential, Directory};
use std::path::Path;
use tracing::{info, warn};

/// Where the estate is described.
pub struct Estate<'a> {
    /// HR roster.
    pub hr: &'a Path,
    /// Inventory arguments (paths with optional `FORMAT:` prefix).
    pub inventories: &'a [String],
    /// Groups file.
    pub groups: Option<&'a Path>,
    /// Owner mapping file.
    pub owners: Option<&'a Path>,
    /// `[hr.columns]`: roster columns named in the config.
    pub hr_columns: &'a std::collections::BTreeMap<String, String>,
}

/// The same, owned: for daemons whose threads and callbacks read the estate again and again.
#[derive(Debug, Clone)]
pub struct EstateFiles {
    /// HR roster.
    pub hr: std::path::PathBuf,
    /// Inventory arguments.
    pub inventories: Vec<String>,
    /// Groups file.
    pub groups: Option<std::path::PathBuf>,
    /// Owner mapping file.
    pub owners: Option<std::path::PathBuf>,
    /// `[hr.columns]`.
    pub hr_columns: std::collections::BTreeMap<String, String>,
}

impl EstateFiles {
    /// Borrowed, to read.
    pub fn estate(&self) -> Estate<'_> {
        Estate {
            hr: &self.hr,
            inventories: &self.inventories,
            groups: self.groups.as_deref(),
            owners: self.owners.as_deref(),
            hr_columns: &self.hr_columns,
        }
    }
}

/// No `[hr.columns]`.
pub static NO_COLUMNS: std::collections::BTreeMap<String, String> =
    std::collections::BTreeMap::new();

impl Estate<'_> {
    /// Read and join. Bad rows go to `rejects`; with keep-going, a whole unreadable file — an
    /// inventory, the groups or owners file, or even the roster (then every owner is unknown, said
    /// loudly) — is reported and skipped like a bad row.
    pub fn load(&self, rejects: &mut Rejects) -> Result<(Directory, Vec<Credential>), String> {
        self.load_plus(rejects, &[], &[])
    }

    /// As [`Estate::load`], with `extra` people the roster does not hold (a user known only to
    /// the identity provider that just deactivated it) and `extra_groups` memberships besides the
    /// groups file (the identity provider's groups, as `(group, members)`).
    pub fn load_plus(
        &self,
        rejects: &mut Rejects,
        extra: &[credwarden_model::Identity],
        extra_groups: &[(String, Vec<String>)],
    ) -> Result<(Directory, Vec<Credential>), String> {
        let s = |e: credwarden_ingest::IngestError| e.to_string();
        let specs = hr::fields_with(self.hr_columns)?;
        let mut identities =
            match Input::read(self.hr).and_then(|i| hr::read_with(&i, rejects, specs)) {
                Ok(v) => v,
                Err(e) => {
                    rejects.reject(e, None).map_err(s)?;
                    Vec::new()
                }
            };
        identities.extend(extra.iter().cloned());
        if identities.is_empty() {
            warn!(
                "{}: roster has no identities: every owner will be unknown",
                self.hr.display()
            );
        }
        let mut credentials = Vec::new();
        for arg in self.inventories {
            match read_inventory(arg, rejects) {
                Ok((format, mut creds)) => {
                    info!("{arg}: {} credentials ({format})", creds.len());
                    credentials.append(&mut creds);
                }
                Err(e) => rejects.reject(e, None).map_err(s)?,
            }
        }
        let groups = match self.groups {
            Some(p) => match Input::read(p).and_then(|i| mapping::read_groups(&i, rejects)) {
                Ok(g) => g,
                Err(e) => {
                    rejects.reject(e, None).map_err(s)?;
                    Default::default()
                }
            },
            None => Default::default(),
        };
        let owners = match self.owners {
            Some(p) => match Input::read(p).and_then(|i| mapping::read_owners(&i, rejects)) {
                Ok(o) => o,
                Err(e) => {
                    rejects.reject(e, None).map_err(s)?;
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        Ok((
            Directory::new(identities)
                .with_mapping(owners)
                .with_groups(groups)
                .with_groups(extra_groups.iter().cloned()),
            credentials,
        ))
    }
}
