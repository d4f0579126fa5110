//! OAuth 2.0 tokens of the leaver (refresh and access tokens an application holds for them): revoked
//! at the authorization server (RFC 7009) with the client's credentials, and proven dead by
//! introspection (RFC 7662) answering `active: false`. Endpoints from the issuer's discovery document
//! (`/.well-known/openid-configuration`) or given. Token values come from a file (credential id →
//! token) and are never printed or journaled; the credential ids are.
//!
//! Where the authorization server supports it (its metadata names a
//! `global_token_revocation_endpoint`, or the config does), every token and session of the leaver is
//! also revoked at once — OAuth 2.0 Global Token Revocation (draft-parecki-oauth-global-token-
//! revocation): a JSON `sub_id` (RFC 9493: the leaver's e-mail address, else their id as `opaque`)
//! posted with the client's credentials. It reaches tokens we hold no value for; the proof is still
//! introspection of the tokens we do hold, and where we hold none the journal says the only evidence
//! is the server's answer.
//!
//! Here: `OAuth` (the connector), `OAuthConfig` (its settings), `[[respond.oauth]]` as
//! `OAuthSection` (config.rs).

mod config;
pub use config::OAuthSection;

use crate::http;
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
    /// Global token revocation endpoint, when the server's metadata does not name one.
    pub global_endpoint: Option<String>,
    /// Request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("tokens", &self.tokens.keys().collect::<Vec<_>>())
            .field("global_endpoint", &self.global_endpoint)
            .finish()
    }
}

/// The connector.
pub struct OAuth {
    cfg: OAuthConfig,
    agent: ureq::Agent,
    endpoints: Option<Endpoints>,
    /// Per subject action target: the token values of that leaver we can introspect.
    subject_tokens: HashMap<String, Vec<String>>,
    /// Subjects revoked globally in this run (the only evidence when no token is held).
    revoked_subjects: std::collections::HashSet<String>,
    /// Token value → the client it was issued to (never printed).
    token_client: HashMap<String, String>,
}

/// The `client_id` (or `azp`) claim of a JWT access token, read without checking its signature:
/// only to know which client may introspect it.
fn jwt_client(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = crate::codec::base64url_decode(payload)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("client_id")
        .or_else(|| v.get("azp"))
        .and_then(Value::as_str)
        .map(String::from)
}

#[derive(Clone)]
struct Endpoints {
    revocation: String,
    introspection: String,
    global: Option<String>,
}

/// The RFC 9493 subject identifier an action target (`email:…` or `opaque:…`) stands for.
fn sub_id(target: &str) -> Value {
    match target.split_once(':') {
        Some(("email", e)) => serde_json::json!({"format": "email", "email": e}),
        Some((_, id)) => serde_json::json!({"format": "opaque", "id": id}),
        None => serde_json::json!({"format": "opaque", "id": target}),
    }
}

impl OAuth {
    /// A client for `cfg`.
    pub fn new(cfg: OAuthConfig) -> OAuth {
        let agent = http::agent(cfg.timeout);
        OAuth {
            cfg,
            agent,
            endpoints: None,
            subject_tokens: HashMap::new(),
            revoked_subjects: Default::default(),
            token_client: HashMap::new(),
        }
    }

    /// Unavailable on purpose, whatever the status: answers that are never the server's refusal
    /// of us (no discovery document, a 404 from global revocation, a failed introspection).
    fn unavailable(&self, reason: impl std::fmt::Display) -> RespondError {
        RespondError::Unavailable {
            connector: self.name(),
            reason: reason.to_string(),
        }
    }

    /// Revocation, introspection and global revocation endpoints, from discovery (once).
    fn endpoints(&mut self) -> Result<Endpoints, RespondError> {
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
            .map_err(|e| http::transport(self.name(), e))?;
        // No discovery document (whatever the status) is never the server's refusal of us.
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
        self.endpoints = Some(Endpoints {
            revocation: rev,
            introspection: intro,
            global: self
                .cfg
                .global_endpoint
                .clone()
                .or_else(|| get("global_token_revocation_endpoint")),
        });
        Ok(self.endpoints.clone().expect("set"))
    }

    fn client_auth(&self) -> String {
        format!(
            "Basic {}",
            crate::codec::base64(
                format!(
                    "{}:{}",
                    crate::codec::percent_encode(&self.cfg.client_id),
                    crate::codec::percent_encode(&self.cfg.client_secret)
                )
                .as_bytes()
            )
        )
    }

    /// Global token revocation of one subject.
    fn revoke_subject(&mut self, target: &str) -> Result<String, RespondError> {
        let Some(url) = self.endpoints()?.global else {
            return Err(RespondError::Refused {
                connector: self.name(),
                reason: "the server does not offer global token revocation".into(),
            });
        };
        let body = serde_json::json!({ "sub_id": sub_id(target) }).to_string();
        let r = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Authorization", &self.client_auth())
            .send(body)
            .map_err(|e| http::transport(self.name(), e))?;
        match r.status().as_u16() {
            200 | 204 => {
                self.revoked_subjects.insert(target.to_string());
                Ok("every token of the subject revoked (global token revocation)".into())
            }
            // A 404 is as likely a wrong URL or a proxy as "no such subject": never success.
            404 => Err(self.unavailable(
                "global token revocation: HTTP 404 (wrong endpoint, or a subject the server does not know): not taken as done",
            )),
            s if http::retryable(s) => Err(http::status(self.name(), "", s)),
            s => Err(http::status(self.name(), "global token revocation", s)),
        }
    }

    /// The token value held for a credential id.
    fn token(&self, id: &str) -> Result<String, RespondError> {
        self.cfg
            .tokens
            .get(id)
            .cloned()
            .ok_or_else(|| RespondError::Local(format!("no token value for {id}")))
    }

    /// Introspection of `token` (RFC 7662): (`active`, the token's `client_id`). `active` is
    /// `None` when the answer has no boolean `active` member.
    fn introspect(&mut self, token: &str) -> Result<(Option<bool>, Option<String>), RespondError> {
        let intro = self.endpoints()?.introspection;
        let (status, v) = self.post(&intro, token)?;
        if status != 200 {
            return Err(self.unavailable(format!("introspection: HTTP {status}")));
        }
        Ok((
            v.get("active").and_then(Value::as_bool),
            v.get("client_id").and_then(Value::as_str).map(String::from),
        ))
    }

    /// Remember which client a token belongs to (introspected while it is still active, or its
    /// own `client_id`/`azp` claim when it is a JWT): `active: false` is proof only when the
    /// token's own client asks, since RFC 7662 answers the same to a client that may not see it.
    fn learn_client(&mut self, token: &str) {
        if self.token_client.contains_key(token) {
            return;
        }
        let client = match self.introspect(token) {
            Ok((Some(true), Some(c))) => Some(c),
            _ => jwt_client(token),
        };
        if let Some(c) = client {
            self.token_client.insert(token.to_string(), c);
        }
    }

    /// Classify introspection of a revoked token.
    fn proof_for(&mut self, token: &str) -> Proof {
        match self.introspect(token) {
            Ok((Some(true), _)) => Proof::alive("introspection (RFC 7662) answers active=true"),
            Ok((Some(false), _)) => match self.token_client.get(token) {
                Some(c) if *c == self.cfg.client_id => Proof::refused(format!(
                    "introspection (RFC 7662) by the token's own client {c} answers active=false"
                )),
                Some(c) => Proof::ambiguous(format!(
                    "introspection answers active=false, but the token belongs to client {c}, not {}: a server answers the same to a client that may not see the token",
                    self.cfg.client_id
                )),
                None => Proof::ambiguous(
                    "introspection answers active=false, but the token's client is unknown (it was not active when first seen): not proof",
                ),
            },
            Ok((None, _)) => Proof::ambiguous("introspection answered without a boolean `active`"),
            Err(e) => Proof::ambiguous(e.to_string()),
        }
    }

    fn post(&self, url: &str, token: &str) -> Result<(u16, Value), RespondError> {
        let form = format!("token={}", crate::codec::percent_encode(token));
        let auth = self.client_auth();
        let mut r = self
            .agent
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", &auth)
            .send(form)
            // The token is in the body, never in the error (ureq errors name the URL, not the body).
            .map_err(|e| http::transport(self.name(), e))?;
        let status = r.status().as_u16();
        let v = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default())
            .unwrap_or(Value::Null);
        if http::retryable(status) {
            return Err(http::status(self.name(), "", status));
        }
        Ok((status, v))
    }
}

impl Connector for OAuth {
    fn name(&self) -> String {
        format!("oauth:{}", http::host(&self.cfg.issuer))
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        // Tokens of the leaver that we hold a value for; the authorization server cannot list them.
        let name = self.name();
        let held: Vec<&credwarden_model::Credential> = who
            .credentials
            .iter()
            .filter(|c| self.cfg.tokens.contains_key(&c.id))
            .collect();
        let values: Vec<String> = held
            .iter()
            .map(|c| self.cfg.tokens[&c.id].clone())
            .collect();
        for t in &values {
            self.learn_client(t);
        }
        let mut plan: Vec<Action> = held
            .iter()
            .map(|c| {
                Action::new(
                    &name,
                    ActionKind::RevokeToken,
                    &c.id,
                    &who.identity.id,
                    format!("OAuth token {} ({})", c.id, c.system),
                )
            })
            .collect();
        if self.endpoints()?.global.is_some() {
            let target = match who.identity.emails.first() {
                Some(e) => format!("email:{e}"),
                None => format!("opaque:{}", who.identity.id),
            };
            self.subject_tokens.insert(
                target.clone(),
                held.iter()
                    .map(|c| self.cfg.tokens[&c.id].clone())
                    .collect(),
            );
            plan.push(Action::new(
                &name,
                ActionKind::RevokeSubject,
                &target,
                &who.identity.id,
                format!("every token and session of {target} (global token revocation)"),
            ));
        }
        Ok(plan)
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        if a.kind == ActionKind::RevokeSubject {
            return self.revoke_subject(&a.target);
        }
        let token = self.token(&a.target)?;
        let rev = self.endpoints()?.revocation;
        let (status, v) = self.post(&rev, &token)?;
        match status {
            200 => Ok("revoked (RFC 7009)".into()),
            _ => Err(http::status_with(
                self.name(),
                "revocation",
                status,
                v.get("error").and_then(Value::as_str).unwrap_or(""),
            )),
        }
    }

    fn covers(&self, c: &credwarden_model::Credential) -> bool {
        self.cfg.tokens.contains_key(&c.id)
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        if a.kind == ActionKind::RevokeSubject {
            let tokens = self
                .subject_tokens
                .get(&a.target)
                .cloned()
                .unwrap_or_default();
            if tokens.is_empty() {
                // Nothing of theirs to try: the server took the request, which proves nothing.
                return Ok(if self.revoked_subjects.contains(&a.target) {
                    Proof::notified("the server accepted the global revocation; no token of the subject is held to prove it")
                } else {
                    Proof::ambiguous("not revoked yet")
                });
            }
            let proofs: Vec<Proof> = tokens.iter().map(|t| self.proof_for(t)).collect();
            let n = proofs.len();
            if let Some(p) = proofs.iter().find(|p| p.verdict == crate::Verdict::Alive) {
                return Ok(Proof::alive(format!(
                    "a held token of the subject: {}",
                    p.how
                )));
            }
            if let Some(p) = proofs.iter().find(|p| p.strength().is_none()) {
                return Ok(Proof::ambiguous(format!(
                    "a held token of the subject: {}",
                    p.how
                )));
            }
            return Ok(Proof::refused(format!(
                "introspection by their own client: all {n} held token(s) of the subject inactive"
            )));
        }
        let token = self.token(&a.target)?;
        Ok(self.proof_for(&token))
    }
}
