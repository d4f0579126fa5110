//! AWS IAM credential report (`aws iam get-credential-report`, base64-decoded CSV), exactly as AWS
//! emits it: 22 columns, `N/A` / `no_information` / `not_supported` placeholders, and the
//! `<root_account>` row. Each user yields a console-password credential (when enabled), up to two
//! access keys and up to two signing certificates. Key ids are not in the report, so credentials are
//! named `<user ARN>#access_key_1` and so on.

use crate::dates::parse_timestamp;
use crate::error::{quote, IngestError, Rejects};
use crate::records::{convert, csv_records, FieldSpec, Input, Record};
use credwarden_model::{Credential, CredentialKind, CredentialStatus};
use jiff::Timestamp;

/// The report's columns, in AWS's order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// The user name AWS gives the account's root row.
pub const ROOT_USER: &str = "<root_account>";

/// True if the first line is a credential-report header.
pub fn sniff(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    first.trim().starts_with("user,arn,user_creation_time")
}

/// One report row, as a [`Record`] keyed by AWS's column names.
struct Row<'r, 'i>(&'r Record<'i>);

impl Row<'_, '_> {
    fn get(&self, c: &str) -> &str {
        self.0.str(c).unwrap_or("")
    }
    fn err(&self, c: &str, reason: impl std::fmt::Display) -> IngestError {
        IngestError::field(self.0.file, self.0.line, c, reason)
    }
    fn flag(&self, c: &str) -> Result<Option<bool>, IngestError> {
        match self.get(c) {
            "true" | "TRUE" | "True" => Ok(Some(true)),
            "false" | "FALSE" | "False" => Ok(Some(false)),
            "not_supported" | "N/A" => Ok(None),
            v => Err(self.err(
                c,
                format!("expected true, false or not_supported, found {}", quote(v)),
            )),
        }
    }
    fn time(&self, c: &str) -> Result<Option<Timestamp>, IngestError> {
        match self.get(c) {
            "" | "N/A" | "no_information" | "not_supported" => Ok(None),
            v => parse_timestamp(v).map(Some).map_err(|e| self.err(c, e)),
        }
    }
}

/// Read one credential report. Rows go through the shared CSV machinery (located errors, ragged and
/// blank rows, BOM, CRLF); every one of AWS's 22 columns is required under its exact name.
pub fn read(input: &Input, rejects: &mut Rejects) -> Result<Vec<Credential>, IngestError> {
    let fields: Vec<FieldSpec> = COLUMNS
        .iter()
        .map(|&name| FieldSpec {
            name,
            aliases: &[],
            required: true,
        })
        .collect();
    let rows = csv_records(input, &fields)?;
    let per_row = convert(rows, rejects, |r| {
        let arn = Row(r).get("arn").to_string();
        credentials(&Row(r)).map(|creds| (arn.clone(), arn, creds))
    })?;
    Ok(per_row.into_iter().flatten().collect())
}

fn account_of(arn: &str) -> Option<&str> {
    // arn:aws:iam::123456789012:user/path/name  or  arn:aws:iam::123456789012:root
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(3).filter(|a| !a.is_empty())
}

fn credentials(row: &Row) -> Result<Vec<Credential>, IngestError> {
    let user = row.get("user");
    if user.is_empty() {
        return Err(row.err("user", "required value is empty"));
    }
    let arn = row.get("arn");
    let account =
        account_of(arn).ok_or_else(|| row.err("arn", format!("not an IAM ARN: {}", quote(arn))))?;
    let is_root = user == ROOT_USER;
    let system = format!("aws:{account}");
    let src = row.0.source();
    let user_created = row.time("user_creation_time")?;
    let mfa = row.flag("mfa_active")?;
    let base = |suffix: &str, kind: CredentialKind| {
        let mut c = Credential::new(format!("{arn}#{suffix}"), kind, system.clone(), src.clone());
        c.principal = Some(if is_root {
            "root".to_string()
        } else {
            user.to_string()
        });
        c.account_level = is_root;
        c
    };
    let mut out = Vec::new();
    // Root always has a password unless it was removed; AWS writes not_supported. We model root's
    // sign-in as a console credential so that "root without MFA" has a subject.
    let pw_enabled = row.flag("password_enabled")?;
    let pw_last_used = row.time("password_last_used")?;
    let pw_changed = row.time("password_last_changed")?;
    if pw_enabled == Some(true) || is_root {
        let mut c = base("password", CredentialKind::ConsolePassword);
        c.created = pw_changed.or(user_created);
        c.last_rotated = pw_changed;
        c.last_used = pw_last_used;
        c.usage_known = row.get("password_last_used") != "no_information";
        c.mfa = mfa;
        out.push(c);
    }
    // Two access-key slots and two signing-certificate slots, each `<prefix>_<n>_<column>`.
    for n in 1..=2 {
        let col = |c: &str| format!("access_key_{n}_{c}");
        let is_active = row.flag(&col("active"))?.unwrap_or(false);
        let rotated_at = row.time(&col("last_rotated"))?;
        if !is_active && rotated_at.is_none() {
            continue; // no such key
        }
        let mut c = base(&format!("access_key_{n}"), CredentialKind::AccessKey);
        // The report's "last_rotated" is when the current key was created.
        c.created = rotated_at;
        c.last_used = row.time(&col("last_used_date"))?;
        c.usage_known = true;
        c.status = if is_active {
            CredentialStatus::Active
        } else {
            CredentialStatus::Inactive
        };
        let known = |v: &str| !v.is_empty() && v != "N/A";
        let (region, service) = (
            row.get(&col("last_used_region")),
            row.get(&col("last_used_service")),
        );
        if known(region) && known(service) {
            c.scopes.push(format!("last_used:{service}@{region}"));
        }
        out.push(c);
    }
    for n in 1..=2 {
        let is_active = row.flag(&format!("cert_{n}_active"))?.unwrap_or(false);
        let rotated_at = row.time(&format!("cert_{n}_last_rotated"))?;
        if !is_active && rotated_at.is_none() {
            continue;
        }
        let mut c = base(&format!("cert_{n}"), CredentialKind::Certificate);
        c.created = rotated_at;
        c.status = if is_active {
            CredentialStatus::Active
        } else {
            CredentialStatus::Inactive
        };
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn report(rows: &[&str]) -> String {
        let mut s = String::from(HEADER);
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s.push('\n');
        s
    }

    #[test]
    fn reads_root_users_and_placeholders() {
        let text = report(&[
            "<root_account>,arn:aws:iam::123456789012:root,2015-03-21T17:57:00+00:00,not_supported,2024-05-01T10:00:00+00:00,not_supported,not_supported,false,true,2016-01-01T00:00:00+00:00,2024-04-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            "alice,arn:aws:iam::123456789012:user/alice,2019-01-01T00:00:00+00:00,true,no_information,2019-01-01T00:00:00+00:00,N/A,false,true,2019-01-02T00:00:00+00:00,N/A,N/A,N/A,false,2020-01-01T00:00:00+00:00,2020-02-01T00:00:00+00:00,eu-west-1,iam,false,N/A,false,N/A",
        ]);
        let mut rj = Rejects::new(false);
        let v = read(&Input::new("report.csv", text), &mut rj).unwrap();
        let ids: Vec<&str> = v.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "arn:aws:iam::123456789012:root#password",
                "arn:aws:iam::123456789012:root#access_key_1",
                "arn:aws:iam::123456789012:user/alice#password",
                "arn:aws:iam::123456789012:user/alice#access_key_1",
                "arn:aws:iam::123456789012:user/alice#access_key_2",
            ]
        );
        assert!(v[1].account_level && v[1].status == CredentialStatus::Active);
        assert_eq!(v[2].mfa, Some(false));
        assert!(!v[2].usage_known, "no_information means unknown, not never");
        assert!(
            v[3].usage_known && v[3].last_used.is_none(),
            "N/A last used on a key means never used"
        );
        assert_eq!(v[4].status, CredentialStatus::Inactive);
        assert_eq!(v[3].system, "aws:123456789012");
    }

    #[test]
    fn wrong_header_and_bad_values_are_located() {
        let mut rj = Rejects::new(false);
        let e = read(&Input::new("r.csv", "user,arn\nx,y\n"), &mut rj)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "r.csv:1: missing required column(s) user_creation_time, password_enabled"
            ),
            "{e}"
        );
        let text = report(&["bob,arn:aws:iam::123456789012:user/bob,2019-01-01T00:00:00+00:00,maybe,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"]);
        let e = read(&Input::new("r.csv", text.clone()), &mut rj)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "r.csv:2: field `password_enabled`: expected true, false or not_supported, found \"maybe\"");
        let mut keep = Rejects::new(true);
        assert!(read(&Input::new("r.csv", text), &mut keep)
            .unwrap()
            .is_empty());
        assert_eq!(keep.len(), 1);
    }

    #[test]
    fn sniffs_header() {
        assert!(sniff(&format!("\u{feff}{HEADER}\r\n")));
        assert!(!sniff("id,kind,system\n"));
    }
}
