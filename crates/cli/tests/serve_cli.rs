//! `credwarden serve` through the real binary: requests without a token, with a wrong one, or malformed
//! change nothing and are journaled; an IdP's `PATCH active=false` with a valid token starts the
//! offboarding (its plan appears in the journal) and the user then reads back inactive.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn deactivation_over_scim_starts_offboarding_and_bad_requests_change_nothing() {
    let d = tempfile::tempdir().unwrap();
    let hr = d.path().join("hr.csv");
    std::fs::write(&hr, "employee_id,name,email,username,status,start_date,end_date\nE1,Ana Lee,ana@shop.example,ana,active,2020-01-01,\nE2,Bo Kim,bo@shop.example,bo,active,2020-01-01,\n").unwrap();
    let secrets = d.path().join("secrets.csv");
    std::fs::write(&secrets, "id,kind,system,owner,created,readers\norders-hmac,shared_secret,orders-api,E1,2020-01-01,bo\n").unwrap();
    let token = "a-long-random-provisioning-token-0123456789";
    let hashed = Command::new(env!("CARGO_BIN_EXE_credwarden"))
        .args(["serve", "--hash-token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(token.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let tokens = d.path().join("tokens");
    std::fs::write(&tokens, &hashed.stdout).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A Shared Signals signing key, if openssl is here to make one.
    let key = d.path().join("ssf.pem");
    let have_key = Command::new("openssl")
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
        .is_ok_and(|s| s.success());
    let config = d.path().join("credwarden.toml");
    let toml = if have_key {
        format!("[respond.ssf_poll]\nissuer = \"https://credwarden.example\"\nkey_file = \"{}\"\nkey_id = \"cw-1\"\n", key.display())
    } else {
        String::new()
    };
    std::fs::write(&config, toml).unwrap();
    let journal = d.path().join("journal.jsonl");
    let requests = d.path().join("requests.jsonl");
    let _s = Server(
        Command::new(env!("CARGO_BIN_EXE_credwarden"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--hr",
                hr.to_str().unwrap(),
                "--inventory",
                secrets.to_str().unwrap(),
            ])
            .args([
                "--tokens-file",
                tokens.to_str().unwrap(),
                "--journal",
                journal.to_str().unwrap(),
                "--request-log",
                requests.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
            ])
            .env_remove("CREDWARDEN_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#;
    // Refused: no token, wrong token, malformed body. Nothing changes.
    assert_eq!(
        request(port, "PATCH", "/scim/v2/Users/E2", None, patch).0,
        401
    );
    assert_eq!(
        request(
            port,
            "PATCH",
            "/scim/v2/Users/E2",
            Some("wrong-token-wrong-token-wrong"),
            patch
        )
        .0,
        401
    );
    assert_eq!(
        request(port, "PATCH", "/scim/v2/Users/E2", Some(token), "{not json").0,
        400
    );
    assert_eq!(
        request(port, "PATCH", "/scim/v2/Users/E9", Some(token), patch).0,
        404
    );
    let (s, body) = request(port, "GET", "/scim/v2/Users/E2", Some(token), "");
    assert_eq!(s, 200);
    assert!(body.contains("\"active\":true"), "{body}");
    assert!(
        !journal.exists() || std::fs::read_to_string(&journal).unwrap().is_empty(),
        "nothing offboarded yet"
    );
    // A receiver opens a poll stream (before the deactivation).
    let stream = have_key.then(|| {
        let (s, body) = request(
            port,
            "POST",
            "/ssf/stream",
            Some(token),
            r#"{"aud":"https://orders.example","delivery":{"method":"urn:ietf:rfc:8936"}}"#,
        );
        assert_eq!(s, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["stream_id"].as_str().unwrap().to_string()
    });
    // The IdP deactivates Bo: offboarding starts (a plan, without --apply), Bo reads back inactive.
    let (s, body) = request(port, "PATCH", "/scim/v2/Users/E2", Some(token), patch);
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"active\":false"), "{body}");
    let t = Instant::now();
    loop {
        let j = std::fs::read_to_string(&journal).unwrap_or_default();
        if j.contains("orders-hmac") {
            assert!(j.contains("\"identity\":\"E2\""));
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no offboarding in the journal: {j}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (s, _) = request(
        port,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22bo%22",
        Some(token),
        "",
    );
    assert_eq!(s, 200);
    let mut extra = 0;
    if let Some(id) = stream {
        // The receiver polls: three signed events about Bo; acknowledged, they are gone.
        let (s, body) = request(port, "POST", &format!("/ssf/poll/{id}"), Some(token), "{}");
        assert_eq!(s, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let sets = v["sets"].as_object().unwrap();
        assert_eq!(sets.len(), 3, "{body}");
        let acks: Vec<&String> = sets.keys().collect();
        let ack = serde_json::json!({ "ack": acks }).to_string();
        let (_, body) = request(port, "POST", &format!("/ssf/poll/{id}"), Some(token), &ack);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(v["sets"].as_object().unwrap().is_empty(), "{body}");
        extra = 3;
    }
    // Every request is journaled, the refused ones with why; the token never.
    let log = std::fs::read_to_string(&requests).unwrap();
    assert_eq!(log.lines().count(), 7 + extra, "{log}");
    assert!(
        log.contains("no bearer token")
            && log.contains("wrong token")
            && log.contains("not JSON")
            && log.contains("offboarding started")
    );
    assert!(!log.contains(token));
}
