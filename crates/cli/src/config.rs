//! The TOML config file. Unknown keys are errors, so a typo never silently keeps a default.

use credwarden_audit::Policy;
use serde::Deserialize;
use std::path::Path;

/// Whole config file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Audit thresholds.
    pub audit: Policy,
    /// Field mappings of JSON-lines logs that are not in a built-in format (`[[log]]`).
    pub log: Vec<credwarden_ingest::jsonlines::LogMapping>,
    /// Offboarding connectors (`[respond]`).
    pub respond: RespondConfig,
}

/// `[respond]`: where offboarding acts. Secrets come from files or the environment, never from here.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondConfig {
    /// Journal file (default `credwarden-journal.jsonl`).
    pub journal: Option<std::path::PathBuf>,
    /// Daemons (`serve`, `offboard --watch-hr`) retry work left open by a system that was down
    /// after this many seconds, doubling up to an hour (default 30).
    pub retry_seconds: Option<u64>,
    /// AWS IAM (`[respond.aws]`).
    pub aws: Option<AwsSection>,
    /// Shared secrets kept in AWS Secrets Manager, rotated by us (`[respond.secrets_manager]`).
    pub secrets_manager: Option<SecretsManagerSection>,
    /// PostgreSQL servers whose roles of the leaver lose their login (`[[respond.postgres]]`).
    pub postgres: Vec<PostgresSection>,
    /// SSH keys and CA certificates, revoked in a KRL (`[respond.ssh]`).
    pub ssh: Option<SshSection>,
    /// SCIM 2.0 identity provider (`[respond.scim]`).
    pub scim: Option<ScimSection>,
    /// Relying services to notify (`[[respond.webhook]]`).
    pub webhook: Vec<WebhookSection>,
    /// OAuth authorization servers whose tokens to revoke (`[[respond.oauth]]`).
    pub oauth: Vec<OAuthSection>,
    /// Shared Signals receivers to push security events to (`[[respond.ssf]]`).
    pub ssf: Vec<SsfSection>,
    /// The verifiers' JWKS, for rolling signing keys (`[respond.jwks]`).
    pub jwks: Option<JwksSection>,
    /// `serve` as a Shared Signals transmitter with poll delivery (`[respond.ssf_poll]`).
    pub ssf_poll: Option<SsfPollSection>,
    /// People who may request and approve offboardings on the command line (`[respond.approvers]`):
    /// name = Ed25519 public key (base64, as `offboard --keygen` prints it).
    pub approvers: std::collections::BTreeMap<String, String>,
}

/// `[[respond.postgres]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSection {
    /// Inventory `system` of this server's `db_user` credentials (e.g. `postgres:orders-db`).
    pub system: String,
    /// Admin connection, libpq key=value or URL form, without the password.
    pub connection: String,
    /// File holding the admin's password (or set PGPASSWORD).
    pub password_file: Option<std::path::PathBuf>,
    /// File of `ROLE OLD_PASSWORD` lines: logins to try after, expecting refusal (the proof).
    pub verify_passwords_file: Option<std::path::PathBuf>,
}

/// `[respond.ssh]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SshSection {
    /// The key revocation list sshd reads (`RevokedKeys`); created if absent.
    pub krl: std::path::PathBuf,
    /// The SSH CA's public key: revoke every certificate it issued under the leaver's logins and
    /// addresses as key ids.
    pub ca_public_key: Option<std::path::PathBuf>,
    /// Directory of `<credential id>.pub` files for `ssh_key` credentials whose id is not the key.
    pub keys_dir: Option<std::path::PathBuf>,
    /// `ssh-keygen` to run (default: from PATH).
    pub ssh_keygen: Option<std::path::PathBuf>,
}

/// `[respond.secrets_manager]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsManagerSection {
    /// Endpoint URL (omit for AWS itself).
    pub endpoint: Option<String>,
    /// Region (default us-east-1).
    pub region: Option<String>,
    /// File holding `KEY_ID SECRET` for the connector (omit: the environment's credential chain).
    pub credentials_file: Option<std::path::PathBuf>,
    /// Inventory `system` names of secrets kept there (default `aws-secretsmanager`,
    /// `secretsmanager`; Secrets Manager ARNs always are).
    pub systems: Vec<String>,
    /// A relying service that must refuse the old value after the rotation (GET).
    pub probe_url: Option<String>,
    /// Header carrying the value to the probe (default `Authorization`).
    pub probe_header: Option<String>,
    /// Put before the value in that header (default `Bearer `).
    pub probe_prefix: Option<String>,
}

/// `[respond.ssf_poll]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsfPollSection {
    /// Our issuer (`iss`).
    pub issuer: String,
    /// EC P-256 private key, PKCS#8 PEM.
    pub key_file: std::path::PathBuf,
    /// Key id.
    pub key_id: String,
}

/// `[respond.jwks]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwksSection {
    /// The JWKS file the verifiers load.
    pub file: std::path::PathBuf,
    /// Where successor private keys are written (`<kid>.pem`, mode 0600).
    pub successor_dir: std::path::PathBuf,
    /// Relying-service URL that refuses bad bearer tokens with 401/403 (the probe).
    pub probe_url: Option<String>,
    /// Folder of old private keys (`<kid>.pem`) to sign the probe with.
    pub old_keys_dir: Option<std::path::PathBuf>,
    /// `iss` of the probe tokens (what the relying service's verifier expects).
    pub probe_issuer: Option<String>,
    /// `aud` of the probe tokens.
    pub probe_audience: Option<String>,
    /// `sub` of the probe tokens (default `credwarden-probe`).
    pub probe_subject: Option<String>,
}

/// `[[respond.ssf]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsfSection {
    /// Our issuer (`iss`).
    pub issuer: String,
    /// The receiver's push endpoint (RFC 8935).
    pub endpoint: String,
    /// The receiver's audience (`aud`).
    pub audience: String,
    /// EC P-256 private key, PKCS#8 PEM.
    pub key_file: std::path::PathBuf,
    /// Key id receivers know our public key by.
    pub key_id: String,
}

/// `[[respond.oauth]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthSection {
    /// Issuer URL (its discovery document names the revocation and introspection endpoints).
    pub issuer: String,
    /// Client id that revokes and introspects.
    pub client_id: String,
    /// File holding the client secret.
    pub client_secret_file: std::path::PathBuf,
    /// File of `CREDENTIAL_ID TOKEN` lines: the tokens to revoke (ids as in the inventory).
    pub tokens_file: std::path::PathBuf,
    /// Global token revocation endpoint (draft-parecki-oauth-global-token-revocation), when the
    /// issuer's metadata does not advertise `global_token_revocation_endpoint`.
    pub global_revocation_endpoint: Option<String>,
}

/// `[respond.aws]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsSection {
    /// Endpoint URL (omit for AWS itself).
    pub endpoint: Option<String>,
    /// Region (default us-east-1).
    pub region: Option<String>,
    /// File holding `KEY_ID SECRET` for the connector (omit: the environment's credential chain).
    pub credentials_file: Option<std::path::PathBuf>,
    /// File of `KEY_ID SECRET` lines of keys to prove dead by trying them against STS (the only
    /// proof that counts as "refused"; without it a deleted key is shown as "gone").
    pub verify_secrets_file: Option<std::path::PathBuf>,
    /// The AWS account this connector acts in (12 digits). Checked against its credentials'
    /// account before any change; the leaver's credentials in other accounts stay open items.
    pub account_id: Option<String>,
}

/// `[respond.scim]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimSection {
    /// Base URL.
    pub url: String,
    /// File holding the bearer token (or set CREDWARDEN_SCIM_TOKEN).
    pub token_file: Option<std::path::PathBuf>,
    /// Delete deactivated accounts this many days after the departure (omit: never delete).
    pub delete_after_days: Option<i64>,
}

/// `[[respond.webhook]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSection {
    /// Environment variable holding the URL (URLs often carry a token).
    pub url_env: String,
}

impl Config {
    /// Load and validate; `None` gives the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read config: {e}", path.display()))?;
        let cfg: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| 1 + text[..s.start].matches('\n').count());
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            format!("{}{at}: {}", path.display(), e.message())
        })?;
        cfg.audit
            .validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut names = std::collections::HashSet::new();
        if let Some(dup) = cfg.log.iter().find(|l| !names.insert(&l.name)) {
            return Err(format!(
                "{}: two [[log]] mappings are named `{}`",
                path.display(),
                dup.name
            ));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, s).unwrap();
        Config::load(Some(&p)).map_err(|e| e.replace(&p.display().to_string(), "c.toml"))
    }

    #[test]
    fn overrides_and_defaults() {
        let c = load_str("[audit]\nrotation_max_days = 30\n").unwrap();
        assert_eq!(c.audit.rotation_max_days, 30);
        assert_eq!(c.audit.unused_warn_days, 45);
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let e = load_str("[audit]\nrotation_max_dayz = 30\n").unwrap_err();
        assert!(
            e.starts_with("c.toml:2: unknown field `rotation_max_dayz`"),
            "{e}"
        );
        let e = load_str("[audit]\nunused_warn_days = 100\nunused_max_days = 90\n").unwrap_err();
        assert!(e.contains("must not exceed"), "{e}");
        let e = load_str("[[log]]\nname = \"kong\"\nkind = \"gateway\"\npath_contains = \"kong\"\n[log.fieldz]\n").unwrap_err();
        assert!(
            e.starts_with("c.toml:5:") && e.contains("unknown field `fieldz`"),
            "{e}"
        );
        let two = "[[log]]\nname = \"k\"\nkind = \"gateway\"\npath_contains = \"a\"\n";
        let e = load_str(&format!("{two}{two}")).unwrap_err();
        assert!(e.contains("two [[log]] mappings are named `k`"), "{e}");
    }

    /// Every `[respond]` section the example config documents (commented out there) parses as
    /// written once uncommented: the example cannot drift from the types.
    #[test]
    fn the_example_respond_sections_parse() {
        let text = include_str!("../../../examples/credwarden.toml");
        let start = text
            .find("# [respond]")
            .expect("the example documents [respond]");
        let respond: String = text[start..]
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim_start())
            .filter(|l| !l.starts_with("---"))
            .map(|l| format!("{l}\n"))
            .collect();
        let c = load_str(&respond).unwrap_or_else(|e| panic!("{e}\n{respond}"));
        assert!(c.respond.ssh.is_some() && c.respond.secrets_manager.is_some());
        assert!(c.respond.aws.is_some() && c.respond.scim.is_some());
        assert_eq!(c.respond.retry_seconds, Some(30));
    }

    #[test]
    fn log_mappings_load() {
        let c = load_str("[[log]]\nname = \"kong\"\nkind = \"gateway\"\npath_contains = \"kong/\"\n[log.fields]\ntime = \"started_at\"\n").unwrap();
        assert_eq!(c.log[0].mapping.time, "/started_at");
    }
}
