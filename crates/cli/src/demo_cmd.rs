//! `credwarden demo`: simulate a small company, run the audit on every weekly HR and IAM snapshot as
//! the security team would have, score the findings against the answer key, and print the table.
//! It then runs `detect` over the activity logs and scores both sets of findings together.

use crate::args::{DemoArgs, Global, SimOptions};
use crate::audit_cmd::audit;
use crate::estate::Estate;
use crate::{eval_cmd, sim_cmd};
use credwarden_ingest::Rejects;
use credwarden_model::Severity;
use std::io::Write;
use std::path::PathBuf;

/// Run: seed `a.seed` in full (its tables), then the other seeds for the spread.
pub fn run(_g: &Global, a: &DemoArgs) -> Result<u8, String> {
    let opts = |seed: u64| SimOptions {
        identities: a.identities,
        days: a.days,
        no_issuance_log: a.no_issuance_log,
        hr_lag_days: a.hr_lag_days,
        ..SimOptions::demo(seed)
    };
    let mut out = std::io::stdout().lock();
    let first = run_seed(&opts(a.seed), &a.out, Some(&mut out), 10)?;
    write!(out, "{}", first.to_markdown()).map_err(|e| e.to_string())?;
    let eval_json = a.out.join("evaluation.json");
    crate::output::write_json_file(&eval_json, &first)?;
    writeln!(
        out,
        "\nFiles: {} (answer key labels.csv, summary.json, evaluation.json, findings.jsonl, findings-detect.jsonl)",
        a.out.display()
    )
    .map_err(|e| e.to_string())?;
    if a.seeds > 1 {
        let seeds: Vec<u64> = (a.seed..a.seed + a.seeds).collect();
        writeln!(
            out,
            "\nThe same over {} seeds (each its own company, attacker and drift):",
            seeds.len()
        )
        .map_err(|e| e.to_string())?;
        let mut reports = vec![first];
        for &seed in &seeds[1..] {
            let dir = a.out.join("seeds").join(seed.to_string());
            let r = run_seed(&opts(seed), &dir, None, 10)?;
            writeln!(out, "  seed {seed}: {}", one_line(&r)).map_err(|e| e.to_string())?;
            reports.push(r);
        }
        let spread = credwarden_eval::SeedReport::new(seeds, &reports);
        write!(out, "\n{}", spread.to_markdown()).map_err(|e| e.to_string())?;
        let p = a.out.join("evaluation-seeds.json");
        crate::output::write_json_file(&p, &spread)?;
    }
    Ok(0)
}

/// One seed's headline numbers.
pub fn one_line(r: &credwarden_eval::Report) -> String {
    let o = &r.overall;
    format!(
        "{}/{} detected, precision {}, {} false per 1,000 credential-days",
        o.detected,
        o.scenarios,
        o.precision
            .map_or("n/a".into(), |p| format!("{:.1}%", p * 100.0)),
        o.false_findings_per_1000_credential_days
            .map_or("n/a".into(), |p| format!("{p:.2}"))
    )
}

/// Simulate one company into `dir` (replacing an earlier simulation there), audit each weekly
/// snapshot as of its day, detect over the activity logs, and score every finding (every
/// severity) against the answer key. With `progress`, the simulation summary and counts are
/// printed there.
pub fn run_seed(
    opts: &SimOptions,
    dir: &std::path::Path,
    mut progress: Option<&mut dyn Write>,
    budget: usize,
) -> Result<credwarden_eval::Report, String> {
    let cfg = sim_cmd::config(opts)?;
    let t = std::time::Instant::now();
    let summary = credwarden_sim::simulate(&cfg, dir, true).map_err(|e| e.to_string())?;
    if let Some(out) = progress.as_deref_mut() {
        sim_cmd::print_summary(out, &summary, dir, t.elapsed().as_secs_f64())
            .map_err(|e| e.to_string())?;
    }
    let a_out = dir;
    // Audit each weekly snapshot as of its day: what the team would have seen then.
    let snaps = a_out.join("hr/snapshots");
    let mut days: Vec<String> = std::fs::read_dir(&snaps)
        .map_err(|e| format!("{}: {e}", snaps.display()))?
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_prefix("roster-")?
                .strip_suffix(".csv")
                .map(str::to_string)
        })
        .collect();
    days.sort();
    let findings_path = a_out.join("findings.jsonl");
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&findings_path)
            .map_err(|e| format!("{}: {e}", findings_path.display()))?,
    );
    let policy = credwarden_audit::Policy::default();
    let mut total = 0;
    for day in &days {
        let hr: PathBuf = snaps.join(format!("roster-{day}.csv"));
        let inventories = vec![
            a_out
                .join(format!("iam/credential-report-{day}.csv"))
                .display()
                .to_string(),
            a_out.join("inventory/secrets.csv").display().to_string(),
        ];
        let groups = a_out.join("inventory/groups.csv");
        let owners = a_out.join("inventory/owners.csv");
        let as_of = credwarden_ingest::parse_date(day).map_err(|e| e.to_string())?;
        let estate = Estate {
            hr: &hr,
            inventories: &inventories,
            groups: Some(&groups),
            owners: Some(&owners),
            hr_columns: &crate::estate::NO_COLUMNS,
        };
        let findings = audit(
            &estate,
            as_of,
            &policy,
            Severity::Low,
            &mut Rejects::new(false),
        )?;
        total += findings.len();
        credwarden_report::write_json(&mut f, &findings).map_err(|e| e.to_string())?;
    }
    f.flush().map_err(|e| e.to_string())?;
    if let Some(out) = progress.as_deref_mut() {
        writeln!(
            out,
            "\nAudited {} weekly snapshots (every severity): {total} findings → {}",
            days.len(),
            findings_path.display()
        )
        .map_err(|e| e.to_string())?;
    }
    // Detection over the activity logs the single-event and token-provenance detectors read.
    let logs: Vec<PathBuf> = ["cloudtrail", "gateway", "login", "bastion", "app"]
        .iter()
        .map(|d| a_out.join(d))
        .filter(|p| p.exists())
        .collect();
    let inventories = vec![a_out.join("inventory/secrets.csv").display().to_string()];
    let ids = Estate {
        hr: &a_out.join("hr/roster.csv"),
        owners: Some(&a_out.join("inventory/owners.csv")),
        groups: Some(&a_out.join("inventory/groups.csv")),
        inventories: &inventories,
        hr_columns: &crate::estate::NO_COLUMNS,
    };
    let networks = a_out.join("networks.csv");
    let detected = crate::detect_cmd::detect(&logs, Some(ids), Some(&networks), Severity::Low)?;
    let detect_path = a_out.join("findings-detect.jsonl");
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&detect_path)
            .map_err(|e| format!("{}: {e}", detect_path.display()))?,
    );
    credwarden_report::write_json(&mut f, &detected).map_err(|e| e.to_string())?;
    f.flush().map_err(|e| e.to_string())?;
    if let Some(out) = progress {
        writeln!(
            out,
            "Detected over the activity logs (every severity): {} findings → {}\n",
            detected.len(),
            detect_path.display()
        )
        .map_err(|e| e.to_string())?;
    }
    eval_cmd::score(
        &a_out.join("labels.csv"),
        &[findings_path.as_path(), detect_path.as_path()],
        Some(&a_out.join("summary.json")),
        budget,
    )
}
