//! Rolling a signing key the leaver could read: the successor is published in the verifiers' JWKS, the
//! old kid is removed, and a token signed with the old key — accepted before — is refused afterwards by
//! a relying service that verifies against that JWKS. The second run plans nothing.

use credwarden_model::*;
use credwarden_respond::journal::Journal;
use credwarden_respond::jwks::{es256_jwk, pkcs8_pem, Jwks, JwksConfig};
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::{Action, ActionKind, Connector, Leaver};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

/// A relying service: 200 for a bearer token valid against the JWKS file (read per request), else 401.
#[path = "support/people.rs"]
mod people;

fn relying_service(jwks: PathBuf) -> u16 {
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
                v.required_spec_claims.clear();
                jsonwebtoken::decode::<serde_json::Value>(&token, &key, &v)
                    .ok()
                    .map(|_| ())
            })()
            .is_some();
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
    assert!(!c.verify(&a).unwrap().dead);
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
        matches!(&r.lines[0].outcome, Outcome::Dead { how, .. } if how.contains("refused by the relying service (HTTP 401)")),
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
