//! Located input errors: every error names the file and, where there is one, the line and field.

use std::fmt;

/// An input problem with the labels, findings or summary file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The file could not be read.
    #[error("{file}: cannot read: {reason}")]
    Io {
        /// File.
        file: String,
        /// OS error text.
        reason: String,
    },
    /// The CSV header lacks required columns.
    #[error("{file}:1: missing required column(s) {missing}; found columns: {found}")]
    MissingColumns {
        /// File.
        file: String,
        /// Missing column names, comma-separated.
        missing: String,
        /// What the header had.
        found: String,
    },
    /// Malformed CSV or JSON syntax.
    #[error("{file}:{line}: {reason}")]
    Syntax {
        /// File.
        file: String,
        /// Line (1-based).
        line: u64,
        /// Parser message.
        reason: String,
    },
    /// A field holds a value we cannot use.
    #[error("{file}:{line}: field `{field}`: {reason}")]
    Field {
        /// File.
        file: String,
        /// Line (1-based).
        line: u64,
        /// Field name (a JSON path like `finding_info.uid` for findings).
        field: String,
        /// What is wrong, quoting the (truncated) value.
        reason: String,
    },
    /// The same scenario id appears twice in the labels.
    #[error("{file}:{line}: duplicate scenario {scenario:?} (first seen at line {first_line})")]
    Duplicate {
        /// File.
        file: String,
        /// Line of the second occurrence.
        line: u64,
        /// The scenario id.
        scenario: String,
        /// Line of the first occurrence.
        first_line: u64,
    },
}

impl EvalError {
    /// Field error helper.
    pub fn field(file: &str, line: u64, field: &str, reason: impl fmt::Display) -> Self {
        Self::Field {
            file: file.to_string(),
            line,
            field: field.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Syntax error helper.
    pub fn syntax(file: &str, line: u64, reason: impl fmt::Display) -> Self {
        Self::Syntax {
            file: file.to_string(),
            line,
            reason: reason.to_string(),
        }
    }
}

/// Quote a value for an error message, truncated so that a huge cell cannot flood the terminal.
pub(crate) fn quote(v: &str) -> String {
    let mut s: String = v.chars().take(64).collect();
    if v.chars().count() > 64 {
        s.push('…');
    }
    format!("{s:?}")
}
