//! `credwarden detect`: run the built-in detectors over activity logs.

use crate::args::{DetectArgs, Global};
use crate::estate::Estate;
use crate::output;
use credwarden_ingest::Rejects;
use credwarden_model::{Finding, Severity};
use std::path::PathBuf;
use std::sync::Arc;
use tracing::{info, warn};

fn identity_detectors(
    estate: &Estate,
) -> Result<Vec<Box<dyn credwarden_detect::Detector>>, String> {
    let (dir, credentials) = estate.load(&mut Rejects::new(false))?;
    Ok(credwarden_detect::all_with_identities(
        Arc::new(dir),
        &credentials,
    ))
}

/// Detect over `paths`; with the estate (HR and inventories) the identity-aware detectors run too. Bad records are
/// reported on stderr (first 20) and counted.
pub fn detect(
    paths: &[PathBuf],
    ids: Option<Estate>,
    min: Severity,
) -> Result<Vec<Finding>, String> {
    let mut detectors = match &ids {
        Some(ids) => identity_detectors(ids)?,
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
    let ids = a.hr.as_deref().map(|hr| Estate {
        hr,
        owners: a.owners.as_deref(),
        groups: a.groups.as_deref(),
        inventories: &a.inventories,
    });
    let findings = detect(&a.paths, ids, a.out.min_severity)?;
    output::write_findings(g, &a.out, &findings)?;
    Ok(output::exit_code(&a.out, &findings))
}
