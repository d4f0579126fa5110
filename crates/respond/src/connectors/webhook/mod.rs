//! Telling relying services: one POST per leaver to each configured URL with the identity and the
//! ids of every credential being revoked (never secrets), so that services holding their own sessions
//! or caches drop them. Proof is the service's acknowledgement (2xx); it is the service's job to act.
//!
//! Here: `Notify` (the connector, one per URL), `[[respond.webhook]]` as `WebhookSection`
//! (config.rs).

mod config;
pub use config::WebhookSection;

use crate::http;
use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use serde_json::json;
use std::time::Duration;

/// The connector for one URL.
pub struct Notify {
    url: String,
    agent: ureq::Agent,
    body: Option<String>,
    acknowledged: bool,
}

impl Notify {
    /// A notifier for `url` (the URL may carry a secret: it is shown as host only).
    pub fn new(url: &str, timeout: Duration) -> Notify {
        let agent = http::agent(timeout);
        Notify {
            url: url.to_string(),
            agent,
            body: None,
            acknowledged: false,
        }
    }

    fn host(&self) -> String {
        http::host(&self.url)
    }
}

impl Connector for Notify {
    fn name(&self) -> String {
        format!("webhook:{}", self.host())
    }
    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        let ids: Vec<&str> = who.credentials.iter().map(|c| c.id.as_str()).collect();
        self.body = Some(
            json!({"type": "credwarden.offboarding", "identity": {"id": who.identity.id, "name": who.identity.display_name, "usernames": who.identity.usernames, "emails": who.identity.emails}, "credentials": ids, "time": jiff::Timestamp::now().to_string()})
                .to_string(),
        );
        Ok(vec![Action::new(
            &self.name(),
            ActionKind::Notify,
            &self.host(),
            &who.identity.id,
            "tell the relying service to drop sessions and caches",
        )])
    }
    fn apply(&mut self, _a: &Action) -> Result<String, RespondError> {
        let body = self.body.clone().unwrap_or_default();
        let res = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body);
        let status = res
            .map_err(|e| http::transport_hiding(self.name(), e, &self.url))?
            .status()
            .as_u16();
        match status {
            200..=299 => {
                self.acknowledged = true;
                Ok(format!("HTTP {status}"))
            }
            _ => Err(http::status(self.name(), "", status)),
        }
    }
    fn verify(&mut self, _a: &Action) -> Result<Proof, RespondError> {
        // A 2xx says the service took the notice, not that it acted on it.
        Ok(if self.acknowledged {
            Proof::notified("acknowledged by the service (HTTP 2xx): told, not proven")
        } else {
            Proof::ambiguous("not acknowledged yet")
        })
    }
}
