//! Scores credwarden's findings against a simulator's answer key.
//!
//! Inputs: the labels CSV ([`read_labels`]), OCSF finding JSON lines, possibly concatenated from
//! several runs ([`read_findings`]), and an optional run summary ([`read_summary`]). [`evaluate`]
//! produces a [`Report`] (serde `Serialize` for JSON, [`Report::to_markdown`] for people);
//! [`SeedReport`] folds the reports of many seeds into means and spreads and finds regressions
//! against a saved baseline.

mod error;
mod findings;
mod labels;
mod render;
mod score;
mod seeds;

pub use error::EvalError;
pub use findings::{dedup, read_findings, FindingRef};
pub use labels::{read_labels, read_summary, Label, Summary, COLUMNS};
pub use render::{human_duration, human_ttd};
pub use score::{evaluate, is_exposure_rule, Overall, Report, ScenarioScore};
pub use seeds::{ScenarioSpread, SeedReport, Spread};

use std::path::Path;

/// Read a whole input file, as an [`EvalError::Io`] naming the path on failure.
pub fn read_file(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|e| EvalError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    })
}
