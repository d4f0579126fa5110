//! `[respond]` of the config file: the journal, the daemons' retry pace, the approvers and one
//! section per connector (each section's type lives in its connector's folder). Unknown keys are
//! errors, so a typo never silently keeps a default. Secrets come from files or the environment,
//! never from here.

#[cfg(feature = "aws")]
use crate::connectors::{aws_iam, secrets_manager};
use crate::connectors::{jwks, oauth, postgres, scim, ssf, ssh, webhook};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[respond]`: where offboarding acts. Secrets come from files or the environment, never from here.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondConfig {
    /// Journal file (default `credwarden-journal.jsonl`).
    pub journal: Option<PathBuf>,
    /// Daemons (`serve`, `offboard --watch-hr`) retry work left open by a system that was down
    /// after this many seconds, doubling up to an hour (default 30).
    pub retry_seconds: Option<u64>,
    /// AWS IAM (`[respond.aws]`).
    #[cfg(feature = "aws")]
    pub aws: Option<aws_iam::AwsSection>,
    /// Shared secrets kept in AWS Secrets Manager, rotated by us (`[respond.secrets_manager]`).
    #[cfg(feature = "aws")]
    pub secrets_manager: Option<secrets_manager::SecretsManagerSection>,
    /// PostgreSQL servers whose roles of the leaver lose their login (`[[respond.postgres]]`).
    pub postgres: Vec<postgres::PostgresSection>,
    /// SSH keys and CA certificates, revoked in a KRL (`[respond.ssh]`).
    pub ssh: Option<ssh::SshSection>,
    /// SCIM 2.0 identity provider (`[respond.scim]`).
    pub scim: Option<scim::ScimSection>,
    /// Relying services to notify (`[[respond.webhook]]`).
    pub webhook: Vec<webhook::WebhookSection>,
    /// OAuth authorization servers whose tokens to revoke (`[[respond.oauth]]`).
    pub oauth: Vec<oauth::OAuthSection>,
    /// Shared Signals receivers to push security events to (`[[respond.ssf]]`).
    pub ssf: Vec<ssf::SsfSection>,
    /// The verifiers' JWKS, for rolling signing keys (`[respond.jwks]`).
    pub jwks: Option<jwks::JwksSection>,
    /// `serve` as a Shared Signals transmitter with poll delivery (`[respond.ssf_poll]`).
    pub ssf_poll: Option<ssf::SsfPollSection>,
    /// People who may request and approve offboardings on the command line (`[respond.approvers]`):
    /// name = Ed25519 public key (base64, as `offboard --keygen` prints it).
    pub approvers: BTreeMap<String, String>,
}

impl RespondConfig {
    /// The journal: `given` (the command line), else the configured one, else
    /// `credwarden-journal.jsonl`.
    pub fn journal_path(&self, given: Option<&std::path::Path>) -> PathBuf {
        given
            .map(PathBuf::from)
            .or(self.journal.clone())
            .unwrap_or_else(|| "credwarden-journal.jsonl".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sections as TOML writes them, given here as JSON (the same serde types and attributes).
    fn parse(s: &str) -> Result<RespondConfig, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn sections_parse_and_typos_are_errors() {
        let c = parse(r#"{"retry_seconds": 5, "scim": {"url": "https://idp.example/scim/v2", "delete_after_days": 30}, "webhook": [{"url_env": "HOOK"}], "approvers": {"alice": "AAAA"}}"#).unwrap();
        assert_eq!(c.retry_seconds, Some(5));
        assert_eq!(c.scim.unwrap().delete_after_days, Some(30));
        assert_eq!(c.webhook[0].url_env, "HOOK");
        assert_eq!(c.approvers["alice"], "AAAA");
        let e = parse(r#"{"scim": {"urll": "x"}}"#).unwrap_err();
        assert!(e.contains("unknown field `urll`"), "{e}");
        let e = parse(r#"{"ssf_pol": {"issuer": "x"}}"#).unwrap_err();
        assert!(e.contains("unknown field `ssf_pol`"), "{e}");
    }

    #[test]
    fn the_journal_given_wins_over_the_configured_one() {
        let c = parse(r#"{"journal": "j.jsonl"}"#).unwrap();
        assert_eq!(c.journal_path(None), PathBuf::from("j.jsonl"));
        assert_eq!(
            c.journal_path(Some(std::path::Path::new("k.jsonl"))),
            PathBuf::from("k.jsonl")
        );
        assert_eq!(
            RespondConfig::default().journal_path(None),
            PathBuf::from("credwarden-journal.jsonl")
        );
    }
}
