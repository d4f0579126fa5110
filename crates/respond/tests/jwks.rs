//! Rolling a signing key the leaver could read: the successor is published in the verifiers' JWKS, the
//! old kid is removed, and a token signed with the old key — accepted before — is refused afterwards by
//! a relying service that verifies against that JWKS. The second run plans nothing.

use credwarden_model::*;
use credwarden_respond::connectors::jwks::{es256_jwk, pkcs8_pem, Jwks, JwksConfig, ProbeClaims};
use credwarden_respond::journal::Journal;
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::{Action, ActionKind, Connector, Leaver, Strength};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

#[path = "support/people.rs"]
mod people;

const ISS: &str = "https://login.example";
const AUD: &str = "orders-api";

/// A relying service as real ones verify: 200 for a bearer token whose signature checks against the
/// JWKS file (read per request) and whose `iss`, `aud` and `exp` are right, else 401. With
/// `deny_all` it is a hostile double (a WAF or a broken gateway): 401 for everything.
fn relying_service(jwks: PathBuf) -> u16 {
    verifier(jwks, false)
}

fn verifier(jwks: PathBuf, deny_all: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let mut r = BufReader::new(s);
            let mut token = String::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line
                    .strip_prefix("Authorization: Bearer ")
                    .or_else(|| line.strip_prefix("authorization: Bearer "))
                {
                    token = v.trim().to_string();
                }
            }
            let ok = (|| -> Option<()> {
                let kid = jsonwebtoken::decode_header(&token).ok()?.kid?;
                let set: jsonwebtoken::jwk::JwkSet =
                    serde_json::from_str(&std::fs::read_to_string(&jwks).ok()?).ok()?;
                let jwk = set.find(&kid)?;
                let key = jsonwebtoken::DecodingKey::from_jwk(jwk).ok()?;
                let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
                v.set_issuer(&[ISS]);
                v.set_audience(&[AUD]);
                v.set_required_spec_claims(&["exp", "iss", "aud"]);
                jsonwebtoken::decode::<serde_json::Value>(&token, &key, &v)
                    .ok()
                    .map(|_| ())
            })()
            .is_some()
                && !deny_all;
            let status = if ok { "200 OK" } else { "401 Unauthorized" };
            let _ = r.get_mut().write_all(
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    port
}

fn leaver(kid: &str) -> Leaver {
    let mut key = people::credential(kid, CredentialKind::SigningKey, "login-service");
    key.readers = vec!["login-platform".into()];
    let mut identity = people::identity("E1002");
    identity.end_date = Some("2024-12-13".parse().unwrap());
    Leaver {
        identity,
        credentials: vec![],
        readable: vec![key],
    }
}

#[test]
fn the_old_signing_key_is_refused_after_the_roll() {
    let d = tempfile::tempdir().unwrap();
    let rng = SystemRandom::new();
    let old = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, old.as_ref(), &rng).unwrap();
    let other = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let other =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, other.as_ref(), &rng).unwrap();
    let jwks = d.path().join("jwks.json");
    std::fs::write(&jwks, serde_json::json!({"keys": [es256_jwk(&pair, "login-es256-2019"), es256_jwk(&other, "login-es256-2025")]}).to_string()).unwrap();
    let port = relying_service(jwks.clone());
    let old_pem = pkcs8_pem(old.as_ref());
    let cfg = JwksConfig {
        jwks_file: jwks.clone(),
        successor_dir: d.path().join("keys"),
        probe_url: Some(format!("http://127.0.0.1:{port}/api/v1/me")),
        old_keys: [("login-es256-2019".to_string(), old_pem.clone().into_bytes())]
            .into_iter()
            .collect(),
        probe_claims: ProbeClaims {
            issuer: Some(ISS.into()),
            audience: Some(AUD.into()),
            subject: None,
        },
        timeout: Duration::from_secs(5),
    };
    let who = leaver("login-es256-2019");
    // Before: the probe signed with the old key is accepted (the proof can fail).
    let mut c = Jwks::new(cfg.clone());
    let a = Action::new(
        "jwks",
        ActionKind::RollSigningKey,
        "login-es256-2019",
        "E1002",
        "",
    );
    assert!(c.verify(&a).unwrap().strength().is_none());
    let jp = d.path().join("j.jsonl");
    let mut j = Journal::open(&jp, "test").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(c)];
    let r = offboard(
        &who,
        &mut cs,
        &mut j,
        &Options {
            apply: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(r.lines.len(), 1, "{r:#?}");
    assert!(
        matches!(&r.lines[0].outcome, Outcome::Done { how, strength: Strength::Refused, .. } if how.contains("old key is refused (HTTP 401)") && how.contains("(HTTP 200)")),
        "{r:#?}"
    );
    // The JWKS: the old kid gone, the other key kept, one successor added; its private key written 0600.
    let set: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&jwks).unwrap()).unwrap();
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        !kids.contains(&"login-es256-2019")
            && kids.contains(&"login-es256-2025")
            && kids.len() == 2,
        "{kids:?}"
    );
    let succ = std::fs::read_dir(d.path().join("keys"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&succ).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // No key material in the journal.
    let text = std::fs::read_to_string(&jp).unwrap();
    let succ_pem = std::fs::read_to_string(&succ).unwrap();
    assert!(
        !text.contains("PRIVATE KEY")
            && !text.contains(&old_pem[30..80])
            && !text.contains(&succ_pem[30..80])
    );
    // Second run: nothing to roll.
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(Jwks::new(cfg))];
    let r = offboard(
        &who,
        &mut cs,
        &mut j,
        &Options {
            apply: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(r.lines.is_empty(), "{r:#?}");
}

/// One roll against `verifier`; the report.
fn roll_against(deny_all: bool, claims: ProbeClaims) -> credwarden_respond::playbook::Report {
    let d = tempfile::tempdir().unwrap();
    let rng = SystemRandom::new();
    let old = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, old.as_ref(), &rng).unwrap();
    let jwks = d.path().join("jwks.json");
    std::fs::write(
        &jwks,
        serde_json::json!({"keys": [es256_jwk(&pair, "login-es256-2019")]}).to_string(),
    )
    .unwrap();
    let port = verifier(jwks.clone(), deny_all);
    let cfg = JwksConfig {
        jwks_file: jwks,
        successor_dir: d.path().join("keys"),
        probe_url: Some(format!("http://127.0.0.1:{port}/api/v1/me")),
        old_keys: [(
            "login-es256-2019".to_string(),
            pkcs8_pem(old.as_ref()).into_bytes(),
        )]
        .into_iter()
        .collect(),
        probe_claims: claims,
        timeout: Duration::from_secs(5),
    };
    let mut j = Journal::open(&d.path().join("j.jsonl"), "test").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(Jwks::new(cfg))];
    let r = offboard(
        &leaver("login-es256-2019"),
        &mut cs,
        &mut j,
        &Options {
            apply: true,
            verify_for: Duration::from_millis(300),
            backoff: Duration::from_millis(50),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(j.open_items(None).len(), r.open(), "{r:#?}");
    r
}

#[test]
fn a_verifier_that_refuses_everything_proves_nothing() {
    // A WAF or broken gateway answering 401 to every token: the old key's refusal means nothing
    // when the successor's token is refused too. Rolled, but open.
    let r = roll_against(
        true,
        ProbeClaims {
            issuer: Some(ISS.into()),
            audience: Some(AUD.into()),
            subject: None,
        },
    );
    assert_eq!(r.open(), 1, "{r:#?}");
    assert!(
        matches!(&r.lines[0].outcome, Outcome::Open(why) if why.contains("ambiguous")),
        "{r:#?}"
    );
}

#[test]
fn a_probe_without_the_claims_the_verifier_checks_proves_nothing() {
    // No iss/aud configured: a real verifier refuses the probe whatever key signed it.
    let r = roll_against(false, ProbeClaims::default());
    assert_eq!(r.open(), 1, "{r:#?}");
    assert_eq!(r.count(Strength::Refused), 0, "{r:#?}");
}
