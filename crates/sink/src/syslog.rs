//! Syslog (RFC 5424) to a collector over UDP (one message per datagram, RFC 5426) or TCP (octet
//! counting, RFC 6587): each finding one message — facility `log audit` (13), the syslog severity
//! from the finding's (critical 2, high 3, medium 4, low 5, info 6), app `credwarden`, message id
//! `finding`, structured data `[credwarden@32473 rule="…" severity="…" uid="…"]` (32473: the
//! documentation enterprise number) and the OCSF Detection Finding as JSON for the message.
//! Over TLS (RFC 5425, octet counting as over TCP) the collector's certificate is checked against
//! the CA in `CREDWARDEN_SYSLOG_CA` (a PEM file), else the Mozilla root set, and its name against
//! the host named. TCP and TLS connection failures are retried with backoff, reconnecting; UDP is
//! fire-and-forget, as the protocol is.

use crate::error::SinkError;
use crate::{Delivery, Options, Sink};
use credwarden_model::ocsf::DetectionFinding;
use credwarden_model::{Finding, Severity};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};

/// Where and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// UDP datagrams.
    Udp,
    /// TCP with octet counting.
    Tcp,
    /// TLS (RFC 5425) with octet counting.
    Tls,
}

/// The environment variable naming a PEM file of CA certificates for syslog over TLS.
pub const CA_ENV: &str = "CREDWARDEN_SYSLOG_CA";

/// A stream messages are framed onto: TCP or TLS over TCP.
enum Conn {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Write for Conn {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(b),
            Conn::Tls(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// The TLS client configuration: the CA file in [`CA_ENV`], else the Mozilla roots.
fn tls_config() -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match std::env::var_os(CA_ENV) {
        Some(path) => {
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(&path)
                .map_err(|e| format!("{}: {e}", std::path::Path::new(&path).display()))?;
            for c in certs {
                let c = c.map_err(|e| format!("{}: {e}", std::path::Path::new(&path).display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("{}: {e}", std::path::Path::new(&path).display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(std::sync::Arc::new(cfg))
}

/// An SD-PARAM value with `"`, `\` and `]` escaped (RFC 5424 §6.3.3).
fn sd(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(']', "\\]")
}

/// One RFC 5424 message for `f`, from `host`.
pub fn message(f: &Finding, host: &str) -> Result<String, serde_json::Error> {
    let sev = match f.severity {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    };
    let pri = 13 * 8 + sev;
    let json = serde_json::to_string(&DetectionFinding::from_finding(f))?;
    let host = if host.is_empty() { "-" } else { host };
    Ok(format!(
        "<{pri}>1 {} {host} credwarden {} finding [credwarden@32473 rule=\"{}\" severity=\"{}\" uid=\"{}\"] {json}",
        f.time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"),
        std::process::id(),
        sd(f.rule.id),
        sd(&f.severity.to_string()),
        sd(&f.fingerprint()),
    ))
}

/// The syslog sink.
pub(crate) struct SyslogSink {
    name: String,
    addr: String,
    transport: Transport,
    host: String,
    opts: Options,
    tcp: Option<Conn>,
}

impl SyslogSink {
    pub(crate) fn new(name: String, transport: Transport, addr: String, opts: &Options) -> Self {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        SyslogSink {
            name,
            addr,
            transport,
            host,
            opts: opts.clone(),
            tcp: None,
        }
    }

    fn send_tcp(&mut self, frame: &[u8]) -> std::io::Result<()> {
        if self.tcp.is_none() {
            let addr = self
                .addr
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| std::io::Error::other("no address"))?;
            let s = TcpStream::connect_timeout(&addr, self.opts.timeout)?;
            s.set_write_timeout(Some(self.opts.timeout))?;
            s.set_read_timeout(Some(self.opts.timeout))?;
            self.tcp = Some(match self.transport {
                Transport::Tls => {
                    let host = self
                        .addr
                        .rsplit_once(':')
                        .map_or(self.addr.as_str(), |(h, _)| h)
                        .trim_matches(['[', ']']);
                    let name = rustls_pki_types::ServerName::try_from(host.to_string())
                        .map_err(|e| std::io::Error::other(format!("{host}: {e}")))?;
                    let cfg = tls_config().map_err(std::io::Error::other)?;
                    let conn =
                        rustls::ClientConnection::new(cfg, name).map_err(std::io::Error::other)?;
                    let mut tls = rustls::StreamOwned::new(conn, s);
                    // Handshake now, so a certificate problem shows before any message.
                    while tls.conn.is_handshaking() {
                        tls.conn.complete_io(&mut tls.sock)?;
                    }
                    Conn::Tls(Box::new(tls))
                }
                _ => Conn::Tcp(s),
            });
        }
        let s = self.tcp.as_mut().expect("connected above");
        let r = s.write_all(frame).and_then(|_| s.flush());
        if r.is_err() {
            self.tcp = None;
        }
        r
    }
}

impl Sink for SyslogSink {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn send(&mut self, findings: &[Finding]) -> Result<Delivery, SinkError> {
        let total = findings.len();
        let mut delivery = Delivery::default();
        let udp = match self.transport {
            Transport::Udp => {
                Some(UdpSocket::bind("0.0.0.0:0").map_err(|e| SinkError::GaveUp {
                    sink: self.name.clone(),
                    attempts: 0,
                    last: e.to_string(),
                    delivered: 0,
                    total,
                })?)
            }
            Transport::Tcp | Transport::Tls => None,
        };
        for f in findings {
            let msg = message(f, &self.host)?;
            let mut attempts = 0;
            loop {
                attempts += 1;
                let r = match &udp {
                    Some(sock) => sock.send_to(msg.as_bytes(), self.addr.as_str()).map(|_| ()),
                    None => self.send_tcp(format!("{} {msg}", msg.len()).as_bytes()),
                };
                match r {
                    Ok(()) => break,
                    Err(e) if attempts <= self.opts.retries => {
                        let wait = crate::http::backoff(self.opts.backoff_initial, attempts - 1);
                        tracing::warn!(sink = %self.name, "{e}; retrying in {wait:?}");
                        std::thread::sleep(wait);
                    }
                    Err(e) => {
                        return Err(SinkError::GaveUp {
                            sink: self.name.clone(),
                            attempts,
                            last: e.to_string(),
                            delivered: delivery.sent,
                            total,
                        })
                    }
                }
            }
            delivery.sent += 1;
            delivery.attempts += attempts;
        }
        Ok(delivery)
    }
}
