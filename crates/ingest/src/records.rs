//! Format-neutral records: CSV rows and JSON objects become [`Record`]s keyed by canonical field name,
//! so that each reader declares its fields once (with accepted spellings) and handles both formats.

use crate::error::{quote, IngestError, Reject, Rejects};
use credwarden_model::SourceRef;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

/// A whole input file in memory, with its label for error messages. Inventories and rosters are
/// small (thousands to a few hundred thousand rows); activity logs are streamed elsewhere.
#[derive(Debug, Clone)]
pub struct Input {
    /// Path as the user gave it (`-` for stdin).
    pub label: String,
    /// Content, UTF-8, byte-order mark removed.
    pub text: String,
    /// The label as shared by every [`SourceRef`] pointing into this input.
    pub source: Arc<str>,
    /// Bytes that were not UTF-8 were replaced by U+FFFD: rows holding one are rejected.
    pub lossy: bool,
}

/// Largest HR export, inventory, group or owner file read (1 GiB): bounded memory for an endless
/// stream given by mistake (a device is refused before reading).
pub const MAX_INPUT: usize = 1 << 30;

impl Input {
    /// Read a file (or stdin for `-`) of at most [`MAX_INPUT`] bytes. Bytes that are not UTF-8 are
    /// replaced (U+FFFD), so that the rows holding them fail on their own, located, instead of the
    /// whole file.
    pub fn read(path: &Path) -> Result<Self, IngestError> {
        let label = path.display().to_string();
        if label != "-" {
            #[cfg(unix)]
            use std::os::unix::fs::FileTypeExt;
            let m = std::fs::metadata(path).map_err(|e| IngestError::Io {
                file: label.clone(),
                reason: e.to_string(),
            })?;
            let t = m.file_type();
            #[cfg(unix)]
            let device = t.is_char_device() || t.is_block_device() || t.is_socket();
            #[cfg(not(unix))]
            let device = false;
            if device || t.is_dir() {
                return Err(IngestError::Format {
                    file: label,
                    reason: "not a file (a directory, device or socket)".into(),
                });
            }
            if m.is_file() && m.len() > MAX_INPUT as u64 {
                return Err(IngestError::Format {
                    file: label,
                    reason: format!(
                        "{} bytes, larger than {} GiB: not an HR export, inventory or mapping file",
                        m.len(),
                        MAX_INPUT >> 30
                    ),
                });
            }
        }
        let mut bytes = Vec::new();
        let limit = MAX_INPUT as u64 + 1;
        let res = if label == "-" {
            std::io::stdin()
                .take(limit)
                .read_to_end(&mut bytes)
                .map(|_| ())
        } else {
            std::fs::File::open(path)
                .and_then(|f| f.take(limit).read_to_end(&mut bytes))
                .map(|_| ())
        };
        res.map_err(|e| IngestError::Io {
            file: label.clone(),
            reason: e.to_string(),
        })?;
        if bytes.len() > MAX_INPUT {
            return Err(IngestError::Format {
                file: label,
                reason: format!(
                    "larger than {} GiB: not an HR export, inventory or mapping file (a device or an endless stream?)",
                    MAX_INPUT >> 30
                ),
            });
        }
        let (text, lossy) = match String::from_utf8(bytes) {
            Ok(t) => (t, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        let mut input = Self::new(label, text);
        input.lossy = lossy;
        Ok(input)
    }

    /// Wrap text already in memory.
    pub fn new(label: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text);
        let label: String = label.into();
        Self {
            source: Arc::from(label.as_str()),
            label,
            text,
            lossy: false,
        }
    }

    /// Fail with [`IngestError::Empty`] when there is nothing but whitespace.
    pub fn non_empty(&self) -> Result<(), IngestError> {
        if self.text.trim().is_empty() {
            Err(IngestError::Empty {
                file: self.label.clone(),
            })
        } else {
            Ok(())
        }
    }

    /// True when the content looks like JSON (object, array or JSON lines).
    pub fn looks_like_json(&self) -> bool {
        matches!(self.text.trim_start().as_bytes().first(), Some(b'{' | b'['))
    }

    /// A cursor mapping byte offsets to 1-based line numbers.
    pub fn lines(&self) -> LineCursor<'_> {
        LineCursor {
            text: self.text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }
}

/// Maps byte offsets to 1-based lines in linear total time when offsets mostly increase (rescans from the
/// start when asked about an earlier offset).
#[derive(Debug)]
pub struct LineCursor<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCursor<'_> {
    /// Line of `offset`.
    pub fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.text[self.offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.offset = offset;
        self.line
    }
}

/// A field a reader understands: canonical name and accepted spellings (normalized: lower-case,
/// letters and digits only).
#[derive(Debug)]
pub struct FieldSpec {
    /// Canonical name (used in docs and messages).
    pub name: &'static str,
    /// Accepted header / key spellings, normalized.
    pub aliases: &'static [&'static str],
    /// Must the header have it?
    pub required: bool,
}

/// Normalize a header or key: lower-case ASCII letters and digits only; `#` reads as "number"
/// (`Employee #` is `employeenumber`).
pub(crate) fn norm_key(k: &str) -> String {
    k.replace('#', "number")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn spec_for<'s>(specs: &'s [FieldSpec], key: &str) -> Option<&'s FieldSpec> {
    let n = norm_key(key);
    specs
        .iter()
        .find(|s| norm_key(s.name) == n || s.aliases.contains(&n.as_str()))
}

/// A value as read.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Text (CSV cell, JSON string/number/bool).
    Text(String),
    /// JSON array of scalars.
    List(Vec<String>),
}

/// One input record, fields keyed by canonical name, remembering the original spelling of each key.
#[derive(Debug, Clone)]
pub struct Record<'i> {
    /// File label.
    pub file: &'i str,
    /// 1-based line.
    pub line: u64,
    /// Shared file label for [`SourceRef`]s.
    pub src: &'i Arc<str>,
    /// Raw text of the record (for quarantine), borrowed from the input.
    pub raw: &'i str,
    /// (canonical field, key as spelled in the input, value); at most one entry per field.
    fields: Vec<(&'static str, Rc<str>, Cell)>,
}

impl<'i> Record<'i> {
    /// Pointer to this record for evidence.
    pub fn source(&self) -> SourceRef {
        SourceRef {
            file: self.src.clone(),
            line: self.line,
        }
    }

    fn get(&self, field: &str) -> Option<(&Rc<str>, &Cell)> {
        self.fields
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, k, c)| (k, c))
    }

    /// Does the record have this field at all (a column in the header, a key in the object)?
    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    /// Trimmed, non-empty text of a field.
    pub fn str(&self, field: &str) -> Option<&str> {
        match self.get(field) {
            Some((_, Cell::Text(s))) => Some(s.trim()).filter(|s| !s.is_empty()),
            Some((_, Cell::List(v))) => v.first().map(String::as_str),
            None => None,
        }
    }

    /// A list field: JSON arrays as given, text split on `;`, `|`, `,` or whitespace.
    pub fn list(&self, field: &str) -> Vec<String> {
        match self.get(field) {
            Some((_, Cell::Text(s))) => s
                .split(|c: char| c == ';' || c == '|' || c == ',' || c.is_whitespace())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            Some((_, Cell::List(v))) => v
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => Vec::new(),
        }
    }

    /// The key as spelled in the input (for error messages).
    pub fn key(&self, field: &'static str) -> String {
        self.get(field)
            .map(|(k, _)| k.to_string())
            .unwrap_or_else(|| field.to_string())
    }

    /// Located field error.
    pub fn err(&self, field: &'static str, reason: impl std::fmt::Display) -> IngestError {
        IngestError::field(self.file, self.line, &self.key(field), reason)
    }

    /// Parse a field with `f`, turning its error into a located one. `None` when absent or empty.
    pub fn parse<T>(
        &self,
        field: &'static str,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, IngestError> {
        match self.str(field) {
            None => Ok(None),
            Some(v) => f(v).map(Some).map_err(|e| self.err(field, e)),
        }
    }

    /// Like [`Record::parse`] but the field must be present.
    pub fn require<T>(
        &self,
        field: &'static str,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, IngestError> {
        self.parse(field, f)?
            .ok_or_else(|| self.err(field, "required value is empty"))
    }
}

/// Read CSV with a header row. Columns are matched to `specs` by normalized spelling; unknown columns
/// are ignored; CRLF and a BOM are fine. Rows stream in file order, malformed ones as `Err`.
pub fn csv_records<'i>(input: &'i Input, specs: &[FieldSpec]) -> Result<Rows<'i>, IngestError> {
    input.non_empty()?;
    let file = input.label.as_str();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input.text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| IngestError::Syntax {
            file: file.into(),
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    let mut cols: Vec<Option<&'static str>> = Vec::with_capacity(headers.len());
    let mut seen = Vec::new();
    for h in headers.iter() {
        let s = spec_for(specs, h).filter(|s| !seen.contains(&s.name));
        if let Some(s) = s {
            seen.push(s.name);
        }
        cols.push(s.map(|s| s.name));
    }
    check_required(
        file,
        1,
        specs,
        &seen,
        headers.iter().map(str::to_string).collect(),
    )?;
    Ok(Box::new(CsvRows {
        input,
        keys: headers.iter().map(Rc::from).collect(),
        cols,
        rdr,
        lines: input.lines(),
        rec: csv::StringRecord::new(),
    }))
}

/// Streaming CSV rows: one record in memory at a time.
struct CsvRows<'i> {
    input: &'i Input,
    rdr: csv::Reader<&'i [u8]>,
    keys: Vec<Rc<str>>,
    cols: Vec<Option<&'static str>>,
    lines: LineCursor<'i>,
    rec: csv::StringRecord,
}

impl<'i> Iterator for CsvRows<'i> {
    type Item = Result<Record<'i>, Reject>;

    fn next(&mut self) -> Option<Self::Item> {
        let file = self.input.label.as_str();
        loop {
            let line = self.rdr.position().line() + 1;
            match self.rdr.read_record(&mut self.rec) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(line);
                    let error = IngestError::Syntax {
                        file: file.into(),
                        line,
                        reason: e.to_string(),
                    };
                    return Some(Err(Reject { error, raw: None }));
                }
            }
            let (line, raw) = locate(self.input, &mut self.lines, &self.rec).unwrap_or((line, ""));
            if self.rec.iter().all(|c| c.trim().is_empty()) {
                continue; // blank line
            }
            if self.input.lossy && self.rec.iter().any(|c| c.contains('\u{fffd}')) {
                let error = IngestError::Syntax {
                    file: file.into(),
                    line,
                    reason: "not UTF-8 text (a byte that is not a character)".into(),
                };
                return Some(Err(Reject {
                    error,
                    raw: Some(raw.to_string()),
                }));
            }
            if self.rec.len() != self.keys.len() {
                let error = IngestError::Syntax {
                    file: file.into(),
                    line,
                    reason: format!(
                        "expected {} fields as in the header, found {}",
                        self.keys.len(),
                        self.rec.len()
                    ),
                };
                return Some(Err(Reject {
                    error,
                    raw: Some(raw.to_string()),
                }));
            }
            let fields = self
                .rec
                .iter()
                .zip(&self.cols)
                .zip(&self.keys)
                .filter_map(|((cell, col), key)| {
                    col.map(|c| (c, key.clone(), Cell::Text(cell.to_string())))
                })
                .collect();
            return Some(Ok(Record {
                file,
                src: &self.input.source,
                line,
                raw,
                fields,
            }));
        }
    }
}

/// Line number and raw first line of a CSV record. Computed from the byte offset because the csv
/// crate's line counter lags by one after a CRLF terminator.
fn locate<'i>(
    input: &'i Input,
    lines: &mut LineCursor,
    rec: &csv::StringRecord,
) -> Option<(u64, &'i str)> {
    let text = input.text.as_bytes();
    let mut start = (rec.position()?.byte() as usize).min(text.len());
    while start < text.len() && (text[start] == b'\r' || text[start] == b'\n') {
        start += 1;
    }
    let raw = input.text[start..].lines().next().unwrap_or("");
    Some((lines.line_at(start), raw))
}

fn check_required(
    file: &str,
    line: u64,
    specs: &[FieldSpec],
    seen: &[&str],
    found: Vec<String>,
) -> Result<(), IngestError> {
    let missing: Vec<String> = specs
        .iter()
        .filter(|s| s.required && !seen.contains(&s.name))
        .map(|s| {
            let alts: Vec<&str> = s.aliases.iter().take(4).copied().collect();
            if alts.is_empty() {
                // An exact column (a format with fixed headers, like AWS's): named as is.
                s.name.to_string()
            } else {
                format!("`{}` (or {})", s.name, alts.join(", "))
            }
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(IngestError::MissingColumns {
            file: file.into(),
            line,
            missing: missing.join(", "),
            found: if found.is_empty() {
                "(none)".into()
            } else {
                crate::error::shorten(found.join(", "))
            },
        })
    }
}

/// The JSON records of a document: a top-level array, an object holding an array under one of
/// `array_keys`, or JSON lines. Each comes with its 1-based line.
pub fn json_values<'i>(
    input: &'i Input,
    array_keys: &[&str],
) -> Result<Vec<(u64, &'i RawValue)>, IngestError> {
    input.non_empty()?;
    let file = &input.label;
    let text = input.text.as_str();
    let base = text.as_ptr() as usize;
    let mut cursor = input.lines();
    let mut at = |r: &RawValue| cursor.line_at(r.get().as_ptr() as usize - base);
    let syntax = |e: serde_json::Error| IngestError::Syntax {
        file: file.clone(),
        line: e.line() as u64,
        reason: format!("invalid JSON: {e}"),
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(syntax)?;
        return Ok(items.into_iter().map(|r| (at(r), r)).collect());
    }
    // An object: either a wrapper with an array of records, or the first of several JSON lines.
    match serde_json::from_str::<HashMap<&str, &RawValue>>(text) {
        Ok(obj) => {
            for k in array_keys {
                if let Some(arr) = obj.get(k) {
                    let items: Vec<&RawValue> =
                        serde_json::from_str(arr.get()).map_err(|e| IngestError::Syntax {
                            file: file.clone(),
                            line: at(arr),
                            reason: format!("`{k}` must be an array of objects: {e}"),
                        })?;
                    return Ok(items.into_iter().map(|r| (at(r), r)).collect());
                }
            }
            // A single object is a one-record JSON-lines file.
            let whole: &RawValue = serde_json::from_str(text).map_err(syntax)?;
            Ok(vec![(at(whole), whole)])
        }
        Err(e) if e.is_syntax() && e.to_string().contains("trailing characters") => {
            let mut out = Vec::new();
            let mut offset = 0usize;
            for (i, l) in text.split_inclusive('\n').enumerate() {
                let start = offset;
                offset += l.len();
                let t = l.trim();
                if t.is_empty() {
                    continue;
                }
                let lead = l.len() - l.trim_start().len();
                let slice = &text[start + lead..start + lead + t.len()];
                match serde_json::from_str::<&RawValue>(slice) {
                    Ok(r) => out.push((i as u64 + 1, r)),
                    Err(e) => {
                        return Err(IngestError::Syntax {
                            file: file.clone(),
                            line: i as u64 + 1,
                            reason: format!("invalid JSON line: {e}"),
                        })
                    }
                }
            }
            Ok(out)
        }
        Err(e) => Err(syntax(e)),
    }
}

/// Turn JSON objects into [`Record`]s matched against `specs`; non-objects and bad values go to
/// `Err` rows, in document order. `json_values` locates them.
pub fn json_records<'i>(
    input: &'i Input,
    specs: &[FieldSpec],
    array_keys: &[&str],
) -> Result<Rows<'i>, IngestError> {
    let rows: Vec<_> = json_values(input, array_keys)?
        .into_iter()
        .map(|(line, raw)| {
            object_record(input, line, raw, specs).map_err(|error| Reject {
                error,
                raw: Some(raw.get().to_string()),
            })
        })
        .collect();
    Ok(Box::new(rows.into_iter()))
}

fn object_record<'i>(
    input: &'i Input,
    line: u64,
    raw: &'i RawValue,
    specs: &[FieldSpec],
) -> Result<Record<'i>, IngestError> {
    let file = input.label.as_str();
    let obj: serde_json::Map<String, Value> =
        serde_json::from_str(raw.get()).map_err(|_| IngestError::Syntax {
            file: file.into(),
            line,
            reason: "expected a JSON object for each record".into(),
        })?;
    let mut fields: Vec<(&'static str, Rc<str>, Cell)> = Vec::new();
    for (k, v) in &obj {
        let Some(spec) = spec_for(specs, k) else {
            continue;
        };
        if fields.iter().any(|(f, _, _)| *f == spec.name) {
            continue;
        }
        let cell = match v {
            Value::Null => continue,
            Value::String(s) => Cell::Text(s.clone()),
            Value::Number(n) => Cell::Text(n.to_string()),
            Value::Bool(b) => Cell::Text(b.to_string()),
            Value::Array(items) => {
                let mut list = Vec::new();
                for it in items {
                    match it {
                        Value::String(s) => list.push(s.clone()),
                        Value::Number(n) => list.push(n.to_string()),
                        // SCIM-style multi-valued attribute: [{"value": "...", ...}]
                        Value::Object(o) if o.get("value").is_some_and(Value::is_string) => {
                            list.push(o["value"].as_str().unwrap_or_default().to_string())
                        }
                        _ => {
                            return Err(IngestError::field(
                                file,
                                line,
                                k,
                                "expected a list of strings",
                            ))
                        }
                    }
                }
                Cell::List(list)
            }
            Value::Object(_) => {
                return Err(IngestError::field(
                    file,
                    line,
                    k,
                    format!(
                        "expected a string, found an object {}",
                        quote(&v.to_string())
                    ),
                ))
            }
        };
        fields.push((spec.name, Rc::from(k.as_str()), cell));
    }
    let present: Vec<&str> = fields.iter().map(|(f, _, _)| *f).collect();
    if let Some(s) = specs
        .iter()
        .find(|s| s.required && !present.contains(&s.name))
    {
        return Err(IngestError::field(
            file,
            line,
            s.name,
            "required field is missing",
        ));
    }
    Ok(Record {
        file,
        src: &input.source,
        line,
        raw: raw.get(),
        fields,
    })
}

/// Read CSV or JSON (sniffed from content) into records.
pub fn any_records<'i>(
    input: &'i Input,
    specs: &[FieldSpec],
    array_keys: &[&str],
) -> Result<Rows<'i>, IngestError> {
    if input.looks_like_json() {
        json_records(input, specs, array_keys)
    } else {
        csv_records(input, specs)
    }
}

/// Records in input order; a malformed one is an `Err` carrying its error and raw text.
pub type Rows<'i> = Box<dyn Iterator<Item = Result<Record<'i>, Reject>> + 'i>;

/// Duplicate-id detector: remembers the line each key was first seen at.
#[derive(Debug, Default)]
pub struct Dedup(HashMap<String, u64>);

impl Dedup {
    /// `Err(Duplicate)` if `key` was seen before; otherwise remembers it.
    pub fn check(
        &mut self,
        key: String,
        id: &str,
        file: &str,
        line: u64,
    ) -> Result<(), IngestError> {
        if let Some(&first_line) = self.0.get(&key) {
            return Err(IngestError::Duplicate {
                file: file.into(),
                line,
                id: id.to_string(),
                first_line,
            });
        }
        self.0.insert(key, line);
        Ok(())
    }
}

/// Convert rows in input order with `f` (which returns the dedup key, the id as shown, and the item),
/// so that malformed rows, bad values and duplicate ids reach `rejects` in file order: without
/// `--keep-going` the first error in the file is the one reported.
pub fn convert<T>(
    rows: Rows<'_>,
    rejects: &mut Rejects,
    f: impl Fn(&Record) -> Result<(String, String, T), IngestError>,
) -> Result<Vec<T>, IngestError> {
    let mut seen = Dedup::default();
    let mut out = Vec::new();
    for row in rows {
        let r = match row {
            Ok(r) => r,
            Err(rej) => {
                rejects.reject(rej.error, rej.raw.as_deref())?;
                continue;
            }
        };
        match f(&r).and_then(|(key, id, item)| seen.check(key, &id, r.file, r.line).map(|_| item)) {
            Ok(item) => out.push(item),
            Err(e) => rejects.reject(e, Some(r.raw))?,
        }
    }
    Ok(out)
}
