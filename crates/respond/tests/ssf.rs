//! Shared Signals push: the Security Event Tokens a receiver gets are signed (ES256) with `typ`
//! `secevent+jwt`, name the subject per RFC 9493, carry one CAEP/RISC event each, and are delivered
//! once (a second offboarding run sends nothing). The key pair is made with the system's `openssl`.

use credwarden_respond::connectors::ssf::{
    SsfConfig, SsfPush, ACCOUNT_DISABLED, CREDENTIAL_CHANGE, SESSION_REVOKED,
};
use credwarden_respond::journal::Journal;
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::{Connector, Leaver};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "support/people.rs"]
mod people;
#[path = "support/tools.rs"]
mod tools;
use tools::*;

fn keys(dir: &std::path::Path) -> Option<(Vec<u8>, Vec<u8>)> {
    let key = dir.join("key.pem");
    let pubk = dir.join("pub.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&key)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&pubk)
            .status()
            .is_ok_and(|s| s.success());
    if !needed(ok, "openssl (to make a key pair)") {
        return None;
    }
    Some((std::fs::read(key).unwrap(), std::fs::read(pubk).unwrap()))
}

/// A receiver that keeps every body and answers 202.
/// (content type, body) of each request received.
type Received = Arc<Mutex<Vec<(String, String)>>>;

fn receiver() -> (u16, Received) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let mut r = BufReader::new(s);
            let (mut len, mut ctype) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = lower.strip_prefix("content-type:") {
                    ctype = v.trim().to_string();
                }
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            g.lock()
                .unwrap()
                .push((ctype, String::from_utf8_lossy(&body).into_owned()));
            let _ = r.get_mut().write_all(
                b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (port, got)
}

fn leaver() -> Leaver {
    let mut identity = people::identity("E9");
    identity.emails = vec!["lee@shop.example".into()];
    Leaver {
        identity,
        credentials: vec![],
        readable: vec![],
    }
}

#[test]
fn signed_security_events_are_pushed_once() {
    let d = tempfile::tempdir().unwrap();
    let Some((private, public)) = keys(d.path()) else {
        return;
    };
    let (port, got) = receiver();
    let cfg = SsfConfig {
        issuer: "https://credwarden.example".into(),
        endpoint: format!("http://127.0.0.1:{port}/ssf/push"),
        audience: "https://orders.example".into(),
        key_pem: private,
        key_id: "cw-2025".into(),
        timeout: Duration::from_secs(5),
    };
    let jp = d.path().join("j.jsonl");
    for run in 0..2 {
        let mut j = Journal::open(&jp, "test").unwrap();
        let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(SsfPush::new(cfg.clone()).unwrap())];
        let r = offboard(
            &leaver(),
            &mut cs,
            &mut j,
            &Options {
                apply: true,
                ..Options::default()
            },
        )
        .unwrap();
        let want = if run == 0 { "dead" } else { "already" };
        assert!(
            r.lines.iter().all(|l| matches!(
                (&l.outcome, want),
                (Outcome::Done { .. }, "dead") | (Outcome::AlreadyDone(_), "already")
            )),
            "run {run}: {r:#?}"
        );
    }
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "three events, delivered once");
    let key = jsonwebtoken::DecodingKey::from_ec_pem(&public).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&["https://orders.example"]);
    v.set_issuer(&["https://credwarden.example"]);
    v.set_required_spec_claims(&["iss", "aud"]);
    let mut events = Vec::new();
    for (ctype, body) in &got {
        assert_eq!(ctype, "application/secevent+jwt");
        let h = jsonwebtoken::decode_header(body).unwrap();
        assert_eq!(
            (h.typ.as_deref(), h.kid.as_deref()),
            (Some("secevent+jwt"), Some("cw-2025"))
        );
        let t = jsonwebtoken::decode::<serde_json::Value>(body, &key, &v)
            .expect("valid signature and claims");
        assert_eq!(
            t.claims["sub_id"],
            serde_json::json!({"format": "email", "email": "lee@shop.example"})
        );
        let ev = t.claims["events"].as_object().unwrap();
        assert_eq!(ev.len(), 1);
        events.push(ev.keys().next().unwrap().clone());
    }
    events.sort();
    let mut want = vec![
        SESSION_REVOKED.to_string(),
        CREDENTIAL_CHANGE.to_string(),
        ACCOUNT_DISABLED.to_string(),
    ];
    want.sort();
    assert_eq!(events, want);
    // A token signed by another key is refused by the receiver's check (the test's verification is real).
    let other = d.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_, other_pub) = keys(&other).unwrap();
    assert!(jsonwebtoken::decode::<serde_json::Value>(
        &got[0].1,
        &jsonwebtoken::DecodingKey::from_ec_pem(&other_pub).unwrap(),
        &v
    )
    .is_err());
}
