//! The archive's columns: one normalized event as one Parquet row, OCSF-shaped (flat column names
//! after OCSF's attribute paths: `actor_credential_uid` for `actor.credential.uid`, …), and the writer
//! and reader of part files.
//!
//! A part's rows are sorted by credential, then signing key, client and time before they are written,
//! and cut into row groups of [`ROW_GROUP_ROWS`]: one credential's rows sit in one or two row groups,
//! whose min/max statistics (and page index) let a reader skip the rest; bloom filters on the
//! credential, token id, member and source address columns answer "is this value in here at all".
//! DuckDB, Spark and any Parquet reader read the files as they are (`docs/archive.md`).

use credwarden_model::{Event, EventOutcome};
use jiff::Timestamp;
use parquet::basic::{Compression, Encoding};
use parquet::column::reader::ColumnReader;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::{ReadOptionsBuilder, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// Rows per row group: small enough that a credential's rows are a small share of what is read.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The Parquet schema of a part (Parquet's message syntax).
pub const SCHEMA: &str = "message credwarden_event {
  required int64 time (TIMESTAMP(MILLIS,true));
  required int32 class_uid;
  required binary source (STRING);
  optional binary cloud_account_uid (STRING);
  optional binary actor_credential_uid (STRING);
  optional binary actor_user_name (STRING);
  optional binary token_sub (STRING);
  optional binary token_jti (STRING);
  optional binary token_kid (STRING);
  optional int64 token_iat (TIMESTAMP(MILLIS,true));
  optional binary token_client (STRING);
  optional int64 token_exp (TIMESTAMP(MILLIS,true));
  required binary api_operation (STRING);
  optional binary resource_type (STRING);
  optional binary resource_uid (STRING);
  optional binary resource_sensitivity (STRING);
  optional binary member_uid (STRING);
  optional binary src_ip (STRING);
  optional int64 src_asn;
  optional binary src_country (STRING);
  optional binary user_agent (STRING);
  required int32 status_id;
  required binary status (STRING);
  optional int64 bytes_out;
  optional int64 records;
  optional binary event_uid (STRING);
  optional binary unmapped (STRING);
  required binary raw_file (STRING);
  required int64 raw_line;
}";

/// Column positions in [`SCHEMA`].
#[allow(missing_docs)]
pub mod col {
    pub const TIME: usize = 0;
    pub const CLASS_UID: usize = 1;
    pub const SOURCE: usize = 2;
    pub const ACCOUNT: usize = 3;
    pub const CREDENTIAL: usize = 4;
    pub const USER: usize = 5;
    pub const SUB: usize = 6;
    pub const JTI: usize = 7;
    pub const KID: usize = 8;
    pub const IAT: usize = 9;
    pub const CLIENT: usize = 10;
    pub const EXP: usize = 11;
    pub const OPERATION: usize = 12;
    pub const RESOURCE_TYPE: usize = 13;
    pub const RESOURCE: usize = 14;
    pub const SENSITIVITY: usize = 15;
    pub const MEMBER: usize = 16;
    pub const IP: usize = 17;
    pub const ASN: usize = 18;
    pub const COUNTRY: usize = 19;
    pub const USER_AGENT: usize = 20;
    pub const STATUS_ID: usize = 21;
    pub const STATUS: usize = 22;
    pub const BYTES: usize = 23;
    pub const RECORDS: usize = 24;
    pub const EVENT_UID: usize = 25;
    pub const UNMAPPED: usize = 26;
    pub const RAW_FILE: usize = 27;
    pub const RAW_LINE: usize = 28;
    /// Number of columns.
    pub const COUNT: usize = 29;
}

/// Columns with a bloom filter.
pub const BLOOM: [usize; 4] = [col::CREDENTIAL, col::JTI, col::MEMBER, col::IP];

/// Column names, in schema order.
pub fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        schema()
            .get_fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    })
}

fn schema() -> Arc<parquet::schema::types::Type> {
    static S: OnceLock<Arc<parquet::schema::types::Type>> = OnceLock::new();
    S.get_or_init(|| Arc::new(parse_message_type(SCHEMA).expect("the archive schema parses")))
        .clone()
}

/// One event as archived. `raw_file` is the archive's copy of the input (`raw/…`) or, when the input
/// could not be copied (standard input), the name it was read under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Row {
    pub time_ms: i64,
    pub class_uid: i32,
    pub source: String,
    pub account: Option<String>,
    pub credential: Option<String>,
    pub user: Option<String>,
    pub sub: Option<String>,
    pub jti: Option<String>,
    pub kid: Option<String>,
    pub iat_ms: Option<i64>,
    pub client: Option<String>,
    pub exp_ms: Option<i64>,
    pub operation: String,
    pub resource_type: Option<String>,
    pub resource: Option<String>,
    pub sensitivity: Option<String>,
    pub member: Option<String>,
    pub ip: Option<String>,
    pub asn: Option<i64>,
    pub country: Option<String>,
    pub user_agent: Option<String>,
    pub status_id: i32,
    pub status: String,
    pub bytes: Option<i64>,
    pub records: Option<i64>,
    pub event_uid: Option<String>,
    pub unmapped: Option<String>,
    pub raw_file: String,
    pub raw_line: i64,
}

/// The log an event came from, from what its reader set (`resource.kind`).
pub fn source_of(e: &Event) -> &'static str {
    match e.resource.kind.as_deref() {
        Some("gateway") => "gateway",
        Some("token_issuance") => "token_issuance",
        Some("shell") => "shell",
        Some("db_access") => "db_access",
        Some("network") => "vpc_flow",
        Some(k) if k.ends_with(".googleapis.com") => "gcp_audit",
        _ => "cloudtrail",
    }
}

/// OCSF class of an event of `source`: 6003 API Activity, 3002 Authentication (token issuance),
/// 4001 Network Activity, 1007 Process Activity, 6005 Datastore Activity.
pub fn class_of(source: &str) -> i32 {
    match source {
        "token_issuance" => 3002,
        "vpc_flow" => 4001,
        "shell" => 1007,
        "db_access" => 6005,
        _ => 6003,
    }
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

impl Row {
    /// The row of `e`; `raw_file` names the input as read until the part is sealed, which points it
    /// at the archive's copy.
    pub fn from_event(e: &Event) -> Row {
        let source = source_of(e);
        let token = e.token.as_ref();
        let detail = &e.detail;
        let account = ["account", "recipientAccountId"]
            .iter()
            .find_map(|k| detail.get(*k).and_then(|v| v.as_str()))
            .map(str::to_string);
        let (status_id, status) = match e.outcome {
            EventOutcome::Success => (1, "Success"),
            EventOutcome::Failure => (2, "Failure"),
            EventOutcome::Denied => (2, "Denied"),
            EventOutcome::Unknown => (0, "Unknown"),
        };
        // The member whose data a customer request is about: the token's subject.
        let member = match source {
            "gateway" | "token_issuance" => token.and_then(|t| t.sub.clone()),
            _ => None,
        };
        Row {
            time_ms: ms(e.time),
            class_uid: class_of(source),
            source: source.to_string(),
            account,
            credential: e.credential_id.clone(),
            user: e.principal.clone(),
            sub: token.and_then(|t| t.sub.clone()),
            jti: token.and_then(|t| t.jti.clone()),
            kid: token.and_then(|t| t.kid.clone()),
            iat_ms: token.and_then(|t| t.iat).map(ms),
            client: token.and_then(|t| t.client.clone()),
            exp_ms: token.and_then(|t| t.exp).map(ms),
            operation: e.action.clone(),
            resource_type: e.resource.kind.clone(),
            resource: e.resource.id.clone(),
            sensitivity: e.resource.sensitivity.clone(),
            member,
            ip: e.src.ip.clone(),
            asn: e.src.asn.map(i64::from),
            country: e.src.country.clone(),
            user_agent: e.user_agent.clone(),
            status_id,
            status: status.to_string(),
            bytes: e.volume.bytes.and_then(|b| i64::try_from(b).ok()),
            records: e.volume.records.and_then(|b| i64::try_from(b).ok()),
            event_uid: e.event_id.clone(),
            unmapped: (!detail.is_null()).then(|| detail.to_string()),
            raw_file: e.raw.file.to_string(),
            raw_line: i64::try_from(e.raw.line).unwrap_or(i64::MAX),
        }
    }

    /// Approximate heap and inline size, to bound what a writer buffers.
    pub fn size(&self) -> usize {
        let s = |o: &Option<String>| o.as_ref().map_or(0, String::len);
        std::mem::size_of::<Row>()
            + self.source.len()
            + self.operation.len()
            + self.status.len()
            + self.raw_file.len()
            + [
                &self.account,
                &self.credential,
                &self.user,
                &self.sub,
                &self.jti,
                &self.kid,
                &self.client,
                &self.resource_type,
                &self.resource,
                &self.sensitivity,
                &self.member,
                &self.ip,
                &self.country,
                &self.user_agent,
                &self.event_uid,
                &self.unmapped,
            ]
            .into_iter()
            .map(s)
            .sum::<usize>()
    }
}

fn props(rows: usize) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("credwarden {}", env!("CARGO_PKG_VERSION")));
    let names = names();
    for c in BLOOM {
        let path = ColumnPath::from(names[c].as_str());
        b = b
            .set_column_bloom_filter_enabled(path.clone(), true)
            .set_column_bloom_filter_fpp(path.clone(), 0.01)
            .set_column_bloom_filter_max_ndv(path, rows.clamp(64, ROW_GROUP_ROWS) as u64);
    }
    // Times grow within a credential's run: delta encoding keeps them small.
    for c in [col::TIME, col::RAW_LINE] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(names[c].as_str()), false)
            .set_column_encoding(
                ColumnPath::from(names[c].as_str()),
                Encoding::DELTA_BINARY_PACKED,
            );
    }
    b.build()
}

/// Order rows so one credential's (then one signing key's, one client's) rows are together, by time.
pub fn cluster(rows: &mut [Row]) {
    rows.sort_unstable_by(|a, b| {
        (
            &a.credential,
            &a.kid,
            &a.client,
            a.time_ms,
            &a.raw_file,
            a.raw_line,
        )
            .cmp(&(
                &b.credential,
                &b.kid,
                &b.client,
                b.time_ms,
                &b.raw_file,
                b.raw_line,
            ))
    });
}

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref()
}

fn strs<'r>(
    rows: &'r [Row],
    f: impl Fn(&'r Row) -> Option<&'r str>,
    vals: &mut Vec<ByteArray>,
    defs: &mut Vec<i16>,
) {
    vals.clear();
    defs.clear();
    for r in rows {
        match f(r) {
            Some(s) => {
                vals.push(ByteArray::from(s.as_bytes().to_vec()));
                defs.push(1);
            }
            None => defs.push(0),
        }
    }
}

fn ints<T: Copy>(
    rows: &[Row],
    f: impl Fn(&Row) -> Option<T>,
    vals: &mut Vec<T>,
    defs: &mut Vec<i16>,
) {
    vals.clear();
    defs.clear();
    for r in rows {
        match f(r) {
            Some(v) => {
                vals.push(v);
                defs.push(1);
            }
            None => defs.push(0),
        }
    }
}

/// Write `rows` (clustered first) as one Parquet file to `out`; returns the rows written.
pub fn write(rows: &mut [Row], out: impl Write + Send) -> parquet::errors::Result<usize> {
    cluster(rows);
    let mut w = SerializedFileWriter::new(out, schema(), Arc::new(props(rows.len())))?;
    let (mut bv, mut iv, mut jv, mut defs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for group in rows.chunks(ROW_GROUP_ROWS) {
        let mut rg = w.next_row_group()?;
        let mut i = 0;
        while let Some(mut c) = rg.next_column()? {
            match i {
                col::TIME
                | col::IAT
                | col::EXP
                | col::ASN
                | col::BYTES
                | col::RECORDS
                | col::RAW_LINE => {
                    let f: fn(&Row) -> Option<i64> = match i {
                        col::TIME => |r| Some(r.time_ms),
                        col::IAT => |r| r.iat_ms,
                        col::EXP => |r| r.exp_ms,
                        col::ASN => |r| r.asn,
                        col::BYTES => |r| r.bytes,
                        col::RECORDS => |r| r.records,
                        _ => |r| Some(r.raw_line),
                    };
                    ints(group, f, &mut iv, &mut defs);
                    c.typed::<Int64Type>().write_batch(&iv, Some(&defs), None)?;
                }
                col::CLASS_UID | col::STATUS_ID => {
                    let f: fn(&Row) -> Option<i32> = if i == col::CLASS_UID {
                        |r| Some(r.class_uid)
                    } else {
                        |r| Some(r.status_id)
                    };
                    ints(group, f, &mut jv, &mut defs);
                    c.typed::<Int32Type>().write_batch(&jv, Some(&defs), None)?;
                }
                _ => {
                    let f: &dyn Fn(&Row) -> Option<&str> = match i {
                        col::SOURCE => &|r| Some(r.source.as_str()),
                        col::ACCOUNT => &|r| opt(&r.account),
                        col::CREDENTIAL => &|r| opt(&r.credential),
                        col::USER => &|r| opt(&r.user),
                        col::SUB => &|r| opt(&r.sub),
                        col::JTI => &|r| opt(&r.jti),
                        col::KID => &|r| opt(&r.kid),
                        col::CLIENT => &|r| opt(&r.client),
                        col::OPERATION => &|r| Some(r.operation.as_str()),
                        col::RESOURCE_TYPE => &|r| opt(&r.resource_type),
                        col::RESOURCE => &|r| opt(&r.resource),
                        col::SENSITIVITY => &|r| opt(&r.sensitivity),
                        col::MEMBER => &|r| opt(&r.member),
                        col::IP => &|r| opt(&r.ip),
                        col::COUNTRY => &|r| opt(&r.country),
                        col::USER_AGENT => &|r| opt(&r.user_agent),
                        col::STATUS => &|r| Some(r.status.as_str()),
                        col::EVENT_UID => &|r| opt(&r.event_uid),
                        col::UNMAPPED => &|r| opt(&r.unmapped),
                        col::RAW_FILE => &|r| Some(r.raw_file.as_str()),
                        other => unreachable!("column {other} has no writer"),
                    };
                    strs(group, f, &mut bv, &mut defs);
                    c.typed::<ByteArrayType>()
                        .write_batch(&bv, Some(&defs), None)?;
                }
            }
            c.close()?;
            i += 1;
        }
        rg.close()?;
    }
    w.close()?;
    Ok(rows.len())
}

/// What a reader wants from a part: row groups are skipped by statistics and bloom filters before
/// any page is read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Column and exact value (credential, signing key, client, member, address…), if any.
    pub equals: Option<(usize, String)>,
    /// Earliest time (ms), inclusive.
    pub from_ms: Option<i64>,
    /// Latest time (ms), exclusive.
    pub to_ms: Option<i64>,
}

/// Rows of one row group, column by column: only the columns asked for are filled.
#[derive(Debug, Default)]
pub struct Batch {
    /// Rows in the group.
    pub rows: usize,
    /// String columns, by column position (`None` = null).
    pub strs: Vec<Option<Vec<Option<Arc<str>>>>>,
    /// Integer columns, by column position.
    pub ints: Vec<Option<Vec<Option<i64>>>>,
}

impl Batch {
    /// A string column that was read.
    pub fn s(&self, c: usize) -> &[Option<Arc<str>>] {
        self.strs[c].as_deref().expect("column read")
    }
    /// An integer column that was read.
    pub fn i(&self, c: usize) -> &[Option<i64>] {
        self.ints[c].as_deref().expect("column read")
    }
}

/// Counts of what [`scan`] read and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Row groups in the files.
    pub row_groups: u64,
    /// Row groups read (not skipped).
    pub row_groups_read: u64,
    /// Rows in the row groups read.
    pub rows_read: u64,
}

fn is_int(c: usize) -> bool {
    matches!(
        c,
        col::TIME
            | col::CLASS_UID
            | col::IAT
            | col::EXP
            | col::ASN
            | col::STATUS_ID
            | col::BYTES
            | col::RECORDS
            | col::RAW_LINE
    )
}

fn may_hold(rg: &dyn RowGroupReader, f: &Filter) -> bool {
    let meta = rg.metadata();
    if f.from_ms.is_some() || f.to_ms.is_some() {
        if let Some(parquet::file::statistics::Statistics::Int64(s)) =
            meta.column(col::TIME).statistics()
        {
            if let (Some(min), Some(max)) = (s.min_opt(), s.max_opt()) {
                if f.from_ms.is_some_and(|from| *max < from) || f.to_ms.is_some_and(|to| *min >= to)
                {
                    return false;
                }
            }
        }
    }
    let Some((c, v)) = &f.equals else {
        return true;
    };
    if is_int(*c) {
        if let Ok(n) = v.parse::<i64>() {
            if let Some(parquet::file::statistics::Statistics::Int64(s)) =
                meta.column(*c).statistics()
            {
                if let (Some(min), Some(max)) = (s.min_opt(), s.max_opt()) {
                    return *min <= n && n <= *max;
                }
            }
        }
        return true;
    }
    if let Some(s) = meta.column(*c).statistics() {
        if s.null_count_opt() == Some(meta.num_rows() as u64) {
            return false;
        }
        if let (Some(min), Some(max)) = (s.min_bytes_opt(), s.max_bytes_opt()) {
            if v.as_bytes() < min || v.as_bytes() > max {
                return false;
            }
        }
    }
    if let Some(b) = rg.get_column_bloom_filter(*c) {
        if !b.check(v.as_str()) {
            return false;
        }
    }
    true
}

/// Read `columns` of every row group of the part at `path` that may hold rows passing `filter`,
/// calling `each` with each group's batch (the caller filters rows exactly).
pub fn scan(
    path: &std::path::Path,
    columns: &[usize],
    filter: &Filter,
    stats: &mut ScanStats,
    each: &mut dyn FnMut(&Batch),
) -> parquet::errors::Result<()> {
    let file = std::fs::File::open(path)?;
    let props = parquet::file::properties::ReaderProperties::builder()
        .set_read_bloom_filter(filter.equals.is_some())
        .build();
    let reader = SerializedFileReader::new_with_options(
        file,
        ReadOptionsBuilder::new()
            .with_reader_properties(props)
            .build(),
    )?;
    for g in 0..reader.num_row_groups() {
        stats.row_groups += 1;
        let rg = reader.get_row_group(g)?;
        if !may_hold(rg.as_ref(), filter) {
            continue;
        }
        stats.row_groups_read += 1;
        let n = rg.metadata().num_rows() as usize;
        stats.rows_read += n as u64;
        let mut batch = Batch {
            rows: n,
            strs: vec![None; col::COUNT],
            ints: vec![None; col::COUNT],
        };
        for &c in columns {
            let mut defs: Vec<i16> = Vec::with_capacity(n);
            let not = |kind: &str| {
                parquet::errors::ParquetError::General(format!(
                    "column {} is not {kind} column",
                    names_of(c)
                ))
            };
            match rg.get_column_reader(c)? {
                ColumnReader::Int64ColumnReader(mut r) if is_int(c) => {
                    let mut vals: Vec<i64> = Vec::with_capacity(n);
                    r.read_records(n, Some(&mut defs), None, &mut vals)?;
                    batch.ints[c] = Some(spread(&defs, vals, |v| v));
                }
                ColumnReader::Int32ColumnReader(mut r) if is_int(c) => {
                    let mut vals: Vec<i32> = Vec::with_capacity(n);
                    r.read_records(n, Some(&mut defs), None, &mut vals)?;
                    batch.ints[c] = Some(spread(&defs, vals, i64::from));
                }
                ColumnReader::ByteArrayColumnReader(mut r) if !is_int(c) => {
                    let mut vals: Vec<ByteArray> = Vec::with_capacity(n);
                    r.read_records(n, Some(&mut defs), None, &mut vals)?;
                    batch.strs[c] = Some(spread(&defs, vals, |b| {
                        Arc::from(String::from_utf8_lossy(b.data()))
                    }));
                }
                _ if is_int(c) => return Err(not("an integer")),
                _ => return Err(not("a string")),
            }
        }
        each(&batch);
    }
    Ok(())
}

/// Values of a column chunk (non-null values, in order) spread over its rows by the definition
/// levels (0 = null); a required column has no levels and every row has a value.
fn spread<V, T>(defs: &[i16], vals: Vec<V>, f: impl Fn(V) -> T) -> Vec<Option<T>> {
    let mut it = vals.into_iter().map(f);
    if defs.is_empty() {
        return it.map(Some).collect();
    }
    defs.iter()
        .map(|d| if *d > 0 { it.next() } else { None })
        .collect()
}

fn names_of(c: usize) -> &'static str {
    names().get(c).map_or("?", String::as_str)
}

/// Rows in a part file, from its footer.
pub fn count_rows(path: &std::path::Path) -> parquet::errors::Result<u64> {
    let reader = SerializedFileReader::new(std::fs::File::open(path)?)?;
    Ok(reader.metadata().file_metadata().num_rows() as u64)
}
