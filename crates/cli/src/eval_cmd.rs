//! `credwarden eval`: score findings against a simulation's answer key.

use crate::args::{EvalArgs, EvalFormat, Global};
use credwarden_eval::{evaluate, read_file, read_findings, read_labels, read_summary, Report};
use std::path::Path;

/// Score; shared with `demo`.
pub fn score(
    labels: &Path,
    findings: &[&Path],
    summary: Option<&Path>,
    budget: usize,
) -> Result<Report, String> {
    let s = |e: credwarden_eval::EvalError| e.to_string();
    let labels = read_labels(
        &read_file(labels).map_err(s)?,
        &labels.display().to_string(),
    )
    .map_err(s)?;
    let mut all = Vec::new();
    for f in findings {
        all.extend(read_findings(&read_file(f).map_err(s)?, &f.display().to_string()).map_err(s)?);
    }
    let summary = match summary {
        Some(p) => {
            Some(read_summary(&read_file(p).map_err(s)?, &p.display().to_string()).map_err(s)?)
        }
        None => None,
    };
    Ok(evaluate(&labels, &all, summary.as_ref(), budget))
}

/// Run.
pub fn run(_g: &Global, a: &EvalArgs) -> Result<u8, String> {
    let findings: Vec<&Path> = a.findings.iter().map(|p| p.as_path()).collect();
    let report = score(&a.labels, &findings, a.summary.as_deref(), a.budget)?;
    match a.format {
        EvalFormat::Markdown => print!("{}", report.to_markdown()),
        EvalFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        ),
    }
    Ok(0)
}
