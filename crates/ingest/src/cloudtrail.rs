//! AWS CloudTrail, streamed record by record into [`Event`]s: `{"Records":[…]}` files as CloudTrail
//! delivers them to S3, a top-level array of records (as Stratus Red Team and `lookup-events` exports
//! write), or JSON lines (one record per line). Gzip is undone by the caller (see [`crate::open`]).
//!
//! A record that is not valid JSON stops the file (nothing after it can be located); a valid record that
//! lacks what we need (`eventTime`, `eventName`, `eventSource`) or has a malformed value is one bad
//! record, reported with the file and the record's position, and the stream goes on.

use crate::error::{quote, IngestError};
use crate::json_split;
use crate::parse_timestamp;
use credwarden_model::{Event, EventOutcome, Network, ResourceRef, SourceRef, Volume};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// How a CloudTrail file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `{"Records": [ … ]}`.
    Records,
    /// `[ … ]`.
    Array,
    /// One record per line.
    Lines,
}

impl Layout {
    /// The element list of a document layout; `None` for JSON lines.
    pub(crate) fn root(self) -> Option<json_split::Root> {
        match self {
            Layout::Records => Some(json_split::Root::Key("Records")),
            Layout::Array => Some(json_split::Root::Array),
            Layout::Lines => None,
        }
    }
}

/// Counts for one file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Records turned into events.
    pub events: u64,
    /// Records rejected (reported through the callback).
    pub rejected: u64,
}

/// Read CloudTrail from `reader`, calling `each` with every event or bad record in file order.
/// Returns an error only when the file itself is unreadable or not JSON at all.
pub fn read(
    reader: impl Read,
    file: &Arc<str>,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<Stats, IngestError> {
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let layout = sniff(&mut r, file)?;
    let mut stats = Stats::default();
    let mut emit = |res: Result<Event, IngestError>| {
        if res.is_ok() {
            stats.events += 1;
        } else {
            stats.rejected += 1;
        }
        each(res)
    };
    match layout {
        None => {
            return Err(IngestError::Empty {
                file: file.to_string(),
            })
        }
        Some(Layout::Lines) => {
            let mut lines = crate::lines::LineReader::new(r, crate::lines::MAX_JSON_LINE, 0);
            while let Some(l) = lines.next_in(file)? {
                let n = l.n;
                let line = match l.text {
                    Ok(t) => t,
                    Err(e) => {
                        emit(Err(IngestError::line_error(file, n, &e)));
                        continue;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                // An unfinished last line is not consumed until its writer completes it.
                if !l.terminated && serde_json::from_str::<serde::de::IgnoredAny>(line).is_err() {
                    emit(Err(l.incomplete(file)));
                    continue;
                }
                if let Some(ev) = fast(line, file, n) {
                    emit(ev);
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    // A line holding a whole `{"Records": […]}` document (small files concatenated).
                    Ok(Value::Object(mut m)) if m.contains_key("Records") => {
                        match m.remove("Records") {
                            Some(Value::Array(recs)) => {
                                recs.into_iter().for_each(|v| emit(normalize(v, file, n)))
                            }
                            _ => emit(Err(IngestError::field(
                                file,
                                n,
                                "Records",
                                "expected an array of records",
                            ))),
                        }
                    }
                    Ok(v) => emit(normalize(v, file, n)),
                    Err(e) => emit(Err(IngestError::Syntax {
                        file: file.to_string(),
                        line: n,
                        reason: format!("invalid JSON: {e}"),
                    })),
                }
            }
        }
        Some(layout) => {
            let root = layout.root().expect("a document layout");
            json_split::for_each_element(r, file, root, &mut |bytes, index, _line| {
                emit(record(bytes, file, index))
            })?;
        }
    }
    Ok(stats)
}

/// Look at the first bytes without consuming them.
fn sniff(r: &mut BufReader<impl Read>, file: &Arc<str>) -> Result<Option<Layout>, IngestError> {
    let buf = r.fill_buf().map_err(|e| IngestError::Io {
        file: file.to_string(),
        reason: e.to_string(),
    })?;
    let text = String::from_utf8_lossy(&buf[..buf.len().min(4096)]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.is_empty() {
        return Ok(None);
    }
    layout_of(t).map(Some).ok_or_else(|| IngestError::Format {
        file: file.to_string(),
        reason:
            "not CloudTrail JSON: expected {\"Records\": […]}, an array of records or JSON lines"
                .into(),
    })
}

/// The layout a file starting with `head` (whitespace and BOM trimmed) would be read as.
pub(crate) fn layout_of(head: &str) -> Option<Layout> {
    match head.as_bytes().first()? {
        b'[' => Some(Layout::Array),
        b'{' if head[1..].trim_start().starts_with("\"Records\"") => Some(Layout::Records),
        b'{' => Some(Layout::Lines),
        _ => None,
    }
}

/// Does a file starting with `head` hold CloudTrail? A `Records` document or an array, or JSON lines
/// whose first record has `eventSource` and `eventTime`. Used to route files to this reader.
pub fn looks_like(head: &str) -> bool {
    let t = head.trim_start_matches('\u{feff}').trim_start();
    match layout_of(t) {
        Some(Layout::Records | Layout::Array) => true,
        Some(Layout::Lines) => {
            let first = t.lines().next().unwrap_or("");
            first.contains("\"eventSource\"") && first.contains("\"eventTime\"")
        }
        None => false,
    }
}

// The fast path: a record read straight into borrowed fields (no tree of values, no allocation for
// what is skipped). Anything it cannot take as typed (a field of an unexpected type, a duplicate key, a
// missing required field) falls back to the tree-based [`normalize`], which locates the problem.

type Text<'a> = Option<Cow<'a, str>>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rec<'a> {
    #[serde(borrow, default)]
    event_time: Text<'a>,
    #[serde(borrow, default)]
    event_name: Text<'a>,
    #[serde(borrow, default)]
    event_source: Text<'a>,
    #[serde(borrow, default)]
    error_code: Text<'a>,
    #[serde(rename = "sourceIPAddress", borrow, default)]
    source_ip: Text<'a>,
    #[serde(borrow, default)]
    user_agent: Text<'a>,
    #[serde(rename = "eventID", borrow, default)]
    event_id: Text<'a>,
    #[serde(borrow, default)]
    aws_region: Text<'a>,
    #[serde(borrow, default)]
    recipient_account_id: Text<'a>,
    #[serde(borrow, default)]
    read_only: Option<&'a RawValue>,
    #[serde(borrow, default)]
    user_identity: Option<Identity<'a>>,
    #[serde(borrow, default)]
    request_parameters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    response_elements: Option<&'a RawValue>,
    #[serde(borrow, default)]
    additional_event_data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Text<'a>,
    #[serde(borrow, default)]
    arn: Text<'a>,
    #[serde(borrow, default)]
    user_name: Text<'a>,
    #[serde(borrow, default)]
    access_key_id: Text<'a>,
    #[serde(borrow, default)]
    invoked_by: Text<'a>,
    #[serde(borrow, default)]
    session_context: Option<Session<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session<'a> {
    #[serde(borrow, default)]
    session_issuer: Option<Issuer<'a>>,
    #[serde(borrow, default)]
    ec2_role_delivery: Option<&'a RawValue>,
    #[serde(borrow, default)]
    attributes: Option<Attributes<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issuer<'a> {
    #[serde(borrow, default)]
    user_name: Text<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attributes<'a> {
    #[serde(borrow, default)]
    mfa_authenticated: Option<&'a RawValue>,
}

fn text(t: &Text) -> Option<String> {
    t.as_deref().filter(|s| !s.is_empty()).map(str::to_string)
}

fn raw_value(r: Option<&RawValue>) -> Value {
    r.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or(Value::Null)
}

/// One record's text → [`Event`] by the fast path; `None` when the record needs the tree-based path
/// (to be normalized, or to have its problem located there).
fn fast(text_: &str, file: &Arc<str>, pos: u64) -> Option<Result<Event, IngestError>> {
    let r: Rec = serde_json::from_str(text_).ok()?;
    let (time_s, name, service) = (
        r.event_time.as_deref()?,
        r.event_name.as_deref().filter(|s| !s.is_empty())?,
        r.event_source.as_deref().filter(|s| !s.is_empty())?,
    );
    let time = match parse_timestamp(time_s) {
        Ok(t) => t,
        Err(e) => return Some(Err(IngestError::field(file, pos, "eventTime", e))),
    };
    let request = raw_value(r.request_parameters);
    let response = raw_value(r.response_elements);
    let additional = raw_value(r.additional_event_data);
    let outcome = outcome_of(r.error_code.as_deref(), &response);
    let bytes = match bytes_of(&additional) {
        Ok(b) => b,
        Err(reason) => {
            return Some(Err(IngestError::field(
                file,
                pos,
                "additionalEventData.bytesTransferredOut",
                reason,
            )))
        }
    };
    let resource_id = resource_of(&request);
    let ui = r.user_identity.as_ref();
    let principal = ui.and_then(|u| {
        text(&u.arn)
            .or_else(|| text(&u.user_name))
            .or_else(|| text(&u.kind))
    });
    let session = ui.and_then(|u| u.session_context.as_ref());
    let mut detail = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() {
            detail.insert(k.to_string(), v);
        }
    };
    put("eventSource", Value::String(service.to_string()));
    put(
        "userIdentityType",
        ui.and_then(|u| text(&u.kind))
            .map_or(Value::Null, Value::String),
    );
    put(
        "sessionIssuer",
        session
            .and_then(|s| s.session_issuer.as_ref())
            .and_then(|i| text(&i.user_name))
            .map_or(Value::Null, Value::String),
    );
    put(
        "ec2RoleDelivery",
        raw_value(session.and_then(|s| s.ec2_role_delivery)),
    );
    put(
        "mfaAuthenticated",
        raw_value(
            session
                .and_then(|s| s.attributes.as_ref())
                .and_then(|a| a.mfa_authenticated),
        ),
    );
    put(
        "awsRegion",
        text(&r.aws_region).map_or(Value::Null, Value::String),
    );
    put(
        "recipientAccountId",
        text(&r.recipient_account_id).map_or(Value::Null, Value::String),
    );
    put("requestParameters", request);
    put("responseElements", response);
    put("additionalEventData", additional);
    put(
        "errorCode",
        text(&r.error_code).map_or(Value::Null, Value::String),
    );
    put("readOnly", raw_value(r.read_only));
    put(
        "invokedBy",
        ui.and_then(|u| text(&u.invoked_by))
            .map_or(Value::Null, Value::String),
    );
    Some(Ok(Event {
        time,
        credential_id: ui.and_then(|u| text(&u.access_key_id)),
        principal,
        token: None,
        action: name.to_string(),
        resource: ResourceRef {
            kind: Some(service.to_string()),
            id: resource_id,
            sensitivity: None,
        },
        src: Network {
            ip: text(&r.source_ip),
            asn: None,
            country: None,
        },
        user_agent: text(&r.user_agent),
        outcome,
        volume: Volume {
            bytes,
            records: None,
        },
        event_id: text(&r.event_id),
        detail: Value::Object(detail),
        raw: SourceRef {
            file: file.clone(),
            line: pos,
        },
    }))
}

fn outcome_of(error_code: Option<&str>, response: &Value) -> EventOutcome {
    let console = response.get("ConsoleLogin").and_then(Value::as_str);
    match (error_code.filter(|c| !c.is_empty()), console) {
        (_, Some("Failure")) => EventOutcome::Failure,
        (Some(c), _)
            if c.contains("AccessDenied")
                || c.contains("Unauthorized")
                || c.contains("Forbidden") =>
        {
            EventOutcome::Denied
        }
        (Some(_), _) => EventOutcome::Failure,
        (None, _) => EventOutcome::Success,
    }
}

fn bytes_of(additional: &Value) -> Result<Option<u64>, String> {
    match additional.get("bytesTransferredOut") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().map(|f| f as u64)),
        Some(Value::String(s)) => s
            .parse::<f64>()
            .map(|f| Some(f as u64))
            .map_err(|_| format!("not a number: {}", quote(s))),
        Some(other) => Err(format!("not a number: {other}")),
    }
}

fn resource_of(request: &Value) -> Option<String> {
    let get = |k: &str| {
        request
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (get("bucketName"), get("key")) {
        (Some(b), Some(k)) => Some(format!("{b}/{k}")),
        (Some(b), None) => Some(b.to_string()),
        _ => None,
    }
}

/// One record of a document, as bytes → [`Event`] (fast path, then the lenient one).
fn record(bytes: &[u8], file: &Arc<str>, index: u64) -> Result<Event, IngestError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| IngestError::field(file, index, "(record)", format!("not UTF-8: {e}")))?;
    if let Some(ev) = fast(text, file, index) {
        return ev;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => normalize(v, file, index),
        Err(e) => Err(IngestError::field(
            file,
            index,
            "(record)",
            format!("invalid JSON: {e}"),
        )),
    }
}

fn str_at<'v>(v: &'v Value, path: &str) -> Option<&'v str> {
    v.pointer(path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// One CloudTrail record → [`Event`]. `pos` is the line (JSON lines) or record index (documents).
///
/// This is the lenient path for records the typed fast path refused: the required fields are checked
/// with located errors, fields of an unexpected type are dropped (as if absent), and the cleaned
/// record goes through the same mapping as every other.
pub fn normalize(mut v: Value, file: &Arc<str>, pos: u64) -> Result<Event, IngestError> {
    let err = |field: &str, reason: String| IngestError::field(file, pos, field, reason);
    if !v.is_object() {
        return Err(err("(record)", "expected a JSON object".into()));
    }
    let time = str_at(&v, "/eventTime").ok_or_else(|| err("eventTime", "missing".into()))?;
    parse_timestamp(time).map_err(|e| err("eventTime", e))?;
    str_at(&v, "/eventName").ok_or_else(|| err("eventName", "missing".into()))?;
    str_at(&v, "/eventSource").ok_or_else(|| err("eventSource", "missing".into()))?;
    sanitize(&mut v);
    fast(&v.to_string(), file, pos)
        .unwrap_or_else(|| Err(err("(record)", "record has an unexpected structure".into())))
}

/// Drop values whose type the mapping cannot take, so that one odd field does not lose the record.
fn sanitize(v: &mut Value) {
    const TEXT: &[&str] = &[
        "eventTime",
        "eventName",
        "eventSource",
        "errorCode",
        "sourceIPAddress",
        "userAgent",
        "eventID",
        "awsRegion",
        "recipientAccountId",
    ];
    const IDENTITY_TEXT: &[&str] = &["type", "arn", "userName", "accessKeyId", "invokedBy"];
    fn keep_if(m: &mut serde_json::Map<String, Value>, keys: &[&str], ok: fn(&Value) -> bool) {
        for k in keys {
            if m.get(*k).is_some_and(|x| !x.is_null() && !ok(x)) {
                m.remove(*k);
            }
        }
    }
    let Some(m) = v.as_object_mut() else { return };
    keep_if(m, TEXT, Value::is_string);
    keep_if(m, &["userIdentity"], Value::is_object);
    let Some(ui) = m.get_mut("userIdentity").and_then(Value::as_object_mut) else {
        return;
    };
    keep_if(ui, IDENTITY_TEXT, Value::is_string);
    keep_if(ui, &["sessionContext"], Value::is_object);
    let Some(sc) = ui.get_mut("sessionContext").and_then(Value::as_object_mut) else {
        return;
    };
    keep_if(sc, &["sessionIssuer", "attributes"], Value::is_object);
    if let Some(si) = sc.get_mut("sessionIssuer").and_then(Value::as_object_mut) {
        keep_if(si, &["userName"], Value::is_string);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REC: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/bob","accessKeyId":"AKIAEXAMPLE","userName":"bob"},"eventTime":"2025-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"not-an-ip","userAgent":"aws-cli/2","requestParameters":{"bucketName":"b","key":"k"},"additionalEventData":{"bytesTransferredOut":42},"eventID":"e1"}"#;

    fn run(text: &str) -> (Result<Stats, IngestError>, Vec<Result<Event, IngestError>>) {
        let mut got = Vec::new();
        let file: Arc<str> = Arc::from("ct.json");
        let r = read(text.as_bytes(), &file, &mut |e| got.push(e));
        (r, got)
    }

    #[test]
    fn three_layouts_give_the_same_event() {
        for text in [
            format!("{{\"Records\":[{REC}]}}"),
            format!("[\n{REC}\n]"),
            format!("{REC}\n\n"),
        ] {
            let (r, got) = run(&text);
            assert_eq!(
                r.unwrap(),
                Stats {
                    events: 1,
                    rejected: 0
                },
                "{text}"
            );
            let e = got[0].as_ref().unwrap();
            assert_eq!(e.action, "GetObject");
            assert_eq!(e.credential_id.as_deref(), Some("AKIAEXAMPLE"));
            assert_eq!(e.resource.id.as_deref(), Some("b/k"));
            assert_eq!(e.volume.bytes, Some(42));
            assert_eq!(
                e.src.ip.as_deref(),
                Some("not-an-ip"),
                "anonymized addresses are kept as given"
            );
            assert_eq!(e.raw.line, 1);
        }
    }

    #[test]
    fn bad_records_are_located_and_the_stream_goes_on() {
        let bad_time = REC.replace("2025-01-02T03:04:05Z", "yesterday");
        let no_name = REC.replace("\"eventName\":\"GetObject\",", "");
        let text = format!("{{\"Records\":[{REC},{bad_time},{no_name},{REC}]}}");
        let (r, got) = run(&text);
        assert_eq!(
            r.unwrap(),
            Stats {
                events: 2,
                rejected: 2
            }
        );
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("ct.json:2: field `eventTime`: invalid date \"yesterday\""));
        assert_eq!(
            got[2].as_ref().unwrap_err().to_string(),
            "ct.json:3: field `eventName`: missing"
        );
    }

    #[test]
    fn broken_json_and_non_json_are_file_errors() {
        let (r, _) = run(&format!("{{\"Records\":[{REC},{{\"eventTime\":"));
        assert!(r.unwrap_err().to_string().contains("invalid JSON"));
        let (r, _) = run("user,arn\n");
        assert!(r
            .unwrap_err()
            .to_string()
            .starts_with("ct.json: not CloudTrail JSON"));
        let (r, _) = run("  \n");
        assert_eq!(r.unwrap_err().to_string(), "ct.json: file is empty");
        let (r, got) = run(&format!("{REC}\nnot json\n{REC}\n"));
        assert_eq!(
            r.unwrap(),
            Stats {
                events: 2,
                rejected: 1
            }
        );
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("ct.json:2: invalid JSON"));
    }

    #[test]
    fn odd_types_take_the_lenient_path_to_the_same_event() {
        let (_, fast) = run(REC);
        let odd = REC
            .replace("\"userAgent\":\"aws-cli/2\"", "\"userAgent\":5")
            .replace(
                "\"eventVersion\":\"1.08\",",
                "\"eventVersion\":\"1.08\",\"eventID\":\"dup\",",
            );
        let (_, slow) = run(&odd);
        let (a, b) = (fast[0].as_ref().unwrap(), slow[0].as_ref().unwrap());
        assert_eq!(b.user_agent, None);
        assert_eq!(
            b.event_id.as_deref(),
            Some("e1"),
            "the last of duplicate keys wins"
        );
        assert_eq!(
            (&a.action, &a.credential_id, &a.resource, &a.detail),
            (&b.action, &b.credential_id, &b.resource, &b.detail)
        );
    }
}
