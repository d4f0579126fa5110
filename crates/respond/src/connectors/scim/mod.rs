//! SCIM 2.0 client (RFC 7644) for the identity provider or any SCIM service provider: find the
//! leaver's accounts by user name and e-mail, `PATCH active=false` at once, `DELETE` after a grace
//! period; verify by reading the account back (inactive, or gone).
//!
//! Here: `Scim` (the connector), `ScimConfig` (its settings), `[respond.scim]` as `ScimSection`
//! (config.rs).

mod config;
pub use config::ScimSection;

use crate::http;
use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use serde_json::{json, Value};
use std::time::Duration;

/// Settings.
#[derive(Debug, Clone)]
pub struct ScimConfig {
    /// Base URL (`https://idp.example/scim/v2`).
    pub url: String,
    /// Bearer token (from a file or the environment, never the command line).
    pub token: Option<String>,
    /// Delete deactivated accounts this long after the departure (`None`: never delete).
    pub delete_after_days: Option<i64>,
    /// Request timeout.
    pub timeout: Duration,
}

/// The connector.
pub struct Scim {
    cfg: ScimConfig,
    agent: ureq::Agent,
}

impl Scim {
    /// A client for `cfg`.
    pub fn new(cfg: ScimConfig) -> Scim {
        let agent = crate::http::agent(cfg.timeout);
        Scim { cfg, agent }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), RespondError> {
        let url = format!("{}{path}", self.cfg.url.trim_end_matches('/'));
        let auth = self.cfg.token.as_ref().map(|t| format!("Bearer {t}"));
        let res = match (method, body) {
            ("GET", _) => {
                let mut r = self
                    .agent
                    .get(&url)
                    .header("Accept", "application/scim+json");
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            ("DELETE", _) => {
                let mut r = self.agent.delete(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            (_, b) => {
                let mut r = self
                    .agent
                    .patch(&url)
                    .header("Content-Type", "application/scim+json");
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.send(b.unwrap_or(Value::Null).to_string())
            }
        };
        let mut resp = res.map_err(|e| http::transport(self.name(), e))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let v = serde_json::from_str(&text).unwrap_or(Value::Null);
        if http::retryable(status) {
            return Err(http::status(self.name(), "", status));
        }
        Ok((status, v))
    }

    /// An answer `call` let through that the caller has no use for (with the SCIM error's
    /// `detail`).
    fn refused(&self, what: &str, status: u16, v: &Value) -> RespondError {
        let detail = v.get("detail").and_then(Value::as_str).unwrap_or("");
        http::status_with(self.name(), what, status, detail)
    }
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Connector for Scim {
    fn name(&self) -> String {
        "scim".into()
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        let mut names: Vec<String> = who.identity.usernames.clone();
        names.extend(who.identity.emails.iter().cloned());
        names.sort();
        names.dedup();
        let mut users: Vec<Value> = Vec::new();
        for n in &names {
            for attr in ["userName", "emails.value"] {
                let filter = format!("{attr} eq \"{}\"", quote(n));
                let path = format!("/Users?filter={}", crate::codec::percent_encode(&filter));
                let (status, v) = self.call("GET", &path, None)?;
                if status != 200 {
                    // Some providers do not filter on emails: not an error for the other attribute.
                    if attr == "userName" {
                        return Err(self.refused("listing users", status, &v));
                    }
                    continue;
                }
                // A list answer must be a SCIM ListResponse: anything else (a portal page, a
                // proxy's 200) is no listing, never "nobody".
                let is_list = v.get("schemas").and_then(Value::as_array).is_some_and(|a| {
                    a.iter()
                        .any(|s| s == "urn:ietf:params:scim:api:messages:2.0:ListResponse")
                }) || v.get("totalResults").is_some_and(Value::is_u64);
                if !is_list {
                    return Err(RespondError::Unavailable {
                        connector: self.name(),
                        reason: "listing users: the answer is not a SCIM ListResponse (a proxy or a wrong URL?)".into(),
                    });
                }
                for u in v
                    .get("Resources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if !users.iter().any(|x| x.get("id") == u.get("id")) {
                        users.push(u.clone());
                    }
                }
            }
        }
        let today = jiff::Zoned::now().date();
        let grace_over = |days: i64| {
            who.identity
                .end_date
                .is_some_and(|e| (today - e).get_days() as i64 >= days)
        };
        let mut out = Vec::new();
        for u in users {
            let (Some(id), user) = (
                u.get("id").and_then(Value::as_str),
                u.get("userName").and_then(Value::as_str).unwrap_or("?"),
            ) else {
                continue;
            };
            let active = u.get("active").and_then(Value::as_bool).unwrap_or(true);
            if active {
                out.push(Action::new(
                    "scim",
                    ActionKind::DeactivateUser,
                    id,
                    &who.identity.id,
                    format!("SCIM user {user}"),
                ));
            } else if self.cfg.delete_after_days.is_some_and(grace_over) {
                out.push(Action::new(
                    "scim",
                    ActionKind::DeleteUser,
                    id,
                    &who.identity.id,
                    format!("SCIM user {user}, inactive, grace period over"),
                ));
            }
        }
        Ok(out)
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        let path = format!("/Users/{}", a.target);
        let (status, v) = match a.kind {
            ActionKind::DeactivateUser => self.call(
                "PATCH",
                &path,
                Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]})),
            )?,
            ActionKind::DeleteUser => self.call("DELETE", &path, None)?,
            k => return Err(RespondError::Local(format!("scim cannot {}", k.label()))),
        };
        match status {
            200 | 204 => Ok(format!("HTTP {status}")),
            404 if a.kind == ActionKind::DeleteUser => Ok("already gone".into()),
            _ => Err(self.refused(a.kind.label(), status, &v)),
        }
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        let (status, v) = self.call("GET", &format!("/Users/{}", a.target), None)?;
        Ok(match (a.kind, status) {
            // A 404 in the SCIM error shape (RFC 7644 §3.12) is the provider's own word; a bare 404
            // (a proxy, a wrong base URL) proves nothing.
            (_, 404) if is_scim_error(&v) => {
                Proof::gone("the provider no longer has the account (SCIM 404)")
            }
            (ActionKind::DeactivateUser, 200) if is_user(&v, &a.target) => {
                match v.get("active").and_then(active_value) {
                    Some(false) => {
                        Proof::gone("the provider reads the account back as active=false")
                    }
                    Some(true) => {
                        Proof::alive("the provider reads the account back as active=true")
                    }
                    None => Proof::ambiguous("the provider's answer has no `active` attribute"),
                }
            }
            (ActionKind::DeleteUser, 200) if is_user(&v, &a.target) => {
                Proof::alive("the account is still there (HTTP 200)")
            }
            (_, s) => Proof::ambiguous(format!(
                "HTTP {s} without a SCIM user or SCIM error body: not the provider's answer"
            )),
        })
    }
}

/// A SCIM error body (RFC 7644 §3.12).
fn is_scim_error(v: &Value) -> bool {
    v.get("schemas").and_then(Value::as_array).is_some_and(|a| {
        a.iter()
            .any(|s| s == "urn:ietf:params:scim:api:messages:2.0:Error")
    })
}

/// The SCIM User `id` we asked for.
fn is_user(v: &Value, id: &str) -> bool {
    v.get("id").and_then(Value::as_str) == Some(id)
}

/// `active` as a boolean (some providers send the strings "True"/"False").
fn active_value(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}
