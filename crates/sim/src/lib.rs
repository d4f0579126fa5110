//! A simulated company for measuring detections against ground truth, after CERT's insider-threat data
//! generator (Glasser & Lindauer, 2013): a synthetic organisation, per-identity and per-key behaviour with
//! benign drift, and attack scenarios injected with an answer key.
//!
//! * [`config`] — what to simulate (size, period, seed, scenario switches and parameters).
//! * [`net`] — the simulated internet: address blocks with ASN and country (written as `networks.csv`).
//! * [`company`] — people, teams, HR history (with recording lag), credentials and secrets.
//! * [`activity`] — benign behaviour day by day: engineers, services.
//! * [`customers`] — the shop's customers, partners and crawlers at the API gateway, with drift.
//! * [`attacker`] — the forger's parameters, drawn per seed.
//! * [`scenarios`] — the labelled attacks.
//! * [`out`] — writers for the real formats (HR CSV, IAM credential report, CloudTrail, JSON lines, VPC flow).
//!
//! Generation is day by day: one simulated day of events is held, sorted and written, then dropped.

pub mod activity;
pub mod attacker;
pub mod company;
pub mod config;
pub mod customers;
pub mod net;
pub mod out;
pub mod scenarios;
pub mod synthetic;
mod time;

pub use config::{ScenarioSet, SimConfig};

use std::path::Path;

/// Errors while simulating (I/O only: the simulation itself cannot fail).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        /// File or folder.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The configuration is inconsistent.
    #[error("invalid simulation config: {0}")]
    Config(String),
    /// The output folder already holds a simulation.
    #[error("{0} already holds a simulation; choose another --out or pass --overwrite")]
    Exists(String),
}

/// What a run produced, for the CLI to print and `eval` to use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// First simulated day (UTC midnight), RFC 3339.
    pub start: String,
    /// End of the period (exclusive), RFC 3339.
    pub end: String,
    /// Simulated days.
    pub days: u32,
    /// Identities in HR over the period.
    pub identities: usize,
    /// Credentials that existed over the period (access keys, passwords, service keys, signing keys, secrets).
    pub credentials: usize,
    /// Events written per stream.
    pub events: std::collections::BTreeMap<String, u64>,
    /// Benign drift that happened (travel days, team moves, month-end batches, new hires, leavers,
    /// late HR records, key rotations, on-call nights).
    pub drift: std::collections::BTreeMap<String, u64>,
    /// Scenarios injected.
    pub scenarios: Vec<String>,
    /// Where things are.
    pub files: std::collections::BTreeMap<String, String>,
}

/// Simulate into `out_dir` (which must not hold a previous simulation unless `overwrite`).
pub fn simulate(cfg: &SimConfig, out_dir: &Path, overwrite: bool) -> Result<Summary, SimError> {
    cfg.validate().map_err(SimError::Config)?;
    let mut w = out::Outputs::create(out_dir, cfg, overwrite)?;
    let mut company = company::Company::build(cfg);
    let mut plan = scenarios::plan(cfg, &mut company);
    activity::run(cfg, &company, &mut plan, &mut w)?;
    w.finish(cfg, &company, &plan)
}
