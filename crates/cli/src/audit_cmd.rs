//! `credwarden audit`: read the roster and inventories, join, run the posture rules, write findings.

use crate::args::{AuditArgs, Global};
use crate::config::Config;
use crate::output;
use credwarden_audit::Context;
use credwarden_audit::Policy;
use credwarden_ingest::{hr, mapping, read_inventory, Input, Rejects};
use credwarden_model::{Directory, Finding, Severity};
use jiff::civil::Date;
use std::io::Write;
use std::path::Path;
use tracing::{info, warn};

/// What to audit (the inputs of `credwarden audit`, also used by `demo`).
pub struct AuditInputs<'a> {
    /// HR roster.
    pub hr: &'a Path,
    /// Inventory arguments (paths with optional `FORMAT:` prefix).
    pub inventories: &'a [String],
    /// Groups file.
    pub groups: Option<&'a Path>,
    /// Owner mapping file.
    pub owners: Option<&'a Path>,
    /// As-of date.
    pub as_of: Date,
}

/// Read, join and evaluate; bad rows go to `rejects`.
pub fn audit(
    inp: &AuditInputs,
    policy: &Policy,
    min: Severity,
    rejects: &mut Rejects,
) -> Result<Vec<Finding>, String> {
    let identities = hr::read(&Input::read(inp.hr).map_err(|e| e.to_string())?, rejects)
        .map_err(|e| e.to_string())?;
    if identities.is_empty() {
        warn!(
            "{}: roster has no identities: every owner will be unknown",
            inp.hr.display()
        );
    }
    let mut credentials = Vec::new();
    for arg in inp.inventories {
        match read_inventory(arg, rejects) {
            Ok((format, mut creds)) => {
                info!("{arg}: {} credentials ({format})", creds.len());
                credentials.append(&mut creds);
            }
            // With --keep-going a whole unreadable inventory is reported and skipped like a bad row.
            Err(e) => rejects.reject(e, None).map_err(|e| e.to_string())?,
        }
    }
    let groups = match inp.groups {
        Some(p) => mapping::read_groups(&Input::read(p).map_err(|e| e.to_string())?, rejects)
            .map_err(|e| e.to_string())?,
        None => Default::default(),
    };
    let owners = match inp.owners {
        Some(p) => mapping::read_owners(&Input::read(p).map_err(|e| e.to_string())?, rejects)
            .map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let n_ident = identities.len();
    let directory = Directory::new(identities)
        .with_mapping(owners)
        .with_groups(groups);
    let ctx = Context::new(&directory, &credentials, inp.as_of, policy);
    let findings = credwarden_audit::run_min(&ctx, min);
    info!(
        "as of {}: {n_ident} identities, {} credentials: {}",
        inp.as_of,
        credentials.len(),
        credwarden_report::summary(&findings)
    );
    Ok(findings)
}

/// Run the audit; returns the exit code.
pub fn run(g: &Global, a: &AuditArgs) -> Result<u8, String> {
    let cfg = Config::load(a.config.as_deref())?;
    let as_of: Date = match &a.as_of {
        Some(s) => credwarden_ingest::parse_date(s).map_err(|e| format!("--as-of: {e}"))?,
        None => jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date(),
    };
    let mut rejects = Rejects::new(a.keep_going);
    let inputs = AuditInputs {
        hr: &a.hr,
        inventories: &a.inventories,
        groups: a.groups.as_deref(),
        owners: a.owners.as_deref(),
        as_of,
    };
    let findings = audit(&inputs, &cfg.audit, a.out.min_severity, &mut rejects)?;
    report_rejects(&rejects, a)?;
    output::write_findings(g, &a.out, &findings)?;
    Ok(output::exit_code(&a.out, &findings))
}

fn report_rejects(rejects: &Rejects, a: &AuditArgs) -> Result<(), String> {
    if rejects.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 20;
    warn!(
        "{} bad input record(s) skipped (--keep-going):",
        rejects.len()
    );
    for r in rejects.items().iter().take(SHOWN) {
        warn!("  {}", r.error);
    }
    if rejects.len() > SHOWN {
        warn!(
            "  … and {} more{}",
            rejects.len() - SHOWN,
            if a.quarantine.is_some() {
                " (see the quarantine file)"
            } else {
                ""
            }
        );
    }
    if let Some(q) = &a.quarantine {
        let mut f = std::fs::File::create(q)
            .map_err(|e| format!("{}: cannot create quarantine file: {e}", q.display()))?;
        for r in rejects.items() {
            let line = serde_json::json!({
                "file": r.error.file(),
                "line": r.error.line(),
                "error": r.error.to_string(),
                "raw": r.raw,
            });
            writeln!(f, "{line}").map_err(|e| format!("{}: {e}", q.display()))?;
        }
    }
    Ok(())
}
