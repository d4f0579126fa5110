//! `credwarden detect`: run the built-in detectors over activity logs.

use crate::args::{DetectArgs, Global};
use crate::output;
use credwarden_ingest::{Input, Rejects};
use credwarden_model::Directory;
use credwarden_model::{Finding, Severity};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{info, warn};

/// Detect over `paths`; with `hr` (and `owners`) the identity-aware detectors run too. Bad records are
/// reported on stderr (first 20) and counted.
pub fn detect(
    paths: &[PathBuf],
    hr: Option<&Path>,
    owners: Option<&Path>,
    min: Severity,
) -> Result<Vec<Finding>, String> {
    let mut detectors = match hr {
        Some(hr) => {
            let mut rejects = Rejects::new(false);
            let s = |e: credwarden_ingest::IngestError| e.to_string();
            let people = credwarden_ingest::hr::read(&Input::read(hr).map_err(s)?, &mut rejects)
                .map_err(s)?;
            let mapping = match owners {
                Some(p) => credwarden_ingest::mapping::read_owners(
                    &Input::read(p).map_err(s)?,
                    &mut rejects,
                )
                .map_err(s)?,
                None => Vec::new(),
            };
            credwarden_detect::all_with_identities(Arc::new(
                Directory::new(people).with_mapping(mapping),
            ))
        }
        None => {
            info!("no --hr: the identity-aware detectors are skipped; the others run");
            credwarden_detect::all()
        }
    };
    let (findings, stats) =
        credwarden_detect::run(paths, &mut detectors).map_err(|e| e.to_string())?;
    let per_kind: Vec<String> = stats
        .events
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    info!("{} files, events: {}", stats.files, per_kind.join(", "));
    if !stats.rejects.is_empty() {
        warn!(
            "{} bad input record(s) or file(s) skipped:",
            stats.rejects.len()
        );
        for r in stats.rejects.iter().take(20) {
            warn!("  {r}");
        }
    }
    Ok(findings.into_iter().filter(|f| f.severity >= min).collect())
}

/// Run.
pub fn run(g: &Global, a: &DetectArgs) -> Result<u8, String> {
    let findings = detect(
        &a.paths,
        a.hr.as_deref(),
        a.owners.as_deref(),
        a.out.min_severity,
    )?;
    output::write_findings(g, &a.out, &findings)?;
    Ok(output::exit_code(&a.out, &findings))
}
