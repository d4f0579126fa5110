//! Simulation settings. Every scenario can be switched off and parameterised.

use jiff::civil::Date;
use std::collections::BTreeSet;

/// Which scenarios to inject.
pub type ScenarioSet = BTreeSet<String>;

/// All scenario ids, in order.
pub const ALL_SCENARIOS: [&str; 9] = ["a", "a2", "b", "c", "d", "e", "f", "g", "h"];

/// Simulation settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Employees and contractors at the start (services are added on top).
    pub identities: usize,
    /// Simulated days.
    pub days: u32,
    /// Seed: the same seed and version give the same company, byte for byte.
    pub seed: u64,
    /// First day.
    pub start: Date,
    /// Customer members (sequential ids 1..=members).
    pub members: u64,
    /// Customer logins per day (each login issues a token and makes a few requests).
    pub logins_per_day: u64,
    /// Scenarios to inject.
    pub scenarios: ScenarioSet,
    /// Write the login service's token-issuance log (Coupang kept none).
    pub issuance_log: bool,
    /// Days between a departure and HR recording it (0 = same day; the simulator adds 0–3 days of
    /// ordinary jitter on top for some leavers).
    pub hr_lag_days: u32,
    /// Scenario (a): forged-token requests per day (`None`: drawn per seed, 400–3,000).
    pub forged_requests_per_day: Option<u64>,
    /// Scenario (a): distinct overseas source addresses (`None`: drawn per seed, 40–600).
    pub attacker_addresses: Option<usize>,
    /// Scenario (a)/(a2): day the misuse starts, as a fraction of the period (`None`: drawn per
    /// seed, 0.45–0.7).
    pub attack_start: Option<f64>,
    /// Scenario (a2): customer-export object reads per day.
    pub a2_reads_per_day: u64,
    /// Scenario (a)/(a2)/(d): one ASN for all the attacker's networks (`None`: providers and
    /// countries drawn per seed, see [`crate::attacker`]).
    pub attacker_asn: Option<u32>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            identities: 200,
            days: 60,
            seed: 1,
            start: jiff::civil::date(2025, 3, 3),
            members: 20_000,
            logins_per_day: 2_000,
            scenarios: ALL_SCENARIOS.iter().map(|s| s.to_string()).collect(),
            issuance_log: true,
            hr_lag_days: 0,
            forged_requests_per_day: None,
            attacker_addresses: None,
            attack_start: None,
            a2_reads_per_day: 40,
            attacker_asn: None,
        }
    }
}

impl SimConfig {
    /// Check the settings make sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.identities < 30 {
            return Err(format!(
                "--identities must be at least 30 (teams need people), found {}",
                self.identities
            ));
        }
        if self.days < 21 {
            return Err(format!(
                "--days must be at least 21 (scenarios need a history), found {}",
                self.days
            ));
        }
        if let Some(a) = self.attack_start.filter(|a| !(0.2..=0.9).contains(a)) {
            return Err(format!(
                "attack start must be between 0.2 and 0.9 of the period, found {a}"
            ));
        }
        if let Some(bad) = self
            .scenarios
            .iter()
            .find(|s| !ALL_SCENARIOS.contains(&s.as_str()))
        {
            return Err(format!(
                "unknown scenario {bad:?} (known: {})",
                ALL_SCENARIOS.join(", ")
            ));
        }
        if self.attacker_addresses == Some(0) || self.members < 100 {
            return Err("attacker addresses must be > 0 and members ≥ 100".into());
        }
        Ok(())
    }

    /// Is scenario `id` on?
    pub fn on(&self, id: &str) -> bool {
        self.scenarios.contains(id)
    }
}
