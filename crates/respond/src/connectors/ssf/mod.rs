//! Shared Signals (OpenID SSF 1.0) transmitter, push delivery: for each configured receiver, signed
//! Security Event Tokens (RFC 8417: `typ: secevent+jwt`, ES256) telling it that the leaver's sessions
//! are revoked (CAEP session-revoked), their credentials changed (CAEP credential-change, `revoke`) and
//! their account disabled (RISC account-disabled), about a subject identified per RFC 9493 (`email`
//! format, else `opaque`), delivered by HTTP POST (RFC 8935, `202 Accepted`). Receivers verify with our
//! public key. Poll delivery (RFC 8936) and the stream configuration endpoint need `credwarden serve`.
//!
//! Here: `SsfPush` (the connector, one per receiver; it also signs the SETs `serve` hands out by
//! poll), `SsfConfig` (its settings), `[[respond.ssf]]` and `[respond.ssf_poll]` as `SsfSection`
//! and `SsfPollSection` (config.rs).

mod config;
pub use config::{SsfPollSection, SsfSection};

use crate::http;
use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

/// CAEP session revoked.
pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// CAEP credential change.
pub const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
/// RISC account disabled.
pub const ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";

/// Settings for one receiver.
#[derive(Clone)]
pub struct SsfConfig {
    /// Our issuer (`iss`).
    pub issuer: String,
    /// The receiver's push endpoint.
    pub endpoint: String,
    /// The receiver's audience (`aud`).
    pub audience: String,
    /// Signing key: EC P-256 private key, PKCS#8 PEM (from a file).
    pub key_pem: Vec<u8>,
    /// Key id (`kid`) the receiver finds our public key under.
    pub key_id: String,
    /// Request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for SsfConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsfConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// The push transmitter for one receiver.
pub struct SsfPush {
    cfg: SsfConfig,
    key: jsonwebtoken::EncodingKey,
    agent: ureq::Agent,
    subject: Value,
    delivered: HashSet<String>,
}

impl SsfPush {
    /// A transmitter; the key must be an EC P-256 PKCS#8 PEM.
    pub fn new(cfg: SsfConfig) -> Result<SsfPush, RespondError> {
        let key = jsonwebtoken::EncodingKey::from_ec_pem(&cfg.key_pem)
            .map_err(|e| RespondError::Local(format!("ssf: signing key: {e}")))?;
        let agent = http::agent(cfg.timeout);
        Ok(SsfPush {
            cfg,
            key,
            agent,
            subject: Value::Null,
            delivered: HashSet::new(),
        })
    }

    fn host(&self) -> String {
        http::host(&self.cfg.endpoint)
    }

    /// Signed SETs of every event type about `who` (for poll delivery): (jti, token) pairs.
    pub fn sets_about(
        &mut self,
        who: &credwarden_model::Identity,
    ) -> Result<Vec<(String, String)>, RespondError> {
        self.subject = match who.emails.first() {
            Some(e) => json!({"format": "email", "email": e}),
            None => json!({"format": "opaque", "id": who.id}),
        };
        [SESSION_REVOKED, CREDENTIAL_CHANGE, ACCOUNT_DISABLED]
            .iter()
            .map(|e| self.sign(e))
            .collect()
    }

    /// The signed SET for one event type.
    pub fn set_for(&self, event: &str) -> Result<String, RespondError> {
        self.sign(event).map(|(_, t)| t)
    }

    /// (jti, signed SET) for one event type.
    fn sign(&self, event: &str) -> Result<(String, String), RespondError> {
        let now = jiff::Timestamp::now().as_second();
        let payload = match event {
            CREDENTIAL_CHANGE => {
                json!({"credential_type": "password", "change_type": "revoke", "event_timestamp": now})
            }
            ACCOUNT_DISABLED => json!({}),
            _ => json!({"event_timestamp": now}),
        };
        let jti: String = {
            let mut b = [0u8; 16];
            // A jti only has to be unique; if the OS cannot give randomness, the time still differs.
            if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).is_err() {
                b = jiff::Timestamp::now().as_nanosecond().to_le_bytes();
            }
            b.iter().map(|x| format!("{x:02x}")).collect()
        };
        let claims = json!({"iss": self.cfg.issuer, "aud": self.cfg.audience, "iat": now, "jti": jti, "sub_id": self.subject, "events": {event: payload}});
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("secevent+jwt".into());
        header.kid = Some(self.cfg.key_id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| RespondError::Local(format!("ssf: signing: {e}")))?;
        Ok((jti, token))
    }
}

fn short(event: &str) -> &str {
    event.rsplit('/').next().unwrap_or(event)
}

impl Connector for SsfPush {
    fn name(&self) -> String {
        format!("ssf:{}", self.host())
    }
    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        self.subject = match who.identity.emails.first() {
            Some(e) => json!({"format": "email", "email": e}),
            None => json!({"format": "opaque", "id": who.identity.id}),
        };
        let name = self.name();
        Ok([SESSION_REVOKED, CREDENTIAL_CHANGE, ACCOUNT_DISABLED]
            .iter()
            .map(|e| {
                Action::new(
                    &name,
                    ActionKind::Signal,
                    e,
                    &who.identity.id,
                    format!("Security Event Token {} to {}", short(e), self.host()),
                )
            })
            .collect())
    }
    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        let set = self.set_for(&a.target)?;
        let res = self
            .agent
            .post(&self.cfg.endpoint)
            .header("Content-Type", "application/secevent+jwt")
            .header("Accept", "application/json")
            .send(set);
        let status = res
            .map_err(|e| http::transport_hiding(self.name(), e, &self.cfg.endpoint))?
            .status()
            .as_u16();
        match status {
            202 | 200 => {
                self.delivered.insert(a.target.clone());
                Ok(format!("delivered (HTTP {status})"))
            }
            _ => Err(http::status(self.name(), "", status)),
        }
    }
    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        let ok = self.delivered.contains(&a.target);
        // A receiver's 2xx says it took the event, not that it acted on it.
        Ok(if ok {
            Proof::notified("accepted by the receiver (RFC 8935): told, not proven")
        } else {
            Proof::ambiguous("not delivered yet")
        })
    }
}
