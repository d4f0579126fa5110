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
use std::io::{BufRead, BufReader, Read};
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

/// Field names (JSON pointers, `/`-separated) for one kind of log.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Event time (RFC 3339 string or epoch seconds/milliseconds).
    pub time: &'static str,
    /// Acting principal (user, service).
    pub principal: &'static str,
    /// Credential used.
    pub credential: &'static str,
    /// Action (HTTP path, command, SQL operation).
    pub action: &'static str,
    /// Resource (table, endpoint).
    pub resource: &'static str,
    /// Source address.
    pub ip: &'static str,
    /// User agent.
    pub user_agent: &'static str,
    /// Status code (HTTP) for the outcome.
    pub status: &'static str,
    /// Bytes.
    pub bytes: &'static str,
    /// Records / rows returned.
    pub records: &'static str,
    /// Event id.
    pub id: &'static str,
    /// Token claims: sub, jti, kid, iat, client.
    pub claims: [&'static str; 5],
}

impl Kind {
    /// The default mapping for this kind.
    pub fn mapping(self) -> Mapping {
        match self {
            Kind::Gateway => Mapping {
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
                ],
            },
            Kind::Issuance => Mapping {
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
                claims: ["/sub", "/jti", "/kid", "/iat", "/client_id"],
            },
            Kind::Shell => Mapping {
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
                claims: ["", "", "", "", ""],
            },
            Kind::DbAccess => Mapping {
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
                claims: ["", "", "", "", ""],
            },
        }
    }

    /// Guess the kind from one record's fields.
    pub fn sniff(v: &Value) -> Option<Kind> {
        if v.get("token").is_some_and(Value::is_object) {
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

fn text(v: &Value, ptr: &str) -> Option<String> {
    if ptr.is_empty() {
        return None;
    }
    match v.pointer(ptr)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn time_of(v: &Value, ptr: &str) -> Result<Option<jiff::Timestamp>, String> {
    match v.pointer(ptr) {
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
    let time = time_of(v, m.time)
        .map_err(|e| err(m.time, e))?
        .ok_or_else(|| err(m.time, "missing".into()))?;
    let status = v.pointer(m.status).and_then(Value::as_i64);
    let outcome = match (kind, status) {
        (_, Some(401 | 403)) => EventOutcome::Denied,
        (Kind::Gateway, Some(s)) if s >= 400 => EventOutcome::Failure,
        (Kind::Shell, Some(s)) if s != 0 => EventOutcome::Failure,
        (_, Some(_)) | (_, None) => EventOutcome::Success,
    };
    let token = (kind == Kind::Gateway || kind == Kind::Issuance).then(
        || -> Result<TokenClaims, IngestError> {
            Ok(TokenClaims {
                sub: text(v, m.claims[0]),
                jti: text(v, m.claims[1]),
                kid: text(v, m.claims[2]),
                iat: time_of(v, m.claims[3]).map_err(|e| err(m.claims[3], e))?,
                client: text(v, m.claims[4]),
            })
        },
    );
    let token = token.transpose()?;
    Ok(Event {
        time,
        credential_id: text(v, m.credential),
        principal: text(v, m.principal),
        token,
        action: text(v, m.action).unwrap_or_else(|| kind.name().to_string()),
        resource: ResourceRef {
            kind: Some(kind.name().to_string()),
            id: text(v, m.resource),
            sensitivity: None,
        },
        src: Network {
            ip: text(v, m.ip),
            asn: None,
            country: None,
        },
        user_agent: text(v, m.user_agent),
        outcome,
        volume: Volume {
            bytes: v.pointer(m.bytes).and_then(Value::as_u64),
            records: v.pointer(m.records).and_then(Value::as_u64),
        },
        event_id: text(v, m.id),
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
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let mut line = String::new();
    let mut n = 0u64;
    let mut kind = kind;
    let mut mapping = kind.map(Kind::mapping);
    loop {
        line.clear();
        n += 1;
        if r.read_line(&mut line).map_err(|e| IngestError::Io {
            file: file.to_string(),
            reason: e.to_string(),
        })? == 0
        {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                each(Err(IngestError::Syntax {
                    file: file.to_string(),
                    line: n,
                    reason: format!("invalid JSON: {e}"),
                }));
                continue;
            }
        };
        if kind.is_none() {
            kind = Kind::sniff(&v);
            mapping = kind.map(Kind::mapping);
            if kind.is_none() {
                return Err(IngestError::Format { file: file.to_string(), reason: format!("line {n}: not a known JSON-lines log (gateway, token issuance, shell, DB access)") });
            }
        }
        let (k, m) = (
            kind.expect("set above"),
            mapping.as_ref().expect("set above"),
        );
        each(normalize(&v, k, m, file, n));
    }
    kind.ok_or_else(|| IngestError::Empty {
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
}
