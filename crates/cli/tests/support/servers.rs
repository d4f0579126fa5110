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
