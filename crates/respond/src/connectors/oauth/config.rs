//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[[respond.oauth]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthSection {
    /// Issuer URL (its discovery document names the revocation and introspection endpoints).
    pub issuer: String,
    /// Client id that revokes and introspects.
    pub client_id: String,
    /// File holding the client secret.
    pub client_secret_file: PathBuf,
    /// File of `CREDENTIAL_ID TOKEN` lines: the tokens to revoke (ids as in the inventory).
    pub tokens_file: PathBuf,
    /// Global token revocation endpoint (draft-parecki-oauth-global-token-revocation), when the
    /// issuer's metadata does not advertise `global_token_revocation_endpoint`.
    pub global_revocation_endpoint: Option<String>,
}
