//! `credwarden simulate`: write a simulated company and its answer key.

use crate::args::{Global, SimOptions, SimulateArgs};
use credwarden_sim::{config::ALL_SCENARIOS, SimConfig, Summary};
use std::io::Write;

/// Turn command-line options into a simulation config.
pub fn config(o: &SimOptions) -> Result<SimConfig, String> {
    let scenarios = match o.scenarios.trim() {
        "all" => ALL_SCENARIOS.iter().map(|s| s.to_string()).collect(),
        "none" | "" => Default::default(),
        list => list.split(',').map(|s| s.trim().to_string()).collect(),
    };
    Ok(SimConfig {
        identities: o.identities,
        days: o.days,
        seed: o.seed,
        start: credwarden_ingest::parse_date(&o.start).map_err(|e| format!("--start: {e}"))?,
        members: o.members,
        logins_per_day: o.logins_per_day,
        scenarios,
        issuance_log: !o.no_issuance_log,
        hr_lag_days: o.hr_lag_days,
        forged_requests_per_day: o.forged_requests_per_day,
        attacker_addresses: o.attacker_addresses,
        attack_start: o.attack_start,
        a2_reads_per_day: SimConfig::default().a2_reads_per_day,
        attacker_asn: o.attacker_asn,
    })
}

/// Human summary of a run.
pub fn print_summary(
    w: &mut dyn Write,
    s: &Summary,
    out: &std::path::Path,
    secs: f64,
) -> std::io::Result<()> {
    let total: u64 = s.events.values().sum();
    writeln!(
        w,
        "Simulated {} days ({} → {}), {} identities, {} credentials, into {}",
        s.days,
        &s.start[..10],
        &s.end[..10],
        s.identities,
        s.credentials,
        out.display()
    )?;
    writeln!(
        w,
        "Events: {total} in {secs:.1} s ({:.0} events/s)",
        total as f64 / secs.max(1e-9)
    )?;
    for (k, v) in &s.events {
        writeln!(w, "  {k:<16} {v:>10}")?;
    }
    writeln!(w, "Benign drift:")?;
    for (k, v) in &s.drift {
        writeln!(w, "  {k:<22} {v:>6}")?;
    }
    writeln!(
        w,
        "Scenarios: {}",
        if s.scenarios.is_empty() {
            "none".into()
        } else {
            s.scenarios.join(", ")
        }
    )?;
    writeln!(w, "Answer key: {}", out.join("labels.csv").display())
}

/// Run.
pub fn run(_g: &Global, a: &SimulateArgs) -> Result<u8, String> {
    let cfg = config(&a.sim)?;
    let t = std::time::Instant::now();
    let summary = credwarden_sim::simulate(&cfg, &a.out, a.overwrite).map_err(|e| e.to_string())?;
    print_summary(
        &mut std::io::stdout().lock(),
        &summary,
        &a.out,
        t.elapsed().as_secs_f64(),
    )
    .map_err(|e| e.to_string())?;
    Ok(0)
}
