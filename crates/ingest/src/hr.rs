//! HR roster reader: CSV or JSON in credwarden's documented schema (with common HRIS header
//! spellings), or a SCIM 2.0 `ListResponse` of Users. See `docs/formats.md`.

use crate::dates::parse_date;
use crate::error::{quote, IngestError, Rejects};
use crate::records::{any_records, convert, json_values, Dedup, FieldSpec, Input, Record};
use credwarden_model::{Identity, IdentityKind, IdentityStatus, SourceRef};
use serde_json::Value;
use std::sync::Arc;

/// Roster fields and the header spellings accepted for each (normalized: lower-case alphanumerics).
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "id",
        required: true,
        aliases: &[
            "employeeid",
            "employeenumber",
            "employeeno",
            "empid",
            "empno",
            "workerid",
            "personid",
            "personnelnumber",
            "staffid",
            "associateid",
            "uid",
            "identityid",
        ],
    },
    FieldSpec {
        name: "emails",
        required: false,
        aliases: &[
            "email",
            "workemail",
            "emailaddress",
            "workemailaddress",
            "primaryemail",
            "businessemail",
            "mail",
            "emailaddresses",
        ],
    },
    FieldSpec {
        name: "usernames",
        required: false,
        aliases: &[
            "username",
            "login",
            "logins",
            "userid",
            "user",
            "samaccountname",
            "userprincipalname",
            "upn",
            "networkid",
            "handle",
            "aliases",
            "alias",
            "githubusername",
        ],
    },
    FieldSpec {
        name: "display_name",
        required: false,
        aliases: &[
            "displayname",
            "name",
            "fullname",
            "employeename",
            "workername",
            "preferredname",
            "legalname",
        ],
    },
    FieldSpec {
        name: "first_name",
        required: false,
        aliases: &["firstname", "givenname", "forename"],
    },
    FieldSpec {
        name: "last_name",
        required: false,
        aliases: &["lastname", "surname", "familyname"],
    },
    FieldSpec {
        name: "kind",
        required: false,
        aliases: &[
            "type",
            "employeetype",
            "employmenttype",
            "workertype",
            "workerkind",
            "identitykind",
            "employeeclass",
            "workercategory",
            "usertype",
        ],
    },
    FieldSpec {
        name: "status",
        required: false,
        aliases: &[
            "employmentstatus",
            "employeestatus",
            "workerstatus",
            "state",
            "active",
            "isactive",
        ],
    },
    FieldSpec {
        name: "start_date",
        required: false,
        aliases: &[
            "startdate",
            "hiredate",
            "dateofhire",
            "originalhiredate",
            "joindate",
            "joiningdate",
            "dateofjoining",
            "contractstart",
            "contractstartdate",
        ],
    },
    FieldSpec {
        name: "end_date",
        required: false,
        aliases: &[
            "enddate",
            "terminationdate",
            "termdate",
            "lastday",
            "lastdayofwork",
            "separationdate",
            "leavedate",
            "dateofleaving",
            "exitdate",
            "contractend",
            "contractenddate",
            "terminationeffectivedate",
            "lastdayworked",
            "lastworkingday",
            "lastworkday",
        ],
    },
    FieldSpec {
        name: "manager",
        required: false,
        aliases: &[
            "managerid",
            "manageremail",
            "supervisor",
            "supervisorid",
            "reportsto",
            "linemanager",
        ],
    },
    FieldSpec {
        name: "department",
        required: false,
        aliases: &[
            "dept",
            "team",
            "org",
            "organization",
            "businessunit",
            "division",
        ],
    },
];

const SCIM_LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCIM_ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Read a roster file (CSV, JSON array / `{"identities": [...]}` / JSON lines, or SCIM ListResponse).
pub fn read(input: &Input, rejects: &mut Rejects) -> Result<Vec<Identity>, IngestError> {
    read_with(input, rejects, FIELDS)
}

/// The roster fields with the column names a config gives (`[hr.columns]`: field → header as the
/// export spells it) accepted besides the built-in spellings. Unknown fields are an error naming
/// the ones there are.
pub fn fields_with(
    columns: &std::collections::BTreeMap<String, String>,
) -> Result<&'static [FieldSpec], String> {
    if columns.is_empty() {
        return Ok(FIELDS);
    }
    let names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    if let Some(bad) = columns.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(format!(
            "[hr.columns]: `{bad}` is not a roster field (fields: {})",
            names.join(", ")
        ));
    }
    // Leaked once per distinct mapping (a daemon re-reads the roster on every look): the specs
    // are static for the readers.
    type Made = Vec<(
        std::collections::BTreeMap<String, String>,
        &'static [FieldSpec],
    )>;
    static MADE: std::sync::Mutex<Made> = std::sync::Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, specs)) = made.iter().find(|(c, _)| c == columns) {
        return Ok(specs);
    }
    let specs: Vec<FieldSpec> = FIELDS
        .iter()
        .map(|f| {
            let mut aliases: Vec<&'static str> = f.aliases.to_vec();
            if let Some(h) = columns.get(f.name) {
                aliases.push(Box::leak(crate::records::norm_key(h).into_boxed_str()));
            }
            FieldSpec {
                name: f.name,
                required: f.required,
                aliases: Box::leak(aliases.into_boxed_slice()),
            }
        })
        .collect();
    let specs: &'static [FieldSpec] = Box::leak(specs.into_boxed_slice());
    made.push((columns.clone(), specs));
    Ok(specs)
}

/// [`read`] with the fields `specs` describes (see [`fields_with`]).
pub fn read_with(
    input: &Input,
    rejects: &mut Rejects,
    specs: &[FieldSpec],
) -> Result<Vec<Identity>, IngestError> {
    if is_scim(input) {
        return read_scim(input, rejects);
    }
    // A roster must say who left: a status column, or a termination date to derive it from.
    if !input.looks_like_json() {
        let header = input.text.lines().next().unwrap_or("");
        let has = |field: &str| {
            let spec = specs.iter().find(|f| f.name == field).expect("known field");
            header.split(',').any(|h| {
                let n = crate::records::norm_key(h.trim().trim_matches('"'));
                n == crate::records::norm_key(spec.name) || spec.aliases.contains(&n.as_str())
            })
        };
        if !header.trim().is_empty() && !has("status") && !has("end_date") {
            let spellings = |field: &str| {
                let spec = specs.iter().find(|f| f.name == field).expect("known field");
                std::iter::once(spec.name)
                    .chain(spec.aliases.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(IngestError::MissingColumns {
                file: input.label.clone(),
                line: 1,
                missing: format!(
                    "`status` ({}) or `end_date` ({}); map another name with [hr.columns]",
                    spellings("status"),
                    spellings("end_date")
                ),
                found: crate::error::shorten(
                    header
                        .split(',')
                        .map(|h| h.trim().trim_matches('"'))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            });
        }
    }
    let rows = any_records(
        input,
        specs,
        &["identities", "employees", "workers", "people", "users"],
    )?;
    convert(rows, rejects, |r| {
        identity(r).map(|i| (i.id.to_lowercase(), i.id.clone(), i))
    })
}

fn status_value(r: &Record) -> Result<IdentityStatus, IngestError> {
    let key = crate::records::norm_key(&r.key("status"));
    let v = r
        .str("status")
        .ok_or_else(|| r.err("status", "required value is empty"))?;
    if key == "active" || key == "isactive" {
        return match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(IdentityStatus::Active),
            "false" | "no" | "n" | "0" => Ok(IdentityStatus::Terminated),
            _ => Err(r.err(
                "status",
                format!("expected true or false, found {}", quote(v)),
            )),
        };
    }
    v.parse().map_err(|e: String| r.err("status", e))
}

fn lower_list(v: Vec<String>) -> Vec<String> {
    let mut v: Vec<String> = v.into_iter().map(|s| s.to_lowercase()).collect();
    v.dedup();
    v
}

fn identity(r: &Record) -> Result<Identity, IngestError> {
    let id = r.require("id", |s| Ok(s.to_string()))?;
    let end_date = r.parse("end_date", parse_date)?;
    // No status column: a termination date is the departure HR recorded.
    let status = if r.has("status") {
        status_value(r)?
    } else if end_date.is_some() {
        IdentityStatus::Terminated
    } else {
        IdentityStatus::Active
    };
    let kind = r
        .parse("kind", |s| s.parse::<IdentityKind>())?
        .unwrap_or(IdentityKind::Employee);
    let emails = lower_list(r.list("emails"));
    if let Some(bad) = emails.iter().find(|e| !e.contains('@')) {
        return Err(r.err("emails", format!("not an email address: {}", quote(bad))));
    }
    let display_name = r.str("display_name").map(str::to_string).or_else(|| {
        let parts: Vec<&str> = [r.str("first_name"), r.str("last_name")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let start_date = r.parse("start_date", parse_date)?;
    if let (Some(s), Some(e)) = (start_date, end_date) {
        if e < s {
            return Err(r.err("end_date", format!("end date {e} is before start date {s}")));
        }
    }
    Ok(Identity {
        id,
        display_name,
        emails,
        usernames: lower_list(r.list("usernames")),
        kind,
        status,
        start_date,
        end_date,
        manager: r.str("manager").map(str::to_string),
        department: r.str("department").map(str::to_string),
        source: r.source(),
    })
}

fn is_scim(input: &Input) -> bool {
    let head: String = input.text.chars().take(4096).collect();
    head.contains(SCIM_LIST) || head.contains("\"Resources\"")
}

/// SCIM 2.0 Users as a roster: `active: false` means terminated. SCIM has no termination date, so
/// the enterprise extension's `endDate` / `terminationDate` (non-standard, common in HR-driven
/// provisioning) is used when present, else `meta.lastModified` of an inactive user (the latest the
/// departure can have been recorded).
fn read_scim(input: &Input, rejects: &mut Rejects) -> Result<Vec<Identity>, IngestError> {
    let mut out = Vec::new();
    let mut seen = Dedup::default();
    for (line, raw) in json_values(input, &["Resources"])? {
        let user = scim_user(&input.source, line, raw.get()).and_then(|i| {
            seen.check(i.id.to_lowercase(), &i.id, &input.label, line)
                .map(|_| i)
        });
        match user {
            Ok(i) => out.push(i),
            Err(e) => rejects.reject(e, Some(raw.get()))?,
        }
    }
    Ok(out)
}

fn scim_user(src: &Arc<str>, line: u64, raw: &str) -> Result<Identity, IngestError> {
    let u: Value = serde_json::from_str(raw)
        .map_err(|e| IngestError::field(src, line, "(record)", e.to_string()))?;
    scim_identity(&u, src, line)
}

/// One SCIM 2.0 User (core schema and enterprise extension) as an identity; `src` and `line` name
/// where it was read, for errors and provenance. Shared by the roster reader and `serve`.
pub fn scim_identity(u: &Value, src: &Arc<str>, line: u64) -> Result<Identity, IngestError> {
    let file: &str = src;
    let err = |field: &str, reason: String| IngestError::field(file, line, field, reason);
    let s = |v: &Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let id = s(&u["id"])
        .or_else(|| s(&u["externalId"]))
        .ok_or_else(|| err("id", "SCIM user has no id".into()))?;
    let active = match &u["active"] {
        Value::Bool(b) => *b,
        Value::Null => true,
        other => {
            return Err(err(
                "active",
                format!("expected true or false, found {other}"),
            ))
        }
    };
    let ent = &u[SCIM_ENTERPRISE];
    let date_of = |field: &str, v: &Value| -> Result<Option<jiff::civil::Date>, IngestError> {
        match s(v) {
            Some(t) => parse_date(&t).map(Some).map_err(|e| err(field, e)),
            None => Ok(None),
        }
    };
    let mut end_date = date_of("endDate", &ent["endDate"])?;
    if end_date.is_none() {
        end_date = date_of("terminationDate", &ent["terminationDate"])?;
    }
    if end_date.is_none() && !active {
        end_date = date_of("meta.lastModified", &u["meta"]["lastModified"])?;
    }
    let mut emails: Vec<String> = u["emails"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| s(&e["value"]))
                .map(|e| e.to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    emails.dedup();
    let mut usernames = Vec::new();
    if let Some(un) = s(&u["userName"]) {
        let un = un.to_lowercase();
        if un.contains('@') && !emails.contains(&un) {
            emails.push(un.clone());
        }
        usernames.push(un);
    }
    if let Some(x) = s(&u["externalId"]) {
        usernames.push(x.to_lowercase());
    }
    if let Some(n) = s(&ent["employeeNumber"]) {
        usernames.push(n.to_lowercase());
    }
    let kind = s(&u["userType"])
        .and_then(|t| t.parse().ok())
        .unwrap_or(IdentityKind::Employee);
    let display_name = s(&u["displayName"])
        .or_else(|| s(&u["name"]["formatted"]))
        .or_else(|| {
            let parts: Vec<String> = [s(&u["name"]["givenName"]), s(&u["name"]["familyName"])]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
    Ok(Identity {
        id,
        display_name,
        emails,
        usernames,
        kind,
        status: if active {
            IdentityStatus::Active
        } else {
            IdentityStatus::Terminated
        },
        start_date: date_of("startDate", &ent["startDate"])?,
        end_date,
        manager: s(&ent["manager"]["value"]),
        department: s(&ent["department"]),
        source: SourceRef::new(src.clone(), line),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str, keep: bool) -> (Result<Vec<Identity>, IngestError>, Rejects) {
        let mut rj = Rejects::new(keep);
        let input = Input::new("hr.csv", text);
        (read(&input, &mut rj), rj)
    }

    #[test]
    fn reads_hris_spellings_with_bom_and_crlf() {
        let text = "\u{feff}Employee ID,Work Email,Full Name,Worker Type,Employment Status,Hire Date,Termination Date,Manager,Department\r\n\
                    E1,alice@corp.example,Alice,Full-Time,Active,2020-01-06,,E9,Login\r\n\
                    E2,bob@corp.example,Bob,Contractor,Terminated,2021-03-01,2024-12-20,E9,Login\r\n";
        let (r, rj) = read_str(text, false);
        let v = r.unwrap();
        assert!(rj.is_empty());
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].status, IdentityStatus::Terminated);
        assert_eq!(v[1].kind, IdentityKind::Contractor);
        assert_eq!(v[1].end_date.unwrap().to_string(), "2024-12-20");
        assert_eq!(v[1].source.line, 3);
    }

    #[test]
    fn missing_status_column_is_named() {
        let (r, _) = read_str("id,email\nE1,a@b.c\n", false);
        let e = r.unwrap_err().to_string();
        assert!(
            e.starts_with("hr.csv:1: missing required column(s) `status`"),
            "{e}"
        );
        assert!(e.contains("found columns: id, email"), "{e}");
    }

    #[test]
    fn bad_date_is_located_and_keep_going_continues() {
        let text = "id,status,end_date\nE1,terminated,2024-02-30\nE2,active,\nE2,active,\n";
        let (r, _) = read_str(text, false);
        assert_eq!(
            r.unwrap_err()
                .to_string()
                .split(": invalid")
                .next()
                .unwrap(),
            "hr.csv:2: field `end_date`"
        );
        let (r, rj) = read_str(text, true);
        assert_eq!(r.unwrap().len(), 1);
        assert_eq!(rj.len(), 2);
        assert!(rj.items()[1]
            .error
            .to_string()
            .contains("duplicate id \"E2\" (first seen at line 3)"));
    }

    #[test]
    fn empty_and_header_only() {
        let (r, _) = read_str("\u{feff}  \n", false);
        assert_eq!(r.unwrap_err().to_string(), "hr.csv: file is empty");
        let (r, _) = read_str("id,status\n", false);
        assert!(r.unwrap().is_empty());
    }

    #[test]
    fn json_roster_lines_are_exact() {
        let text = "{\"identities\": [\n  {\"id\": \"E1\", \"status\": \"active\", \"emails\": [\"a@x.io\"]},\n  {\"id\": \"E2\", \"status\": \"gone fishing\"}\n]}";
        let mut rj = Rejects::new(true);
        let v = read(&Input::new("hr.json", text), &mut rj).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(rj.items()[0].error.to_string(), "hr.json:3: field `status`: unknown employment status \"gone fishing\" (expected active, leave or terminated)");
    }

    #[test]
    fn scim_list_response() {
        let text = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"Resources":[
 {"id":"2819c223","userName":"bjensen@example.com","active":true,"emails":[{"value":"bjensen@example.com","primary":true}],"name":{"formatted":"Barbara Jensen"}},
 {"id":"9f1","userName":"jdoe","active":false,"userType":"Contractor","meta":{"lastModified":"2025-01-10T08:00:00Z"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Login"}}]}"#;
        let mut rj = Rejects::new(false);
        let v = read(&Input::new("scim.json", text), &mut rj).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].display_name.as_deref(), Some("Barbara Jensen"));
        assert_eq!(v[1].status, IdentityStatus::Terminated);
        assert_eq!(v[1].end_date.unwrap().to_string(), "2025-01-10");
        assert!(v[1].usernames.contains(&"701984".to_string()));
        assert_eq!(v[1].source.line, 3);
    }

    #[test]
    fn a_bad_byte_costs_its_row_and_an_endless_file_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("hr.csv");
        let mut bytes = b"employee_id,name,email,status\nE1,Ana,ana@x.example,active\n".to_vec();
        bytes.extend(b"E2,B\xffo,bo@x.example,active\nE3,Cy,cy@x.example,active\n");
        std::fs::write(&p, bytes).unwrap();
        let input = Input::read(&p).unwrap();
        let mut rejects = Rejects::new(true);
        let ids = read(&input, &mut rejects).unwrap();
        assert_eq!(
            ids.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["E1", "E3"]
        );
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects.items()[0].error.line(), Some(3));
        assert!(rejects.items()[0].error.to_string().contains("not UTF-8"));
        // Without --keep-going the bad row stops the run, named.
        assert!(read(&input, &mut Rejects::new(false))
            .unwrap_err()
            .to_string()
            .contains("hr.csv:3"));
    }

    #[test]
    fn exports_as_they_come_employee_number_no_status_and_mapped_columns() {
        let text = "Employee #,Full Name,Work Email,Last Day Worked\n7,Ana Lee,ana@x.example,\n8,Bo Kim,bo@x.example,2025-03-31\n";
        let ids = read(&Input::new("hr.csv", text), &mut Rejects::new(false)).unwrap();
        assert_eq!(ids[0].id, "7");
        assert_eq!(ids[0].status, IdentityStatus::Active);
        assert_eq!(
            ids[1].status,
            IdentityStatus::Terminated,
            "a termination date, no status column"
        );
        // A column no built-in spelling knows, named in the config.
        let text =
            "Badge,Name,Mail,Gone On\nB1,Ana,ana@x.example,\nB2,Bo,bo@x.example,2025-03-31\n";
        assert!(read(&Input::new("hr.csv", text), &mut Rejects::new(false)).is_err());
        let cols = [("id", "Badge"), ("end_date", "Gone On")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let specs = fields_with(&cols).unwrap();
        let ids = read_with(&Input::new("hr.csv", text), &mut Rejects::new(false), specs).unwrap();
        assert_eq!(ids[1].id, "B2");
        assert_eq!(ids[1].status, IdentityStatus::Terminated);
        let bad = [("badge".to_string(), "Badge".to_string())]
            .into_iter()
            .collect();
        assert!(fields_with(&bad)
            .unwrap_err()
            .contains("not a roster field"));
    }
}
