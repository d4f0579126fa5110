//! GCP service-account keys as `gcloud iam service-accounts keys list --iam-account SA --format=json`
//! prints them (a JSON array; several listings may be concatenated as JSON lines or wrapped in
//! `{"keys": [...]}`).
//!
//! Owner: gcloud's listing has no owner, so credwarden takes it, in order, from an `owner` field, a
//! `labels.owner` or `annotations.owner` entry that an export script adds to the key object, or else
//! from the `--owners` mapping file (keyed by service-account email or key id). System-managed keys
//! are skipped: Google holds and rotates them and no person can export them.

use crate::dates::parse_timestamp;
use crate::error::{quote, IngestError, Rejects};
use crate::records::{json_values, Input};
use credwarden_model::{Credential, CredentialKind, CredentialStatus, SourceRef};
use serde_json::Value;
use std::sync::Arc;

/// True if the document looks like a gcloud key listing.
pub fn sniff(text: &str) -> bool {
    let head: String = text.chars().take(8192).collect();
    head.contains("/serviceAccounts/") && head.contains("/keys/") && head.contains("\"name\"")
}

/// Read a key listing.
pub fn read(input: &Input, rejects: &mut Rejects) -> Result<Vec<Credential>, IngestError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (line, raw) in json_values(input, &["keys"])? {
        // gcloud may emit one array per service account when listings are concatenated line by line.
        let values: Vec<Value> = match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Array(a)) => a,
            Ok(v) => vec![v],
            Err(e) => {
                rejects.reject(
                    IngestError::Syntax {
                        file: input.label.clone(),
                        line,
                        reason: e.to_string(),
                    },
                    Some(raw.get()),
                )?;
                continue;
            }
        };
        for v in values {
            match key(&input.source, line, &v) {
                Ok(Some(c)) => {
                    if let Some(&first) = seen.get(&c.id) {
                        let e = IngestError::Duplicate {
                            file: input.label.clone(),
                            line,
                            id: c.id.clone(),
                            first_line: first,
                        };
                        rejects.reject(e, Some(raw.get()))?;
                        continue;
                    }
                    seen.insert(c.id.clone(), line);
                    out.push(c)
                }
                Ok(None) => {}
                Err(e) => rejects.reject(e, Some(raw.get()))?,
            }
        }
    }
    Ok(out)
}

fn key(src: &Arc<str>, line: u64, v: &Value) -> Result<Option<Credential>, IngestError> {
    let file: &str = src;
    let err = |f: &str, r: String| IngestError::field(file, line, f, r);
    let name = v["name"]
        .as_str()
        .ok_or_else(|| err("name", "missing key resource name".into()))?;
    // projects/{project}/serviceAccounts/{email}/keys/{key_id}
    let parts: Vec<&str> = name.split('/').collect();
    let (project, sa, key_id) = match parts.as_slice() {
        ["projects", p, "serviceAccounts", sa, "keys", k] if !k.is_empty() => (*p, *sa, *k),
        _ => {
            return Err(err(
                "name",
                format!(
                    "expected projects/P/serviceAccounts/SA/keys/ID, found {}",
                    quote(name)
                ),
            ))
        }
    };
    if v["keyType"].as_str() == Some("SYSTEM_MANAGED") {
        return Ok(None);
    }
    let time = |f: &str| -> Result<Option<jiff::Timestamp>, IngestError> {
        match v[f].as_str() {
            None | Some("") => Ok(None),
            Some(t) => parse_timestamp(t).map(Some).map_err(|e| err(f, e)),
        }
    };
    let project = if project == "-" {
        sa.split('@')
            .nth(1)
            .and_then(|d| d.split('.').next())
            .unwrap_or("-")
    } else {
        project
    };
    let mut c = Credential::new(
        key_id,
        CredentialKind::ServiceAccountKey,
        format!("gcp:{project}"),
        SourceRef::new(src.clone(), line),
    );
    c.principal = Some(sa.to_string());
    c.created = time("validAfterTime")?;
    // 9999-12-31T23:59:59Z is gcloud's "never expires".
    c.expires = time("validBeforeTime")?.filter(|t| *t != jiff::Timestamp::MAX);
    c.status = match &v["disabled"] {
        Value::Bool(true) => CredentialStatus::Inactive,
        Value::Bool(false) | Value::Null => CredentialStatus::Active,
        other => {
            return Err(err(
                "disabled",
                format!("expected true or false, found {other}"),
            ))
        }
    };
    if let Some(lu) = time("lastUsedTime")? {
        c.last_used = Some(lu);
        c.usage_known = true;
    }
    c.owner = [
        &v["owner"],
        &v["labels"]["owner"],
        &v["annotations"]["owner"],
    ]
    .into_iter()
    .find_map(|o| {
        o.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    });
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gcloud_listing() {
        let text = r#"[
  {"keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED",
   "name": "projects/shop-prod/serviceAccounts/etl@shop-prod.iam.gserviceaccount.com/keys/8a1f", "validAfterTime": "2023-01-05T10:00:00Z",
   "validBeforeTime": "9999-12-31T23:59:59Z", "labels": {"owner": "carol@corp.example"}},
  {"keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "SYSTEM_MANAGED",
   "name": "projects/shop-prod/serviceAccounts/etl@shop-prod.iam.gserviceaccount.com/keys/99aa", "validAfterTime": "2024-01-05T10:00:00Z", "validBeforeTime": "2024-01-21T10:00:00Z"},
  {"keyType": "USER_MANAGED", "disabled": true, "name": "projects/shop-prod/serviceAccounts/etl@shop-prod.iam.gserviceaccount.com/keys/77bb", "validAfterTime": "2022-01-05T10:00:00Z", "validBeforeTime": "2032-01-05T10:00:00Z"}
]"#;
        let mut rj = Rejects::new(false);
        let v = read(&Input::new("keys.json", text), &mut rj).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].id, "8a1f");
        assert_eq!(v[0].system, "gcp:shop-prod");
        assert_eq!(v[0].owner.as_deref(), Some("carol@corp.example"));
        assert!(v[0].expires.is_none() && !v[0].usage_known);
        assert_eq!(v[1].status, CredentialStatus::Inactive);
        assert_eq!(v[1].source.line, 7);
    }

    #[test]
    fn bad_name_is_located() {
        let mut rj = Rejects::new(false);
        let e = read(
            &Input::new("k.json", "[{\"name\": \"projects/p/keys/x\"}]"),
            &mut rj,
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("k.json:1: field `name`: expected projects/P/serviceAccounts/SA/keys/ID"));
    }
}
