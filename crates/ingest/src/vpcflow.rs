//! AWS VPC flow logs, streamed line by line into [`Event`]s: space-separated fields, `-` for a field
//! that does not apply. Files as VPC delivers them to S3 start with a header line naming the fields
//! (`version account-id interface-id srcaddr …`); the header gives the order, so custom formats (v3–v8
//! fields, any order, any subset holding `start`) are read by name and unknown (newer) fields are
//! ignored. A file without a header (CloudWatch Logs exports) is read with the version 2 default order.
//! A header appearing again further down (files concatenated) re-maps the columns from there on. Gzip is
//! undone by the caller (see [`crate::open`]).
//!
//! `NODATA` and `SKIPDATA` records (a capture window without traffic, or with records dropped) carry no
//! flow: they are skipped and counted, not reported as bad input. A row with the wrong number of fields,
//! or a malformed number, is one bad record located by file, line and field; the stream goes on.

use crate::error::{quote, IngestError};
use credwarden_model::{Event, EventOutcome, Network, ResourceRef, SourceRef, Volume};
use serde_json::{Map, Value};
use std::io::{BufReader, Read};
use std::str::FromStr;
use std::sync::Arc;

/// The version 2 default format, in order: files without a header line are read with it.
pub const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// Every field AWS documents (versions 2 to 8), used to recognise a header line. Fields not listed
/// here are accepted in a header (and ignored) when it holds at least two that are.
const KNOWN_FIELDS: [&str; 40] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
];

/// Counts for one file (shared with [`crate::gcp_audit`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Records turned into events.
    pub events: u64,
    /// Records rejected (reported through the callback).
    pub rejected: u64,
    /// Records that are well formed but carry no activity (VPC `NODATA`/`SKIPDATA`; GCP entries that
    /// are not audit log entries): not events, not bad input.
    pub skipped: u64,
}

/// Column positions of the fields we map, from a header line or the default format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Field names as the header spells them (used in error messages).
    names: Vec<String>,
    /// Line of the header this layout came from (`None`: the default format of a header-less file).
    header_line: Option<u64>,
    version: Option<usize>,
    account: Option<usize>,
    interface: Option<usize>,
    instance: Option<usize>,
    src: Option<usize>,
    dst: Option<usize>,
    src_port: Option<usize>,
    dst_port: Option<usize>,
    protocol: Option<usize>,
    packets: Option<usize>,
    bytes: Option<usize>,
    start: usize,
    end: Option<usize>,
    action: Option<usize>,
    status: Option<usize>,
    direction: Option<usize>,
}

/// A header token in canonical spelling: lower case, `_` read as `-` (some exports rewrite the names).
fn canonical(token: &str) -> String {
    token.to_ascii_lowercase().replace('_', "-")
}

fn name_like(token: &str) -> bool {
    let b = token.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// Is `line` a header line: only field names, at least two of them fields AWS documents?
pub fn is_header(line: &str) -> bool {
    let mut known = 0;
    for t in line.split_ascii_whitespace() {
        if !name_like(t) {
            return false;
        }
        known += usize::from(KNOWN_FIELDS.contains(&canonical(t).as_str()));
    }
    known >= 2
}

/// Is `line` a record in the version 2 default format (14 fields, version `2`, a log status)?
fn is_default_record(line: &str) -> bool {
    let f: Vec<&str> = line.split_ascii_whitespace().collect();
    f.len() == DEFAULT_FIELDS.len()
        && f[0] == "2"
        && matches!(f[13], "OK" | "NODATA" | "SKIPDATA")
        && [&f[10], &f[11]]
            .iter()
            .all(|s| **s == "-" || s.bytes().all(|c| c.is_ascii_digit()))
}

impl Layout {
    /// The version 2 default format.
    pub fn default_v2() -> Self {
        Self::from_names(DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect())
            .expect("the default format has `start`")
    }

    /// The layout a header line describes; `Err` names the missing required field (`start`).
    pub fn from_header(line: &str) -> Result<Self, String> {
        Self::from_names(line.split_ascii_whitespace().map(str::to_string).collect())
    }

    fn from_names(names: Vec<String>) -> Result<Self, String> {
        let canon: Vec<String> = names.iter().map(|n| canonical(n)).collect();
        let col = |name: &str| canon.iter().position(|c| c == name);
        Ok(Self {
            version: col("version"),
            account: col("account-id"),
            interface: col("interface-id"),
            instance: col("instance-id"),
            src: col("srcaddr"),
            dst: col("dstaddr"),
            src_port: col("srcport"),
            dst_port: col("dstport"),
            protocol: col("protocol"),
            packets: col("packets"),
            bytes: col("bytes"),
            start: col("start").ok_or("start")?,
            end: col("end"),
            action: col("action"),
            status: col("log-status"),
            direction: col("flow-direction"),
            names,
            header_line: None,
        })
    }

    /// Number of fields a record has in this layout.
    pub fn width(&self) -> usize {
        self.names.len()
    }
}

/// Does a file starting with `head` (BOM and leading whitespace trimmed) hold VPC flow logs? Its first
/// line is a header naming flow-log fields, `start` among them, or a version 2 default-format record.
pub fn looks_like(head: &str) -> bool {
    let t = head.trim_start_matches('\u{feff}').trim_start();
    let first = t.lines().next().unwrap_or("");
    (is_header(first) && Layout::from_header(first).is_ok()) || is_default_record(first)
}

/// One record's fields with its location, for typed access.
struct Row<'a> {
    fields: Vec<&'a str>,
    layout: &'a Layout,
    file: &'a Arc<str>,
    line: u64,
}

impl Row<'_> {
    fn err(&self, col: usize, reason: impl std::fmt::Display) -> IngestError {
        IngestError::field(self.file, self.line, &self.layout.names[col], reason)
    }

    /// The text of a column, `None` when the layout lacks it or the record has `-`.
    fn text(&self, col: Option<usize>) -> Option<&str> {
        col.map(|c| self.fields[c]).filter(|s| *s != "-")
    }

    fn num<T: FromStr>(&self, col: Option<usize>) -> Result<Option<T>, IngestError> {
        let Some(c) = col else { return Ok(None) };
        match self.fields[c] {
            "-" => Ok(None),
            s => s
                .parse()
                .map(Some)
                .map_err(|_| self.err(c, format!("not a number: {}", quote(s)))),
        }
    }
}

/// One record (a line without its end) → [`Event`]; `Ok(None)` for a `NODATA`/`SKIPDATA` record.
pub fn normalize(
    record: &str,
    layout: &Layout,
    file: &Arc<str>,
    line: u64,
) -> Result<Option<Event>, IngestError> {
    let row = Row {
        fields: record.split_ascii_whitespace().collect(),
        layout,
        file,
        line,
    };
    if row.fields.len() != layout.width() {
        return Err(IngestError::Syntax {
            file: file.to_string(),
            line,
            reason: format!(
                "expected {} space-separated fields ({}), found {}",
                layout.width(),
                match layout.header_line {
                    Some(h) => format!("as the header on line {h} names them"),
                    None => "version 2 default format, no header".into(),
                },
                row.fields.len()
            ),
        });
    }
    match row.text(layout.status) {
        None | Some("OK") => {}
        Some("NODATA" | "SKIPDATA") => return Ok(None),
        Some(other) => {
            return Err(row.err(
                layout.status.expect("text() found it"),
                format!("expected OK, NODATA or SKIPDATA, found {}", quote(other)),
            ))
        }
    }
    row.num::<u32>(layout.version)?;
    let start = row
        .num::<i64>(Some(layout.start))?
        .ok_or_else(|| row.err(layout.start, "missing"))?;
    let time =
        jiff::Timestamp::from_second(start).map_err(|e| row.err(layout.start, e.to_string()))?;
    let end = row.num::<i64>(layout.end)?;
    let src_port = row.num::<u16>(layout.src_port)?;
    let dst_port = row.num::<u16>(layout.dst_port)?;
    let protocol = row.num::<u8>(layout.protocol)?;
    let packets = row.num::<u64>(layout.packets)?;
    let bytes = row.num::<u64>(layout.bytes)?;
    let (action, outcome) = match row.text(layout.action) {
        None => ("flow".to_string(), EventOutcome::Unknown),
        Some("ACCEPT") => ("flow:ACCEPT".to_string(), EventOutcome::Success),
        Some("REJECT") => ("flow:REJECT".to_string(), EventOutcome::Denied),
        Some(other) => {
            return Err(row.err(
                layout.action.expect("text() found it"),
                format!("expected ACCEPT or REJECT, found {}", quote(other)),
            ))
        }
    };
    let dst = row.text(layout.dst);
    // `[v6]:port` so that the port cannot be read as part of an IPv6 address.
    let resource_id = dst.map(|d| {
        let host = if d.contains(':') {
            format!("[{d}]")
        } else {
            d.to_string()
        };
        match (dst_port, protocol) {
            (Some(p), Some(proto)) => format!("{host}:{p}/{proto}"),
            (Some(p), None) => format!("{host}:{p}"),
            (None, Some(proto)) => format!("{host}/{proto}"),
            (None, None) => host,
        }
    });
    let interface = row.text(layout.interface);
    let mut detail = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            detail.insert(k.to_string(), v);
        }
    };
    put("account", row.text(layout.account).map(Value::from));
    put("interface", interface.map(Value::from));
    put("dst", dst.map(Value::from));
    put("dst_port", dst_port.map(Value::from));
    put("src_port", src_port.map(Value::from));
    put("protocol", protocol.map(Value::from));
    put("packets", packets.map(Value::from));
    put("end", end.map(Value::from));
    put("direction", row.text(layout.direction).map(Value::from));
    Ok(Some(Event {
        time,
        credential_id: None,
        principal: row.text(layout.instance).or(interface).map(str::to_string),
        token: None,
        action,
        resource: ResourceRef {
            kind: Some("network".into()),
            id: resource_id,
            sensitivity: None,
        },
        src: Network {
            ip: row.text(layout.src).map(str::to_string),
            asn: None,
            country: None,
        },
        user_agent: None,
        outcome,
        volume: Volume {
            bytes,
            records: None,
        },
        event_id: None,
        detail: Value::Object(detail),
        raw: SourceRef {
            file: file.clone(),
            line,
        },
    }))
}

/// Read a VPC flow log from `reader`, calling `each` with every event or bad record in file order.
/// Returns an error only when the file is unreadable, empty, not a flow log, or has a header without
/// `start` (its records could not be placed in time).
pub fn read(
    reader: impl Read,
    file: &Arc<str>,
    each: &mut dyn FnMut(Result<Event, IngestError>),
) -> Result<Stats, IngestError> {
    let mut r = crate::lines::LineReader::new(
        BufReader::with_capacity(1 << 16, reader),
        crate::lines::MAX_TEXT_LINE,
        0,
    );
    let mut stats = Stats::default();
    let mut layout: Option<Layout> = None;
    let mut any = false;
    while let Some(l) = r.next_in(file)? {
        let n = l.n;
        let text = match l.text {
            Ok(t) => t,
            Err(e) => {
                stats.rejected += 1;
                any = true;
                each(Err(IngestError::line_error(file, n, &e)));
                continue;
            }
        };
        let t = text.trim_start_matches('\u{feff}').trim();
        if t.is_empty() {
            continue;
        }
        any = true;
        if is_header(t) {
            let mut l = Layout::from_header(t).map_err(|missing| IngestError::MissingColumns {
                file: file.to_string(),
                line: n,
                missing: format!("`{missing}`"),
                found: crate::error::shorten(
                    t.split_ascii_whitespace().collect::<Vec<_>>().join(", "),
                ),
            })?;
            l.header_line = Some(n);
            layout = Some(l);
            continue;
        }
        let lay = match &layout {
            Some(l) => l,
            None if is_default_record(t) => layout.insert(Layout::default_v2()),
            None => {
                return Err(IngestError::Format {
                    file: file.to_string(),
                    reason: format!(
                        "line {n}: not a VPC flow log: expected a header naming the fields \
                         (version account-id interface-id srcaddr …) or a version 2 record"
                    ),
                })
            }
        };
        match normalize(t, lay, file, n) {
            Ok(Some(e)) => {
                stats.events += 1;
                each(Ok(e));
            }
            Ok(None) => stats.skipped += 1,
            // An unfinished last line is not consumed until its writer completes it.
            Err(_) if !l.terminated => {
                stats.rejected += 1;
                each(Err(l.incomplete(file)))
            }
            Err(e) => {
                stats.rejected += 1;
                each(Err(e));
            }
        }
    }
    if !any {
        return Err(IngestError::Empty {
            file: file.to_string(),
        });
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    const ROW: &str = "2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 52.94.133.131 49152 443 6 24 4312 1735787045 1735787105 ACCEPT OK";

    fn run(text: &str) -> (Result<Stats, IngestError>, Vec<Result<Event, IngestError>>) {
        let mut got = Vec::new();
        let file: Arc<str> = Arc::from("flow.log");
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

    #[test]
    fn default_format_with_header_maps_every_field() {
        let (r, got) = run(&format!("{HEADER}\n{ROW}\n"));
        assert_eq!(r.unwrap(), stats(1, 0, 0));
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.time.as_second(), 1_735_787_045);
        assert_eq!(e.time.to_string(), "2025-01-02T03:04:05Z");
        assert_eq!(e.action, "flow:ACCEPT");
        assert_eq!(e.outcome, EventOutcome::Success);
        assert_eq!(e.src.ip.as_deref(), Some("10.0.1.25"));
        assert_eq!(e.resource.kind.as_deref(), Some("network"));
        assert_eq!(e.resource.id.as_deref(), Some("52.94.133.131:443/6"));
        assert_eq!(e.volume.bytes, Some(4312));
        assert_eq!(e.volume.records, None);
        assert_eq!(e.principal.as_deref(), Some("eni-0a1b2c3d4e5f60718"));
        assert_eq!(e.credential_id, None);
        assert_eq!(e.token, None);
        assert_eq!(e.user_agent, None);
        assert_eq!(e.event_id, None);
        assert_eq!(
            e.detail,
            serde_json::json!({"account": "123456789012", "interface": "eni-0a1b2c3d4e5f60718",
                "dst": "52.94.133.131", "dst_port": 443, "src_port": 49152, "protocol": 6,
                "packets": 24, "end": 1_735_787_105})
        );
        assert_eq!((&*e.raw.file, e.raw.line), ("flow.log", 2));
    }

    #[test]
    fn a_file_without_header_is_read_in_the_default_order() {
        let reject = ROW.replace("ACCEPT", "REJECT").replace(" 443 ", " 22 ");
        let (r, got) = run(&format!("\u{feff}{ROW}\r\n\r\n{reject}\r\n"));
        assert_eq!(r.unwrap(), stats(2, 0, 0));
        let e = got[1].as_ref().unwrap();
        assert_eq!(e.action, "flow:REJECT");
        assert_eq!(e.outcome, EventOutcome::Denied);
        assert_eq!(e.resource.id.as_deref(), Some("52.94.133.131:22/6"));
        assert_eq!(e.raw.line, 3);
    }

    #[test]
    fn custom_formats_are_read_by_header_name() {
        let text = "\
instance-id interface-id start end srcaddr dstaddr dstport srcport protocol bytes packets action flow-direction tcp-flags traffic-path log-status vpc-id some-future-field
i-0123456789abcdef0 eni-0a1b2c3d 1735787045 1735787100 2001:db8::5 2001:db8::9 5432 40000 6 100 2 ACCEPT egress 19 1 OK vpc-1 x
- eni-0a1b2c3d 1735787045 1735787100 10.0.0.5 10.0.0.9 - - 1 84 1 REJECT - - - OK vpc-1 x
";
        let (r, got) = run(text);
        assert_eq!(r.unwrap(), stats(2, 0, 0));
        let e = got[0].as_ref().unwrap();
        assert_eq!(e.principal.as_deref(), Some("i-0123456789abcdef0"));
        assert_eq!(e.src.ip.as_deref(), Some("2001:db8::5"));
        assert_eq!(e.resource.id.as_deref(), Some("[2001:db8::9]:5432/6"));
        assert_eq!(e.volume.bytes, Some(100));
        assert_eq!(e.detail["direction"], "egress");
        assert_eq!(e.detail["src_port"], 40000);
        assert_eq!(e.detail["packets"], 2);
        assert!(e.detail.get("account").is_none());
        let e = got[1].as_ref().unwrap();
        assert_eq!(
            e.principal.as_deref(),
            Some("eni-0a1b2c3d"),
            "no instance: the interface"
        );
        assert_eq!(e.resource.id.as_deref(), Some("10.0.0.9/1"));
        assert!(e.detail.get("direction").is_none());
        // Underscore spellings and a header without `log-status` or `action`.
        let (r, got) = run("start src_addr srcaddr bytes\n1735787045 x 10.0.0.1 7\n");
        assert_eq!(r.unwrap(), stats(1, 0, 0));
        let e = got[0].as_ref().unwrap();
        assert_eq!(
            (e.action.as_str(), e.outcome),
            ("flow", EventOutcome::Unknown)
        );
        assert_eq!(e.principal, None);
        assert_eq!(e.resource.id, None);
    }

    #[test]
    fn nodata_and_skipdata_are_skipped_and_counted() {
        let text = format!(
            "{HEADER}\n2 123456789012 eni-0a1b2c3d - - - - - - - 1735787045 1735787105 - NODATA\n\
             2 123456789012 eni-0a1b2c3d - - - - - - - 1735787045 1735787105 - SKIPDATA\n{ROW}\n"
        );
        let (r, got) = run(&text);
        assert_eq!(r.unwrap(), stats(1, 0, 2));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].as_ref().unwrap().raw.line, 4);
        // A header-only file is a quiet capture period, not an error.
        assert_eq!(run(&format!("{HEADER}\n")).0.unwrap(), stats(0, 0, 0));
    }

    #[test]
    fn malformed_rows_are_located_and_the_stream_goes_on() {
        let text = format!(
            "{HEADER}\n{ROW}\n2 123456789012 eni-0a1b2c3d 10.0.1.25\n{}\n{}\n{}\n{}\n{ROW}\n",
            ROW.replace(" 4312 ", " lots "),
            ROW.replace(" 443 ", " 70000 "),
            ROW.replace("ACCEPT", "ALLOW"),
            ROW.replace(" OK", " FINE"),
        );
        let (r, got) = run(&text);
        assert_eq!(r.unwrap(), stats(2, 5, 0));
        let errs: Vec<String> = got
            .iter()
            .filter_map(|g| g.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(
            errs,
            [
                "flow.log:3: expected 14 space-separated fields (as the header on line 1 names them), found 4",
                "flow.log:4: field `bytes`: not a number: \"lots\"",
                "flow.log:5: field `dstport`: not a number: \"70000\"",
                "flow.log:6: field `action`: expected ACCEPT or REJECT, found \"ALLOW\"",
                "flow.log:7: field `log-status`: expected OK, NODATA or SKIPDATA, found \"FINE\"",
            ]
        );
        assert_eq!(got[6].as_ref().unwrap().raw.line, 8);
        let (_, got) = run(&format!("{ROW}\n{}\n", ROW.replace("1735787045", "-")));
        assert_eq!(
            got[1].as_ref().unwrap_err().to_string(),
            "flow.log:2: field `start`: missing"
        );
        let (_, got) = run(&format!("{ROW}\n2 1 eni-1 a b 1 2 6 1 1\n"));
        assert_eq!(
            got[1].as_ref().unwrap_err().to_string(),
            "flow.log:2: expected 14 space-separated fields (version 2 default format, no header), found 10"
        );
    }

    #[test]
    fn invalid_utf8_is_one_bad_line() {
        let mut bytes = format!("{ROW}\n").into_bytes();
        bytes.extend_from_slice(b"2 \xff\xfe\n");
        bytes.extend_from_slice(format!("{ROW}\n").as_bytes());
        let mut got = Vec::new();
        let file: Arc<str> = Arc::from("flow.log");
        let r = read(&bytes[..], &file, &mut |e| got.push(e));
        assert_eq!(r.unwrap(), stats(2, 1, 0));
        assert!(got[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with("flow.log:2: not UTF-8 text"));
    }

    #[test]
    fn a_repeated_header_remaps_the_columns() {
        let text = format!(
            "{HEADER}\n{ROW}\nstart bytes srcaddr interface-id\n1735787046 9 10.9.9.9 eni-9\n"
        );
        let (r, got) = run(&text);
        assert_eq!(r.unwrap(), stats(2, 0, 0));
        let e = got[1].as_ref().unwrap();
        assert_eq!(
            (e.volume.bytes, e.src.ip.as_deref(), e.raw.line),
            (Some(9), Some("10.9.9.9"), 4)
        );
    }

    #[test]
    fn file_level_errors() {
        let (r, _) = run("  \n\n");
        assert_eq!(r.unwrap_err().to_string(), "flow.log: file is empty");
        let (r, _) = run("user,arn\nbob,x\n");
        assert!(r
            .unwrap_err()
            .to_string()
            .starts_with("flow.log: line 1: not a VPC flow log"));
        let (r, _) = run("version srcaddr dstaddr\n2 a b\n");
        assert_eq!(
            r.unwrap_err().to_string(),
            "flow.log:1: missing required column(s) `start`; found columns: version, srcaddr, dstaddr"
        );
    }

    #[test]
    fn looks_like_claims_flow_logs_only() {
        assert!(looks_like(&format!("{HEADER}\n{ROW}")));
        assert!(looks_like(ROW));
        assert!(looks_like(
            "version vpc-id subnet-id instance-id interface-id srcaddr start\n"
        ));
        for other in [
            "{\"Records\":[]}",
            "[{\"eventVersion\":\"1.08\"}]",
            "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventTime\":\"x\"}",
            "{\"time\":\"2025-01-01T00:00:00Z\",\"token\":{\"sub\":\"1\"}}",
            "{\"time\":\"2025-01-01T00:00:00Z\",\"user\":\"bob\",\"command\":\"ls\"}",
            "id,emails,usernames\n",
            "hello world\n",
            "type version\nfoo bar\n",
            "3 123 eni-1 a b 1 2 6 1 1 1 1 ACCEPT OK",
        ] {
            assert!(!looks_like(other), "{other}");
        }
    }
}
