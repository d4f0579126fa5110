//! The connectors, one folder each: the connector (a type implementing [`Connector`]: plan from the
//! system's own live listing, apply one action, verify one action), its settings, and its section
//! of the config file (`config.rs`, part of [`RespondConfig`]) — and [`build`], the registry that
//! turns `[respond]` into connectors.
//!
//! Adding a connector: a folder here (the connector and its `config.rs`), its section in
//! [`RespondConfig`], one arm in [`build`].

#[cfg(feature = "aws")]
pub mod aws_iam;
pub mod jwks;
pub mod oauth;
pub mod postgres;
pub mod rotation;
pub mod scim;
#[cfg(feature = "aws")]
pub mod secrets_manager;
pub mod ssf;
pub mod ssh;
pub mod webhook;

use crate::config::RespondConfig;
use crate::{Connector, Leaver};
use std::path::Path;
use std::time::Duration;

/// The contents of a secret file, trimmed.
fn secret_file(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("{}: cannot read: {e}", p.display()))
}

/// `KEY_ID SECRET` lines (blank lines and `#` comments skipped).
fn key_pairs(p: &Path) -> Result<Vec<(String, String)>, String> {
    let text = secret_file(p)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            let mut it = l.split_whitespace();
            match (it.next(), it.next()) {
                (Some(k), Some(s)) => Ok((k.to_string(), s.to_string())),
                _ => Err(format!(
                    "{}:{}: expected `KEY_ID SECRET`",
                    p.display(),
                    i + 1
                )),
            }
        })
        .collect()
}

/// The connectors `[respond]` configures, for `who` (secrets read from the files or environment
/// variables the sections name), in the order the playbook runs them; the rotation of what `who`
/// could read comes last, without the secrets and keys a connector here rotates itself.
///
/// Adding a connector: a folder here, its section in [`RespondConfig`], one arm in `build`.
pub fn build(cfg: &RespondConfig, who: &Leaver) -> Result<Vec<Box<dyn Connector>>, String> {
    let mut out: Vec<Box<dyn Connector>> = Vec::new();
    #[cfg(feature = "aws")]
    if let Some(aws) = &cfg.aws {
        let credentials = match &aws.credentials_file {
            Some(p) => key_pairs(p)?.into_iter().next(),
            None => None,
        };
        let verify_secrets = match &aws.verify_secrets_file {
            Some(p) => key_pairs(p)?.into_iter().collect(),
            None => Default::default(),
        };
        let c = aws_iam::AwsIam::new(aws_iam::AwsConfig {
            endpoint: aws.endpoint.clone(),
            region: aws.region.clone(),
            verify_secrets,
            credentials,
            account_id: aws.account_id.clone(),
        })
        .map_err(|e| e.to_string())?;
        out.push(Box::new(c));
    }
    // Secrets this connector rotates are not left as items for their owners.
    #[cfg_attr(not(feature = "aws"), allow(unused_mut))]
    let mut rotated_here = Vec::new();
    #[cfg(feature = "aws")]
    if let Some(sm) = &cfg.secrets_manager {
        use secrets_manager::{Probe, SecretsManager, SecretsManagerConfig};
        let credentials = match &sm.credentials_file {
            Some(p) => key_pairs(p)?.into_iter().next(),
            None => None,
        };
        let c = SecretsManager::new(SecretsManagerConfig {
            endpoint: sm.endpoint.clone(),
            region: sm.region.clone(),
            credentials,
            systems: sm.systems.clone(),
            probe: sm.probe_url.as_ref().map(|u| Probe {
                url: u.clone(),
                header: sm
                    .probe_header
                    .clone()
                    .unwrap_or_else(|| "Authorization".into()),
                prefix: sm.probe_prefix.clone().unwrap_or_else(|| "Bearer ".into()),
            }),
        })
        .map_err(|e| e.to_string())?;
        rotated_here.extend(
            who.readable
                .iter()
                .filter(|s| c.manages(s))
                .map(|s| s.id.clone()),
        );
        out.push(Box::new(c));
    }
    for x in &cfg.postgres {
        if x.system.is_empty() || x.connection.is_empty() {
            return Err("[[respond.postgres]]: `system` and `connection` are required".into());
        }
        let password = match &x.password_file {
            Some(p) => Some(secret_file(p)?),
            None => std::env::var("PGPASSWORD").ok(),
        };
        let verify_passwords = match &x.verify_passwords_file {
            Some(p) => key_pairs(p)?.into_iter().collect(),
            None => Default::default(),
        };
        out.push(Box::new(postgres::Postgres::new(postgres::PgConfig {
            connection: x.connection.clone(),
            password,
            system: x.system.clone(),
            verify_passwords,
        })));
    }
    if let Some(x) = &cfg.ssh {
        if x.krl.as_os_str().is_empty() {
            return Err(
                "[respond.ssh]: `krl` (the file sshd reads as RevokedKeys) is required".into(),
            );
        }
        out.push(Box::new(ssh::Ssh::new(ssh::SshConfig {
            krl: x.krl.clone(),
            ca_public_key: x.ca_public_key.clone(),
            keys_dir: x.keys_dir.clone(),
            ssh_keygen: x.ssh_keygen.clone().unwrap_or_else(|| "ssh-keygen".into()),
        })));
    }
    if let Some(s) = &cfg.scim {
        let token = match &s.token_file {
            Some(p) => Some(secret_file(p)?),
            None => std::env::var("CREDWARDEN_SCIM_TOKEN").ok(),
        };
        out.push(Box::new(scim::Scim::new(scim::ScimConfig {
            url: s.url.clone(),
            token,
            delete_after_days: s.delete_after_days,
            timeout: Duration::from_secs(10),
        })));
    }
    for w in &cfg.webhook {
        let url = std::env::var(&w.url_env).map_err(|_| {
            format!(
                "[[respond.webhook]]: environment variable {} is not set",
                w.url_env
            )
        })?;
        out.push(Box::new(webhook::Notify::new(
            &url,
            Duration::from_secs(10),
        )));
    }
    for o in &cfg.oauth {
        out.push(Box::new(oauth::OAuth::new(oauth::OAuthConfig {
            issuer: o.issuer.clone(),
            client_id: o.client_id.clone(),
            client_secret: secret_file(&o.client_secret_file)?,
            tokens: key_pairs(&o.tokens_file)?.into_iter().collect(),
            global_endpoint: o.global_revocation_endpoint.clone(),
            timeout: Duration::from_secs(10),
        })));
    }
    for x in &cfg.ssf {
        let key_pem = std::fs::read(&x.key_file)
            .map_err(|e| format!("{}: cannot read: {e}", x.key_file.display()))?;
        let c = ssf::SsfPush::new(ssf::SsfConfig {
            issuer: x.issuer.clone(),
            endpoint: x.endpoint.clone(),
            audience: x.audience.clone(),
            key_pem,
            key_id: x.key_id.clone(),
            timeout: Duration::from_secs(10),
        })
        .map_err(|e| format!("{}: {e}", x.key_file.display()))?;
        out.push(Box::new(c));
    }
    let mut rolled = Vec::new();
    if let Some(jw) = &cfg.jwks {
        let mut old_keys = std::collections::HashMap::new();
        if let Some(dir) = &jw.old_keys_dir {
            for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
                let p = e.map_err(|e| e.to_string())?.path();
                if p.extension().is_some_and(|x| x == "pem") {
                    let kid = p
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    old_keys.insert(
                        kid,
                        std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?,
                    );
                }
            }
        }
        let c = jwks::Jwks::new(jwks::JwksConfig {
            jwks_file: jw.file.clone(),
            successor_dir: jw.successor_dir.clone(),
            probe_url: jw.probe_url.clone(),
            old_keys,
            probe_claims: jwks::ProbeClaims {
                issuer: jw.probe_issuer.clone(),
                audience: jw.probe_audience.clone(),
                subject: jw.probe_subject.clone(),
            },
            timeout: Duration::from_secs(10),
        });
        // Signing keys in the managed JWKS are rolled there, not left as manual rotations.
        rolled = c.kids().map_err(|e| e.to_string())?;
        out.push(Box::new(c));
    }
    rolled.extend(rotated_here);
    out.push(Box::new(rotation::Rotations::new(who).excluding(&rolled)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pair_files_skip_comments_and_name_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keys");
        std::fs::write(&p, "# comment\n\nAKIA1 s3cret\nAKIA2 other\n").unwrap();
        assert_eq!(
            key_pairs(&p).unwrap(),
            vec![
                ("AKIA1".to_string(), "s3cret".to_string()),
                ("AKIA2".to_string(), "other".to_string())
            ]
        );
        std::fs::write(&p, "AKIA1 s3cret\nAKIA2\n").unwrap();
        let e = key_pairs(&p).unwrap_err();
        assert!(e.ends_with(":2: expected `KEY_ID SECRET`"), "{e}");
    }

    #[test]
    fn with_nothing_configured_only_the_rotations_remain() {
        let who = Leaver {
            identity: credwarden_model::Identity::leaver(
                "E1",
                credwarden_model::SourceRef::new("hr.csv".to_string(), 1),
            ),
            credentials: vec![],
            readable: vec![],
        };
        let cs = build(&RespondConfig::default(), &who).unwrap();
        let names: Vec<String> = cs.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["rotation"]);
    }
}
