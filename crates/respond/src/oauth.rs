//! OAuth 2.0 tokens of the leaver (refresh and access tokens an application holds for them): revoked
//! at the authorization server (RFC 7009) with the client's credentials, and proven dead by
//! introspection (RFC 7662) answering `active: false`. Endpoints from the issuer's discovery document
//! (`/.well-known/openid-configuration`) or given. Token values come from a file (credential id →
//! token) and are never printed or journaled; the credential ids are.

use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Settings.
#[derive(Clone)]
pub struct OAuthConfig {
    /// Issuer URL (discovery) — or the two endpoints below.
    pub issuer: String,
    /// Client id used to revoke and introspect.
    pub client_id: String,
    /// Client secret (from a file or the environment).
    pub client_secret: String,
    /// Tokens to revoke: credential id (as in the inventory) → token value.
    pub tokens: HashMap<String, String>,
    /// Request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("tokens", &self.tokens.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The connector.
pub struct OAuth {
    cfg: OAuthConfig,
    agent: ureq::Agent,
    endpoints: Option<(String, String)>,
}

impl OAuth {
    /// A client for `cfg`.
    pub fn new(cfg: OAuthConfig) -> OAuth {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(cfg.timeout))
            .build()
            .into();
        OAuth {
            cfg,
            agent,
            endpoints: None,
        }
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> RespondError {
        RespondError::Unavailable {
            connector: self.name(),
            reason: reason.to_string(),
        }
    }

    /// Revocation and introspection endpoints, from discovery (once).
    fn endpoints(&mut self) -> Result<(String, String), RespondError> {
        if let Some(e) = &self.endpoints {
            return Ok(e.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.cfg.issuer.trim_end_matches('/')
        );
        let mut r = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| self.unavailable(e))?;
        if r.status().as_u16() != 200 {
            return Err(self.unavailable(format!("discovery: HTTP {}", r.status().as_u16())));
        }
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
            .unwrap_or(Value::Null);
        let get = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        let (Some(rev), Some(intro)) = (get("revocation_endpoint"), get("introspection_endpoint"))
        else {
            return Err(RespondError::Refused {
                connector: self.name(),
                reason: "the issuer does not advertise revocation and introspection endpoints"
                    .into(),
            });
        };
        self.endpoints = Some((rev, intro));
        Ok(self.endpoints.clone().expect("set"))
    }

    fn post(&self, url: &str, token: &str) -> Result<(u16, Value), RespondError> {
        let form = format!("token={}", crate::codec::percent_encode(token));
        let auth = format!(
            "Basic {}",
            crate::codec::base64(
                format!(
                    "{}:{}",
                    crate::codec::percent_encode(&self.cfg.client_id),
                    crate::codec::percent_encode(&self.cfg.client_secret)
                )
                .as_bytes()
            )
        );
        let mut r = self
            .agent
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", &auth)
            .send(form)
            // The token is in the body, never in the error (ureq errors name the URL, not the body).
            .map_err(|e| self.unavailable(e))?;
        let status = r.status().as_u16();
        let v = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
            .unwrap_or(Value::Null);
        if status >= 500 || status == 429 {
            return Err(self.unavailable(format!("HTTP {status}")));
        }
        Ok((status, v))
    }
}

impl Connector for OAuth {
    fn name(&self) -> String {
        let host = self
            .cfg
            .issuer
            .split("://")
            .nth(1)
            .unwrap_or(&self.cfg.issuer);
        format!("oauth:{}", host.split('/').next().unwrap_or(host))
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        // Tokens of the leaver that we hold a value for; the authorization server cannot list them.
        let name = self.name();
        Ok(who
            .credentials
            .iter()
            .filter(|c| self.cfg.tokens.contains_key(&c.id))
            .map(|c| {
                Action::new(
                    &name,
                    ActionKind::RevokeToken,
                    &c.id,
                    &who.identity.id,
                    format!("OAuth token {} ({})", c.id, c.system),
                )
            })
            .collect())
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        let token = self
            .cfg
            .tokens
            .get(&a.target)
            .cloned()
            .ok_or_else(|| RespondError::Local(format!("no token value for {}", a.target)))?;
        let (rev, _) = self.endpoints()?;
        let (status, v) = self.post(&rev, &token)?;
        match status {
            200 => Ok("revoked (RFC 7009)".into()),
            _ => Err(RespondError::Refused {
                connector: self.name(),
                reason: format!(
                    "revocation: HTTP {status} {}",
                    v.get("error").and_then(Value::as_str).unwrap_or("")
                ),
            }),
        }
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        let token = self
            .cfg
            .tokens
            .get(&a.target)
            .cloned()
            .ok_or_else(|| RespondError::Local(format!("no token value for {}", a.target)))?;
        let (_, intro) = self.endpoints()?;
        let (status, v) = self.post(&intro, &token)?;
        if status != 200 {
            return Err(RespondError::Refused {
                connector: self.name(),
                reason: format!("introspection: HTTP {status}"),
            });
        }
        let active = v.get("active").and_then(Value::as_bool).unwrap_or(true);
        Ok(Proof {
            dead: !active,
            how: format!("introspection (RFC 7662) answers active={active}"),
        })
    }
}
