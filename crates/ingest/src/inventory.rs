//! Generic credential inventory (CSV or JSON): API keys, SSH keys, DB users and the secrets people can
//! read — token-signing keys (JWT/JWKS `kid`, KMS keys), shared secrets, service-account keys.
//! `readers` lists identities or groups that could read or export the secret. See `docs/formats.md`.
//!
//! `last_used`: a timestamp, `never` (tracked, never used) or empty (not tracked).

use crate::dates::parse_timestamp;
use crate::error::{IngestError, Rejects};
use crate::records::{any_records, convert, FieldSpec, Input, Record};
use credwarden_model::{Credential, CredentialKind, CredentialStatus};

/// Inventory fields and accepted spellings.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "id",
        required: true,
        aliases: &[
            "credentialid",
            "keyid",
            "kid",
            "uid",
            "secretid",
            "accesskeyid",
            "fingerprint",
        ],
    },
    FieldSpec {
        name: "kind",
        required: true,
        aliases: &[
            "type",
            "credentialtype",
            "credentialkind",
            "keytype",
            "secrettype",
        ],
    },
    FieldSpec {
        name: "system",
        required: false,
        aliases: &[
            "service",
            "provider",
            "platform",
            "application",
            "app",
            "account",
            "store",
            "vault",
        ],
    },
    FieldSpec {
        name: "owner",
        required: false,
        aliases: &[
            "owneremail",
            "ownedby",
            "ownerid",
            "assignee",
            "holder",
            "custodian",
            "createdby",
        ],
    },
    FieldSpec {
        name: "principal",
        required: false,
        aliases: &[
            "user",
            "username",
            "serviceaccount",
            "dbuser",
            "login",
            "iamuser",
        ],
    },
    FieldSpec {
        name: "created",
        required: false,
        aliases: &[
            "createdat",
            "creationdate",
            "createddate",
            "createdon",
            "issued",
            "issuedat",
            "notbefore",
            "validfrom",
        ],
    },
    FieldSpec {
        name: "last_rotated",
        required: false,
        aliases: &[
            "lastrotated",
            "rotated",
            "rotatedat",
            "lastrotation",
            "lastrotationdate",
            "lastrotatedat",
        ],
    },
    FieldSpec {
        name: "last_used",
        required: false,
        aliases: &[
            "lastused",
            "lastusedat",
            "lastuseddate",
            "lastaccessed",
            "lastseen",
            "lastusedtime",
        ],
    },
    FieldSpec {
        name: "expires",
        required: false,
        aliases: &[
            "expiresat",
            "expiry",
            "expiration",
            "expirationdate",
            "notafter",
            "validuntil",
            "validto",
            "validbefore",
        ],
    },
    FieldSpec {
        name: "status",
        required: false,
        aliases: &["state", "enabled", "active"],
    },
    FieldSpec {
        name: "scopes",
        required: false,
        aliases: &["scope", "permissions", "roles", "policies", "grants"],
    },
    FieldSpec {
        name: "readers",
        required: false,
        aliases: &[
            "reader",
            "readableby",
            "canread",
            "accessors",
            "visibleto",
            "readaccess",
            "accessgroups",
        ],
    },
    FieldSpec {
        name: "mfa",
        required: false,
        aliases: &["mfaactive", "mfaenabled", "twofactor"],
    },
];

/// Read an inventory.
pub fn read(input: &Input, rejects: &mut Rejects) -> Result<Vec<Credential>, IngestError> {
    let rows = any_records(
        input,
        FIELDS,
        &["credentials", "inventory", "secrets", "keys", "items"],
    )?;
    // The same id may exist in two systems (an `admin` DB user in two databases): dedup per system.
    convert(rows, rejects, |r| {
        credential(r).map(|c| (format!("{}\u{1f}{}", c.system, c.id), c.id.clone(), c))
    })
}

fn boolish(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "enabled" => Ok(true),
        "false" | "no" | "n" | "0" | "disabled" => Ok(false),
        _ => Err(format!("expected true or false, found {s:?}")),
    }
}

fn credential(r: &Record) -> Result<Credential, IngestError> {
    let id = r.require("id", |s| Ok(s.to_string()))?;
    let kind = r.require("kind", |s| s.parse::<CredentialKind>())?;
    let system = r.str("system").unwrap_or("unknown").to_string();
    let mut c = Credential::new(id, kind, system, r.source());
    c.owner = r.str("owner").map(str::to_string);
    c.principal = r.str("principal").map(str::to_string);
    c.created = r.parse("created", parse_timestamp)?;
    c.last_rotated = r.parse("last_rotated", parse_timestamp)?;
    match r.str("last_used") {
        None => {}
        Some(v) if v.eq_ignore_ascii_case("never") => c.usage_known = true,
        Some(_) => {
            c.last_used = r.parse("last_used", parse_timestamp)?;
            c.usage_known = true;
        }
    }
    c.expires = r.parse("expires", parse_timestamp)?;
    let status_key = crate::records::norm_key(&r.key("status"));
    c.status = if status_key == "enabled" || status_key == "active" {
        match r.parse("status", boolish)? {
            Some(false) => CredentialStatus::Inactive,
            _ => CredentialStatus::Active,
        }
    } else {
        r.parse("status", |s| s.parse::<CredentialStatus>())?
            .unwrap_or(CredentialStatus::Active)
    };
    c.scopes = r.list("scopes");
    c.readers = r.list("readers");
    c.mfa = r.parse("mfa", boolish)?;
    if let (Some(a), Some(b)) = (c.created, c.last_rotated) {
        if b < a {
            return Err(r.err(
                "last_rotated",
                format!("last rotation {b} is before creation {a}"),
            ));
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_signing_keys_and_readers() {
        let text = "id,kind,system,owner,created,last_rotated,last_used,expires,status,scopes,readers\n\
                    login-jwt-2019,signing_key,login-service,,2019-06-01,,,2029-06-01,active,tokens:sign,login-team;E7\n\
                    db-app,db_user,orders-db,bob@corp.example,2022-01-01,2023-01-01,never,,enabled,read,\n";
        let mut rj = Rejects::new(false);
        let v = read(&Input::new("inv.csv", text), &mut rj).unwrap();
        assert_eq!(v[0].kind, CredentialKind::SigningKey);
        assert_eq!(v[0].readers, ["login-team", "E7"]);
        assert!(!v[0].usage_known);
        assert!(v[1].usage_known && v[1].last_used.is_none());
        assert_eq!(v[1].status, CredentialStatus::Active);
    }

    #[test]
    fn errors_name_the_field() {
        let mut rj = Rejects::new(false);
        let e = read(&Input::new("inv.csv", "id,kind\nk1,magic_wand\n"), &mut rj).unwrap_err();
        assert_eq!(
            e.to_string(),
            "inv.csv:2: field `kind`: unknown credential kind \"magic_wand\""
        );
        let e = read(
            &Input::new("inv.csv", "id,type,system\nk1,api_key,x\nk1,api_key,x\n"),
            &mut rj,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "inv.csv:3: duplicate id \"k1\" (first seen at line 2)"
        );
    }
}
