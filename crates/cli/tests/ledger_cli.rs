//! The issuance ledger through the real binary (`serve --ledger`): the login service reports what it
//! issued (over HTTP and through its issuance log), a gateway's check allows exactly the issued
//! tokens in every form it may ask (JSON claims, a JWT, RFC 7662, ext_authz/auth_request), a forged
//! token is refused and raises CW-D007, revocations take effect at once, the grace waits for a late
//! issuance, and a restart loses nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/servers.rs"]
mod servers;
use servers::*;

const TOKEN: &str = "a-long-random-gateway-token-0123456789abcdef";

/// One HTTP/1.1 request; (status, body).
fn call(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut h = String::new();
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(s, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{h}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn authed(ct: &str) -> Vec<(&'static str, &str)> {
    vec![
        (
            "Authorization",
            "Bearer a-long-random-gateway-token-0123456789abcdef",
        ),
        ("Content-Type", ct),
    ]
}

fn post(port: u16, path: &str, body: &str) -> (u16, String) {
    call(port, "POST", path, &authed("application/json"), body)
}

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A compact JWT with these claims (the signature is the gateway's business, not the ledger's).
fn jwt(kid: &str, jti: &str, sub: &str, iat: i64) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#)),
        b64(&format!(
            r#"{{"jti":"{jti}","sub":"{sub}","iat":{iat},"exp":{},"client_id":"shop-ios"}}"#,
            iat + 3600
        ))
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn setup(d: &Path) {
    std::fs::write(
        d.join("hr.csv"),
        "employee_id,name,email,username,status,start_date,end_date\nE1,Ana Lee,ana@shop.example,ana,active,2020-01-01,\n",
    )
    .unwrap();
    std::fs::write(d.join("tokens"), hashed_token(TOKEN) + "\n").unwrap();
    std::fs::write(d.join("config.toml"), "").unwrap();
}

fn serve(d: &Path, port: u16, grace: &str) -> Server {
    serve_with(d, port, grace, &[])
}

fn serve_with(d: &Path, port: u16, grace: &str, extra: &[&str]) -> Server {
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let mut c = Command::new(env!("CARGO_BIN_EXE_credwarden"));
    c.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--hr", &p("hr.csv"), "--tokens-file", &p("tokens")])
        .args(["--journal", &p("journal.jsonl")])
        .args(["--request-log", &p("requests.jsonl")])
        .args(["--scim-state", &p("scim.json")])
        .args(["--config", &p("config.toml")])
        .args(["--ledger", &p("ledger")])
        .args(["--issuance-log", &p("issuance")])
        .args(["--issuance-grace", grace])
        .args(extra)
        .env_remove("CREDWARDEN_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    start(c, port)
}

fn check(port: u16, jti: &str, sub: &str, kid: &str, iat: i64) -> (u16, String) {
    post(
        port,
        "/v1/token-check",
        &format!(r#"{{"jti":"{jti}","sub":"{sub}","kid":"{kid}","iat":{iat}}}"#),
    )
}

#[test]
fn the_gateway_check_allows_issued_tokens_and_refuses_forged_ones() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    std::fs::create_dir(d.path().join("issuance")).unwrap();
    let port = free_port();
    let server = serve(d.path(), port, "0s");
    let t = now() - 10;
    let kid = "login-rs256-2019";

    // The login service reports two tokens (JSON lines).
    let (s, b) = post(
        port,
        "/v1/issued",
        &format!(
            "{{\"jti\":\"j-1\",\"sub\":\"41\",\"kid\":\"{kid}\",\"iat\":{t},\"exp\":{},\"client_id\":\"shop-ios\"}}\n{{\"jti\":\"j-2\",\"sub\":\"42\",\"kid\":\"{kid}\",\"iat\":{t},\"exp\":{}}}\n",
            t + 3600,
            t + 3600
        ),
    );
    assert_eq!(s, 200, "{b}");
    assert!(b.contains(r#""recorded":2"#), "{b}");

    // Issued: allowed, in every form.
    let (s, b) = check(port, "j-1", "41", kid, t);
    assert_eq!((s, b.as_str()), (200, r#"{"decision":"allow"}"#));
    let (s, _) = call(
        port,
        "POST",
        "/v1/token-check",
        &authed("application/jwt"),
        &jwt(kid, "j-1", "41", t),
    );
    assert_eq!(s, 200);
    let form = format!(
        "token={}&token_type_hint=access_token",
        jwt(kid, "j-2", "42", t)
    );
    let (s, b) = call(
        port,
        "POST",
        "/v1/token-check",
        &authed("application/x-www-form-urlencoded"),
        &form,
    );
    assert_eq!(s, 200);
    assert!(
        b.contains(r#""active":true"#) && b.contains(r#""sub":"42""#),
        "{b}"
    );
    let bearer = format!("Bearer {}", jwt(kid, "j-1", "41", t));
    let gw = [
        ("Authorization", bearer.as_str()),
        (
            "X-Credwarden-Authorization",
            "Bearer a-long-random-gateway-token-0123456789abcdef",
        ),
        ("X-Forwarded-For", "121.134.10.20"),
    ];
    let (s, _) = call(
        port,
        "GET",
        "/v1/token-check/http/api/v1/members/41/orders",
        &gw,
        "",
    );
    assert_eq!(s, 200);

    // Forged: a token id never issued, and a real id under another member.
    let (s, b) = check(port, "forged-1", "77", kid, t);
    assert_eq!(s, 403, "{b}");
    assert!(b.contains(r#""code":"never_issued""#), "{b}");
    let (s, b) = check(port, "j-1", "77", kid, t);
    assert_eq!(s, 403);
    assert!(b.contains("claims_differ"), "{b}");
    let form = format!("token={}", jwt(kid, "forged-2", "78", t));
    let (s, b) = call(
        port,
        "POST",
        "/v1/token-check",
        &authed("application/x-www-form-urlencoded"),
        &form,
    );
    assert_eq!((s, b.as_str()), (200, r#"{"active":false}"#));
    let forged = format!("Bearer {}", jwt(kid, "forged-3", "79", t));
    let gw_forged = [
        ("Authorization", forged.as_str()),
        (
            "X-Credwarden-Authorization",
            "Bearer a-long-random-gateway-token-0123456789abcdef",
        ),
    ];
    let (s, _) = call(
        port,
        "POST",
        "/v1/token-check/http/api/v1/members/79/addresses",
        &gw_forged,
        "",
    );
    assert_eq!(s, 403);
    // Expired (issued or not): refused as expired, not as forged.
    let (s, b) = post(
        port,
        "/v1/token-check",
        &format!(
            r#"{{"jti":"old","kid":"{kid}","iat":{},"exp":{}}}"#,
            t - 7200,
            t - 3600
        ),
    );
    assert_eq!(s, 403);
    assert!(b.contains(r#""code":"expired""#), "{b}");

    // Without our token, or with a wrong one: 401, nothing decided.
    let (s, _) = call(
        port,
        "POST",
        "/v1/token-check",
        &[("Content-Type", "application/json")],
        r#"{"jti":"j-1"}"#,
    );
    assert_eq!(s, 401);
    let (s, _) = call(
        port,
        "GET",
        "/v1/token-check/http/x",
        &[("Authorization", bearer.as_str())],
        "",
    );
    assert_eq!(s, 401);
    let (s, _) = call(
        port,
        "POST",
        "/v1/issued",
        &[("Authorization", "Bearer wrong-token-wrong-token-wrong")],
        "{}",
    );
    assert_eq!(s, 401);
    // Malformed: 400 naming what is wrong.
    let (s, b) = post(port, "/v1/issued", r#"{"jti":"x"}"#);
    assert_eq!(s, 400);
    assert!(b.contains("`exp` is required"), "{b}");

    // Campaigns are (signing key, client), as CW-D007 groups them in logs: two here (tokens with
    // and without a client), each with a finding at its first refusal.
    let findings = std::fs::read_to_string(d.path().join("ledger/findings.jsonl")).unwrap();
    assert_eq!(findings.lines().count(), 2, "{findings}");
    assert!(
        findings.contains("CW-D007") && findings.contains(kid),
        "{findings}"
    );
    let (s, b) = call(
        port,
        "GET",
        "/v1/token-check/stats",
        &authed("application/json"),
        "",
    );
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let refused: u64 = v["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["refused"].as_u64().unwrap())
        .sum();
    assert_eq!(refused, 4, "{b}");
    assert_eq!(v["allowed"], 4, "{b}");

    // The issuance log is followed: a token written there is allowed soon after.
    std::fs::write(
        d.path().join("issuance/login.jsonl"),
        format!("{{\"time\":\"2026-01-01T00:00:00Z\",\"event\":\"token_issued\",\"sub\":\"43\",\"jti\":\"j-log\",\"kid\":\"{kid}\",\"iat\":{t},\"exp\":{},\"client_id\":\"shop-web\"}}\n", t + 3600),
    )
    .unwrap();
    let started = Instant::now();
    while check(port, "j-log", "43", kid, t).0 != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the issuance log was not followed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Revocations: a member's sessions, then the signing key.
    let (s, b) = post(port, "/v1/revocations", r#"{"sub":"41"}"#);
    assert_eq!(s, 200, "{b}");
    assert!(b.contains(r#""revoked_live_tokens":1"#), "{b}");
    let (s, b) = check(port, "j-1", "41", kid, t);
    assert_eq!(s, 403);
    assert!(b.contains(r#""code":"revoked""#), "{b}");
    assert_eq!(check(port, "j-2", "42", kid, t).0, 200);
    let (s, b) = post(port, "/v1/revocations", &format!(r#"{{"kid":"{kid}"}}"#));
    assert_eq!(s, 200, "{b}");
    let (s, b) = check(port, "j-2", "42", kid, t);
    assert_eq!(s, 403);
    assert!(b.contains("key_retired"), "{b}");

    // A restart loses nothing: issued tokens, revocations.
    drop(server);
    let port = free_port();
    let _server = serve(d.path(), port, "0s");
    let (s, b) = post(
        port,
        "/v1/issued",
        &format!(
            r#"{{"jti":"j-5","sub":"45","kid":"k-2026","iat":{t},"exp":{}}}"#,
            t + 3600
        ),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(check(port, "j-5", "45", "k-2026", t).0, 200);
    assert!(check(port, "j-2", "42", kid, t).1.contains("key_retired"));
    assert!(check(port, "j-1", "41", kid, t).1.contains("key_retired"));
    // The requests journal names the ledger calls but never a token.
    let journal = std::fs::read_to_string(d.path().join("requests.jsonl")).unwrap();
    assert!(journal.contains("/v1/revocations") && !journal.contains(TOKEN));
}

#[test]
fn the_grace_waits_for_a_late_issuance_and_refuses_when_none_comes() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    std::fs::create_dir(d.path().join("issuance")).unwrap();
    let port = free_port();
    let _server = serve(d.path(), port, "2s");
    let t = now();
    // The check arrives before the login service's report, which follows 300 ms later.
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        post(
            port,
            "/v1/issued",
            &format!(
                r#"{{"jti":"late","sub":"9","kid":"k","iat":{t},"exp":{}}}"#,
                t + 600
            ),
        )
    });
    let started = Instant::now();
    let (s, b) = check(port, "late", "9", "k", t);
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("waited_ms"), "{b}");
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(late.join().unwrap().0, 200);
    // A forged token claiming to be fresh waits out the grace, then is refused.
    let started = Instant::now();
    let (s, b) = check(port, "fresh-forgery", "9", "k", now());
    assert_eq!(s, 403, "{b}");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    // An old one is refused at once.
    let started = Instant::now();
    assert_eq!(check(port, "old-forgery", "9", "k", now() - 3600).0, 403);
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// NGINX (Debian's package) with the README's auth_request configuration: an issued token reaches
/// the API, a forged one is refused by the gateway itself.
#[test]
fn nginx_auth_request_refuses_forged_tokens_before_the_api() {
    let nginx = on_path("nginx").or_else(|| {
        let p = std::path::PathBuf::from("/usr/sbin/nginx");
        p.is_file().then_some(p)
    });
    if !needed(nginx.is_some(), "nginx (Debian package nginx-light)") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    std::fs::create_dir(d.path().join("issuance")).unwrap();
    let (cw, gw, api) = (free_port(), free_port(), free_port());
    let _server = serve(d.path(), cw, "0s");
    // The documented configuration, with this test's ports and token, and a stand-in API.
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/gateway/nginx-auth-request.conf"),
    )
    .unwrap();
    let tmp = d.path().join("nginx");
    std::fs::create_dir(&tmp).unwrap();
    let t = tmp.display();
    let conf = doc
        .replace("127.0.0.1:8443", &format!("127.0.0.1:{cw}"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{gw}"))
        .replace("127.0.0.1:9000", &format!("127.0.0.1:{api}"))
        .replace("REPLACE_WITH_GATEWAY_TOKEN", TOKEN)
        .replace(
            "http {",
            &format!(
                "pid {t}/nginx.pid;\nhttp {{\n    client_body_temp_path {t}/body;\n    proxy_temp_path {t}/proxy;\n    fastcgi_temp_path {t}/fastcgi;\n    uwsgi_temp_path {t}/uwsgi;\n    scgi_temp_path {t}/scgi;\n    server {{ listen 127.0.0.1:{api}; location / {{ return 200 \"member data\"; }} }}"
            ),
        );
    assert!(conf.contains(TOKEN) && !conf.contains("REPLACE_WITH"));
    let conf_path = tmp.join("nginx.conf");
    std::fs::write(&conf_path, &conf).unwrap();
    let mut c = Command::new(nginx.unwrap());
    c.args(["-p", &t.to_string(), "-e", &format!("{t}/error.log"), "-c"])
        .arg(&conf_path)
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Stopped with SIGTERM (its master then stops its workers; a SIGKILL would orphan them).
    struct Nginx(Server);
    impl Drop for Nginx {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0 .0.id().to_string()])
                .status();
            let _ = self.0 .0.wait();
        }
    }
    let _nginx = Nginx(start(c, gw));
    let now = now() - 5;
    let (s, b) = post(
        cw,
        "/v1/issued",
        &format!(
            r#"{{"jti":"n-1","sub":"41","kid":"k","iat":{now},"exp":{}}}"#,
            now + 600
        ),
    );
    assert_eq!(s, 200, "{b}");
    let get = |jwt: &str| {
        let bearer = format!("Bearer {jwt}");
        call(
            gw,
            "GET",
            "/api/v1/members/41/addresses",
            &[("Authorization", bearer.as_str())],
            "",
        )
    };
    let (s, b) = get(&jwt("k", "n-1", "41", now));
    assert_eq!(
        (s, b.as_str()),
        (200, "member data"),
        "{}",
        std::fs::read_to_string(tmp.join("error.log")).unwrap_or_default()
    );
    let (s, b) = get(&jwt("k", "never-issued", "41", now));
    assert_eq!(s, 403, "{b}");
    assert!(!b.contains("member data"));
    let (s, _) = call(gw, "GET", "/api/v1/members/41/addresses", &[], "");
    assert_eq!(s, 403, "no token at all");
    // The refusal is a CW-D007 finding.
    let findings = std::fs::read_to_string(d.path().join("ledger/findings.jsonl")).unwrap();
    assert!(findings.contains("CW-D007"), "{findings}");
}

/// An IdP deactivates someone who could read the login service's signing key: with `--apply`, the
/// offboarding retires that key in the ledger, and tokens signed with it are refused at once.
#[test]
fn offboarding_a_reader_of_the_signing_key_retires_it_at_the_gateway() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    std::fs::write(
        d.path().join("hr.csv"),
        "employee_id,name,email,username,status,start_date,end_date\nE1,Ana Lee,ana@shop.example,ana,active,2020-01-01,\nE2,Bo Kim,bo@shop.example,bo,active,2020-01-01,\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("keys.csv"),
        "id,kind,system,owner,created,readers\nlogin-rs256-2019,signing_key,login,E1,2019-01-01,bo\n",
    )
    .unwrap();
    std::fs::create_dir(d.path().join("issuance")).unwrap();
    let port = free_port();
    let keys = d.path().join("keys.csv");
    let _server = serve_with(
        d.path(),
        port,
        "0s",
        &["--apply", "--inventory", keys.to_str().unwrap()],
    );
    let t = now() - 5;
    let kid = "login-rs256-2019";
    let (s, b) = post(
        port,
        "/v1/issued",
        &format!(
            r#"{{"jti":"m-1","sub":"41","kid":"{kid}","iat":{t},"exp":{}}}"#,
            t + 600
        ),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(check(port, "m-1", "41", kid, t).0, 200);
    let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#;
    let (s, b) = call(
        port,
        "PATCH",
        "/scim/v2/Users/E2",
        &authed("application/scim+json"),
        patch,
    );
    assert_eq!(s, 200, "{b}");
    let started = Instant::now();
    loop {
        let (s, b) = check(port, "m-1", "41", kid, t);
        if s == 403 {
            assert!(b.contains("key_retired"), "{b}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the key was not retired: {b}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
