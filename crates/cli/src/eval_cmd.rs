//! `credwarden eval`: score findings against a simulation's answer key.

use crate::args::{EvalArgs, EvalFormat, Global, SimOptions};
use credwarden_eval::{
    evaluate, read_file, read_findings, read_labels, read_summary, Report, SeedReport,
};
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
    if let Some(n) = a.seeds {
        return seeds(a, n);
    }
    let labels = a
        .labels
        .as_deref()
        .ok_or("--labels is required without --seeds")?;
    let findings: Vec<&Path> = a.findings.iter().map(|p| p.as_path()).collect();
    let report = score(labels, &findings, a.summary.as_deref(), a.budget)?;
    match a.format {
        EvalFormat::Markdown => print!("{}", report.to_markdown()),
        EvalFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        ),
    }
    Ok(0)
}

/// `eval --seeds N`: every seed simulated, audited, detected and scored; the spread reported and
/// compared with a baseline.
fn seeds(a: &EvalArgs, n: u64) -> Result<u8, String> {
    let tmp;
    let root = match &a.out {
        Some(p) => p.clone(),
        None => {
            tmp = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
            tmp.path().to_path_buf()
        }
    };
    let seeds: Vec<u64> = (a.first_seed..a.first_seed + n).collect();
    let mut reports = Vec::new();
    for &seed in &seeds {
        let opts = SimOptions {
            identities: a.identities,
            days: a.days,
            members: a.members,
            logins_per_day: a.logins_per_day,
            no_issuance_log: a.no_issuance_log,
            ..SimOptions::demo(seed)
        };
        let r = crate::demo_cmd::run_seed(&opts, &root.join(seed.to_string()), None, a.budget)?;
        eprintln!("seed {seed}: {}", crate::demo_cmd::one_line(&r));
        reports.push(r);
    }
    let spread = SeedReport::new(seeds, &reports);
    match a.format {
        EvalFormat::Markdown => print!("{}", spread.to_markdown()),
        EvalFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&spread).map_err(|e| e.to_string())?
        ),
    }
    if let Some(p) = &a.write_baseline {
        crate::output::write_json_file(p, &spread)?;
    }
    if let Some(p) = &a.baseline {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let base: SeedReport = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a saved eval report: {e}", p.display()))?;
        let worse = spread.regressions(&base);
        if !worse.is_empty() {
            eprintln!("regressed against {}:", p.display());
            for w in &worse {
                eprintln!("  {w}");
            }
            return Ok(1);
        }
        eprintln!("no regression against {}", p.display());
    }
    Ok(0)
}
