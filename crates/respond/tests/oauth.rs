//! OAuth token revocation (RFC 7009) proven by introspection (RFC 7662) against panva's oidc-provider
//! (npm) on loopback: `crates/respond/tests/oidc` (`npm install` there, as `.ci/run` does). When node or
//! the package is absent the test fails under CI=true and is skipped with a message elsewhere. The test
//! server adds OAuth 2.0 Global Token Revocation on top of the provider's own token store.

use credwarden_model::*;
use credwarden_respond::journal::Journal;
use credwarden_respond::oauth::{OAuth, OAuthConfig};
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::{ActionKind, Connector, Leaver, RespondError};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/people.rs"]
mod people;
#[path = "support/tools.rs"]
mod tools;
use tools::*;

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn provider_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    let ok = d.join("node_modules/oidc-provider").is_dir()
        && Command::new("node").arg("--version").output().is_ok();
    needed(
        ok,
        "node and oidc-provider (cd crates/respond/tests/oidc && npm install)",
    )
    .then_some(d)
}

fn token(port: u16) -> String {
    let mut r = ureq::post(&format!("http://127.0.0.1:{port}/token"))
        .header(
            "Authorization",
            "Basic cmVseWluZy1hcHA6cmVseWluZy1hcHAtc2VjcmV0",
        ) // relying-app:relying-app-secret
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("grant_type=client_credentials")
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// The provider on a free loopback port, once it listens.
fn provider(dir: &std::path::Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = Server(
        Command::new("node")
            .arg("server.mjs")
            .arg(port.to_string())
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "provider did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (p, port)
}

/// The relying app's client against the provider on `port`, holding `tokens` (credential id, value).
fn config(port: u16, tokens: &[(&str, &str)]) -> OAuthConfig {
    OAuthConfig {
        issuer: format!("http://127.0.0.1:{port}"),
        client_id: "relying-app".into(),
        client_secret: "relying-app-secret".into(),
        tokens: tokens
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        global_endpoint: None,
        timeout: Duration::from_secs(5),
    }
}

#[test]
fn oauth_tokens_are_revoked_and_introspection_proves_it() {
    let Some(dir) = provider_dir() else { return };
    let (_p, port) = provider(&dir);
    let (t1, t2) = (token(port), token(port));
    let cred = |id: &str| people::credential(id, CredentialKind::ApiKey, "oauth:shop-app");
    let mut identity = people::identity("E7");
    identity.usernames = vec!["lee".into()];
    let who = Leaver {
        identity,
        credentials: vec![
            cred("shop-app-refresh-lee"),
            cred("shop-app-access-lee"),
            cred("untracked"),
        ],
        readable: vec![],
    };
    let cfg = config(
        port,
        &[("shop-app-refresh-lee", &t1), ("shop-app-access-lee", &t2)],
    );
    let mut c = OAuth::new(cfg.clone());
    // Before: alive (the proof can fail).
    let plan = c.plan(&who).unwrap();
    let kinds: Vec<ActionKind> = plan.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            ActionKind::RevokeToken,
            ActionKind::RevokeToken,
            ActionKind::RevokeSubject
        ],
        "a token we hold no value for is not planned; the subject is, globally (advertised)"
    );
    assert!(!c.verify(&plan[0]).unwrap().dead);
    let d = tempfile::tempdir().unwrap();
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
    assert!(
        r.lines.iter().all(
            |l| matches!(&l.outcome, Outcome::Dead { how, .. } if how.contains("active=false") || how.contains("0 of the subject's 2"))
        ),
        "{r:#?}"
    );
    // Token values never reach the journal.
    let text = std::fs::read_to_string(&jp).unwrap();
    assert!(!text.contains(&t1) && !text.contains(&t2));
}

/// Global token revocation alone kills the subject's tokens (not revoked one by one here), proven
/// by introspection; another subject is unknown to the server (404: nothing to revoke); without
/// the endpoint advertised or configured, nothing global is planned.
#[test]
fn global_token_revocation_kills_every_token_of_the_subject() {
    let Some(dir) = provider_dir() else { return };
    let (_p, port) = provider(&dir);
    let (t1, t2) = (token(port), token(port));
    let mut identity = people::identity("E7");
    identity.emails = vec!["lee@shop.example".into()];
    let cred = |id: &str| people::credential(id, CredentialKind::ApiKey, "oauth:shop-app");
    let who = Leaver {
        identity,
        credentials: vec![cred("lee-1"), cred("lee-2")],
        readable: vec![],
    };
    let cfg = config(port, &[("lee-1", &t1), ("lee-2", &t2)]);
    let mut c = OAuth::new(cfg.clone());
    let plan = c.plan(&who).unwrap();
    let global = plan
        .iter()
        .find(|a| a.kind == ActionKind::RevokeSubject)
        .expect("advertised in the metadata")
        .clone();
    assert_eq!(global.target, "email:lee@shop.example");
    let tokens: Vec<_> = plan
        .iter()
        .filter(|a| a.kind == ActionKind::RevokeToken)
        .collect();
    assert!(!c.verify(&global).unwrap().dead, "alive before");
    assert!(tokens.iter().all(|a| !c.verify(a).unwrap().dead));
    assert!(c.apply(&global).unwrap().contains("global"));
    let proof = c.verify(&global).unwrap();
    assert!(
        proof.dead && proof.how.contains("0 of the subject's 2"),
        "{proof:?}"
    );
    // The tokens died with the subject, without being revoked one by one.
    assert!(tokens.iter().all(|a| c.verify(a).unwrap().dead));

    // Another subject: the server knows nothing of them.
    let mut other = who.clone();
    other.identity.emails = vec!["kim@shop.example".into()];
    other.credentials.clear();
    let mut c = OAuth::new(cfg.clone());
    let a = c.plan(&other).unwrap().pop().unwrap();
    assert_eq!(a.kind, ActionKind::RevokeSubject);
    assert!(!c.verify(&a).unwrap().dead);
    assert!(c.apply(&a).unwrap().contains("nothing to revoke"));
    let proof = c.verify(&a).unwrap();
    assert!(proof.dead && proof.how.contains("no token"), "{proof:?}");

    // A wrong client secret is a refusal, not a success.
    let mut bad = OAuth::new(OAuthConfig {
        client_secret: "wrong".into(),
        ..cfg
    });
    let a = bad.plan(&other).unwrap().pop().unwrap();
    assert!(matches!(bad.apply(&a), Err(RespondError::Refused { .. })));
}
