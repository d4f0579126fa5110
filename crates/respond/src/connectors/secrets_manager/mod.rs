//! Shared secrets kept in AWS Secrets Manager that the leaver could read (or owned), rotated by us
//! rather than left as an item for their owner: a new random value is put (`PutSecretValue`, so
//! `AWSCURRENT` moves and the old value becomes `AWSPREVIOUS`), through the official SDK with a
//! configurable endpoint.
//!
//! Proof: the secret's current version must be newer than the one the leaver could read: made by this
//! offboarding (its version carries a `credwarden-<action>` staging label, so a later run knows it),
//! different from the version current when the offboarding planned, or created after their last day. With a probe
//! configured, the relying service must also refuse the old value (HTTP 401 or 403), because a
//! consumer that cached the old secret still accepts it — the gap that let a departed engineer's
//! signing key live on. Secret values are never printed or journaled; version ids are.
//!
//! Which secrets: those whose credential id is a Secrets Manager ARN, or whose system is one of the
//! configured names (default `aws-secretsmanager`, `secretsmanager`).
//!
//! Here: `SecretsManager` (the connector), `SecretsManagerConfig` and `Probe` (its settings),
//! `[respond.secrets_manager]` as `SecretsManagerSection` (config.rs).

mod config;
pub use config::SecretsManagerSection;

use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use std::collections::HashMap;

/// The relying service that must refuse the old value.
#[derive(Clone, Debug)]
pub struct Probe {
    /// URL to call (GET).
    pub url: String,
    /// Header that carries the secret (default `Authorization`).
    pub header: String,
    /// Put before the value (default `Bearer `).
    pub prefix: String,
}

/// Settings.
#[derive(Clone, Default)]
pub struct SecretsManagerConfig {
    /// Endpoint URL (`None`: AWS itself).
    pub endpoint: Option<String>,
    /// Region (default us-east-1).
    pub region: Option<String>,
    /// The connector's credentials (key id, secret); `None`: the environment's default chain.
    pub credentials: Option<(String, String)>,
    /// Inventory system names of secrets kept here (besides Secrets Manager ARNs).
    pub systems: Vec<String>,
    /// The relying service that must refuse the old value, if any.
    pub probe: Option<Probe>,
}

impl std::fmt::Debug for SecretsManagerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("credentials", &self.credentials.as_ref().map(|c| &c.0))
            .field("systems", &self.systems)
            .field("probe", &self.probe)
            .finish()
    }
}

/// The connector.
pub struct SecretsManager {
    rt: tokio::runtime::Runtime,
    client: aws_sdk_secretsmanager::Client,
    cfg: SecretsManagerConfig,
    /// Per secret: the version current when planned (the one the leaver could read).
    before: HashMap<String, String>,
    /// The leaver's last day.
    left: Option<jiff::civil::Date>,
    http: ureq::Agent,
}

/// One version of a secret: id, stages, creation time.
struct Version {
    id: String,
    current: bool,
    stages: Vec<String>,
    created: Option<jiff::Timestamp>,
}

/// The staging label our rotation for one action puts on the version it creates, so a later run
/// knows the current value is ours even when it was made on the leaver's last day.
fn label(a: &Action) -> String {
    format!("credwarden-{}", a.id)
}

impl SecretsManager {
    /// A client.
    pub fn new(mut cfg: SecretsManagerConfig) -> Result<SecretsManager, RespondError> {
        if cfg.systems.is_empty() {
            cfg.systems = vec!["aws-secretsmanager".into(), "secretsmanager".into()];
        }
        let (rt, base) = super::aws_iam::sdk(
            "aws-secretsmanager",
            cfg.endpoint.as_deref(),
            cfg.region.as_deref(),
            cfg.credentials.as_ref(),
        )?;
        let client = aws_sdk_secretsmanager::Client::new(&base);
        let http = crate::http::agent(std::time::Duration::from_secs(10));
        Ok(SecretsManager {
            rt,
            client,
            cfg,
            before: HashMap::new(),
            left: None,
            http,
        })
    }

    /// Is this credential a secret kept here?
    pub fn manages(&self, c: &credwarden_model::Credential) -> bool {
        c.id.starts_with("arn:aws:secretsmanager:")
            || self
                .cfg
                .systems
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&c.system))
    }

    fn err<E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        what: &str,
        e: aws_sdk_secretsmanager::error::SdkError<E>,
    ) -> RespondError {
        super::aws_iam::sdk_err(self.name(), what, e)
    }

    /// The secret's versions; `None` when it no longer exists.
    fn versions(&self, id: &str) -> Result<Option<Vec<Version>>, RespondError> {
        let r = self.rt.block_on(
            self.client
                .list_secret_version_ids()
                .secret_id(id)
                .include_deprecated(false)
                .send(),
        );
        let out = match r {
            Ok(o) => o,
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.code())
                    .is_some_and(|c| c == "ResourceNotFoundException") =>
            {
                return Ok(None)
            }
            Err(e) => return Err(self.err(&format!("listing versions of {id}"), e)),
        };
        Ok(Some(
            out.versions()
                .iter()
                .map(|v| Version {
                    id: v.version_id().unwrap_or_default().to_string(),
                    current: v.version_stages().iter().any(|s| s == "AWSCURRENT"),
                    stages: v.version_stages().to_vec(),
                    created: v
                        .created_date()
                        .and_then(|d| jiff::Timestamp::from_second(d.secs()).ok()),
                })
                .collect(),
        ))
    }

    /// A secret value by version id (for the probe only; never shown).
    fn value(&self, id: &str, version: &str) -> Result<String, RespondError> {
        let out = self
            .rt
            .block_on(
                self.client
                    .get_secret_value()
                    .secret_id(id)
                    .version_id(version)
                    .send(),
            )
            .map_err(|e| self.err(&format!("reading the old version of {id}"), e))?;
        Ok(out.secret_string().unwrap_or_default().to_string())
    }

    /// Does the relying service accept `value`? (`None`: no probe configured.)
    fn accepted(&self, value: &str) -> Result<Option<(bool, u16)>, RespondError> {
        let Some(p) = &self.cfg.probe else {
            return Ok(None);
        };
        let r = self
            .http
            .get(&p.url)
            .header(&p.header, &format!("{}{value}", p.prefix))
            .call()
            // ureq errors name the URL, never the headers.
            .map_err(|e| crate::http::transport(self.name(), format!("probe {}: {e}", p.url)))?;
        let status = r.status().as_u16();
        match status {
            401 | 403 => Ok(Some((false, status))),
            200..=299 => Ok(Some((true, status))),
            // Neither a refusal nor an acceptance proves anything either way (a wrong URL, a
            // proxy): unavailable on purpose, whatever the status, so the proof is tried again.
            _ => Err(RespondError::Unavailable {
                connector: self.name(),
                reason: format!("probe {}: HTTP {status}", p.url),
            }),
        }
    }
}

impl SecretsManager {
    /// Is AWSCURRENT a version the leaver cannot have read: ours for this action, another than
    /// the one current when planned, or created after the departure?
    fn rotated(&self, a: &Action, vs: &[Version]) -> bool {
        let Some(cur) = vs.iter().find(|v| v.current) else {
            return false;
        };
        let after_departure = match (cur.created, self.left) {
            (Some(t), Some(l)) => t.to_zoned(jiff::tz::TimeZone::UTC).date() > l,
            _ => false,
        };
        cur.stages.contains(&label(a))
            || self.before.get(&a.target).is_some_and(|b| *b != cur.id)
            || after_departure
    }
}

impl Connector for SecretsManager {
    fn name(&self) -> String {
        "aws-secretsmanager".into()
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        self.left = who.identity.end_date;
        let name = self.name();
        let mut plan = Vec::new();
        let mine: Vec<&credwarden_model::Credential> =
            who.readable.iter().filter(|c| self.manages(c)).collect();
        for c in mine {
            if let Some(vs) = self.versions(&c.id)? {
                if let Some(cur) = vs.iter().find(|v| v.current) {
                    self.before.entry(c.id.clone()).or_insert(cur.id.clone());
                }
            }
            plan.push(Action::new(
                &name,
                ActionKind::RotateSecret,
                &c.id,
                &who.identity.id,
                format!(
                    "{} ({}): put a new random value (AWSCURRENT moves; consumers read the new one)",
                    c.id, c.system
                ),
            ));
        }
        Ok(plan)
    }

    fn covers(&self, c: &credwarden_model::Credential) -> bool {
        self.manages(c)
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        // Rotated already (by this action in an earlier run, or after the departure): a second
        // rotation would not help a relying service still holding the old value.
        if let Some(vs) = self.versions(&a.target)? {
            if self.rotated(a, &vs) {
                return Ok("already rotated since the departure; not rotating again".into());
            }
        }
        let rng = ring::rand::SystemRandom::new();
        let bytes: [u8; 32] = ring::rand::generate(&rng)
            .map_err(|_| RespondError::Local("no random source".into()))?
            .expose();
        let value = crate::codec::base64url(&bytes);
        let r = self.rt.block_on(
            self.client
                .put_secret_value()
                .secret_id(&a.target)
                .secret_string(value)
                .version_stages("AWSCURRENT")
                .version_stages(label(a))
                .send(),
        );
        match r {
            Ok(o) => Ok(format!(
                "new version {} is AWSCURRENT",
                o.version_id().unwrap_or("?")
            )),
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.code())
                    .is_some_and(|c| c == "ResourceNotFoundException") =>
            {
                Err(RespondError::Unavailable {
                    connector: self.name(),
                    reason: format!(
                        "{} not found (wrong name, region or account?): nothing rotated",
                        a.target
                    ),
                })
            }
            Err(e) => Err(self.err(&format!("putting a new value in {}", a.target), e)),
        }
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        let Some(vs) = self.versions(&a.target)? else {
            // Not found says nothing about the secret the relying services read: a wrong name,
            // region or account answers the same.
            return Ok(Proof::ambiguous(format!(
                "Secrets Manager does not find {} (wrong name, region or account?)",
                a.target
            )));
        };
        let Some(cur) = vs.iter().find(|v| v.current) else {
            return Ok(Proof::ambiguous("no version is AWSCURRENT"));
        };
        if !self.rotated(a, &vs) {
            return Ok(Proof::alive(format!(
                "AWSCURRENT is still version {}, readable by the leaver",
                cur.id
            )));
        }
        let before = self.before.get(&a.target);
        let old = match before.filter(|b| **b != cur.id) {
            Some(b) => Some(b.clone()),
            None => vs.iter().find(|v| !v.current).map(|v| v.id.clone()),
        };
        let probed = match (&self.cfg.probe, old) {
            (Some(_), Some(old)) => {
                let old_value = self.value(&a.target, &old)?;
                let new_value = self.value(&a.target, &cur.id)?;
                self.accepted(&old_value)?.zip(self.accepted(&new_value)?)
            }
            _ => None,
        };
        Ok(match probed {
            Some(((true, status), _)) => Proof::alive(format!(
                "rotated (AWSCURRENT is version {}), but the relying service still accepts the old value (HTTP {status}): a cached copy",
                cur.id
            )),
            Some(((false, status), (true, _))) => Proof::refused(format!(
                "rotated (AWSCURRENT is version {}); the relying service refuses the old value (HTTP {status}) and accepts the new one",
                cur.id
            )),
            Some(((false, status), (false, new_status))) => Proof::ambiguous(format!(
                "the relying service refuses the old value (HTTP {status}) but also the new one (HTTP {new_status}): the probe proves nothing"
            )),
            None => Proof::gone(format!(
                "rotated: AWSCURRENT is version {}, not the one the leaver could read (no probe of the old value)",
                cur.id
            )),
        })
    }
}
