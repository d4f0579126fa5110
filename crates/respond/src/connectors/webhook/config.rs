//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;

/// `[[respond.webhook]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSection {
    /// Environment variable holding the URL (URLs often carry a token).
    pub url_env: String,
}
