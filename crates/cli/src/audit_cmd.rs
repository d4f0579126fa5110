//! `credwarden audit`: read the roster and inventories, join, run the posture rules, write findings.

use crate::args::{AuditArgs, Global};
use crate::config::Config;
use crate::estate::Estate;
use crate::output;
use credwarden_audit::Context;
use credwarden_audit::Policy;
use credwarden_ingest::Rejects;
use credwarden_model::{Finding, Severity};
use jiff::civil::Date;
use std::io::Write;
use tracing::{info, warn};

/// Read the estate, join, and evaluate as of `as_of`; bad rows go to `rejects`.
pub fn audit(
    estate: &Estate,
    as_of: Date,
    policy: &Policy,
    min: Severity,
    rejects: &mut Rejects,
) -> Result<Vec<Finding>, String> {
    let (directory, credentials) = estate.load(rejects)?;
    let n_ident = directory.identities().len();
    let ctx = Context::new(&directory, &credentials, as_of, policy);
    let findings = credwarden_audit::run_min(&ctx, min);
    info!(
        "as of {}: {n_ident} identities, {} credentials: {}",
        as_of,
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
    if a.estate.inventories.is_empty() {
        return Err("--inventory is required (the credentials to join with the roster)".into());
    }
    let mut rejects = Rejects::new(a.keep_going);
    let estate = Estate {
        hr: a.estate.hr()?,
        inventories: &a.estate.inventories,
        groups: a.estate.groups.as_deref(),
        owners: a.estate.owners.as_deref(),
        hr_columns: &cfg.hr.columns,
    };
    let findings = audit(&estate, as_of, &cfg.audit, a.out.min_severity, &mut rejects)?;
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
        let f = std::fs::File::create(q)
            .map_err(|e| format!("{}: cannot create quarantine file: {e}", q.display()))?;
        let mut f = std::io::BufWriter::new(f);
        for r in rejects.items() {
            let line = serde_json::json!({
                "file": r.error.file(),
                "line": r.error.line(),
                "error": r.error.to_string(),
                "raw": r.raw,
            });
            writeln!(f, "{line}").map_err(|e| format!("{}: {e}", q.display()))?;
        }
        f.flush().map_err(|e| format!("{}: {e}", q.display()))?;
    }
    Ok(())
}
