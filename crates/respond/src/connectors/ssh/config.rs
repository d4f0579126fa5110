//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[respond.ssh]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SshSection {
    /// The key revocation list sshd reads (`RevokedKeys`); created if absent.
    pub krl: PathBuf,
    /// The SSH CA's public key: revoke every certificate it issued under the leaver's logins and
    /// addresses as key ids.
    pub ca_public_key: Option<PathBuf>,
    /// Directory of `<credential id>.pub` files for `ssh_key` credentials whose id is not the key.
    pub keys_dir: Option<PathBuf>,
    /// `ssh-keygen` to run (default: from PATH).
    pub ssh_keygen: Option<PathBuf>,
}
