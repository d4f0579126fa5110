//! JSON-lines activity logs that are not CloudTrail: the customer API gateway's access log (with the
//! token claims the gateway saw), the login service's token-issuance log, and shell / process-event
//! history. Each kind has a [`Mapping`] from its field names to the [`Event`]'s; the defaults match the
//! documented formats (`docs/simulator.md`), and a different gateway or DB-audit log is read by giving
//! another mapping. Unknown fields are ignored; a line that is not JSON, or lacks the time, is one bad
//! record located by file and line, and the stream goes on.

use crate::error::IngestError;
use crate::parse_timestamp;
use credwarden_model::{Event, EventOutcome, Network, ResourceRef, SourceRef, TokenClaims, Volume};
use serde_json::Value;
use std::io::{BufReader, Read};
use std::sync::Arc;

/// What kind of log a JSON-lines file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// API gateway / application access log with bearer-token claims.
    Gateway,
    /// Login service token issuance.
    Issuance,
    /// Shell history / process events.
    Shell,
    /// Database / application data-access log.
    DbAccess,
}

/// Field names (JSON pointers, `/`-separated; empty = not in this log) for one kind of log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping<S = String> {
    /// Event time (RFC 3339 string or epoch seconds/milliseconds).
    pub time: S,
    /// Acting principal (user, service).
    pub principal: S,
    /// Credential used.
    pub credential: S,
    /// Action (HTTP path, command, SQL operation).
    pub action: S,
    /// Resource (table, endpoint).
    pub resource: S,
    /// Source address.
    pub ip: S,
    /// User agent.
    pub user_agent: S,
    /// Status code (HTTP) for the outcome.
    pub status: S,
    /// Bytes.
    pub bytes: S,
    /// Records / rows returned.
    pub records: S,
    /// Event id.
    pub id: S,
    /// Token claims: sub, jti, kid, iat, client, exp.
    pub claims: [S; 6],
}

impl Mapping<&'static str> {
    fn owned(&self) -> Mapping {
        Mapping {
            time: self.time.into(),
            principal: self.principal.into(),
            credential: self.credential.into(),
            action: self.action.into(),
            resource: self.resource.into(),
            ip: self.ip.into(),
            user_agent: self.user_agent.into(),
            status: self.status.into(),
            bytes: self.bytes.into(),
            records: self.records.into(),
            id: self.id.into(),
            claims: self.claims.map(String::from),
        }
    }
}

impl Mapping {
    /// Field names a config may set (`claims.sub` … for the token claims).
    pub const FIELDS: &'static [&'static str] = &[
        "time",
        "principal",
        "credential",
        "action",
        "resource",
        "ip",
        "user_agent",
        "status",
        "bytes",
        "records",
        "id",
        "claims.sub",
        "claims.jti",
        "claims.kid",
        "claims.iat",
        "claims.client",
        "claims.exp",
    ];

    /// The slot for a config field name (see [`Mapping::FIELDS`]).
    fn slot(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "time" => &mut self.time,
            "principal" => &mut self.principal,
            "credential" => &mut self.credential,
            "action" => &mut self.action,
            "resource" => &mut self.resource,
            "ip" => &mut self.ip,
            "user_agent" => &mut self.user_agent,
            "status" => &mut self.status,
            "bytes" => &mut self.bytes,
            "records" => &mut self.records,
            "id" => &mut self.id,
            "claims.sub" => &mut self.claims[0],
            "claims.jti" => &mut self.claims[1],
            "claims.kid" => &mut self.claims[2],
            "claims.iat" => &mut self.claims[3],
            "claims.client" => &mut self.claims[4],
            "claims.exp" => &mut self.claims[5],
            _ => return None,
        })
    }
}

/// A JSON-lines log described in the config file (`[[log]]`): which kind of log it is for the
/// detectors, which files or records it applies to, and where its fields are. Fields not given keep the
/// kind's default; a field given as `""` is absent from this log.
///
/// ```toml
/// [[log]]
/// name = "kong"                 # shown in counts and errors
/// kind = "gateway"              # gateway | token_issuance | shell | db_access
/// path_contains = "kong/"       # files whose path contains this…
/// has_field = "upstream_uri"    # …or whose first record has this field
/// [log.fields]
/// time = "started_at"           # dotted path or JSON pointer (/a/b)
/// ip = "client_ip"
/// "claims.jti" = "request.headers.x-token-id"
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMapping {
    /// Name, for counts and errors.
    pub name: String,
    /// Kind of log, which decides the detectors that read it.
    pub kind: Kind,
    /// Applies to files whose path contains this.
    pub path_contains: Option<String>,
    /// Applies to files whose first record has this field (JSON pointer).
    pub has_field: Option<String>,
    /// Where the fields are.
    pub mapping: Mapping,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogMappingToml {
    name: String,
    kind: String,
    #[serde(default)]
    path_contains: Option<String>,
    #[serde(default)]
    has_field: Option<String>,
    #[serde(default)]
    fields: std::collections::BTreeMap<String, String>,
}

/// A dotted path (`a.b.c`) or a JSON pointer (`/a/b/c`) as a JSON pointer; `""` stays empty (absent).
fn pointer(path: &str) -> String {
    if path.is_empty() || path.starts_with('/') {
        path.to_string()
    } else {
        path.split('.')
            .map(|p| p.replace('~', "~0").replace('/', "~1"))
            .fold(String::new(), |acc, p| acc + "/" + &p)
    }
}

impl<'de> serde::Deserialize<'de> for LogMapping {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let t = LogMappingToml::deserialize(d)?;
        let kind = Kind::from_name(&t.kind).ok_or_else(|| {
            D::Error::custom(format!(
                "log `{}`: unknown kind `{}`; expected one of gateway, token_issuance, shell, db_access",
                t.name, t.kind
            ))
        })?;
        if t.path_contains.is_none() && t.has_field.is_none() {
            return Err(D::Error::custom(format!(
                "log `{}`: set `path_contains` or `has_field` so files can be matched to it",
                t.name
            )));
        }
        let mut mapping = kind.mapping();
        for (k, v) in &t.fields {
            let slot = mapping.slot(k).ok_or_else(|| {
                D::Error::custom(format!(
                    "log `{}`: unknown field `{k}`; expected one of {}",
                    t.name,
                    Mapping::FIELDS.join(", ")
                ))
            })?;
            *slot = pointer(v);
        }
        Ok(LogMapping {
            name: t.name,
            kind,
            path_contains: t.path_contains,
            has_field: t.has_field.as_deref().map(pointer),
            mapping,
        })
    }
}

impl LogMapping {
    /// Does this mapping name the file at `path`?
    pub fn matches_path(&self, path: &str) -> bool {
        self.path_contains
            .as_deref()
            .is_some_and(|p| path.contains(p))
    }

    /// Does the first record in `head` (the start of a file) have this mapping's field?
    pub fn matches_head(&self, head: &str) -> bool {
        let Some(field) = &self.has_field else {
            return false;
        };
        let first = head.lines().next().unwrap_or("");
        serde_json::from_str::<Value>(first).is_ok_and(|v| v.pointer(field).is_some())
    }
}

impl Kind {
    /// The default mapping for this kind.
    pub fn mapping(self) -> Mapping {
        let m = match self {
            Kind::Gateway => Mapping::<&'static str> {
                time: "/time",
                principal: "/token/sub",
                credential: "/token/kid",
                action: "/path",
                resource: "/path",
                ip: "/client_ip",
                user_agent: "/user_agent",
                status: "/status",
                bytes: "/bytes",
                records: "/records",
                id: "/request_id",
                claims: [
                    "/token/sub",
                    "/token/jti",
                    "/token/kid",
                    "/token/iat",
                    "/token/client_id",
                    "/token/exp",
                ],
            },
            Kind::Issuance => Mapping::<&'static str> {
                time: "/time",
                principal: "/sub",
                credential: "/kid",
                action: "/event",
                resource: "/client_id",
                ip: "/ip",
                user_agent: "/user_agent",
                status: "/status",
                bytes: "/bytes",
                records: "/records",
                id: "/jti",
                claims: ["/sub", "/jti", "/kid", "/iat", "/client_id", "/exp"],
            },
            Kind::Shell => Mapping::<&'static str> {
                time: "/time",
                principal: "/user",
                credential: "/credential_id",
                action: "/command",
                resource: "/host",
                ip: "/source_ip",
                user_agent: "/user_agent",
                status: "/exit_code",
                bytes: "/bytes",
                records: "/records",
                id: "/event_id",
                claims: ["", "", "", "", "", ""],
            },
            Kind::DbAccess => Mapping::<&'static str> {
                time: "/time",
                principal: "/principal",
                credential: "/credential_id",
                action: "/operation",
                resource: "/table",
                ip: "/source_ip",
                user_agent: "/user_agent",
                status: "/status",
                bytes: "/bytes",
                records: "/rows",
                id: "/query_id",
                claims: ["", "", "", "", "", ""],
            },
        };
        m.owned()
    }

    /// Guess the kind from one record's fields.
    pub fn sniff(v: &Value) -> Option<Kind> {
        // An access log whose first record is a login or a public page carries no token yet.
        let http = v.get("status").is_some()
            && ["path", "uri", "request_uri"]
                .iter()
                .any(|k| v.get(k).is_some());
        if v.get("token").is_some_and(Value::is_object) || http {
            Some(Kind::Gateway)
        } else if v.get("event").and_then(Value::as_str) == Some("token_issued")
            || (v.get("jti").is_some() && v.get("kid").is_some())
        {
            Some(Kind::Issuance)
        } else if v.get("command").is_some() {
            Some(Kind::Shell)
        } else if v.get("operation").is_some()
            && (v.get("table").is_some() || v.get("rows").is_some())
        {
            Some(Kind::DbAccess)
        } else {
            None
        }
    }

    /// The kind named `name` (see [`Kind::name`]).
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "gateway" => Kind::Gateway,
            "token_issuance" | "issuance" => Kind::Issuance,
            "shell" => Kind::Shell,
            "db_access" | "db" => Kind::DbAccess,
            _ => return None,
        })
    }

    /// Stable name (`gateway`, `token_issuance`, `shell`, `db_access`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Gateway => "gateway",
            Kind::Issuance => "token_issuance",
            Kind::Shell => "shell",
            Kind::DbAccess => "db_access",
        }
    }
}

/// The value at `ptr`; an empty pointer means "not in this log" (not the whole record).
fn get<'v>(v: &'v Value, ptr: &str) -> Option<&'v Value> {
    if ptr.is_empty() {
        None
    } else {
        v.pointer(ptr)
    }
}

fn text(v: &Value, ptr: &str) -> Option<String> {
    match get(v, ptr)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn time_of(v: &Value, ptr: &str) -> Result<Option<jiff::Timestamp>, String> {
    match get(v, ptr) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s).map(Some),
        Some(Value::Number(n)) => {
            let x = n.as_i64().ok_or("not an integer")?;
            // Epoch milliseconds after 2001-09-09 are > 1e12; seconds are not.
            let r = if x.abs() > 100_000_000_000 {
                jiff::Timestamp::from_millisecond(x)
            } else {
                jiff::Timestamp::from_second(x)
            };
            r.map(Some).map_err(|e| e.to_string())
        }
        Some(other) => Err(format!("expected a timestamp, found {other}")),
    }
}

/// One JSON object → [`Event`].
pub fn normalize(
    v: &Value,
    kind: Kind,
    m: &Mapping,
    file: &Arc<str>,
    line: u64,
) -> Result<Event, IngestError> {
    let err = |field: &str, reason: String| {
        IngestError::field(file, line, field.trim_start_matches('/'), reason)
    };
    let time = time_of(v, &m.time)
        .map_err(|e| err(&m.time, e))?
        .ok_or_else(|| err(&m.time, "missing".into()))?;
    let status = get(v, &m.status).and_then(Value::as_i64);
    let outcome = match (kind, status) {
        (_, Some(401 | 403)) => EventOutcome::Denied,
        (Kind::Gateway, Some(s)) if s >= 400 => EventOutcome::Failure,
        (Kind::Shell, Some(s)) if s != 0 => EventOutcome::Failure,
        (_, Some(_)) | (_, None) => EventOutcome::Success,
    };
    let token = (kind == Kind::Gateway || kind == Kind::Issuance).then(
        || -> Result<TokenClaims, IngestError> {
            Ok(TokenClaims {
                sub: text(v, &m.claims[0]),
                jti: text(v, &m.claims[1]),
                kid: text(v, &m.claims[2]),
                iat: time_of(v, &m.claims[3]).map_err(|e| err(&m.claims[3], e))?,
                client: text(v, &m.claims[4]),
                exp: time_of(v, &m.claims[5]).map_err(|e| err(&m.claims[5], e))?,
            })
        },
    );
    let token = token.transpose()?;
    Ok(Event {
        time,
        credential_id: text(v, &m.credential),
        principal: text(v, &m.principal),
        token,
        action: text(v, &m.action).unwrap_or_else(|| kind.name().to_string()),
        resource: ResourceRef {
            kind: Some(kind.name().to_string()),
            id: text(v, &m.resource),
            sensitivity: None,
        },
        src: Network {
            ip: text(v, &m.ip),
            asn: None,
            country: None,
        },
        user_agent: text(v, &m.user_agent),
        outcome,
        volume: Volume {
            bytes: get(v, &m.bytes).and_then(Value::as_u64),
            records: get(v, &m.records).and_then(Value::as_u64),
        },
        event_id: text(v, &m.id),
        // Gateway and issuance records are fully described by the fields above (they are the bulk of
        // customer traffic: keep them small); shell and DB records keep their other fields for detectors.
        detail: match kind {
            Kind::Gateway | Kind::Issuance => Value::Null,
            Kind::Shell | Kind::DbAccess => v.clone(),
        },
        raw: SourceRef {
            file: file.clone(),
            line,
        },
    })
}

/// Read a JSON-lines log; the kind is sniffed from the first record unless given.
pub fn read(
    reader: impl Read,
    file: &Arc<str>,
    kind: Option<Kind>,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<Kind, IngestError> {
    read_with(reader, file, kind.map(|k| (k, k.mapping())), each)
}

/// Read a JSON-lines log described by a configured [`LogMapping`].
pub fn read_mapped(
    reader: impl Read,
    file: &Arc<str>,
    log: &LogMapping,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<Kind, IngestError> {
    read_with(reader, file, Some((log.kind, log.mapping.clone())), each)
}

fn read_with(
    reader: impl Read,
    file: &Arc<str>,
    mut known: Option<(Kind, Mapping)>,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<Kind, IngestError> {
    let mut r = crate::lines::LineReader::new(
        BufReader::with_capacity(1 << 16, reader),
        crate::lines::MAX_JSON_LINE,
        0,
    );
    // Lines that are not JSON before any that is: a few are damage, more mean the file is not
    // JSON lines at all (a pretty-printed document, a report): one error for the file, not one
    // per line.
    let mut bad_at_start: Vec<IngestError> = Vec::new();
    while let Some(l) = r.next_in(file)? {
        let n = l.n;
        let line = match l.text {
            Ok(t) => t,
            Err(e) => {
                each(Err(IngestError::line_error(file, n, &e)));
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) if !l.terminated => {
                each(Err(l.incomplete(file)));
                continue;
            }
            Err(e) => {
                let err = IngestError::Syntax {
                    file: file.to_string(),
                    line: n,
                    reason: format!("invalid JSON: {e}"),
                };
                if known.is_none() {
                    // Held until the file shows it is JSON lines after all: a report or a
                    // pretty-printed document is one error, not one per line.
                    bad_at_start.push(err);
                    if bad_at_start.len() >= 3 {
                        return Err(IngestError::Format {
                            file: file.to_string(),
                            reason: format!("not JSON lines (lines 1 to {n} are not JSON records): not a log credwarden reads"),
                        });
                    }
                } else {
                    each(Err(err));
                }
                continue;
            }
        };
        for held in bad_at_start.drain(..) {
            each(Err(held));
        }
        if known.is_none() {
            let Some(k) = Kind::sniff(&v) else {
                return Err(IngestError::Format { file: file.to_string(), reason: format!("line {n}: not a known JSON-lines log (gateway, token issuance, shell, DB access); describe it with a [[log]] mapping in the config") });
            };
            known = Some((k, k.mapping()));
        }
        let (k, m) = known.as_ref().expect("set above");
        each(normalize(&v, *k, m, file, n));
    }
    if known.is_none() && !bad_at_start.is_empty() {
        return Err(IngestError::Format {
            file: file.to_string(),
            reason: "not JSON lines (no line is a JSON record): not a log credwarden reads".into(),
        });
    }
    known.map(|(k, _)| k).ok_or_else(|| IngestError::Empty {
        file: file.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Result<Kind, IngestError>, Vec<Result<Event, IngestError>>) {
        let mut got = Vec::new();
        let f: Arc<str> = Arc::from("log.jsonl");
        let r = read(text.as_bytes(), &f, None, &mut |e| got.push(e));
        (r, got)
    }

    #[test]
    fn gateway_lines_carry_token_claims() {
        let (k, got) = run(
            r#"{"time":"2025-04-05T00:00:29Z","request_id":"r1","client_ip":"45.133.0.9","user_agent":"python-requests/2.31.0","method":"GET","path":"/api/v1/members/17/address-book","status":200,"bytes":380,"records":1,"token":{"sub":"17","jti":"j1","kid":"login-rs256-2019","iat":1743811200,"client_id":"shop-web"}}"#,
        );
        assert_eq!(k.unwrap(), Kind::Gateway);
        let e = got[0].as_ref().unwrap();
        let t = e.token.as_ref().unwrap();
        assert_eq!(
            (t.sub.as_deref(), t.jti.as_deref(), t.kid.as_deref()),
            (Some("17"), Some("j1"), Some("login-rs256-2019"))
        );
        assert_eq!(t.iat.unwrap().as_second(), 1_743_811_200);
        assert_eq!(e.volume.records, Some(1));
        assert_eq!(e.event_id.as_deref(), Some("r1"));
    }

    #[test]
    fn an_access_log_opening_with_a_login_is_a_gateway_log_with_exp_read() {
        let (k, got) = run(concat!(
            r#"{"time":"2025-04-05T00:00:01Z","request_id":"r0","client_ip":"1.2.3.4","method":"POST","path":"/api/v1/auth/login","status":200}"#,
            "\n",
            r#"{"time":"2025-04-05T00:00:29Z","request_id":"r1","client_ip":"1.2.3.4","path":"/api/v1/members/17/orders","status":200,"token":{"sub":"17","jti":"j1","kid":"k","iat":1743811200,"exp":1743814800,"client_id":"shop-web"}}"#,
        ));
        assert_eq!(k.unwrap(), Kind::Gateway);
        assert!(got[0]
            .as_ref()
            .unwrap()
            .token
            .as_ref()
            .unwrap()
            .sub
            .is_none());
        let t = got[1].as_ref().unwrap().token.clone().unwrap();
        assert_eq!(
            t.exp.unwrap().as_second() - t.iat.unwrap().as_second(),
            3600
        );
    }

    #[test]
    fn kinds_are_sniffed_and_bad_lines_located() {
        let (k, _) = run("{\"time\":\"2025-01-01T00:00:00Z\",\"event\":\"token_issued\",\"sub\":\"1\",\"jti\":\"j\",\"kid\":\"k\",\"iat\":1}\n");
        assert_eq!(k.unwrap(), Kind::Issuance);
        let (k, got) = run("{\"time\":\"2025-01-01T00:00:00Z\",\"user\":\"bob\",\"command\":\"aws s3 sync s3://b .\"}\nnope\n{\"user\":\"bob\",\"command\":\"ls\"}\n");
        assert_eq!(k.unwrap(), Kind::Shell);
        assert!(got[0].is_ok());
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("log.jsonl:2: invalid JSON"));
        assert_eq!(
            got[2].as_ref().unwrap_err().to_string(),
            "log.jsonl:3: field `time`: missing"
        );
        let (k, _) = run("{\"a\": 1}\n");
        assert!(k
            .unwrap_err()
            .to_string()
            .contains("not a known JSON-lines log"));
    }

    #[derive(serde::Deserialize)]
    struct Cfg {
        log: Vec<LogMapping>,
    }

    fn logs(text: &str) -> Result<Vec<LogMapping>, String> {
        toml::from_str::<Cfg>(text)
            .map(|c| c.log)
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn a_configured_mapping_reads_another_gateway() {
        let l = logs(
            r#"
[[log]]
name = "kong"
kind = "gateway"
path_contains = "kong/"
[log.fields]
time = "started_at"
ip = "client_ip"
principal = "consumer.username"
"claims.jti" = "request.headers.x-token-id"
"claims.kid" = "/request/headers/x-kid"
records = ""
"#,
        )
        .unwrap();
        let m = &l[0];
        assert!(
            m.matches_path("/logs/kong/2025-04-05.jsonl") && !m.matches_path("/logs/nginx.jsonl")
        );
        assert_eq!(m.mapping.claims[1], "/request/headers/x-token-id");
        let f: Arc<str> = Arc::from("kong.jsonl");
        let mut got = Vec::new();
        let line = r#"{"started_at":1743811229000,"client_ip":"45.133.0.9","consumer":{"username":"17"},"request":{"headers":{"x-token-id":"j1","x-kid":"k1"}},"path":"/x","status":403,"records":5}"#;
        let k = read_mapped(line.as_bytes(), &f, m, &mut |e| got.push(e)).unwrap();
        assert_eq!(k, Kind::Gateway);
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.time.as_second(), 1_743_811_229);
        assert_eq!(e.src.ip.as_deref(), Some("45.133.0.9"));
        assert_eq!(e.principal.as_deref(), Some("17"));
        let t = e.token.as_ref().unwrap();
        assert_eq!(
            (t.jti.as_deref(), t.kid.as_deref()),
            (Some("j1"), Some("k1"))
        );
        // `records = ""`: this log has no record count, even though the line has such a field.
        assert_eq!(e.volume.records, None);
        assert_eq!(e.outcome, EventOutcome::Denied);
    }

    #[test]
    fn mapping_mistakes_are_named() {
        let e =
            logs("[[log]]\nname = \"x\"\nkind = \"gatewy\"\npath_contains = \"x\"\n").unwrap_err();
        assert!(e.contains("unknown kind `gatewy`"), "{e}");
        let e = logs("[[log]]\nname = \"x\"\nkind = \"gateway\"\n").unwrap_err();
        assert!(e.contains("set `path_contains` or `has_field`"), "{e}");
        let e = logs("[[log]]\nname = \"x\"\nkind = \"gateway\"\nhas_field = \"a\"\n[log.fields]\ntim = \"t\"\n").unwrap_err();
        assert!(e.contains("unknown field `tim`"), "{e}");
        let m = &logs("[[log]]\nname = \"x\"\nkind = \"db_access\"\nhas_field = \"audit.query\"\n")
            .unwrap()[0];
        assert!(m.matches_head("{\"audit\":{\"query\":\"select\"}}\n"));
        assert!(!m.matches_head("{\"audit\":{}}\n"));
    }

    #[test]
    fn a_document_that_is_not_json_lines_is_one_error() {
        let (r, got) = run("{\n  \"recall\": 0.9,\n  \"precision\": 0.5\n}\n");
        assert!(got.is_empty(), "{got:?}");
        assert!(r.unwrap_err().to_string().contains("not JSON lines"));
        // A damaged first line of a real log costs that line only.
        let (r, got) = run("{\"time\":\n{\"time\":\"2025-03-04T00:00:00Z\",\"event\":\"token_issued\",\"sub\":\"1\",\"jti\":\"j1\",\"kid\":\"k\"}\n");
        assert!(r.is_ok());
        assert_eq!(got.len(), 2);
        assert!(got[0].is_err() && got[1].is_ok());
    }
}
