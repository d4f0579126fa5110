//! Small join files: group membership (`--groups`) and owner mapping (`--owners`).
//!
//! Groups: CSV `group,member` (one pair per row, or `members` split on `;`), or JSON
//! `{"group": ["member", ...]}`. Owners: CSV `principal,owner` mapping an IAM user name,
//! service-account email or credential id to an identity alias, or JSON `{"principal": "owner"}`.

use crate::error::{IngestError, Rejects};
use crate::records::{convert, csv_records, FieldSpec, Input};
use serde_json::Value;
use std::collections::BTreeMap;

const GROUP_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "group",
        required: true,
        aliases: &["groupname", "team", "role"],
    },
    FieldSpec {
        name: "members",
        required: true,
        aliases: &["member", "user", "identity", "email", "users"],
    },
];

const OWNER_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "principal",
        required: true,
        aliases: &[
            "credential",
            "credentialid",
            "key",
            "keyid",
            "account",
            "serviceaccount",
            "iamuser",
            "user",
            "alias",
        ],
    },
    FieldSpec {
        name: "owner",
        required: true,
        aliases: &[
            "identity",
            "owneremail",
            "ownerid",
            "employee",
            "employeeid",
        ],
    },
];

/// Read a groups file into `group → members`.
pub fn read_groups(
    input: &Input,
    rejects: &mut Rejects,
) -> Result<BTreeMap<String, Vec<String>>, IngestError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if input.looks_like_json() {
        let v: BTreeMap<String, Value> =
            serde_json::from_str(&input.text).map_err(|e| IngestError::Syntax {
                file: input.label.clone(),
                line: e.line() as u64,
                reason: format!("expected {{\"group\": [\"member\", ...]}}: {e}"),
            })?;
        for (g, members) in v {
            let list = members.as_array().map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            });
            match list {
                Some(l) => out.entry(g).or_default().extend(l),
                None => rejects.reject(
                    IngestError::field(&input.label, 1, &g, "expected a list of member names"),
                    None,
                )?,
            }
        }
        return Ok(out);
    }
    let pairs = convert(csv_records(input, GROUP_FIELDS)?, rejects, |r| {
        let g = r
            .str("group")
            .ok_or_else(|| r.err("group", "required value is empty"))?;
        // A group spans many rows, so rows are keyed by line: nothing here is a duplicate.
        Ok((
            r.line.to_string(),
            String::new(),
            (g.to_string(), r.list("members")),
        ))
    })?;
    for (g, members) in pairs {
        out.entry(g).or_default().extend(members);
    }
    Ok(out)
}

/// Read an owner-mapping file into `(principal, owner)` pairs.
pub fn read_owners(
    input: &Input,
    rejects: &mut Rejects,
) -> Result<Vec<(String, String)>, IngestError> {
    if input.looks_like_json() {
        let v: BTreeMap<String, String> =
            serde_json::from_str(&input.text).map_err(|e| IngestError::Syntax {
                file: input.label.clone(),
                line: e.line() as u64,
                reason: format!("expected {{\"principal\": \"owner\"}}: {e}"),
            })?;
        return Ok(v.into_iter().collect());
    }
    convert(csv_records(input, OWNER_FIELDS)?, rejects, |r| {
        let p = r
            .str("principal")
            .ok_or_else(|| r.err("principal", "required value is empty"))?;
        let o = r
            .str("owner")
            .ok_or_else(|| r.err("owner", "required value is empty"))?;
        Ok((
            p.to_lowercase(),
            p.to_string(),
            (p.to_string(), o.to_string()),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_csv_and_json() {
        let mut rj = Rejects::new(false);
        let g = read_groups(
            &Input::new(
                "g.csv",
                "group,member\nlogin-team,E1\nlogin-team,E2\nsre,E3;E4\n",
            ),
            &mut rj,
        )
        .unwrap();
        assert_eq!(g["login-team"], ["E1", "E2"]);
        assert_eq!(g["sre"], ["E3", "E4"]);
        let g = read_groups(&Input::new("g.json", "{\"login-team\": [\"E1\"]}"), &mut rj).unwrap();
        assert_eq!(g["login-team"], ["E1"]);
    }

    #[test]
    fn owners_csv() {
        let mut rj = Rejects::new(false);
        let o = read_owners(
            &Input::new("o.csv", "principal,owner\nci-deployer,alice@corp.example\n"),
            &mut rj,
        )
        .unwrap();
        assert_eq!(
            o,
            [("ci-deployer".to_string(), "alice@corp.example".to_string())]
        );
        let e = read_owners(
            &Input::new("o.csv", "principal,owner\nci-deployer,\n"),
            &mut rj,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "o.csv:2: field `owner`: required value is empty"
        );
    }
}
