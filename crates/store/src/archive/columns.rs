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

/// Most rows in a data page.
pub const PAGE_ROWS: usize = 1_024;

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

/// One buffered row: a cell per column — the value of an integer column, or the place of a string
/// column's bytes in its [`Rows`] arena (offset in the high half, length in the low) — and a bit per
/// null cell. No allocation per event: the strings of a part live in one buffer.
#[derive(Debug, Clone, Copy)]
struct Row {
    cells: [u64; col::COUNT],
    nulls: u32,
}

/// The rows of one part before it is written: fixed-size rows and one arena of string bytes. `raw_file`
/// is the name the input was read under until [`Rows::rename_raw_files`] points it at the archive's copy.
#[derive(Debug, Default)]
pub struct Rows {
    arena: Vec<u8>,
    rows: Vec<Row>,
    /// The `raw_file` cell of each input name: a part reads few files, each name is stored once.
    files: std::collections::HashMap<std::sync::Arc<str>, u64>,
}

/// The cell of the string at arena bytes `at..end`: offset in the high half, length in the low.
fn string_cell(at: usize, end: usize) -> u64 {
    let (at, len) = (
        u32::try_from(at).expect("a part's strings stay under 4 GiB (MAX_BUFFERED)"),
        u32::try_from(end - at).expect("a part's strings stay under 4 GiB (MAX_BUFFERED)"),
    );
    (u64::from(at) << 32) | u64::from(len)
}

/// The arena bytes a string cell points at.
fn span(cell: u64) -> std::ops::Range<usize> {
    let at = (cell >> 32) as usize;
    at..at + (cell & 0xffff_ffff) as usize
}

/// The values of column `c` for the rows `group` (positions in `rows`), non-null ones through `f`, and
/// their definition levels (1 = value, 0 = null).
fn fill<T>(
    rows: &[Row],
    group: &[u32],
    c: usize,
    vals: &mut Vec<T>,
    defs: &mut Vec<i16>,
    f: impl Fn(u64) -> T,
) {
    let bit = 1u32 << c;
    vals.clear();
    defs.clear();
    for &i in group {
        let r = &rows[i as usize];
        let present = r.nulls & bit == 0;
        defs.push(i16::from(present));
        if present {
            vals.push(f(r.cells[c]));
        }
    }
}

impl Rows {
    /// No rows.
    pub fn new() -> Rows {
        Rows::default()
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No rows held.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes of rows and strings held, to bound what a writer buffers (what is allocated may be
    /// up to twice this: buffers grow by doubling).
    pub fn size(&self) -> usize {
        self.rows.len() * std::mem::size_of::<Row>() + self.arena.len()
    }

    /// Close the string started at `at` (bytes already in the arena) as cell `c` of `row`.
    fn close(&self, row: &mut Row, c: usize, at: usize) {
        row.cells[c] = string_cell(at, self.arena.len());
    }

    fn put(&mut self, row: &mut Row, c: usize, v: Option<&str>) {
        match v {
            Some(v) => {
                let at = self.arena.len();
                self.arena.extend_from_slice(v.as_bytes());
                self.close(row, c, at);
            }
            None => row.nulls |= 1 << c,
        }
    }

    fn int(row: &mut Row, c: usize, v: Option<i64>) {
        match v {
            Some(v) => row.cells[c] = v as u64,
            None => row.nulls |= 1 << c,
        }
    }

    fn str_of(&self, row: &Row, c: usize) -> Option<&[u8]> {
        if row.nulls & (1 << c) != 0 {
            return None;
        }
        Some(&self.arena[span(row.cells[c])])
    }

    /// Add one event as a row.
    pub fn push(&mut self, e: &Event) {
        let source = source_of(e);
        let token = e.token.as_ref();
        let detail = &e.detail;
        let account = ["account", "recipientAccountId"]
            .iter()
            .find_map(|k| detail.get(*k).and_then(|v| v.as_str()));
        let (status_id, status) = match e.outcome {
            EventOutcome::Success => (1, "Success"),
            EventOutcome::Failure => (2, "Failure"),
            EventOutcome::Denied => (2, "Denied"),
            EventOutcome::Unknown => (0, "Unknown"),
        };
        // The member whose data a customer request is about: the token's subject.
        let member = match source {
            "gateway" | "token_issuance" => token.and_then(|t| t.sub.as_deref()),
            _ => None,
        };
        let mut r = Row {
            cells: [0; col::COUNT],
            nulls: 0,
        };
        Rows::int(&mut r, col::TIME, Some(ms(e.time)));
        Rows::int(&mut r, col::CLASS_UID, Some(i64::from(class_of(source))));
        self.put(&mut r, col::SOURCE, Some(source));
        self.put(&mut r, col::ACCOUNT, account);
        self.put(&mut r, col::CREDENTIAL, e.credential_id.as_deref());
        self.put(&mut r, col::USER, e.principal.as_deref());
        self.put(&mut r, col::SUB, token.and_then(|t| t.sub.as_deref()));
        self.put(&mut r, col::JTI, token.and_then(|t| t.jti.as_deref()));
        self.put(&mut r, col::KID, token.and_then(|t| t.kid.as_deref()));
        Rows::int(&mut r, col::IAT, token.and_then(|t| t.iat).map(ms));
        self.put(&mut r, col::CLIENT, token.and_then(|t| t.client.as_deref()));
        Rows::int(&mut r, col::EXP, token.and_then(|t| t.exp).map(ms));
        self.put(&mut r, col::OPERATION, Some(&e.action));
        self.put(&mut r, col::RESOURCE_TYPE, e.resource.kind.as_deref());
        self.put(&mut r, col::RESOURCE, e.resource.id.as_deref());
        self.put(&mut r, col::SENSITIVITY, e.resource.sensitivity.as_deref());
        self.put(&mut r, col::MEMBER, member);
        self.put(&mut r, col::IP, e.src.ip.as_deref());
        Rows::int(&mut r, col::ASN, e.src.asn.map(i64::from));
        self.put(&mut r, col::COUNTRY, e.src.country.as_deref());
        self.put(&mut r, col::USER_AGENT, e.user_agent.as_deref());
        Rows::int(&mut r, col::STATUS_ID, Some(status_id));
        self.put(&mut r, col::STATUS, Some(status));
        Rows::int(
            &mut r,
            col::BYTES,
            e.volume.bytes.and_then(|b| i64::try_from(b).ok()),
        );
        Rows::int(
            &mut r,
            col::RECORDS,
            e.volume.records.and_then(|b| i64::try_from(b).ok()),
        );
        self.put(&mut r, col::EVENT_UID, e.event_id.as_deref());
        if detail.is_null() {
            r.nulls |= 1 << col::UNMAPPED;
        } else {
            // Serialized straight into the arena: no string per event.
            let at = self.arena.len();
            serde_json::to_writer(&mut self.arena, detail).expect("a JSON value serializes");
            self.close(&mut r, col::UNMAPPED, at);
        }
        r.cells[col::RAW_FILE] = match self.files.get(&e.raw.file) {
            Some(cell) => *cell,
            None => {
                self.put(&mut r, col::RAW_FILE, Some(&e.raw.file));
                self.files
                    .insert(e.raw.file.clone(), r.cells[col::RAW_FILE]);
                r.cells[col::RAW_FILE]
            }
        };
        Rows::int(
            &mut r,
            col::RAW_LINE,
            Some(i64::try_from(e.raw.line).unwrap_or(i64::MAX)),
        );
        self.rows.push(r);
    }

    /// The distinct input names the rows point at.
    pub fn raw_files(&self) -> Vec<String> {
        let mut names: Vec<String> = self.files.keys().map(|n| n.to_string()).collect();
        names.sort();
        names
    }

    /// Point `raw_file` at new names (input name → archive copy); names not in `to` stay.
    pub fn rename_raw_files(&mut self, to: &std::collections::HashMap<String, String>) {
        let mut moved: std::collections::HashMap<u64, u64> = Default::default();
        for (name, cell) in self.files.iter_mut() {
            if let Some(new) = to.get(name.as_ref()) {
                let at = self.arena.len();
                self.arena.extend_from_slice(new.as_bytes());
                let new = string_cell(at, self.arena.len());
                moved.insert(*cell, new);
                *cell = new;
            }
        }
        for r in &mut self.rows {
            if let Some(new) = moved.get(&r.cells[col::RAW_FILE]) {
                r.cells[col::RAW_FILE] = *new;
            }
        }
    }

    /// Rank of each row's value in column `c` among the part's distinct values (nulls first), so
    /// sorting compares integers instead of strings.
    fn ranks(&self, c: usize) -> Vec<u32> {
        let mut distinct: std::collections::HashMap<&[u8], u32> = Default::default();
        for r in &self.rows {
            if let Some(v) = self.str_of(r, c) {
                distinct.entry(v).or_insert(0);
            }
        }
        let mut values: Vec<&[u8]> = distinct.keys().copied().collect();
        values.sort_unstable();
        for (i, v) in values.into_iter().enumerate() {
            distinct.insert(v, i as u32 + 1);
        }
        self.rows
            .iter()
            .map(|r| self.str_of(r, c).map_or(0, |v| distinct[v]))
            .collect()
    }

    /// The order rows are written in: by credential, signing key, client, time, then raw position.
    fn clustered(&self) -> Vec<u32> {
        let (cred, kid, client, file) = (
            self.ranks(col::CREDENTIAL),
            self.ranks(col::KID),
            self.ranks(col::CLIENT),
            self.ranks(col::RAW_FILE),
        );
        let mut keys: Vec<(u32, u32, u32, i64, u32, i64, u32)> = (0..self.rows.len())
            .map(|i| {
                let r = &self.rows[i];
                (
                    cred[i],
                    kid[i],
                    client[i],
                    r.cells[col::TIME] as i64,
                    file[i],
                    r.cells[col::RAW_LINE] as i64,
                    i as u32,
                )
            })
            .collect();
        keys.sort_unstable();
        keys.into_iter().map(|k| k.6).collect()
    }

    /// Write the rows, clustered, as one Parquet file to `out`; returns the rows written.
    pub fn write(self, out: impl Write + Send) -> parquet::errors::Result<usize> {
        let order = self.clustered();
        let Rows { arena, rows, .. } = self;
        let arena = bytes::Bytes::from(arena);
        let mut w = SerializedFileWriter::new(out, schema(), Arc::new(props(rows.len())))?;
        let (mut bv, mut iv, mut jv, mut defs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for group in order.chunks(ROW_GROUP_ROWS) {
            let mut rg = w.next_row_group()?;
            let mut c = 0;
            while let Some(mut cw) = rg.next_column()? {
                if matches!(c, col::CLASS_UID | col::STATUS_ID) {
                    fill(&rows, group, c, &mut jv, &mut defs, |v| v as i64 as i32);
                    cw.typed::<Int32Type>()
                        .write_batch(&jv, Some(&defs), None)?;
                } else if is_int(c) {
                    fill(&rows, group, c, &mut iv, &mut defs, |v| v as i64);
                    cw.typed::<Int64Type>()
                        .write_batch(&iv, Some(&defs), None)?;
                } else {
                    fill(&rows, group, c, &mut bv, &mut defs, |v| {
                        ByteArray::from(arena.slice(span(v)))
                    });
                    cw.typed::<ByteArrayType>()
                        .write_batch(&bv, Some(&defs), None)?;
                }
                cw.close()?;
                c += 1;
            }
            rg.close()?;
        }
        w.close()?;
        Ok(rows.len())
    }
}

fn props(rows: usize) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::SNAPPY)
        // Row-group statistics on every column; page statistics (the column index) only on the
        // columns rows are clustered by, where they narrow a read to a few pages.
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // Pages of a few thousand rows: the page index then narrows one credential's rows to a
        // few pages, and a reader skips the rest of the row group without decoding it.
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_created_by(format!("credwarden {}", env!("CARGO_PKG_VERSION")));
    let names = names();
    for c in BLOOM {
        let path = ColumnPath::from(names[c].as_str());
        b = b
            .set_column_bloom_filter_enabled(path.clone(), true)
            .set_column_bloom_filter_fpp(path.clone(), 0.01)
            .set_column_bloom_filter_max_ndv(path, rows.clamp(64, ROW_GROUP_ROWS) as u64);
    }
    for c in [col::TIME, col::CREDENTIAL, col::KID, col::CLIENT] {
        b = b.set_column_statistics_enabled(
            ColumnPath::from(names[c].as_str()),
            EnabledStatistics::Page,
        );
    }
    // Columns with many distinct values in a row group are stored plain: a reader that wants a
    // few rows would otherwise decode a dictionary of up to a megabyte per column chunk, and
    // clustering already puts equal values side by side for the compressor.
    for c in [
        col::CREDENTIAL,
        col::USER,
        col::SUB,
        col::JTI,
        col::RESOURCE,
        col::MEMBER,
        col::IP,
        col::USER_AGENT,
        col::EVENT_UID,
        col::UNMAPPED,
    ] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(names[c].as_str()), false);
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

    /// The rows at `rows` (positions in this batch), with the same columns.
    pub fn take(&self, rows: &[usize]) -> Batch {
        fn pick<T: Clone>(col: &Option<Vec<Option<T>>>, rows: &[usize]) -> Option<Vec<Option<T>>> {
            col.as_ref()
                .map(|v| rows.iter().map(|&i| v[i].clone()).collect())
        }
        Batch {
            rows: rows.len(),
            strs: self.strs.iter().map(|c| pick(c, rows)).collect(),
            ints: self.ints.iter().map(|c| pick(c, rows)).collect(),
        }
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

/// Can a row group hold rows passing `f`, by its statistics (time bounds, the value's min/max)?
fn stats_may_hold(meta: &parquet::file::metadata::RowGroupMetaData, f: &Filter) -> bool {
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
    true
}

/// Can a row group hold the filter's value, by its bloom filter (when the column has one)?
fn bloom_may_hold(rg: &dyn RowGroupReader, f: &Filter) -> bool {
    let Some((c, v)) = &f.equals else {
        return true;
    };
    if is_int(*c) {
        return true;
    }
    rg.get_column_bloom_filter(*c)
        .is_none_or(|b| b.check(v.as_str()))
}

/// Read `columns` of every row group of the part at `path` that may hold rows passing `filter`,
/// calling `each` with each group's batch.
///
/// With an `equals` filter, the filter's column is decoded first and a batch holds only the rows
/// that have exactly that value (late materialization: the other columns' values are turned into
/// strings for those rows alone); without one, every row of the group. Time bounds only prune row
/// groups: the caller filters rows by time.
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
    let mut options = ReadOptionsBuilder::new().with_reader_properties(props);
    if filter.equals.is_some() {
        options = options.with_page_index();
    }
    // Row groups that statistics rule out are dropped before their page index is read.
    let (pruned, f) = (
        Arc::new(std::sync::atomic::AtomicU64::new(0)),
        filter.clone(),
    );
    let count = pruned.clone();
    options = options.with_predicate(Box::new(move |rg, _| {
        let keep = stats_may_hold(rg, &f);
        if !keep {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        keep
    }));
    let reader = SerializedFileReader::new_with_options(file, options.build())?;
    stats.row_groups += pruned.load(std::sync::atomic::Ordering::Relaxed);
    for g in 0..reader.num_row_groups() {
        stats.row_groups += 1;
        let rg = reader.get_row_group(g)?;
        if !bloom_may_hold(rg.as_ref(), filter) {
            continue;
        }
        let all = rg.metadata().num_rows() as usize;
        let Some((lo, hi)) = page_rows(reader.metadata(), g, all, filter) else {
            continue;
        };
        stats.row_groups_read += 1;
        let n = hi - lo;
        stats.rows_read += n as u64;
        let mut batch = Batch {
            rows: n,
            strs: vec![None; col::COUNT],
            ints: vec![None; col::COUNT],
        };
        // The rows kept (relative to `lo`), from the filter's column, read first.
        let keep = match &filter.equals {
            Some((c, v)) => {
                let keep = matching_rows(rg.as_ref(), *c, lo, n, v)?;
                if keep.is_empty() {
                    continue;
                }
                Some(keep)
            }
            None => None,
        };
        for &c in columns {
            read_column(rg.as_ref(), c, lo, n, keep.as_deref(), &mut batch)?;
        }
        if let Some(k) = &keep {
            batch.rows = k.len();
        }
        each(&batch);
    }
    Ok(())
}

/// Positions among rows `[lo, lo + n)` of a row group whose column `c` equals `v` (compared as
/// bytes, or as an integer for an integer column), relative to `lo`.
fn matching_rows(
    rg: &dyn RowGroupReader,
    c: usize,
    lo: usize,
    n: usize,
    v: &str,
) -> parquet::errors::Result<Vec<u32>> {
    let mut b = Batch {
        rows: n,
        strs: vec![None; col::COUNT],
        ints: vec![None; col::COUNT],
    };
    if is_int(c) {
        let Ok(want) = v.parse::<i64>() else {
            return Ok(Vec::new());
        };
        read_column(rg, c, lo, n, None, &mut b)?;
        return Ok((0..n as u32)
            .filter(|&i| b.i(c)[i as usize] == Some(want))
            .collect());
    }
    let mut defs: Vec<i16> = Vec::with_capacity(n);
    let mut vals: Vec<ByteArray> = Vec::with_capacity(n);
    match rg.get_column_reader(c)? {
        ColumnReader::ByteArrayColumnReader(mut r) => {
            r.skip_records(lo)?;
            r.read_records(n, Some(&mut defs), None, &mut vals)?;
        }
        _ => return Err(not_of(c, "a string")),
    }
    let want = v.as_bytes();
    Ok(spread(&defs, vals, None, |b| b.data() == want)
        .into_iter()
        .enumerate()
        .filter(|(_, hit)| *hit == Some(true))
        .map(|(i, _)| i as u32)
        .collect())
}

fn not_of(c: usize, kind: &str) -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::General(format!("column {} is not {kind} column", names_of(c)))
}

/// Read column `c`, rows `[lo, lo + n)` of a row group, into `b`: every row, or only the rows in
/// `keep` (positions relative to `lo`, ascending).
fn read_column(
    rg: &dyn RowGroupReader,
    c: usize,
    lo: usize,
    n: usize,
    keep: Option<&[u32]>,
    b: &mut Batch,
) -> parquet::errors::Result<()> {
    let mut defs: Vec<i16> = Vec::with_capacity(n);
    match rg.get_column_reader(c)? {
        ColumnReader::Int64ColumnReader(mut r) if is_int(c) => {
            let mut vals: Vec<i64> = Vec::with_capacity(n);
            r.skip_records(lo)?;
            r.read_records(n, Some(&mut defs), None, &mut vals)?;
            b.ints[c] = Some(spread(&defs, vals, keep, |v| *v));
        }
        ColumnReader::Int32ColumnReader(mut r) if is_int(c) => {
            let mut vals: Vec<i32> = Vec::with_capacity(n);
            r.skip_records(lo)?;
            r.read_records(n, Some(&mut defs), None, &mut vals)?;
            b.ints[c] = Some(spread(&defs, vals, keep, |v| i64::from(*v)));
        }
        ColumnReader::ByteArrayColumnReader(mut r) if !is_int(c) => {
            let mut vals: Vec<ByteArray> = Vec::with_capacity(n);
            r.skip_records(lo)?;
            r.read_records(n, Some(&mut defs), None, &mut vals)?;
            b.strs[c] = Some(spread(&defs, vals, keep, |v| {
                Arc::from(String::from_utf8_lossy(v.data()))
            }));
        }
        _ if is_int(c) => return Err(not_of(c, "an integer")),
        _ => return Err(not_of(c, "a string")),
    }
    Ok(())
}

/// The rows `[lo, hi)` of row group `g` (of `rows` rows) that may hold the filter's value, from the
/// page index of the filter's string column: the hull of the pages whose min/max bracket it (rows
/// are clustered, so these pages are next to each other). `None` when no page can hold it; the
/// whole group when the file has no page index.
fn page_rows(
    meta: &parquet::file::metadata::ParquetMetaData,
    g: usize,
    rows: usize,
    filter: &Filter,
) -> Option<(usize, usize)> {
    use parquet::file::page_index::column_index::ColumnIndexMetaData;
    let whole = Some((0, rows));
    let Some((c, v)) = &filter.equals else {
        return whole;
    };
    if is_int(*c) {
        return whole;
    }
    let index = meta.page_index_for_row_group(g);
    let (Some(ColumnIndexMetaData::BYTE_ARRAY(ci)), Some(oi)) =
        (index.column_index(*c), index.offset_index(*c))
    else {
        return whole;
    };
    let pages = oi.page_locations();
    let v = v.as_bytes();
    let (mut lo, mut hi) = (usize::MAX, 0);
    for (i, p) in pages.iter().enumerate() {
        let first = usize::try_from(p.first_row_index).unwrap_or(0);
        let end = pages
            .get(i + 1)
            .map_or(rows, |n| usize::try_from(n.first_row_index).unwrap_or(rows));
        if ci.is_null_page(i) {
            continue;
        }
        let may = match (ci.min_value(i), ci.max_value(i)) {
            (Some(min), Some(max)) => min <= v && v <= max,
            _ => true,
        };
        if may {
            lo = lo.min(first);
            hi = hi.max(end);
        }
    }
    (lo < hi).then_some((lo, hi.min(rows)))
}

/// Values of a column chunk (non-null values, in order) spread over its rows by the definition
/// levels (0 = null; a required column has no levels and every row has a value), for every row or
/// only the rows in `keep` (ascending): values of other rows are skipped, never converted.
fn spread<V, T>(
    defs: &[i16],
    vals: Vec<V>,
    keep: Option<&[u32]>,
    f: impl Fn(&V) -> T,
) -> Vec<Option<T>> {
    match keep {
        None if defs.is_empty() => vals.iter().map(|v| Some(f(v))).collect(),
        None => {
            let mut it = vals.iter();
            defs.iter()
                .map(|d| if *d > 0 { it.next().map(&f) } else { None })
                .collect()
        }
        Some(keep) if defs.is_empty() => {
            keep.iter().map(|&i| vals.get(i as usize).map(&f)).collect()
        }
        Some(keep) => {
            let mut out = Vec::with_capacity(keep.len());
            let (mut k, mut v) = (0, 0);
            for (row, d) in defs.iter().enumerate() {
                if k == keep.len() {
                    break;
                }
                let present = *d > 0;
                if keep[k] as usize == row {
                    out.push(if present { vals.get(v).map(&f) } else { None });
                    k += 1;
                }
                v += usize::from(present);
            }
            out
        }
    }
}

fn names_of(c: usize) -> &'static str {
    names().get(c).map_or("?", String::as_str)
}

/// Rows in a part file, from its footer.
pub fn count_rows(path: &std::path::Path) -> parquet::errors::Result<u64> {
    let reader = SerializedFileReader::new(std::fs::File::open(path)?)?;
    Ok(reader.metadata().file_metadata().num_rows() as u64)
}
