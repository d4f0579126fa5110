//! Rolling a token-signing key the leaver could read — the key Coupang never rotated: publish a
//! successor (a fresh ES256 key: its public half added to the verifiers' JWKS, its private half
//! written for the login service, never printed), remove the old key id from the JWKS, and prove it
//! by presenting a token signed with the old key to a relying service and seeing it refused.
//!
//! The JWKS is the file the verifiers load (served by the login service or synced to gateways). The
//! old key's private half, when the operator supplies it (a file), is only used to sign that probe.
//!
//! Here: `Jwks` (the connector), `JwksConfig` and `ProbeClaims` (its settings), `[respond.jwks]` as
//! `JwksSection` (config.rs).

mod config;
pub use config::JwksSection;

use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Settings.
#[derive(Clone)]
pub struct JwksConfig {
    /// The JWKS file the verifiers load (`{"keys": [...]}`).
    pub jwks_file: PathBuf,
    /// Where successor private keys are written (`<kid>.pem`, mode 0600).
    pub successor_dir: PathBuf,
    /// A relying-service URL that takes `Authorization: Bearer <token>` and refuses bad tokens with
    /// 401/403: the probe.
    pub probe_url: Option<String>,
    /// Old private keys (kid → PKCS#8 PEM, EC or RSA) to sign the probe with.
    pub old_keys: HashMap<String, Vec<u8>>,
    /// Claims the relying service's verifier checks besides the signature, put in both probe
    /// tokens (old key and successor): `iss`, `aud`, `sub` (default `credwarden-probe`). A real
    /// verifier refuses a token without them whatever key signed it, which proves nothing.
    pub probe_claims: ProbeClaims,
    /// Request timeout.
    pub timeout: Duration,
}

/// The claims of the probe tokens.
#[derive(Debug, Clone, Default)]
pub struct ProbeClaims {
    /// `iss`.
    pub issuer: Option<String>,
    /// `aud`.
    pub audience: Option<String>,
    /// `sub` (default `credwarden-probe`).
    pub subject: Option<String>,
}

impl std::fmt::Debug for JwksConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksConfig")
            .field("jwks_file", &self.jwks_file)
            .field("probe_url", &self.probe_url)
            .field("old_keys", &self.old_keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The connector.
pub struct Jwks {
    cfg: JwksConfig,
    agent: ureq::Agent,
}

/// Base64url without padding (JOSE).
pub fn b64url(bytes: &[u8]) -> String {
    crate::codec::base64url(bytes)
}

/// PKCS#8 DER → PEM.
pub fn pkcs8_pem(der: &[u8]) -> String {
    let body = crate::codec::base64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// The public JWK of an ES256 key pair.
pub fn es256_jwk(pair: &EcdsaKeyPair, kid: &str) -> Value {
    let p = pair.public_key().as_ref(); // 0x04 || X || Y
    json!({"kty": "EC", "crv": "P-256", "x": b64url(&p[1..33]), "y": b64url(&p[33..65]), "kid": kid, "use": "sig", "alg": "ES256"})
}

impl Jwks {
    /// A connector for `cfg`.
    pub fn new(cfg: JwksConfig) -> Jwks {
        let agent = crate::http::agent(cfg.timeout);
        Jwks { cfg, agent }
    }

    fn local(&self, e: impl std::fmt::Display) -> RespondError {
        RespondError::Local(format!("{}: {e}", self.cfg.jwks_file.display()))
    }

    fn read(&self) -> Result<Value, RespondError> {
        let text = std::fs::read_to_string(&self.cfg.jwks_file).map_err(|e| self.local(e))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| self.local(e))?;
        if !v.get("keys").is_some_and(Value::is_array) {
            return Err(self.local("not a JWKS (no `keys` array)"));
        }
        Ok(v)
    }

    /// Key ids the JWKS lists now.
    pub fn kids(&self) -> Result<Vec<String>, RespondError> {
        Ok(self.read()?["keys"]
            .as_array()
            .expect("checked")
            .iter()
            .filter_map(|k| k.get("kid").and_then(Value::as_str).map(String::from))
            .collect())
    }

    fn write(&self, v: &Value) -> Result<(), RespondError> {
        let tmp = self.cfg.jwks_file.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(v).expect("json"))
            .map_err(|e| self.local(e))?;
        std::fs::rename(&tmp, &self.cfg.jwks_file).map_err(|e| self.local(e))
    }

    /// A short-lived token signed with `pem` under `kid`, with the configured claims.
    fn sign(&self, kid: &str, pem: &[u8]) -> Option<String> {
        let now = jiff::Timestamp::now().as_second();
        let c = &self.cfg.probe_claims;
        let mut claims = json!({"sub": c.subject.as_deref().unwrap_or("credwarden-probe"), "iat": now, "nbf": now - 5, "exp": now + 120, "jti": format!("credwarden-probe-{now}")});
        if let Some(iss) = &c.issuer {
            claims["iss"] = json!(iss);
        }
        if let Some(aud) = &c.audience {
            claims["aud"] = json!(aud);
        }
        let (alg, key) = match jsonwebtoken::EncodingKey::from_ec_pem(pem) {
            Ok(k) => (jsonwebtoken::Algorithm::ES256, k),
            Err(_) => (
                jsonwebtoken::Algorithm::RS256,
                jsonwebtoken::EncodingKey::from_rsa_pem(pem).ok()?,
            ),
        };
        let mut h = jsonwebtoken::Header::new(alg);
        h.kid = Some(kid.to_string());
        jsonwebtoken::encode(&h, &claims, &key).ok()
    }

    /// The successor we published for `old` (its kid), if the JWKS lists one.
    fn successor_of(&self, old: &str) -> Result<Option<String>, RespondError> {
        let prefix = format!("{old}-successor-");
        Ok(self
            .kids()?
            .into_iter()
            .filter(|k| k.starts_with(&prefix))
            .max())
    }

    /// The relying service's status for a bearer token.
    fn probe(&self, url: &str, token: &str) -> Result<u16, RespondError> {
        self.agent
            .get(url)
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .map(|r| r.status().as_u16())
            .map_err(|e| crate::http::transport(self.name(), format!("probe: {e}")))
    }
}

impl Connector for Jwks {
    fn name(&self) -> String {
        "jwks".into()
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        let kids = self.kids()?;
        Ok(who
            .readable
            .iter()
            .chain(who.credentials.iter())
            .filter(|c| c.kind.is_signing() && kids.contains(&c.id))
            .map(|c| Action::new("jwks", ActionKind::RollSigningKey, &c.id, &who.identity.id, format!("signing key {} ({}): successor published, old kid removed from the verifiers' JWKS", c.id, c.system)))
            .collect())
    }

    fn covers(&self, c: &credwarden_model::Credential) -> bool {
        c.kind.is_signing()
            && self.kids().is_ok_and(|kids| {
                let prefix = format!("{}-successor-", c.id);
                kids.iter().any(|k| *k == c.id || k.starts_with(&prefix))
            })
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        let mut v = self.read()?;
        // Rolled already (an earlier run): the old kid is out and our successor is in.
        if !self.kids()?.contains(&a.target) {
            if let Some(kid) = self.successor_of(&a.target)? {
                if self.cfg.successor_dir.join(format!("{kid}.pem")).exists() {
                    return Ok(format!(
                        "already rolled: {kid} published, {} removed",
                        a.target
                    ));
                }
            }
        }
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| self.local("cannot generate a key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref(), &rng)
            .map_err(|_| self.local("cannot read the new key"))?;
        let kid = format!("{}-successor-{}", a.target, jiff::Zoned::now().date());
        std::fs::create_dir_all(&self.cfg.successor_dir).map_err(|e| self.local(e))?;
        let key_path = self.cfg.successor_dir.join(format!("{kid}.pem"));
        {
            use std::io::Write;
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            let mut f = o.open(&key_path).map_err(|e| self.local(e))?;
            f.write_all(pkcs8_pem(der.as_ref()).as_bytes())
                .map_err(|e| self.local(e))?;
        }
        let keys = v["keys"].as_array_mut().expect("checked");
        keys.retain(|k| k.get("kid").and_then(Value::as_str) != Some(a.target.as_str()));
        if !keys
            .iter()
            .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
        {
            keys.push(es256_jwk(&pair, &kid));
        }
        self.write(&v)?;
        Ok(format!(
            "successor {kid} published (private key in {}), {} removed from the JWKS",
            key_path.display(),
            a.target
        ))
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        if self.kids()?.contains(&a.target) {
            return Ok(Proof::alive("the JWKS still lists the old kid"));
        }
        let (Some(url), Some(old_pem)) = (&self.cfg.probe_url, self.cfg.old_keys.get(&a.target))
        else {
            return Ok(Proof::gone(
                "the JWKS no longer lists the old kid (no probe: old key or probe URL not supplied)",
            ));
        };
        let old = self.sign(&a.target, old_pem).ok_or_else(|| {
            self.local(format!("cannot sign a probe with the old key {}", a.target))
        })?;
        // The control: the same claims signed by the successor must be accepted, or a refusal of
        // the old one says nothing (wrong claims, a verifier that has not reloaded, a proxy).
        let Some(kid) = self.successor_of(&a.target)? else {
            return Ok(Proof::ambiguous(
                "the JWKS lists no successor of ours to sign the control token with",
            ));
        };
        let pem = std::fs::read(self.cfg.successor_dir.join(format!("{kid}.pem")))
            .map_err(|e| self.local(format!("successor key {kid}: {e}")))?;
        let new = self
            .sign(&kid, &pem)
            .ok_or_else(|| self.local(format!("cannot sign a probe with the successor {kid}")))?;
        let old_status = self.probe(url, &old)?;
        let new_status = self.probe(url, &new)?;
        Ok(match (old_status, new_status) {
            (200..=299, _) => Proof::alive(format!(
                "a token signed with the old key is still accepted (HTTP {old_status})"
            )),
            (401 | 403, 200..=299) => Proof::refused(format!(
                "a token signed with the old key is refused (HTTP {old_status}); the same token signed by the successor {kid} is accepted (HTTP {new_status})"
            )),
            _ => Proof::ambiguous(format!(
                "old-key token HTTP {old_status}, successor token HTTP {new_status}: the verifier does not accept the successor's token, so its refusal proves nothing"
            )),
        })
    }
}
