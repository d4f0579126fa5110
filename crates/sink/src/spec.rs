//! [`SinkSpec`], parsed from the CLI (`file:PATH`, `webhook:URL`, `slack:URL`), and [`SecretUrl`], a
//! webhook URL that shows itself only as `scheme://host[:port]/…`.
//!
//! Webhook URLs are bearer secrets (a Slack incoming-webhook URL carries its token in the path), so
//! `SecretUrl`'s `Debug` and `Display` are redacted, parse errors never quote the URL, and
//! [`SecretUrl::scrub`] removes the secret parts from any text (an error, a response body) before we
//! show it.

use crate::error::SinkError;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where findings go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkSpec {
    /// `file:PATH` — append OCSF JSON lines to a file, created if absent.
    File(PathBuf),
    /// `webhook:URL` — POST batches of OCSF findings as generic JSON.
    Webhook(SecretUrl),
    /// `slack:URL` — POST one Slack incoming-webhook message per batch.
    Slack(SecretUrl),
    /// `hec:URL` — Splunk HTTP Event Collector (`…/services/collector/event`), token from
    /// `CREDWARDEN_HEC_TOKEN`.
    Hec(SecretUrl),
    /// `elasticsearch:URL/INDEX` or `opensearch:URL/INDEX` — bulk indexing, one document per
    /// finding with its fingerprint as id; API key from `CREDWARDEN_ES_API_KEY`.
    Bulk(SecretUrl),
    /// `syslog:udp://HOST:PORT`, `syslog:tcp://HOST:PORT` or `syslog:tls://HOST:PORT` — RFC 5424
    /// messages (TLS: CA from `CREDWARDEN_SYSLOG_CA`).
    Syslog(crate::syslog::Transport, String),
}

impl FromStr for SinkSpec {
    type Err = SinkError;

    fn from_str(s: &str) -> Result<Self, SinkError> {
        let s = s.trim();
        let Some((kind, rest)) = s.split_once(':') else {
            return Err(SinkError::spec("missing the kind prefix"));
        };
        match kind.to_ascii_lowercase().as_str() {
            "file" if rest.is_empty() => Err(SinkError::spec("file: needs a path")),
            "file" => Ok(Self::File(PathBuf::from(rest))),
            "webhook" => Ok(Self::Webhook(SecretUrl::parse(rest)?)),
            "slack" => Ok(Self::Slack(SecretUrl::parse(rest)?)),
            "hec" | "splunk" => Ok(Self::Hec(SecretUrl::parse(rest)?)),
            "elasticsearch" | "opensearch" | "bulk" => {
                let u = SecretUrl::parse(rest)?;
                crate::bulk::split(u.expose())?;
                Ok(Self::Bulk(u))
            }
            "syslog" => {
                let (t, addr) = match rest.split_once("://") {
                    Some(("udp", a)) => (crate::syslog::Transport::Udp, a),
                    Some(("tcp", a)) => (crate::syslog::Transport::Tcp, a),
                    Some(("tls", a)) => (crate::syslog::Transport::Tls, a),
                    _ => {
                        return Err(SinkError::spec(
                            "syslog needs udp://HOST:PORT or tcp://HOST:PORT",
                        ))
                    }
                };
                let ok = a_host_port(addr);
                if !ok {
                    return Err(SinkError::spec(
                        "syslog needs udp://HOST:PORT or tcp://HOST:PORT",
                    ));
                }
                Ok(Self::Syslog(t, addr.to_string()))
            }
            "http" | "https" => Err(SinkError::spec(
                "a bare URL needs a kind prefix (webhook: or slack:)",
            )),
            // Quote the kind only when it cannot be part of a secret (a short word).
            k if k.len() <= 16 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                Err(SinkError::spec(format!("unknown sink kind {k:?}")))
            }
            _ => Err(SinkError::spec("unknown sink kind")),
        }
    }
}

/// `HOST:PORT` with a port number.
fn a_host_port(a: &str) -> bool {
    a.rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0))
}

impl fmt::Display for SinkSpec {
    /// The spec with any URL redacted: safe for logs and errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Webhook(u) => write!(f, "webhook:{u}"),
            Self::Slack(u) => write!(f, "slack:{u}"),
            Self::Hec(u) => write!(f, "hec:{u}"),
            Self::Bulk(u) => write!(f, "elasticsearch:{u}"),
            Self::Syslog(crate::syslog::Transport::Udp, a) => write!(f, "syslog:udp://{a}"),
            Self::Syslog(crate::syslog::Transport::Tcp, a) => write!(f, "syslog:tcp://{a}"),
            Self::Syslog(crate::syslog::Transport::Tls, a) => write!(f, "syslog:tls://{a}"),
        }
    }
}

/// An http(s) URL that may carry a secret in its user info, path, query or fragment.
///
/// `Debug` and `Display` show only `scheme://host[:port]/…`; [`SecretUrl::expose`] is the one way to
/// the full URL, for the HTTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl {
    url: String,
    redacted: String,
    https: bool,
    /// Substrings that must not appear in anything we show.
    secrets: Vec<String>,
}

impl SecretUrl {
    /// Parse an `http://` or `https://` URL with a non-empty host. Errors never quote the URL.
    pub fn parse(s: &str) -> Result<Self, SinkError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SinkError::spec("the URL is empty"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SinkError::spec(
                "the URL contains whitespace or control characters",
            ));
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(SinkError::spec(
                "the URL must start with http:// or https://",
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        let https = match scheme.as_str() {
            "https" => true,
            "http" => false,
            _ => {
                return Err(SinkError::spec(
                    "the URL must start with http:// or https://",
                ))
            }
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = split_host_port(host_port)
            .ok_or_else(|| SinkError::spec("the URL's host or port is malformed"))?;
        if host.is_empty() {
            return Err(SinkError::spec("the URL has no host"));
        }
        if let Some(p) = port {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err() {
                return Err(SinkError::spec(
                    "the URL's port is not a number from 0 to 65535",
                ));
            }
        }

        let mut secrets = vec![s.to_string()];
        if tail.len() > 1 {
            secrets.push(tail.to_string());
        }
        if let Some(u) = userinfo.filter(|u| !u.is_empty()) {
            secrets.push(u.to_string());
            secrets.extend(u.split(':').filter(|p| p.len() >= 4).map(str::to_string));
        }
        // A server may echo one segment (e.g. the token) rather than the whole path.
        secrets.extend(
            tail.split(['/', '?', '&', '=', '#', ';'])
                .filter(|seg| seg.len() >= 6)
                .map(str::to_string),
        );
        // Longest first, so a shorter secret never leaves part of a longer one behind.
        secrets.sort_by_key(|x| std::cmp::Reverse(x.len()));
        secrets.dedup();

        Ok(Self {
            url: s.to_string(),
            redacted: format!("{scheme}://{host_port}/…"),
            https,
            secrets,
        })
    }

    /// The full URL, secret included: for the HTTP client only, never for display.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]/…`, safe to show.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// Whether the URL is https.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `text` with every secret part of this URL (the whole URL, its user info, path, query and
    /// their longer segments) replaced by `…`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "…");
            }
        }
        out
    }
}

/// Split `host[:port]`, keeping IPv6 literals (`[::1]:8080`) whole. `None` when malformed.
fn split_host_port(hp: &str) -> Option<(&str, Option<&str>)> {
    if let Some(after) = hp.strip_prefix('[') {
        let close = after.find(']')?;
        let host = &hp[..close + 2];
        match &after[close + 1..] {
            "" => Some((host, None)),
            rest => Some((host, Some(rest.strip_prefix(':')?))),
        }
    } else {
        match hp.split_once(':') {
            Some((h, p)) => Some((h, Some(p))),
            None => Some((hp, None)),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretUrl").field(&self.redacted).finish()
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLACK: &str = "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXsecretXXXX";

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(
            "file:/tmp/out.jsonl".parse::<SinkSpec>().unwrap(),
            SinkSpec::File("/tmp/out.jsonl".into())
        );
        match format!("slack:{SLACK}").parse::<SinkSpec>().unwrap() {
            SinkSpec::Slack(u) => {
                assert_eq!(u.expose(), SLACK);
                assert!(u.is_https());
            }
            other => panic!("{other:?}"),
        }
        match "WEBHOOK:http://127.0.0.1:8080/hook?k=v"
            .parse::<SinkSpec>()
            .unwrap()
        {
            SinkSpec::Webhook(u) => {
                assert_eq!(u.redacted(), "http://127.0.0.1:8080/…");
                assert!(!u.is_https());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn redacts_everything_but_scheme_host_and_port() {
        let spec: SinkSpec = format!("slack:{SLACK}").parse().unwrap();
        assert_eq!(spec.to_string(), "slack:https://hooks.slack.com/…");
        let dbg = format!("{spec:?}");
        assert!(
            !dbg.contains("secret") && !dbg.contains("T0AAAAAAA"),
            "{dbg}"
        );

        let u =
            SecretUrl::parse("https://user:hunter22@example.com:8443/p/tok3nvalue?sig=abcdef1234")
                .unwrap();
        assert_eq!(u.redacted(), "https://example.com:8443/…");
        let u6 = SecretUrl::parse("http://[::1]:9000/x").unwrap();
        assert_eq!(u6.redacted(), "http://[::1]:9000/…");
        let bare = SecretUrl::parse("https://example.com").unwrap();
        assert_eq!(bare.redacted(), "https://example.com/…");
    }

    #[test]
    fn scrub_removes_the_url_and_its_parts() {
        let u = SecretUrl::parse(SLACK).unwrap();
        for echoed in [
            format!("error sending request for url ({SLACK})"),
            "Cannot POST /services/T0AAAAAAA/B0BBBBBBB/XXXXsecretXXXX".to_string(),
            "invalid_token XXXXsecretXXXX".to_string(),
        ] {
            let out = u.scrub(&echoed);
            assert!(
                !out.contains("secret") && !out.contains("B0BBBBBBB"),
                "{out}"
            );
        }
        let u = SecretUrl::parse("https://user:hunter22@example.com/").unwrap();
        assert!(!u
            .scrub("auth failed for user:hunter22")
            .contains("hunter22"));
    }

    #[test]
    fn bad_specs_name_the_forms_and_never_the_url() {
        for bad in [
            "",
            "stdout",
            "file:",
            "webhook:",
            "webhook:ftp://example.com/secretpath",
            "webhook:example.com/secretpath",
            "slack:https:///secretpath",
            "slack:https://host:99999/secretpath",
            "slack:https://host:abc/secretpath",
            "https://hooks.slack.com/services/secretpath",
            "kafka:broker:9092",
            "webhook:https://host/secret path",
            "syslog:udp://host",
            "syslog:ftp://host:514",
            "elasticsearch:https://host:9200/",
            "hec:host/secretpath",
        ] {
            let e = bad.parse::<SinkSpec>().unwrap_err().to_string();
            assert!(
                e.contains("file:PATH, webhook:URL, slack:URL, hec:URL"),
                "{bad}: {e}"
            );
            assert!(!e.contains("secret"), "{bad}: {e}");
        }
        let e = "kafka:broker:9092"
            .parse::<SinkSpec>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"kafka\""), "{e}");
    }
}
