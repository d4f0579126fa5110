//! Audit thresholds. Every field has a default; a config file overrides any of them.

use serde::Deserialize;

/// Thresholds for the audit rules (TOML table `[audit]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Maximum age in days of a static key or secret's material before it must be rotated.
    pub rotation_max_days: i64,
    /// An active credential unused for more than this many days is reported (low).
    pub unused_warn_days: i64,
    /// An active credential unused for more than this many days is reported (medium).
    pub unused_max_days: i64,
    /// A credential created more than this many days ago and never used is reported.
    pub never_used_grace_days: i64,
    /// Maximum age in days of a token-signing or KMS key since creation or last rotation.
    pub signing_key_max_age_days: i64,
    /// Maximum validity period in days (expiry minus creation) of a signing key.
    pub signing_key_max_validity_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            rotation_max_days: 90,
            unused_warn_days: 45,
            unused_max_days: 90,
            never_used_grace_days: 7,
            signing_key_max_age_days: 365,
            signing_key_max_validity_days: 730,
        }
    }
}

impl Policy {
    /// Check the thresholds make sense together.
    pub fn validate(&self) -> Result<(), String> {
        let fields = [
            ("rotation_max_days", self.rotation_max_days),
            ("unused_warn_days", self.unused_warn_days),
            ("unused_max_days", self.unused_max_days),
            ("never_used_grace_days", self.never_used_grace_days),
            ("signing_key_max_age_days", self.signing_key_max_age_days),
            (
                "signing_key_max_validity_days",
                self.signing_key_max_validity_days,
            ),
        ];
        if let Some((name, v)) = fields.iter().find(|(_, v)| *v < 0) {
            return Err(format!("audit.{name} must be zero or more, found {v}"));
        }
        if self.unused_warn_days > self.unused_max_days {
            return Err(format!(
                "audit.unused_warn_days ({}) must not exceed audit.unused_max_days ({})",
                self.unused_warn_days, self.unused_max_days
            ));
        }
        Ok(())
    }
}
