//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[[respond.ssf]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsfSection {
    /// Our issuer (`iss`).
    pub issuer: String,
    /// The receiver's push endpoint (RFC 8935).
    pub endpoint: String,
    /// The receiver's audience (`aud`).
    pub audience: String,
    /// EC P-256 private key, PKCS#8 PEM.
    pub key_file: PathBuf,
    /// Key id receivers know our public key by.
    pub key_id: String,
}

/// `[respond.ssf_poll]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsfPollSection {
    /// Our issuer (`iss`).
    pub issuer: String,
    /// EC P-256 private key, PKCS#8 PEM.
    pub key_file: PathBuf,
    /// Key id.
    pub key_id: String,
}
