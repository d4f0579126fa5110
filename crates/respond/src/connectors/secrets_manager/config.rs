//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[respond.secrets_manager]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsManagerSection {
    /// Endpoint URL (omit for AWS itself).
    pub endpoint: Option<String>,
    /// Region (default us-east-1).
    pub region: Option<String>,
    /// File holding `KEY_ID SECRET` for the connector (omit: the environment's credential chain).
    pub credentials_file: Option<PathBuf>,
    /// Inventory `system` names of secrets kept there (default `aws-secretsmanager`,
    /// `secretsmanager`; Secrets Manager ARNs always are).
    pub systems: Vec<String>,
    /// A relying service that must refuse the old value after the rotation (GET).
    pub probe_url: Option<String>,
    /// Header carrying the value to the probe (default `Authorization`).
    pub probe_header: Option<String>,
    /// Put before the value in that header (default `Bearer `).
    pub probe_prefix: Option<String>,
}
