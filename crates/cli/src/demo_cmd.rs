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

/// Run.
pub fn run(_g: &Global, a: &DemoArgs) -> Result<u8, String> {
    let opts = SimOptions {
        identities: a.identities,
        days: a.days,
        seed: a.seed,
        start: "2025-03-03".into(),
        members: 20_000,
        logins_per_day: 1_500,
        scenarios: "all".into(),
        no_issuance_log: a.no_issuance_log,
        hr_lag_days: a.hr_lag_days,
        forged_requests_per_day: None,
        attacker_addresses: None,
        attack_start: None,
        attacker_asn: None,
    };
    let cfg = sim_cmd::config(&opts)?;
    let mut out = std::io::stdout().lock();
    let t = std::time::Instant::now();
    let summary = credwarden_sim::simulate(&cfg, &a.out, true).map_err(|e| e.to_string())?;
    sim_cmd::print_summary(&mut out, &summary, &a.out, t.elapsed().as_secs_f64())
        .map_err(|e| e.to_string())?;

    // Audit each weekly snapshot as of its day: what the team would have seen then.
    let snaps = a.out.join("hr/snapshots");
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
    let findings_path = a.out.join("findings.jsonl");
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&findings_path)
            .map_err(|e| format!("{}: {e}", findings_path.display()))?,
    );
    let policy = credwarden_audit::Policy::default();
    let mut total = 0;
    for day in &days {
        let hr: PathBuf = snaps.join(format!("roster-{day}.csv"));
        let inventories = vec![
            a.out
                .join(format!("iam/credential-report-{day}.csv"))
                .display()
                .to_string(),
            a.out.join("inventory/secrets.csv").display().to_string(),
        ];
        let groups = a.out.join("inventory/groups.csv");
        let owners = a.out.join("inventory/owners.csv");
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
            Severity::Medium,
            &mut Rejects::new(false),
        )?;
        total += findings.len();
        credwarden_report::write_json(&mut f, &findings).map_err(|e| e.to_string())?;
    }
    f.flush().map_err(|e| e.to_string())?;
    writeln!(
        out,
        "\nAudited {} weekly snapshots (medium and above): {total} findings → {}",
        days.len(),
        findings_path.display()
    )
    .map_err(|e| e.to_string())?;
    // Detection over the activity logs the single-event and token-provenance detectors read.
    let logs: Vec<PathBuf> = ["cloudtrail", "gateway", "login", "bastion", "app"]
        .iter()
        .map(|d| a.out.join(d))
        .filter(|p| p.exists())
        .collect();
    let inventories = vec![a.out.join("inventory/secrets.csv").display().to_string()];
    let ids = Estate {
        hr: &a.out.join("hr/roster.csv"),
        owners: Some(&a.out.join("inventory/owners.csv")),
        groups: Some(&a.out.join("inventory/groups.csv")),
        inventories: &inventories,
        hr_columns: &crate::estate::NO_COLUMNS,
    };
    let networks = a.out.join("networks.csv");
    let detected = crate::detect_cmd::detect(&logs, Some(ids), Some(&networks), Severity::Medium)?;
    let detect_path = a.out.join("findings-detect.jsonl");
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&detect_path)
            .map_err(|e| format!("{}: {e}", detect_path.display()))?,
    );
    credwarden_report::write_json(&mut f, &detected).map_err(|e| e.to_string())?;
    f.flush().map_err(|e| e.to_string())?;
    writeln!(
        out,
        "Detected over the activity logs (medium and above): {} findings → {}",
        detected.len(),
        detect_path.display()
    )
    .map_err(|e| e.to_string())?;
    writeln!(out).map_err(|e| e.to_string())?;
    let report = eval_cmd::score(
        &a.out.join("labels.csv"),
        &[findings_path.as_path(), detect_path.as_path()],
        Some(&a.out.join("summary.json")),
        10,
    )?;
    write!(out, "{}", report.to_markdown()).map_err(|e| e.to_string())?;
    let eval_json = a.out.join("evaluation.json");
    std::fs::write(
        &eval_json,
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("{}: {e}", eval_json.display()))?;
    writeln!(
        out,
        "\nFiles: {} (answer key labels.csv, summary.json, evaluation.json, findings.jsonl, findings-detect.jsonl)",
        a.out.display()
    )
    .map_err(|e| e.to_string())?;
    Ok(0)
}
