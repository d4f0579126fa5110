//! A hostile double: an HTTP/1.1 proxy on loopback in front of a real test server. Each request is
//! shown to a rule first; when the rule answers, the client gets that answer (a WAF's bare 403, a
//! wrong endpoint's 404, a lying `{"active": false}`), otherwise the request goes to the real server
//! and its response comes back unchanged. One request per connection (`Connection: close`).
#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A request as the rule sees it.
pub struct Request {
    /// `GET`, `POST`…
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body as text (lossy).
    pub body: String,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the rule answers instead of the real server: status, content type, body.
pub type Answer = (u16, &'static str, String);

/// A running proxy: its port and how many requests its rule answered.
pub struct Proxy {
    /// Where clients connect.
    pub port: u16,
    /// Requests the rule answered itself.
    pub intercepted: Arc<AtomicUsize>,
}

/// Start a proxy to `127.0.0.1:upstream` with `rule`.
pub fn start(
    upstream: u16,
    rule: impl Fn(&Request) -> Option<Answer> + Send + Sync + 'static,
) -> Proxy {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let intercepted = Arc::new(AtomicUsize::new(0));
    let hits = intercepted.clone();
    let rule = Arc::new(rule);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let rule = rule.clone();
            let hits = hits.clone();
            std::thread::spawn(move || {
                let _ = serve(s, upstream, &*rule, &hits);
            });
        }
    });
    Proxy { port, intercepted }
}

fn serve(
    s: TcpStream,
    upstream: u16,
    rule: &dyn Fn(&Request) -> Option<Answer>,
    hits: &AtomicUsize,
) -> std::io::Result<()> {
    let mut r = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut raw_headers = Vec::new();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        raw_headers.push(h);
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let req = Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let mut out = s;
    if let Some((status, ctype, text)) = rule(&req) {
        hits.fetch_add(1, Ordering::SeqCst);
        write!(
            out,
            "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        )?;
        return out.flush();
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.write_all(line.as_bytes())?;
    for h in &raw_headers {
        let lower = h.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("keep-alive:") {
            continue;
        }
        up.write_all(h.as_bytes())?;
    }
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    // Tell the client this connection ends here (it does).
    let end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |i| i + 2);
    let head = String::from_utf8_lossy(&resp[..end]).into_owned();
    for l in head.split_inclusive("\r\n") {
        if !l.to_ascii_lowercase().starts_with("connection:") {
            out.write_all(l.as_bytes())?;
        }
    }
    out.write_all(b"Connection: close\r\n")?;
    out.write_all(&resp[end..])?;
    out.flush()
}
