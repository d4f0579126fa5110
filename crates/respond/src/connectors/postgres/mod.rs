//! PostgreSQL logins of the leaver: each database role they hold loses its login and password, and
//! every session it has open is ended (`pg_terminate_backend`) — a disabled role's live connections
//! otherwise keep reading. Roles come from the inventory (`db_user` credentials of the configured
//! system; the role is the credential's principal, else its id) and are checked live in `pg_roles`.
//!
//! Proof: with the role's old password supplied for verification (a file, never the command line),
//! a login with it must be refused by the server; otherwise the role must be unable to log in and
//! hold no session. The admin connection's password and the old passwords are never printed.
//!
//! Here: `Postgres` (the connector), `PgConfig` (its settings), `[[respond.postgres]]` as
//! `PostgresSection` (config.rs).

mod config;
pub use config::PostgresSection;

use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use std::collections::HashMap;

/// Settings.
#[derive(Clone)]
pub struct PgConfig {
    /// The admin connection (libpq key=value or URL form, without the password).
    pub connection: String,
    /// The admin's password (from a file or the environment).
    pub password: Option<String>,
    /// Inventory `system` of this server's roles (e.g. `postgres:orders-db`).
    pub system: String,
    /// Old passwords to prove death by trying them: role → password. Never printed.
    pub verify_passwords: HashMap<String, String>,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A password someone put in the connection string anyway stays out of debug output.
        let connection = if self.connection.to_ascii_lowercase().contains("password") {
            "<contains a password: not shown>"
        } else {
            self.connection.as_str()
        };
        f.debug_struct("PgConfig")
            .field("connection", &connection)
            .field("system", &self.system)
            .field(
                "verify_passwords",
                &self.verify_passwords.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The connector.
pub struct Postgres {
    cfg: PgConfig,
    admin: Option<postgres::Client>,
    /// Roles whose old password was seen to log in before the change (the control that makes a
    /// later `28P01` a refusal of that password rather than of a wrong one).
    worked_before: std::collections::HashSet<String>,
}

/// A role name as an SQL identifier.
fn ident(role: &str) -> String {
    format!("\"{}\"", role.replace('"', "\"\""))
}

impl Postgres {
    /// A connector for `cfg` (connects when first needed).
    pub fn new(cfg: PgConfig) -> Postgres {
        Postgres {
            cfg,
            admin: None,
            worked_before: Default::default(),
        }
    }

    fn config(&self) -> Result<postgres::Config, RespondError> {
        let mut c: postgres::Config =
            self.cfg.connection.parse().map_err(|e| {
                RespondError::Local(format!("postgres: the connection string: {e}"))
            })?;
        c.connect_timeout(std::time::Duration::from_secs(5));
        Ok(c)
    }

    fn admin(&mut self) -> Result<&mut postgres::Client, RespondError> {
        if self
            .admin
            .as_mut()
            .is_some_and(|c| c.is_valid(std::time::Duration::from_secs(2)).is_err())
        {
            self.admin = None;
        }
        if self.admin.is_none() {
            let mut c = self.config()?;
            if let Some(p) = &self.cfg.password {
                c.password(p);
            }
            let client = c
                .connect(postgres::NoTls)
                .map_err(|e| self.unavailable(e))?;
            self.admin = Some(client);
        }
        Ok(self.admin.as_mut().expect("connected"))
    }

    fn unavailable(&self, e: impl std::fmt::Display) -> RespondError {
        RespondError::Unavailable {
            connector: self.name(),
            reason: e.to_string(),
        }
    }

    fn refused(&self, e: impl std::fmt::Display) -> RespondError {
        RespondError::Refused {
            connector: self.name(),
            reason: e.to_string(),
        }
    }

    /// A server answer is a refusal; a lost connection is unavailability (retried).
    fn sql_err(&mut self, what: &str, e: postgres::Error) -> RespondError {
        if e.as_db_error().is_some() {
            self.refused(format!("{what}: {e}"))
        } else {
            self.admin = None;
            self.unavailable(format!("{what}: {e}"))
        }
    }

    /// (can log in, open sessions) of a role; `None` when it does not exist.
    fn state(&mut self, role: &str) -> Result<Option<(bool, i64)>, RespondError> {
        let r = self.admin()?.query_opt(
            "SELECT r.rolcanlogin, (SELECT count(*) FROM pg_stat_activity a WHERE a.usename = r.rolname) \
             FROM pg_roles r WHERE r.rolname = $1",
            &[&role],
        );
        match r {
            Ok(row) => Ok(row.map(|r| (r.get(0), r.get(1)))),
            Err(e) => Err(self.sql_err("reading pg_roles", e)),
        }
    }
}

impl Connector for Postgres {
    fn name(&self) -> String {
        format!(
            "postgres:{}",
            self.cfg.system.trim_start_matches("postgres:")
        )
    }

    fn covers(&self, c: &credwarden_model::Credential) -> bool {
        c.kind == credwarden_model::CredentialKind::DbUser
            && c.system.eq_ignore_ascii_case(&self.cfg.system)
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        let name = self.name();
        let roles: Vec<String> = who
            .credentials
            .iter()
            .filter(|c| {
                c.kind == credwarden_model::CredentialKind::DbUser
                    && c.system.eq_ignore_ascii_case(&self.cfg.system)
            })
            .map(|c| c.principal.clone().unwrap_or_else(|| c.id.clone()))
            .collect();
        let mut plan = Vec::new();
        for role in roles {
            // Live: a role already gone, or one the server says cannot log in and holds no
            // session, has nothing left to disable.
            if self
                .state(&role)?
                .is_some_and(|(can_login, sessions)| can_login || sessions > 0)
            {
                // The control: does the old password we were given log in now?
                if let Some(old) = self.cfg.verify_passwords.get(&role).cloned() {
                    let mut c = self.config()?;
                    c.user(&role).password(&old);
                    if c.connect(postgres::NoTls).is_ok() {
                        self.worked_before.insert(role.clone());
                    }
                }
                plan.push(Action::new(
                    &name,
                    ActionKind::DisableDbLogin,
                    &role,
                    &who.identity.id,
                    format!("role {role}: no login, no password, its sessions ended"),
                ));
            }
        }
        Ok(plan)
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        let role = a.target.clone();
        let alter = format!("ALTER ROLE {} NOLOGIN PASSWORD NULL", ident(&role));
        if let Err(e) = self.admin()?.batch_execute(&alter) {
            return Err(self.sql_err(&format!("disabling {role}"), e));
        }
        let ended = match self.admin()?.query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1",
            &[&role],
        ) {
            Ok(r) => r.get::<_, i64>(0),
            Err(e) => return Err(self.sql_err(&format!("ending the sessions of {role}"), e)),
        };
        Ok(format!(
            "login and password removed; {ended} session(s) ended"
        ))
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        let role = &a.target;
        // The admin connection is the control: the server answers us on this very address.
        let Some((can_login, sessions)) = self.state(role)? else {
            return Ok(Proof::gone("pg_roles no longer has the role"));
        };
        if can_login || sessions > 0 {
            return Ok(Proof::alive(format!(
                "pg_roles: can log in = {can_login}; {sessions} session(s) open"
            )));
        }
        let Some(old) = self.cfg.verify_passwords.get(role).cloned() else {
            return Ok(Proof::gone(
                "pg_roles: the role cannot log in and holds no session (no old password supplied to try)",
            ));
        };
        let mut c = self.config()?;
        c.user(role).password(&old);
        let catalog = "pg_roles: the role cannot log in and holds no session";
        Ok(match c.connect(postgres::NoTls) {
            Ok(_) => Proof::alive("a login with the old password still works"),
            Err(e) => {
                let p = classify_login_error(&e);
                match p.strength() {
                    // A refusal of a password that worked before is a refusal of the role.
                    Some(_) if self.worked_before.contains(role) => p,
                    Some(_) => Proof::gone(format!(
                        "{catalog}; the old password was refused, but it was not seen to log in before (a wrong verification password would be refused too): {}",
                        p.how
                    )),
                    // The probe proves nothing; the catalog still says what it says.
                    None => Proof::gone(format!("{catalog}; the old-password probe was inconclusive: {}", p.how)),
                }
            }
        })
    }
}

/// What a failed login with the old password says. Only the server's refusal of that role's
/// credentials counts: `28P01` (password authentication failed) or `28000` "not permitted to log
/// in"; a `pg_hba` rejection, too many connections, a missing database or a network error proves
/// nothing about the role.
fn classify_login_error(e: &postgres::Error) -> Proof {
    let Some(db) = e.as_db_error() else {
        return Proof::ambiguous(format!("trying the old password: {e}"));
    };
    let code = db.code().code();
    match code {
        "28P01" => Proof::refused(format!(
            "a login with the old password is refused (SQLSTATE 28P01: {})",
            db.message()
        )),
        "28000" if db.message().contains("not permitted to log in") => Proof::refused(format!(
            "a login as the role is refused (SQLSTATE 28000: {})",
            db.message()
        )),
        _ => Proof::ambiguous(format!(
            "a login with the old password failed for another reason (SQLSTATE {code}: {}): not a refusal of the role",
            db.message()
        )),
    }
}
