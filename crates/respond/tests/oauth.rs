//! OAuth token revocation (RFC 7009) proven by introspection (RFC 7662) against panva's oidc-provider
//! (npm) on loopback: `crates/respond/tests/oidc` (`npm install` there, as `.ci/run` does). When node or
//! the package is absent the test fails under CI=true and is skipped with a message elsewhere. The test
//! server adds OAuth 2.0 Global Token Revocation on top of the provider's own token store.

use credwarden_model::*;
use credwarden_respond::connectors::oauth::{OAuth, OAuthConfig};
use credwarden_respond::journal::Journal;
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::Strength;
use credwarden_respond::{ActionKind, Connector, Leaver, RespondError};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[path = "support/people.rs"]
mod people;
#[path = "support/tools.rs"]
mod tools;
use tools::*;
#[path = "support/proxy.rs"]
mod proxy;

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

/// The provider on a free loopback port it binds itself (a port picked here and handed over could be
/// taken by another test's listener in between), once it listens: its first stdout line names the port.
fn provider(dir: &std::path::Path) -> (Server, u16) {
    use std::io::BufRead;
    let mut child = Command::new("node")
        .arg("server.mjs")
        .arg("0")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let p = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = std::io::BufReader::new(out);
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let _ = tx.send(line);
        // Keep draining: a closed pipe would kill the provider on its next write.
        let _ = std::io::copy(&mut out, &mut std::io::sink());
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("provider did not start");
    let port = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("provider said {line:?}, not `listening on PORT`"));
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
    identity.emails = vec!["lee@shop.example".into()];
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
    assert!(c.verify(&plan[0]).unwrap().strength().is_none());
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
    // The token we hold no value for cannot be revoked by us: an open item says so.
    assert_eq!(r.uncovered(), 1, "{r:#?}");
    assert!(r.lines.iter().any(|l| l.action.target == "oauth:shop-app/untracked"
        && matches!(&l.outcome, Outcome::Open(why) if why.contains("no connector for api_key on oauth:shop-app"))));
    assert!(
        r.lines.iter().filter(|l| l.action.connector != "coverage").all(
            |l| matches!(&l.outcome, Outcome::Done { how, strength: Strength::Refused, .. } if how.contains("token's own client relying-app answers active=false") || how.contains("all 2 held token(s) of the subject inactive"))
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
    assert!(
        c.verify(&global).unwrap().strength().is_none(),
        "alive before"
    );
    assert!(tokens
        .iter()
        .all(|a| c.verify(a).unwrap().strength().is_none()));
    assert!(c.apply(&global).unwrap().contains("global"));
    let proof = c.verify(&global).unwrap();
    assert!(
        proof.strength() == Some(Strength::Refused)
            && proof
                .how
                .contains("all 2 held token(s) of the subject inactive"),
        "{proof:?}"
    );
    // The tokens died with the subject, without being revoked one by one.
    assert!(tokens
        .iter()
        .all(|a| c.verify(a).unwrap().strength().is_some()));

    // Another subject: the server answers 404, which is as likely a wrong URL: never success.
    let mut other = who.clone();
    other.identity.emails = vec!["kim@shop.example".into()];
    other.credentials.clear();
    let mut c = OAuth::new(cfg.clone());
    let a = c.plan(&other).unwrap().pop().unwrap();
    assert_eq!(a.kind, ActionKind::RevokeSubject);
    assert!(c.verify(&a).unwrap().strength().is_none());
    assert!(matches!(c.apply(&a), Err(RespondError::Unavailable { .. })));
    assert!(c.verify(&a).unwrap().strength().is_none());

    // A wrong client secret is a refusal, not a success.
    let mut bad = OAuth::new(OAuthConfig {
        client_secret: "wrong".into(),
        ..cfg
    });
    let a = bad.plan(&other).unwrap().pop().unwrap();
    assert!(matches!(bad.apply(&a), Err(RespondError::Refused { .. })));
}

/// A hostile double in front of the real provider: revocation answered 200 without reaching the
/// server (RFC 7009 answers 200 to everything, so a client cannot tell), introspection answered
/// `{"active": false}` (what RFC 7662 answers a client that may not see the token), global
/// revocation 404. The tokens stay alive at the provider, so nothing may be reported dead.
#[test]
fn a_lying_introspection_never_proves_a_live_token_dead() {
    let Some(dir) = provider_dir() else { return };
    let (_p, port) = provider(&dir);
    let (t1, t2) = (token(port), token(port));
    let px = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let me = px.clone();
    let proxy =
        proxy::start(port, move |r| {
            let base = format!("http://127.0.0.1:{}", me.get().copied().unwrap_or(0));
            if r.path.starts_with("/.well-known/openid-configuration") {
                return Some((200, "application/json", serde_json::json!({
                "issuer": base,
                "revocation_endpoint": format!("{base}/token/revocation"),
                "introspection_endpoint": format!("{base}/token/introspection"),
                "global_token_revocation_endpoint": format!("{base}/global-token-revocation"),
            }).to_string()));
            }
            if r.path.starts_with("/token/revocation") {
                return Some((200, "application/json", String::new()));
            }
            if r.path.starts_with("/token/introspection") {
                return Some((200, "application/json", r#"{"active":false}"#.into()));
            }
            if r.path.starts_with("/global-token-revocation") {
                return Some((404, "text/html", "Not Found".into()));
            }
            None
        });
    px.set(proxy.port).unwrap();
    let mut identity = people::identity("E7");
    identity.emails = vec!["lee@shop.example".into()];
    let cred = |id: &str| people::credential(id, CredentialKind::ApiKey, "oauth:shop-app");
    let who = Leaver {
        identity,
        credentials: vec![cred("lee-1"), cred("lee-2")],
        readable: vec![],
    };
    let d = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&d.path().join("j.jsonl"), "test").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(OAuth::new(config(
        proxy.port,
        &[("lee-1", &t1), ("lee-2", &t2)],
    )))];
    let r = offboard(
        &who,
        &mut cs,
        &mut j,
        &Options {
            apply: true,
            retries: 0,
            backoff: Duration::from_millis(20),
            verify_for: Duration::from_millis(200),
        },
    )
    .unwrap();
    assert_eq!(r.lines.len(), 3, "{r:#?}");
    assert!(
        r.lines
            .iter()
            .all(|l| matches!(l.outcome, Outcome::Open(_))),
        "{r:#?}"
    );
    assert_eq!(j.open_items(Some("E7")).len(), 3);
    // The provider itself: both tokens are still active.
    let mut direct = OAuth::new(config(port, &[("lee-1", &t1), ("lee-2", &t2)]));
    let plan = direct.plan(&who).unwrap();
    for a in plan.iter().filter(|a| a.kind == ActionKind::RevokeToken) {
        assert_eq!(
            direct.verify(a).unwrap().verdict,
            credwarden_respond::Verdict::Alive
        );
    }
}
