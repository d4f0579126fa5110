//! Processes the CLI tests run beside the binary (test servers, `credwarden serve`), said once:
//! programs on PATH, the rule for a missing one (fails under CI=true, skipped with a message
//! elsewhere), free loopback ports, and starting a quiet server that is killed when dropped.
#![allow(dead_code)] // each test file uses a part

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A program on PATH.
pub fn on_path(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(bin))
            .find(|p| p.is_file())
    })
}

/// Is what a test needs here? Under CI=true it must be (the test fails); elsewhere the test is
/// skipped with a message naming what is missing.
pub fn needed(present: bool, what: &str) -> bool {
    if !present {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {what} is missing"
        );
        eprintln!("skipped: {what} is missing");
    }
    present
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until something listens on `port`.
pub fn wait_port(port: u16) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Start `c` and return once it listens on `port`.
pub fn start(mut c: Command, port: u16) -> Server {
    let s = Server(c.spawn().unwrap());
    wait_port(port);
    s
}

/// `bin args…` with its output discarded, started and listening on `port`.
pub fn quiet(bin: impl AsRef<std::ffi::OsStr>, args: &[&str], port: u16) -> Server {
    let mut c = Command::new(bin);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    start(c, port)
}

/// moto's server on `port`.
pub fn moto(bin: &std::path::Path, port: u16) -> Server {
    quiet(bin, &["-H", "127.0.0.1", "-p", &port.to_string()], port)
}

/// scim2-server on `port`.
pub fn scim2_server(bin: &std::path::Path, port: u16) -> Server {
    quiet(
        bin,
        &["--hostname", "127.0.0.1", "--port", &port.to_string()],
        port,
    )
}

/// POST `body` as SCIM JSON to `url`, trying until the server answers (a Python server listens a
/// moment before it serves).
pub fn post_scim(url: &str, body: &str) -> ureq::http::Response<ureq::Body> {
    let t = Instant::now();
    loop {
        match ureq::post(url)
            .header("Content-Type", "application/scim+json")
            .send(body)
        {
            Ok(r) => return r,
            Err(e) => {
                assert!(t.elapsed() < Duration::from_secs(10), "{url}: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// One unauthenticated IAM query call to moto (its free calls); the response text.
pub fn iam(port: u16, params: &[(&str, &str)]) -> String {
    let body: String = std::iter::once("Version=2010-05-08".to_string())
        .chain(params.iter().map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        }))
        .collect::<Vec<_>>()
        .join("&");
    let mut r = ureq::post(&format!("http://127.0.0.1:{port}/"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIABOOTSTRAP/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
        .send(body)
        .unwrap();
    r.body_mut().read_to_string().unwrap()
}

/// moto's server on `port` with its authentication checks on after `free_calls` unauthenticated
/// calls (for seeding users and keys), so an old key's refusal is real.
pub fn moto_auth(bin: &std::path::Path, port: u16, free_calls: u32) -> Server {
    let mut c = Command::new(bin);
    c.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", free_calls.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    start(c, port)
}

/// The access key id and secret in a moto `CreateAccessKey` answer.
pub fn key_of(answer: &str) -> (String, String) {
    let between = |a: &str, b: &str| {
        let i = answer.find(a).unwrap() + a.len();
        answer[i..i + answer[i..].find(b).unwrap()].to_string()
    };
    (
        between("<AccessKeyId>", "<"),
        between("<SecretAccessKey>", "<"),
    )
}

/// An IAM user `admin` allowed everything, and its access key, made in moto's free calls (three).
pub fn admin_key(port: u16) -> (String, String) {
    iam(port, &[("Action", "CreateUser"), ("UserName", "admin")]);
    iam(
        port,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "admin"),
            ("PolicyName", "admin"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
        ],
    );
    key_of(&iam(
        port,
        &[("Action", "CreateAccessKey"), ("UserName", "admin")],
    ))
}

/// The SHA-256 line `credwarden serve --hash-token` prints for `token` (for a `--tokens-file`).
pub fn hashed_token(token: &str) -> String {
    use std::io::Write;
    let out = Command::new(env!("CARGO_BIN_EXE_credwarden"))
        .args(["serve", "--hash-token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(token.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
