//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[respond.aws]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsSection {
    /// Endpoint URL (omit for AWS itself).
    pub endpoint: Option<String>,
    /// Region (default us-east-1).
    pub region: Option<String>,
    /// File holding `KEY_ID SECRET` for the connector (omit: the environment's credential chain).
    pub credentials_file: Option<PathBuf>,
    /// File of `KEY_ID SECRET` lines of keys to prove dead by trying them against STS (the only
    /// proof that counts as "refused"; without it a deleted key is shown as "gone").
    pub verify_secrets_file: Option<PathBuf>,
    /// The AWS account this connector acts in (12 digits). Checked against its credentials'
    /// account before any change; the leaver's credentials in other accounts stay open items.
    pub account_id: Option<String>,
}
