//! `serve` against hostile clients, through the real accept loop on loopback: a filter nested
//! thousands deep is a 400 (not a stack overflow) and is in the request journal; idle connections
//! are closed after the header time limit; connections past the limit wait in the backlog instead
//! of exhausting the process's files, and are served once others close.

use credwarden_server::listen::{self, Limits};
use credwarden_server::{router, ServerConfig};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "a-long-random-provisioning-token-0123456789";

fn start(limits: Limits) -> (u16, tempfile::TempDir) {
    let d = tempfile::tempdir().unwrap();
    let cfg = ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        token_hashes: vec![(credwarden_server::hash_token(TOKEN), "tester".into())],
        on_offboarding: None,
        request_log: d.path().join("requests.jsonl"),
        directory: Arc::new(credwarden_model::Directory::default()),
        scim_state: None,
        public_url: None,
        ssf: None,
        tls: None,
        ledger: None,
    };
    let app = router(&cfg, Arc::new(|_| {})).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = listen::bind(cfg.bind).await.unwrap();
            tx.send(l.local_addr().unwrap().port()).unwrap();
            listen::serve_with(l, None, app, limits).await.unwrap();
        });
    });
    (rx.recv().unwrap(), d)
}

fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[test]
fn a_filter_nested_thousands_deep_is_refused_and_journaled() {
    let (port, d) = start(Limits::default());
    for f in [
        format!("{}userName eq \"x\"{}", "(".repeat(2000), ")".repeat(2000)),
        format!(
            "{}userName eq \"x\"{}",
            "not(".repeat(1000),
            ")".repeat(1000)
        ),
    ] {
        let enc: String = f.bytes().map(|b| format!("%{b:02X}")).collect();
        let (status, body) = get(port, &format!("/scim/v2/Users?filter={enc}"));
        assert_eq!(status, 400, "{}", &body[..body.len().min(300)]);
    }
    // The same through .search, in a body.
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"{}userName eq \"x\"{}"}}"#,
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "POST /scim/v2/Users/.search HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(
        out.starts_with("HTTP/1.1 400"),
        "{}",
        &out[..out.len().min(300)]
    );
    // Still serving.
    assert_eq!(get(port, "/scim/v2/Users").0, 200);
    let log = std::fs::read_to_string(d.path().join("requests.jsonl")).unwrap();
    assert!(
        log.lines()
            .filter(|l| l.contains("\"received\":true"))
            .count()
            >= 3,
        "{log}"
    );
}

#[test]
fn idle_connections_are_closed_and_extra_ones_wait_their_turn() {
    let limits = Limits {
        connections: 8,
        header: Duration::from_millis(500),
        ..Limits::default()
    };
    let (port, _d) = start(limits);
    // Twenty silent clients: eight are taken, the rest wait in the backlog.
    let idle: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    // The server closes idle ones after the header limit; a real request is served meanwhile.
    let t = Instant::now();
    let (status, _) = get(port, "/scim/v2/Users");
    assert_eq!(status, 200);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let mut first = &idle[0];
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 64];
    // Closed by the server (0 bytes or a 408-style answer, then EOF), not left hanging.
    let n = first.read(&mut buf).unwrap_or(0);
    let rest = first.read(&mut buf).unwrap_or(0);
    assert!(n == 0 || rest == 0);
}
