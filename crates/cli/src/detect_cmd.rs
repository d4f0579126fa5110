//! `credwarden detect`: run the built-in detectors over activity logs.

use crate::args::{DetectArgs, Global};
use crate::output;
use credwarden_ingest::{IngestError, Input, Rejects};
use credwarden_model::{Directory, Finding, Severity};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{info, warn};

/// HR and inventory inputs for the identity-aware detectors.
pub struct IdentityInputs<'a> {
    /// HR roster.
    pub hr: &'a Path,
    /// Owner mapping.
    pub owners: Option<&'a Path>,
    /// Group membership.
    pub groups: Option<&'a Path>,
    /// Inventories (paths with an optional `FORMAT:` prefix).
    pub inventories: &'a [String],
}

fn identity_detectors(
    ids: &IdentityInputs,
) -> Result<Vec<Box<dyn credwarden_detect::Detector>>, String> {
    let s = |e: IngestError| e.to_string();
    let mut rejects = Rejects::new(false);
    let people =
        credwarden_ingest::hr::read(&Input::read(ids.hr).map_err(s)?, &mut rejects).map_err(s)?;
    let mapping = match ids.owners {
        Some(p) => {
            credwarden_ingest::mapping::read_owners(&Input::read(p).map_err(s)?, &mut rejects)
                .map_err(s)?
        }
        None => Vec::new(),
    };
    let groups = match ids.groups {
        Some(p) => {
            credwarden_ingest::mapping::read_groups(&Input::read(p).map_err(s)?, &mut rejects)
                .map_err(s)?
        }
        None => Default::default(),
    };
    let mut credentials = Vec::new();
    for arg in ids.inventories {
        credentials.extend(
            credwarden_ingest::read_inventory(arg, &mut rejects)
                .map_err(s)?
                .1,
        );
    }
    let dir = Arc::new(
        Directory::new(people)
            .with_mapping(mapping)
            .with_groups(groups),
    );
    Ok(credwarden_detect::all_with_identities(dir, &credentials))
}

/// Detect over `paths`; with identity inputs the identity-aware detectors run too. Bad records are
/// reported on stderr (first 20) and counted.
pub fn detect(
    paths: &[PathBuf],
    ids: Option<IdentityInputs>,
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
    let ids = a.hr.as_deref().map(|hr| IdentityInputs {
        hr,
        owners: a.owners.as_deref(),
        groups: a.groups.as_deref(),
        inventories: &a.inventories,
    });
    let findings = detect(&a.paths, ids, a.out.min_severity)?;
    output::write_findings(g, &a.out, &findings)?;
    Ok(output::exit_code(&a.out, &findings))
}
