//! Pointers from normalized records back to the raw input that produced them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Where a record came from: a file and a 1-based line (CSV/JSON lines) or record index (JSON arrays).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceRef {
    /// Path of the input file as given on the command line (`-` for stdin); shared by every record
    /// of the file.
    pub file: Arc<str>,
    /// 1-based line number for line-oriented formats; for JSON documents, the 1-based record index.
    pub line: u64,
}

impl SourceRef {
    /// Build a pointer to `file` at `line`.
    pub fn new(file: impl Into<Arc<str>>, line: u64) -> Self {
        Self {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}
