//! Identities and credentials for the offboarding tests (fields a test cares about are set after).
#![allow(dead_code)] // each test file uses a part

use credwarden_model::*;

/// A terminated employee `id` with no aliases and no dates.
pub fn identity(id: &str) -> Identity {
    Identity::leaver(id, SourceRef::new("hr.csv", 2))
}

/// An active credential `id` of `kind` in `system`, created 2019-07-01, never rotated.
pub fn credential(id: &str, kind: CredentialKind, system: &str) -> Credential {
    Credential {
        id: id.into(),
        kind,
        system: system.into(),
        principal: None,
        owner: None,
        created: Some("2019-07-01T00:00:00Z".parse().unwrap()),
        last_rotated: None,
        last_used: None,
        usage_known: false,
        expires: None,
        status: CredentialStatus::Active,
        scopes: vec![],
        readers: vec![],
        mfa: None,
        account_level: false,
        source: SourceRef::new("inventory.csv", 2),
    }
}
