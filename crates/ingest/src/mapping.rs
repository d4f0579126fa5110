//! Small join files: group membership (`--groups`) and owner mapping (`--owners`).
//!
//! Groups: CSV `group,member` (one pair per row, or `members` split on `;`), or JSON
//! `{"group": ["member", ...]}`. Owners: CSV `principal,owner` mapping an IAM user name,
//! service-account email or credential id to an identity alias, or JSON `{"principal": "owner"}`.

use crate::error::{IngestError, Rejects};
use crate::records::{csv_records, FieldSpec, Input};
use serde_json::Value;
use std::collections::BTreeMap;

const GROUP_FIELDS: &[FieldSpec] = &[
    FieldSpec { name: "group", required: true, aliases: &["groupname", "team", "role"] },
    FieldSpec { name: "members", required: true, aliases: &["member", "user", "identity", "email", "users"] },
];

const OWNER_FIELDS: &[FieldSpec] = &[
    FieldSpec { name: "principal", required: true, aliases: &["credential", "credentialid", "key", "keyid", "account", "serviceaccount", "iamuser", "user", "alias"] },
    FieldSpec { name: "owner", required: true, aliases: &["identity", "owneremail", "ownerid", "employee", "employeeid"] },
];

/// Read a groups file into `group → members`.
pub fn read_groups(input: &Input, rejects: &mut Rejects) -> Result<BTreeMap<String, Vec<String>>, IngestError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if input.looks_like_json() {
        let v: BTreeMap<String, Value> = serde_json::from_str(&input.text).map_err(|e| IngestError::Syntax {
            file: input.label.clone(),
            line: e.line() as u64,
            reason: format!("expected {{\"group\": [\"member\", ...]}}: {e}"),
        })?;
        for (g, members) in v {
            let list = members.as_array().map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_string)).collect::<Vec<_>>());
            match list {
                Some(l) => out.entry(g).or_default().extend(l),
                None => rejects.reject(IngestError::field(&input.label, 1, &g, "expected a list of member names"), None)?,
            }
        }
        return Ok(out);
    }
    for r in csv_records(input, GROUP_FIELDS, rejects)? {
        match r.str("group") {
            Some(g) => out.entry(g.to_string()).or_default().extend(r.list("members")),
            None => rejects.reject(r.err("group", "required value is empty"), Some(&r.raw))?,
        }
    }
    Ok(out)
}

/// Read an owner-mapping file into `(principal, owner)` pairs.
pub fn read_owners(input: &Input, rejects: &mut Rejects) -> Result<Vec<(String, String)>, IngestError> {
    if input.looks_like_json() {
        let v: BTreeMap<String, String> = serde_json::from_str(&input.text).map_err(|e| IngestError::Syntax {
            file: input.label.clone(),
            line: e.line() as u64,
            reason: format!("expected {{\"principal\": \"owner\"}}: {e}"),
        })?;
        return Ok(v.into_iter().collect());
    }
    let mut out = Vec::new();
    for r in csv_records(input, OWNER_FIELDS, rejects)? {
        match (r.str("principal"), r.str("owner")) {
            (Some(p), Some(o)) => out.push((p.to_string(), o.to_string())),
            (None, _) => rejects.reject(r.err("principal", "required value is empty"), Some(&r.raw))?,
            (_, None) => rejects.reject(r.err("owner", "required value is empty"), Some(&r.raw))?,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_csv_and_json() {
        let mut rj = Rejects::new(false);
        let g = read_groups(&Input::new("g.csv", "group,member\nlogin-team,E1\nlogin-team,E2\nsre,E3;E4\n"), &mut rj).unwrap();
        assert_eq!(g["login-team"], ["E1", "E2"]);
        assert_eq!(g["sre"], ["E3", "E4"]);
        let g = read_groups(&Input::new("g.json", "{\"login-team\": [\"E1\"]}"), &mut rj).unwrap();
        assert_eq!(g["login-team"], ["E1"]);
    }

    #[test]
    fn owners_csv() {
        let mut rj = Rejects::new(false);
        let o = read_owners(&Input::new("o.csv", "principal,owner\nci-deployer,alice@corp.example\n"), &mut rj).unwrap();
        assert_eq!(o, [("ci-deployer".to_string(), "alice@corp.example".to_string())]);
        let e = read_owners(&Input::new("o.csv", "principal,owner\nci-deployer,\n"), &mut rj).unwrap_err();
        assert_eq!(e.to_string(), "o.csv:2: field `owner`: required value is empty");
    }
}
