//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[respond.jwks]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwksSection {
    /// The JWKS file the verifiers load.
    pub file: PathBuf,
    /// Where successor private keys are written (`<kid>.pem`, mode 0600).
    pub successor_dir: PathBuf,
    /// Relying-service URL that refuses bad bearer tokens with 401/403 (the probe).
    pub probe_url: Option<String>,
    /// Folder of old private keys (`<kid>.pem`) to sign the probe with.
    pub old_keys_dir: Option<PathBuf>,
    /// `iss` of the probe tokens (what the relying service's verifier expects).
    pub probe_issuer: Option<String>,
    /// `aud` of the probe tokens.
    pub probe_audience: Option<String>,
    /// `sub` of the probe tokens (default `credwarden-probe`).
    pub probe_subject: Option<String>,
}
