//! A tiny scripted HTTP/1.1 server on 127.0.0.1:0 for the sink tests: one connection per scripted
//! reply, each request recorded (method, path, headers, body) before the reply goes out. When the
//! script is done the listener closes, so an unexpected extra request fails loudly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The secret part of every mock URL; tests assert it never shows.
pub const SECRET: &str = "T0SECRET/B0SECRET/xoxSECRETtoken";

/// What the server does with one request.
pub enum Reply {
    /// Answer with a status, extra headers and a body.
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Read the request, answer nothing, wait for the client to give up (hang up).
    Hang,
}

/// A plain reply with an empty body.
pub fn status(status: u16) -> Reply {
    Reply::Status {
        status,
        headers: Vec::new(),
        body: String::new(),
    }
}

/// A reply with a body.
pub fn with_body(status: u16, body: impl Into<String>) -> Reply {
    Reply::Status {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

/// A reply with one extra header.
pub fn with_header(status: u16, name: &'static str, value: &str) -> Reply {
    Reply::Status {
        status,
        headers: vec![(name, value.to_string())],
        body: String::new(),
    }
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// A running mock server.
pub struct Mock {
    /// `http://127.0.0.1:PORT/services/<SECRET>`.
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Mock {
    /// Serve `script`, one reply per connection, in order.
    pub fn start(script: Vec<Reply>) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/services/{SECRET}",
            listener.local_addr().unwrap()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        thread::spawn(move || {
            for reply in script {
                let (stream, _) = listener.accept().unwrap();
                serve(stream, reply, &log);
            }
        });
        Mock { url, requests }
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, reply: Reply, log: &Mutex<Vec<Request>>) {
    // Guards against a test hanging forever if the client misbehaves.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    log.lock().unwrap().push(Request {
        method,
        path,
        headers,
        body,
    });

    let mut stream = reader.into_inner();
    match reply {
        Reply::Hang => {
            // Returns when the client closes the connection (or the read timeout fires).
            let _ = stream.read_to_end(&mut Vec::new());
        }
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} Mock\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (n, v) in headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            // The client may already have given up; that is its business.
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.flush();
        }
    }
}
