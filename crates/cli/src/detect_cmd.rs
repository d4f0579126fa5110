//! `credwarden detect`: run the built-in detectors over activity logs.

use crate::args::{DetectArgs, Global};
use crate::{output, EXIT_FINDINGS};
use credwarden_ingest::{Input, Rejects};
use credwarden_model::Directory;
use credwarden_model::{Finding, Severity};
use std::io::Write;
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
        a.min_severity,
    )?;
    let to_file = a.output.is_some();
    let format = output::format(a.format, to_file);
    let color = output::stdout_color(g.color, to_file);
    let res = match &a.output {
        Some(p) => {
            let f = std::fs::File::create(p)
                .map_err(|e| format!("{}: cannot create: {e}", p.display()))?;
            let mut f = std::io::BufWriter::new(f);
            credwarden_report::write(&mut f, &findings, format, color).and_then(|_| f.flush())
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            credwarden_report::write(&mut out, &findings, format, color).and_then(|_| out.flush())
        }
    };
    match res {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.map_err(|e| format!("writing findings: {e}"))?,
    }
    Ok(match a.fail_on {
        Some(t) if findings.iter().any(|f| f.severity >= t) => EXIT_FINDINGS,
        _ => 0,
    })
}
