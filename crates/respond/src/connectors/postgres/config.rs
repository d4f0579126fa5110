//! The connector's section of the config file, as written there (unknown keys are errors).

use serde::Deserialize;
use std::path::PathBuf;

/// `[[respond.postgres]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSection {
    /// Inventory `system` of this server's `db_user` credentials (e.g. `postgres:orders-db`).
    pub system: String,
    /// Admin connection, libpq key=value or URL form, without the password.
    pub connection: String,
    /// File holding the admin's password (or set PGPASSWORD).
    pub password_file: Option<PathBuf>,
    /// File of `ROLE OLD_PASSWORD` lines: logins to try after, expecting refusal (the proof).
    pub verify_passwords_file: Option<PathBuf>,
}
