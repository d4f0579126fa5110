//! Located input errors and the bad-row ledger.

use std::fmt;

/// An input problem, always naming the file and, where there is one, the line and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The file could not be read.
    #[error("{file}: cannot read: {reason}")]
    Io {
        /// File.
        file: String,
        /// OS error text.
        reason: String,
    },
    /// The file holds nothing (or only whitespace / a byte-order mark).
    #[error("{file}: file is empty")]
    Empty {
        /// File.
        file: String,
    },
    /// The header lacks required columns.
    #[error("{file}:{line}: missing required column(s) {missing}; found columns: {found}")]
    MissingColumns {
        /// File.
        file: String,
        /// Header line.
        line: u64,
        /// Missing columns with their accepted spellings.
        missing: String,
        /// What the header had.
        found: String,
    },
    /// The file is not in any format this reader knows.
    #[error("{file}: {reason}")]
    Format {
        /// File.
        file: String,
        /// What was expected.
        reason: String,
    },
    /// Malformed JSON / CSV syntax.
    #[error("{file}:{line}: {reason}")]
    Syntax {
        /// File.
        file: String,
        /// Line.
        line: u64,
        /// Parser message.
        reason: String,
    },
    /// A field holds a value we cannot use.
    #[error("{file}:{line}: field `{field}`: {reason}")]
    Field {
        /// File.
        file: String,
        /// Line.
        line: u64,
        /// Field (column) name as it appears in the input.
        field: String,
        /// What is wrong, quoting the (truncated) value.
        reason: String,
    },
    /// The last line of a file has no line end and does not parse: most likely a line its writer
    /// has not finished. It is not consumed: a later run (or `--follow`) reads it when complete.
    #[error(
        "{file}:{line}: incomplete last line (no line end; not read yet: it is read once complete)"
    )]
    Incomplete {
        /// File.
        file: String,
        /// Line.
        line: u64,
    },
    /// The same id appears twice.
    #[error("{file}:{line}: duplicate id {id:?} (first seen at line {first_line})")]
    Duplicate {
        /// File.
        file: String,
        /// Line of the second occurrence.
        line: u64,
        /// The id.
        id: String,
        /// Line of the first occurrence.
        first_line: u64,
    },
}

impl IngestError {
    /// Field error helper: quotes at most 64 characters of the value.
    pub fn field(file: &str, line: u64, field: &str, reason: impl fmt::Display) -> Self {
        Self::Field {
            file: file.to_string(),
            line,
            field: field.to_string(),
            reason: reason.to_string(),
        }
    }

    /// A line without text ([`crate::lines::LineError`]) as a located error.
    pub fn line_error(file: &str, line: u64, e: &crate::lines::LineError) -> Self {
        Self::Syntax {
            file: file.to_string(),
            line,
            reason: e.to_string(),
        }
    }

    /// True for an unfinished last line, which is reported but not consumed.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Self::Incomplete { .. })
    }

    /// The file this error is about.
    pub fn file(&self) -> &str {
        match self {
            Self::Io { file, .. }
            | Self::Empty { file }
            | Self::MissingColumns { file, .. }
            | Self::Format { file, .. }
            | Self::Syntax { file, .. }
            | Self::Field { file, .. }
            | Self::Incomplete { file, .. }
            | Self::Duplicate { file, .. } => file,
        }
    }

    /// The same error `by` lines further down (for a block of a file read on its own).
    pub fn shift_line(mut self, by: u64) -> Self {
        match &mut self {
            Self::MissingColumns { line, .. }
            | Self::Syntax { line, .. }
            | Self::Field { line, .. }
            | Self::Incomplete { line, .. }
            | Self::Duplicate { line, .. } => *line += by,
            _ => {}
        }
        self
    }

    /// The line, if the error has one.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::MissingColumns { line, .. }
            | Self::Syntax { line, .. }
            | Self::Field { line, .. }
            | Self::Incomplete { line, .. }
            | Self::Duplicate { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// A list for an error message (found columns…), cut at 300 characters so that a huge header cannot
/// flood the terminal.
pub(crate) fn shorten(list: String) -> String {
    if list.chars().count() <= 300 {
        return list;
    }
    let mut s: String = list.chars().take(300).collect();
    s.push_str(&format!("… ({} characters in all)", list.chars().count()));
    s
}

/// Quote a value for an error message, truncated so that a huge cell cannot flood the terminal.
pub(crate) fn quote(v: &str) -> String {
    let mut s: String = v.chars().take(64).collect();
    if v.chars().count() > 64 {
        s.push('…');
    }
    format!("{s:?}")
}

/// One rejected row: the error and the raw text of the row (for the quarantine file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// What was wrong.
    pub error: IngestError,
    /// The raw row, when there is one.
    pub raw: Option<String>,
}

/// The bad-row ledger. With `keep_going`, rejects are kept and reading continues; otherwise the first
/// reject is returned as the error.
#[derive(Debug, Default)]
pub struct Rejects {
    keep_going: bool,
    items: Vec<Reject>,
}

impl Rejects {
    /// A ledger; `keep_going` chooses between collecting and failing fast.
    pub fn new(keep_going: bool) -> Self {
        Self {
            keep_going,
            items: Vec::new(),
        }
    }

    /// Whether bad input is collected rather than fatal.
    pub fn keep_going(&self) -> bool {
        self.keep_going
    }

    /// Record a bad row, or fail with it.
    pub fn reject(&mut self, error: IngestError, raw: Option<&str>) -> Result<(), IngestError> {
        if self.keep_going {
            self.items.push(Reject {
                error,
                raw: raw.map(str::to_string),
            });
            Ok(())
        } else {
            Err(error)
        }
    }

    /// Everything rejected so far.
    pub fn items(&self) -> &[Reject] {
        &self.items
    }

    /// Number of rejects.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was rejected.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
