//! AWS CloudTrail, streamed record by record into [`Event`]s: `{"Records":[…]}` files as CloudTrail
//! delivers them to S3, a top-level array of records (as Stratus Red Team and `lookup-events` exports
//! write), or JSON lines (one record per line). Gzip is undone by the caller (see [`crate::open`]).
//!
//! A record that is not valid JSON stops the file (nothing after it can be located); a valid record that
//! lacks what we need (`eventTime`, `eventName`, `eventSource`) or has a malformed value is one bad
//! record, reported with the file and the record's position, and the stream goes on.

use crate::error::{quote, IngestError};
use crate::parse_timestamp;
use credwarden_model::{Event, EventOutcome, Network, ResourceRef, SourceRef, Volume};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
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
            let mut line = String::new();
            let mut n = 0u64;
            loop {
                line.clear();
                n += 1;
                let read = r.read_line(&mut line).map_err(|e| IngestError::Io {
                    file: file.to_string(),
                    reason: e.to_string(),
                })?;
                if read == 0 {
                    break;
                }
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(&line) {
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
            let mut de = serde_json::Deserializer::from_reader(r);
            let seed = DocSeed {
                file,
                layout,
                index: 0,
                emit: &mut emit,
            };
            seed.deserialize(&mut de).map_err(|e| IngestError::Syntax {
                file: file.to_string(),
                line: e.line() as u64,
                reason: format!("invalid JSON (column {}): {e}", e.column()),
            })?;
            de.end().map_err(|e| IngestError::Syntax {
                file: file.to_string(),
                line: e.line() as u64,
                reason: format!("trailing data after the document: {e}"),
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
fn layout_of(head: &str) -> Option<Layout> {
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

struct DocSeed<'a> {
    file: &'a Arc<str>,
    layout: Layout,
    index: u64,
    emit: &'a mut dyn FnMut(Result<Event, IngestError>),
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.layout {
            Layout::Array => d.deserialize_seq(self),
            _ => d.deserialize_map(self),
        }
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail document")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                map.next_value_seed(DocSeed {
                    layout: Layout::Array,
                    file: self.file,
                    index: self.index,
                    emit: &mut *self.emit,
                })?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        self.index = 0;
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.index += 1;
            (self.emit)(normalize(v, self.file, self.index));
        }
        Ok(())
    }
}

fn str_at<'v>(v: &'v Value, path: &str) -> Option<&'v str> {
    v.pointer(path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// One CloudTrail record → [`Event`]. `pos` is the line (JSON lines) or record index (documents).
pub fn normalize(v: Value, file: &Arc<str>, pos: u64) -> Result<Event, IngestError> {
    let err = |field: &str, reason: String| IngestError::field(file, pos, field, reason);
    if !v.is_object() {
        return Err(err("(record)", "expected a JSON object".into()));
    }
    let time_str = str_at(&v, "/eventTime").ok_or_else(|| err("eventTime", "missing".into()))?;
    let time = parse_timestamp(time_str).map_err(|e| err("eventTime", e))?;
    let name = str_at(&v, "/eventName")
        .ok_or_else(|| err("eventName", "missing".into()))?
        .to_string();
    let service = str_at(&v, "/eventSource")
        .ok_or_else(|| err("eventSource", "missing".into()))?
        .to_string();
    let outcome = match (
        str_at(&v, "/errorCode"),
        str_at(&v, "/responseElements/ConsoleLogin"),
    ) {
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
    };
    let bytes = match v.pointer("/additionalEventData/bytesTransferredOut") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64().map(|f| f as u64),
        Some(Value::String(s)) => Some(s.parse::<f64>().map_err(|_| {
            err(
                "additionalEventData.bytesTransferredOut",
                format!("not a number: {}", quote(s)),
            )
        })? as u64),
        Some(other) => {
            return Err(err(
                "additionalEventData.bytesTransferredOut",
                format!("not a number: {other}"),
            ))
        }
    };
    let bucket = str_at(&v, "/requestParameters/bucketName");
    let resource_id = match (bucket, str_at(&v, "/requestParameters/key")) {
        (Some(b), Some(k)) => Some(format!("{b}/{k}")),
        (Some(b), None) => Some(b.to_string()),
        _ => None,
    };
    let principal = str_at(&v, "/userIdentity/arn")
        .or_else(|| str_at(&v, "/userIdentity/userName"))
        .or_else(|| str_at(&v, "/userIdentity/type"))
        .map(str::to_string);
    let detail = serde_json::json!({
        "eventSource": service,
        "userIdentityType": v.pointer("/userIdentity/type"),
        "sessionIssuer": v.pointer("/userIdentity/sessionContext/sessionIssuer/userName"),
        "ec2RoleDelivery": v.pointer("/userIdentity/sessionContext/ec2RoleDelivery"),
        "mfaAuthenticated": v.pointer("/userIdentity/sessionContext/attributes/mfaAuthenticated"),
        "awsRegion": v.get("awsRegion"),
        "recipientAccountId": v.get("recipientAccountId"),
        "requestParameters": v.get("requestParameters"),
        "responseElements": v.get("responseElements"),
        "additionalEventData": v.get("additionalEventData"),
        "errorCode": v.get("errorCode"),
        "readOnly": v.get("readOnly"),
    });
    Ok(Event {
        time,
        credential_id: str_at(&v, "/userIdentity/accessKeyId").map(str::to_string),
        principal,
        token: None,
        action: name,
        resource: ResourceRef {
            kind: Some(service),
            id: resource_id,
            sensitivity: None,
        },
        src: Network {
            ip: str_at(&v, "/sourceIPAddress").map(str::to_string),
            asn: None,
            country: None,
        },
        user_agent: str_at(&v, "/userAgent").map(str::to_string),
        outcome,
        volume: Volume {
            bytes,
            records: None,
        },
        event_id: str_at(&v, "/eventID").map(str::to_string),
        detail,
        raw: SourceRef {
            file: file.clone(),
            line: pos,
        },
    })
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
}
