//! GCP Cloud Audit Logs as Cloud Logging exports them (`LogEntry` JSON whose `protoPayload` is a
//! `type.googleapis.com/google.cloud.audit.AuditLog`), streamed record by record into [`Event`]s. Layouts:
//! one entry per line (log sinks to Cloud Storage, `gcloud logging read --format=json` piped through
//! `jq -c`), a top-level array (`gcloud logging read --format=json`, the console's download), or one or
//! more pretty-printed entries. Gzip is undone by the caller (see [`crate::open`]).
//!
//! Entries that are not audit entries (`jsonPayload`/`textPayload`, or a `protoPayload` of another type,
//! as a sink of all logs delivers them) are skipped and counted. A line that is not JSON is one bad
//! record and the stream goes on; in an array or pretty-printed document a syntax error stops the file
//! (nothing after it can be located). An audit entry without `timestamp` (nor `receiveTimestamp`) or
//! `methodName`, or with a malformed one, is one bad record located by file, line and field.
//! Positions are real line numbers in every layout: the line on which the entry starts.

use crate::error::{quote, IngestError};
use crate::parse_timestamp;
pub use crate::vpcflow::Stats;
use credwarden_model::{Event, EventOutcome, Network, ResourceRef, SourceRef, Volume};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::rc::Rc;
use std::sync::Arc;

/// `@type` of an audit log payload.
pub const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";

fn str_at<'v>(v: &'v Value, path: &str) -> Option<&'v str> {
    v.pointer(path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The payload's `@type` (`at_sign_type` where Panther's data lake renamed it).
fn payload_type(pp: &Value) -> Option<&str> {
    str_at(pp, "/@type").or_else(|| str_at(pp, "/at_sign_type"))
}

/// Is `v` a log entry of another kind (not an audit entry, not bad input): a `jsonPayload` or
/// `textPayload` entry, or a `protoPayload` whose `@type` is not the audit log's?
pub fn is_other_entry(v: &Value) -> bool {
    match v.get("protoPayload") {
        Some(pp) => payload_type(pp).is_some_and(|t| t != AUDIT_LOG_TYPE),
        None => v.get("jsonPayload").is_some() || v.get("textPayload").is_some(),
    }
}

/// Does a file starting with `head` (BOM and leading whitespace trimmed) hold Cloud Audit Logs? A JSON
/// object or array whose first entry has a `protoPayload` and a `LogEntry` key (`logName`, `insertId`)
/// or the audit log's `@type`, with no CloudTrail key (`eventVersion`, `eventSource`) before it.
pub fn looks_like(head: &str) -> bool {
    let t = head.trim_start_matches('\u{feff}').trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) || t[1..].trim_start().starts_with("\"Records\"")
    {
        return false;
    }
    let Some(at) = t.find("\"protoPayload\"") else {
        return false;
    };
    let before = &t[..at];
    !before.contains("\"eventVersion\"")
        && !before.contains("\"eventSource\"")
        && (t.contains(AUDIT_LOG_TYPE) || t.contains("\"logName\"") || t.contains("\"insertId\""))
}

/// The key id of a service-account key resource name
/// (`//iam.googleapis.com/projects/p/serviceAccounts/sa/keys/KEYID` → `KEYID`).
pub fn key_id(key_name: &str) -> &str {
    match key_name.rfind("/keys/") {
        Some(i) if i + 6 < key_name.len() => &key_name[i + 6..],
        _ => key_name,
    }
}

/// The entry's time: `timestamp`, else `receiveTimestamp` (RFC 3339, nanoseconds allowed).
fn time_of(
    v: &Value,
    err: &dyn Fn(&str, String) -> IngestError,
) -> Result<jiff::Timestamp, IngestError> {
    for field in ["timestamp", "receiveTimestamp"] {
        match v.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return parse_timestamp(s).map_err(|e| err(field, e)),
            Some(other) => {
                return Err(err(
                    field,
                    format!("expected an RFC 3339 string, found {other}"),
                ))
            }
        }
    }
    Err(err("timestamp", "missing (and no receiveTimestamp)".into()))
}

/// `protoPayload.status.code` (a `google.rpc.Code`) → outcome.
fn outcome_of(
    pp: &Value,
    err: &dyn Fn(&str, String) -> IngestError,
) -> Result<EventOutcome, IngestError> {
    const FIELD: &str = "protoPayload.status.code";
    let code = match pp.pointer("/status/code") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| err(FIELD, format!("not an integer: {n}")))?,
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| err(FIELD, format!("not an integer: {}", quote(s))))?,
        Some(other) => return Err(err(FIELD, format!("not an integer: {other}"))),
    };
    Ok(match code {
        0 => EventOutcome::Success,
        // PERMISSION_DENIED, UNAUTHENTICATED.
        7 | 16 => EventOutcome::Denied,
        _ => EventOutcome::Failure,
    })
}

/// One log entry → [`Event`]. `line` is where the entry starts.
pub fn normalize(v: &Value, file: &Arc<str>, line: u64) -> Result<Event, IngestError> {
    let err = |field: &str, reason: String| IngestError::field(file, line, field, reason);
    if !v.is_object() {
        return Err(err("(record)", "expected a JSON object".into()));
    }
    let pp = match v.get("protoPayload") {
        Some(pp @ Value::Object(_)) => pp,
        None | Some(Value::Null) => return Err(err("protoPayload", "missing".into())),
        Some(other) => {
            return Err(err(
                "protoPayload",
                format!("expected an object, found {}", quote(&other.to_string())),
            ))
        }
    };
    if let Some(t) = payload_type(pp).filter(|t| *t != AUDIT_LOG_TYPE) {
        return Err(err(
            "protoPayload.@type",
            format!("not an audit log entry: {}", quote(t)),
        ));
    }
    let time = time_of(v, &err)?;
    let method = str_at(pp, "/methodName")
        .ok_or_else(|| err("protoPayload.methodName", "missing".into()))?;
    let outcome = outcome_of(pp, &err)?;
    let service = str_at(pp, "/serviceName");
    let resource_name = str_at(pp, "/resourceName");
    let key_name = str_at(pp, "/authenticationInfo/serviceAccountKeyName");
    let mut detail = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            detail.insert(k.to_string(), v);
        }
    };
    put("serviceName", service.map(Value::from));
    put("methodName", Some(Value::from(method)));
    put("resourceName", resource_name.map(Value::from));
    put("logName", str_at(v, "/logName").map(Value::from));
    put("severity", str_at(v, "/severity").map(Value::from));
    put(
        "project",
        str_at(v, "/resource/labels/project_id")
            .or_else(|| {
                str_at(v, "/logName")
                    .and_then(|l| l.strip_prefix("projects/"))
                    .and_then(|l| l.split('/').next())
            })
            .map(Value::from),
    );
    put("serviceAccountKeyName", key_name.map(Value::from));
    // What was asked and what changed (IAM policy deltas): rules read them. Kept only when present.
    put(
        "request",
        pp.get("request").filter(|r| !r.is_null()).cloned(),
    );
    put(
        "serviceData",
        pp.get("serviceData").filter(|r| !r.is_null()).cloned(),
    );
    put(
        "metadata",
        pp.get("metadata").filter(|r| !r.is_null()).cloned(),
    );
    let delegation = pp.pointer("/authenticationInfo/serviceAccountDelegationInfo/0");
    put(
        "delegatedFrom",
        delegation
            .and_then(|d| {
                str_at(d, "/firstPartyPrincipal/principalEmail")
                    .or_else(|| str_at(d, "/principalSubject"))
            })
            .map(Value::from),
    );
    put(
        "authorizationDenied",
        pp.get("authorizationInfo")
            .and_then(Value::as_array)
            .map(|a| {
                let denied = a
                    .iter()
                    .filter(|x| x.get("granted") == Some(&Value::Bool(false)))
                    .count();
                Value::from(denied)
            }),
    );
    Ok(Event {
        time,
        credential_id: key_name.map(|k| key_id(k).to_string()),
        principal: str_at(pp, "/authenticationInfo/principalEmail")
            .or_else(|| str_at(pp, "/authenticationInfo/principalSubject"))
            .map(str::to_string),
        token: None,
        action: method.to_string(),
        resource: ResourceRef {
            kind: service.map(str::to_string),
            id: resource_name.map(str::to_string),
            sensitivity: None,
        },
        src: Network {
            // `callerIP` is how Panther's data lake spells it.
            ip: str_at(pp, "/requestMetadata/callerIp")
                .or_else(|| str_at(pp, "/requestMetadata/callerIP"))
                .map(str::to_string),
            asn: None,
            country: None,
        },
        user_agent: str_at(pp, "/requestMetadata/callerSuppliedUserAgent").map(str::to_string),
        outcome,
        volume: Volume::default(),
        event_id: str_at(v, "/insertId").map(str::to_string),
        detail: Value::Object(detail),
        raw: SourceRef {
            file: file.clone(),
            line,
        },
    })
}

/// Route one entry: skipped (another kind of entry), an event, or a bad record.
fn route(
    v: &Value,
    file: &Arc<str>,
    line: u64,
    stats: &mut Stats,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) {
    if is_other_entry(v) {
        stats.skipped += 1;
        return;
    }
    let r = normalize(v, file, line);
    if r.is_ok() {
        stats.events += 1;
    } else {
        stats.rejected += 1;
    }
    each(r);
}

/// Read Cloud Audit Logs from `reader`, calling `each` with every event or bad record in file order.
/// Returns an error only when the file is unreadable, empty, not JSON, or a JSON document breaks.
pub fn read(
    reader: impl Read,
    file: &Arc<str>,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<Stats, IngestError> {
    let io = |e: std::io::Error| IngestError::Io {
        file: file.to_string(),
        reason: e.to_string(),
    };
    let mut r = BufReader::with_capacity(1 << 16, reader);
    if r.fill_buf().map_err(io)?.starts_with(b"\xef\xbb\xbf") {
        r.consume(3);
    }
    let mut stats = Stats::default();
    // The first non-blank line decides the layout; what was read is replayed for documents.
    let mut prefix = Vec::new();
    let mut n = 0u64;
    let first = loop {
        let from = prefix.len();
        if r.read_until(b'\n', &mut prefix).map_err(io)? == 0 {
            return Err(IngestError::Empty {
                file: file.to_string(),
            });
        }
        n += 1;
        let line = prefix[from..].trim_ascii();
        if !line.is_empty() {
            break from;
        }
    };
    let line = prefix[first..].trim_ascii();
    match line[0] {
        b'[' => {}
        b'{' => match serde_json::from_slice::<Value>(line) {
            Ok(v) => {
                route(&v, file, n, &mut stats, each);
                read_lines(r, file, n, &mut stats, each)?;
                return Ok(stats);
            }
            // An object continuing on the next lines: a pretty-printed document.
            Err(e) if e.is_eof() => {}
            Err(e) => {
                stats.rejected += 1;
                each(Err(syntax(file, n, &e)));
                read_lines(r, file, n, &mut stats, each)?;
                return Ok(stats);
            }
        },
        _ => {
            return Err(IngestError::Format {
                file: file.to_string(),
                reason: format!(
                    "line {n}: not Cloud Logging JSON: expected log entries as JSON lines, \
                     an array or pretty-printed objects"
                ),
            })
        }
    }
    read_documents(Cursor::new(prefix).chain(r), file, &mut stats, each)?;
    Ok(stats)
}

fn syntax(file: &Arc<str>, line: u64, e: &serde_json::Error) -> IngestError {
    IngestError::Syntax {
        file: file.to_string(),
        line,
        reason: format!("invalid JSON: {e}"),
    }
}

/// JSON lines after line `n`.
fn read_lines(
    r: impl BufRead,
    file: &Arc<str>,
    mut n: u64,
    stats: &mut Stats,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<(), IngestError> {
    let mut lines = crate::lines::LineReader::new(r, crate::lines::MAX_JSON_LINE, n);
    while let Some(l) = lines.next_in(file)? {
        n = l.n;
        let line = match l.text {
            Ok(t) => t.trim(),
            Err(e) => {
                stats.rejected += 1;
                each(Err(IngestError::line_error(file, n, &e)));
                continue;
            }
        };
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v) => route(&v, file, n, stats, each),
            Err(_) if !l.terminated => {
                stats.rejected += 1;
                each(Err(l.incomplete(file)))
            }
            Err(e) => {
                stats.rejected += 1;
                each(Err(syntax(file, n, &e)));
            }
        }
    }
    Ok(())
}

/// Line bookkeeping shared between the reader under the JSON parser and the visitor above it: the
/// current line, and the line of the first byte of the value being parsed.
#[derive(Default)]
struct Lines {
    line: Cell<u64>,
    start: Cell<u64>,
    awaiting: Cell<bool>,
}

impl Lines {
    /// The next value starts at the next byte that is not whitespace or a comma.
    fn mark(&self) {
        self.awaiting.set(true);
    }
}

/// Counts lines as the JSON parser consumes bytes (serde_json reads one byte at a time and peeks at
/// most one ahead, so the count is exact at value boundaries).
struct Counting<R> {
    inner: R,
    lines: Rc<Lines>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let got = self.inner.read(buf)?;
        let l = &self.lines;
        for &b in &buf[..got] {
            if l.awaiting.get() && !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',') {
                l.start.set(l.line.get());
                l.awaiting.set(false);
            }
            if b == b'\n' {
                l.line.set(l.line.get() + 1);
            }
        }
        Ok(got)
    }
}

/// Whitespace-separated JSON values: each an entry, or an array of entries streamed one by one.
fn read_documents(
    r: impl Read,
    file: &Arc<str>,
    stats: &mut Stats,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<(), IngestError> {
    let lines = Rc::new(Lines::default());
    lines.line.set(1);
    let mut de = serde_json::Deserializer::from_reader(Counting {
        inner: r,
        lines: lines.clone(),
    });
    let fail = |e: serde_json::Error| IngestError::Syntax {
        file: file.to_string(),
        line: e.line() as u64,
        reason: format!("invalid JSON (column {}): {e}", e.column()),
    };
    loop {
        lines.mark();
        match de.end() {
            Ok(()) => return Ok(()),
            Err(e) if e.is_io() => return Err(fail(e)),
            // Trailing characters: another value follows.
            Err(_) => {}
        }
        TopSeed {
            file,
            lines: &lines,
            stats: &mut *stats,
            each: &mut *each,
        }
        .deserialize(&mut de)
        .map_err(fail)?;
    }
}

/// One top-level value: an entry (object) or an array of entries.
struct TopSeed<'a> {
    file: &'a Arc<str>,
    lines: &'a Lines,
    stats: &'a mut Stats,
    each: &'a mut dyn FnMut(Result<Event, IngestError>),
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a log entry or an array of log entries")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let start = self.lines.start.get();
        let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        route(&v, self.file, start, self.stats, self.each);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.lines.mark();
            let Some(v) = seq.next_element::<Value>()? else {
                return Ok(());
            };
            route(&v, self.file, self.lines.start.get(), self.stats, self.each);
        }
    }
    // Scalars at the top level are records that are not objects: one bad record each.
    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<(), E> {
        self.scalar(Value::from(b));
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, x: i64) -> Result<(), E> {
        self.scalar(Value::from(x));
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, x: u64) -> Result<(), E> {
        self.scalar(Value::from(x));
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, x: f64) -> Result<(), E> {
        self.scalar(Value::from(x));
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<(), E> {
        self.scalar(Value::from(s));
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(Value::Null);
        Ok(())
    }
}

impl TopSeed<'_> {
    fn scalar(self, v: Value) {
        route(&v, self.file, self.lines.start.get(), self.stats, self.each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","status":{},"authenticationInfo":{"principalEmail":"deployer@acme-prod.iam.gserviceaccount.com","serviceAccountKeyName":"//iam.googleapis.com/projects/acme-prod/serviceAccounts/deployer@acme-prod.iam.gserviceaccount.com/keys/9f1c2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d6","serviceAccountDelegationInfo":[{"firstPartyPrincipal":{"principalEmail":"ci@acme-prod.iam.gserviceaccount.com"}}]},"requestMetadata":{"callerIp":"203.0.113.7","callerSuppliedUserAgent":"google-cloud-sdk gcloud/470.0.0","requestAttributes":{},"destinationAttributes":{}},"serviceName":"storage.googleapis.com","methodName":"storage.objects.get","authorizationInfo":[{"resource":"projects/_/buckets/acme-exports/objects/q1.csv","permission":"storage.objects.get","granted":true},{"permission":"storage.objects.getIamPolicy","granted":false}],"resourceName":"projects/_/buckets/acme-exports/objects/q1.csv","resourceLocation":{"currentLocations":["us"]}},"insertId":"1x9k2f3e4abc","resource":{"type":"gcs_bucket","labels":{"bucket_name":"acme-exports","project_id":"acme-prod","location":"us"}},"timestamp":"2025-03-04T05:06:07.123456789Z","severity":"INFO","logName":"projects/acme-prod/logs/cloudaudit.googleapis.com%2Fdata_access","receiveTimestamp":"2025-03-04T05:06:07.900000000Z"}"#;

    fn entry() -> Value {
        serde_json::from_str(ENTRY).unwrap()
    }

    fn run(text: &str) -> (Result<Stats, IngestError>, Vec<Result<Event, IngestError>>) {
        let mut got = Vec::new();
        let file: Arc<str> = Arc::from("audit.json");
        let r = read(text.as_bytes(), &file, &mut |e| got.push(e));
        (r, got)
    }

    fn stats(events: u64, rejected: u64, skipped: u64) -> Stats {
        Stats {
            events,
            rejected,
            skipped,
        }
    }

    fn errors(got: &[Result<Event, IngestError>]) -> Vec<String> {
        got.iter()
            .filter_map(|g| g.as_ref().err().map(ToString::to_string))
            .collect()
    }

    #[test]
    fn an_audit_entry_maps_every_field() {
        let file: Arc<str> = Arc::from("audit.json");
        let e = normalize(&entry(), &file, 7).unwrap();
        assert_eq!(e.time.to_string(), "2025-03-04T05:06:07.123456789Z");
        assert_eq!(
            e.principal.as_deref(),
            Some("deployer@acme-prod.iam.gserviceaccount.com")
        );
        assert_eq!(
            e.credential_id.as_deref(),
            Some("9f1c2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d6")
        );
        assert_eq!(e.token, None);
        assert_eq!(e.action, "storage.objects.get");
        assert_eq!(e.resource.kind.as_deref(), Some("storage.googleapis.com"));
        assert_eq!(
            e.resource.id.as_deref(),
            Some("projects/_/buckets/acme-exports/objects/q1.csv")
        );
        assert_eq!(e.src.ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(
            e.user_agent.as_deref(),
            Some("google-cloud-sdk gcloud/470.0.0")
        );
        assert_eq!(e.outcome, EventOutcome::Success);
        assert_eq!(e.volume, Volume::default());
        assert_eq!(e.event_id.as_deref(), Some("1x9k2f3e4abc"));
        assert_eq!(
            e.detail,
            serde_json::json!({
                "serviceName": "storage.googleapis.com",
                "methodName": "storage.objects.get",
                "resourceName": "projects/_/buckets/acme-exports/objects/q1.csv",
                "logName": "projects/acme-prod/logs/cloudaudit.googleapis.com%2Fdata_access",
                "severity": "INFO",
                "project": "acme-prod",
                "serviceAccountKeyName": "//iam.googleapis.com/projects/acme-prod/serviceAccounts/deployer@acme-prod.iam.gserviceaccount.com/keys/9f1c2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d6",
                "delegatedFrom": "ci@acme-prod.iam.gserviceaccount.com",
                "authorizationDenied": 1,
            })
        );
        assert_eq!((&*e.raw.file, e.raw.line), ("audit.json", 7));
    }

    #[test]
    fn fallbacks_and_outcomes() {
        let file: Arc<str> = Arc::from("f");
        let mut v = entry();
        let m = v.as_object_mut().unwrap();
        m.remove("timestamp");
        m.remove("resource");
        m.insert("severity".into(), Value::from(200)); // not a string: left out
        let pp = m["protoPayload"].as_object_mut().unwrap();
        pp.remove("@type");
        pp.insert("at_sign_type".into(), Value::from(AUDIT_LOG_TYPE));
        let rm = pp["requestMetadata"].as_object_mut().unwrap();
        rm.remove("callerIp");
        rm.insert("callerIP".into(), Value::from("gce-internal-ip"));
        let ai = pp["authenticationInfo"].as_object_mut().unwrap();
        ai.remove("principalEmail");
        ai.remove("serviceAccountKeyName");
        ai.insert(
            "principalSubject".into(),
            Value::from(
                "principal://iam.googleapis.com/locations/global/workforcePools/p/subject/s",
            ),
        );
        let e = normalize(&v, &file, 1).unwrap();
        assert_eq!(e.time.to_string(), "2025-03-04T05:06:07.9Z");
        assert_eq!(e.src.ip.as_deref(), Some("gce-internal-ip"));
        assert!(e.principal.unwrap().starts_with("principal://"));
        assert_eq!(e.credential_id, None);
        assert_eq!(e.detail["project"], "acme-prod", "from logName");
        assert!(e.detail.get("severity").is_none());
        assert!(e.detail.get("serviceAccountKeyName").is_none());
        for (status, want) in [
            (serde_json::json!(null), EventOutcome::Success),
            (serde_json::json!({"code": 0}), EventOutcome::Success),
            (serde_json::json!({"message": "OK"}), EventOutcome::Success),
            (
                serde_json::json!({"code": 7, "message": "PERMISSION_DENIED"}),
                EventOutcome::Denied,
            ),
            (serde_json::json!({"code": 16}), EventOutcome::Denied),
            (serde_json::json!({"code": "7"}), EventOutcome::Denied),
            (serde_json::json!({"code": 5}), EventOutcome::Failure),
            (
                serde_json::json!({"code": 9, "message": "key is not enabled"}),
                EventOutcome::Failure,
            ),
        ] {
            let mut v = entry();
            v["protoPayload"]["status"] = status.clone();
            assert_eq!(normalize(&v, &file, 1).unwrap().outcome, want, "{status}");
        }
        assert_eq!(
            key_id("//iam.googleapis.com/projects/p/serviceAccounts/sa/keys/K1"),
            "K1"
        );
        assert_eq!(key_id("K2"), "K2");
        assert_eq!(key_id("x/keys/"), "x/keys/");
    }

    type Edit<'a> = &'a dyn Fn(&mut Value);

    #[test]
    fn bad_entries_are_located_by_field() {
        let file: Arc<str> = Arc::from("f");
        let cases: [(Edit, &str); 8] = [
            (&|v| {
                v.as_object_mut().unwrap().remove("timestamp");
                v.as_object_mut().unwrap().remove("receiveTimestamp");
            }, "f:3: field `timestamp`: missing (and no receiveTimestamp)"),
            (&|v| v["timestamp"] = Value::from("yesterday"), "f:3: field `timestamp`: invalid date \"yesterday\""),
            (&|v| v["timestamp"] = Value::from(12), "f:3: field `timestamp`: expected an RFC 3339 string, found 12"),
            (&|v| {
                v["protoPayload"].as_object_mut().unwrap().remove("methodName");
            }, "f:3: field `protoPayload.methodName`: missing"),
            (&|v| v["protoPayload"]["status"]["code"] = Value::from("denied"), "f:3: field `protoPayload.status.code`: not an integer: \"denied\""),
            (&|v| {
                v.as_object_mut().unwrap().remove("protoPayload");
            }, "f:3: field `protoPayload`: missing"),
            (&|v| v["protoPayload"] = Value::from("x"), "f:3: field `protoPayload`: expected an object, found \"\\\"x\\\"\""),
            (&|v| v["protoPayload"]["@type"] = Value::from("type.googleapis.com/google.appengine.logging.v1.RequestLog"), "f:3: field `protoPayload.@type`: not an audit log entry: \"type.googleapis.com/google.appengine.logging.v1.RequestLog\""),
        ];
        for (edit, want) in cases {
            let mut v = entry();
            edit(&mut v);
            let msg = normalize(&v, &file, 3).unwrap_err().to_string();
            assert!(msg.starts_with(want), "{msg}\n  wanted {want}");
        }
        assert_eq!(
            normalize(&Value::from(1), &file, 3)
                .unwrap_err()
                .to_string(),
            "f:3: field `(record)`: expected a JSON object"
        );
    }

    #[test]
    fn every_layout_gives_the_same_events_at_their_lines() {
        let pretty = serde_json::to_string_pretty(&entry()).unwrap();
        let pretty_lines = pretty.lines().count() as u64;
        for (text, lines) in [
            (format!("{ENTRY}\n\n{ENTRY}\n"), vec![1, 3]),
            (format!("[{ENTRY},\n{ENTRY}]"), vec![1, 2]),
            (
                format!("\u{feff}\n[\n  {ENTRY}\n  ,\n  {ENTRY}\n]\n"),
                vec![3, 5],
            ),
            (
                format!("[\n{}\n]", [pretty.as_str(), pretty.as_str()].join(",\n")),
                vec![2, 2 + pretty_lines],
            ),
            (format!("{pretty}\n{pretty}"), vec![1, 1 + pretty_lines]),
            (
                format!("\n{pretty}{pretty}\n[{ENTRY}]"),
                vec![2, 1 + pretty_lines, 1 + 2 * pretty_lines],
            ),
        ] {
            let (r, got) = run(&text);
            let want = lines.len() as u64;
            assert_eq!(r.unwrap(), stats(want, 0, 0), "{text}");
            let at: Vec<u64> = got.iter().map(|e| e.as_ref().unwrap().raw.line).collect();
            assert_eq!(at, lines, "{text}");
            for e in &got {
                let e = e.as_ref().unwrap();
                assert_eq!(e.action, "storage.objects.get");
                assert_eq!(e.event_id.as_deref(), Some("1x9k2f3e4abc"));
            }
        }
    }

    #[test]
    fn other_entries_are_skipped_and_bad_ones_located() {
        let app = r#"{"insertId":"a1","jsonPayload":{"message":"started"},"resource":{"type":"k8s_container"},"timestamp":"2025-03-04T05:06:07Z","logName":"projects/acme-prod/logs/stdout"}"#;
        let req = r#"{"insertId":"a2","protoPayload":{"@type":"type.googleapis.com/google.appengine.logging.v1.RequestLog"},"timestamp":"2025-03-04T05:06:07Z"}"#;
        let no_time = ENTRY
            .replace("\"timestamp\"", "\"ts\"")
            .replace("\"receiveTimestamp\"", "\"rts\"");
        let text = format!("{ENTRY}\n{app}\n{req}\nnot json\n{no_time}\n[1]\n{ENTRY}\n");
        let (r, got) = run(&text);
        assert_eq!(r.unwrap(), stats(2, 3, 2));
        assert_eq!(
            errors(&got),
            [
                "audit.json:4: invalid JSON: expected ident at line 1 column 2",
                "audit.json:5: field `timestamp`: missing (and no receiveTimestamp)",
                "audit.json:6: field `(record)`: expected a JSON object",
            ]
        );
        assert_eq!(got.last().unwrap().as_ref().unwrap().raw.line, 7);
        // In a document, records are located by the line they start on.
        let text = format!("[\n{ENTRY},\n{app},\n{no_time},\n7\n]\n");
        let (r, got) = run(&text);
        assert_eq!(r.unwrap(), stats(1, 2, 1));
        assert_eq!(
            errors(&got),
            [
                "audit.json:4: field `timestamp`: missing (and no receiveTimestamp)",
                "audit.json:5: field `(record)`: expected a JSON object",
            ]
        );
    }

    #[test]
    fn file_level_errors() {
        let (r, _) = run(" \n\n");
        assert_eq!(r.unwrap_err().to_string(), "audit.json: file is empty");
        let (r, _) = run("version account-id\n");
        assert!(r
            .unwrap_err()
            .to_string()
            .starts_with("audit.json: line 1: not Cloud Logging JSON"));
        let (r, got) = run(&format!("[\n{ENTRY},\n{{\"timestamp\": ]\n"));
        assert_eq!(got.len(), 1, "the entry before the break is kept");
        assert!(r
            .unwrap_err()
            .to_string()
            .starts_with("audit.json:3: invalid JSON (column 15)"));
        let (r, got) = run("{\n  \"insertId\": \"x\",\n");
        assert!(got.is_empty());
        assert!(r
            .unwrap_err()
            .to_string()
            .starts_with("audit.json:3: invalid JSON"));
    }

    #[test]
    fn looks_like_claims_audit_logs_only() {
        assert!(looks_like(ENTRY));
        assert!(looks_like(&format!("[\n  {ENTRY}")));
        assert!(looks_like(&serde_json::to_string_pretty(&entry()).unwrap()));
        // A LogEntry may carry `operation` (long-running operations): still an audit entry.
        assert!(looks_like(
            r#"{"insertId":"x","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","operation":{"id":"op1","first":true},"protoPayload":{"methodName":"m"}}"#
        ));
        for other in [
            "{\"Records\":[{\"eventVersion\":\"1.08\"}]}",
            "[{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventTime\":\"x\",\"requestParameters\":{\"protoPayload\":1,\"logName\":2}}]",
            "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventTime\":\"x\"}",
            r#"{"time":"2025-04-05T00:00:29Z","request_id":"r1","path":"/api","status":200,"token":{"sub":"17","jti":"j1"}}"#,
            r#"{"time":"2025-01-01T00:00:00Z","event":"token_issued","sub":"1","jti":"j","kid":"k"}"#,
            r#"{"time":"2025-01-01T00:00:00Z","user":"bob","command":"gcloud logging read"}"#,
            r#"{"time":"2025-01-01T00:00:00Z","principal":"svc","operation":"SELECT","table":"members","rows":3}"#,
            r#"{"insertId":"a1","jsonPayload":{"message":"started"},"logName":"projects/p/logs/stdout"}"#,
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
        ] {
            assert!(!looks_like(other), "{other}");
        }
    }
}
