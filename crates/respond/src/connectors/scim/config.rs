//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[respond.scim]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimSection {
    /// Base URL.
    pub url: String,
    /// File holding the bearer token (or set CREDWARDEN_SCIM_TOKEN).
    pub token_file: Option<PathBuf>,
    /// Delete deactivated accounts this many days after the departure (omit: never delete).
    pub delete_after_days: Option<i64>,
}
