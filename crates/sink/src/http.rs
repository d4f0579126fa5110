//! HTTP delivery shared by the webhook and Slack sinks: [`HttpSink`] splits findings into batches,
//! encodes each with its payload function and POSTs it through [`Poster`], which retries.
//!
//! Retried, with exponential backoff (initial × 2ⁿ, capped at [`MAX_BACKOFF`], no jitter): connection
//! errors, timeouts, HTTP 408, 429 and 5xx. A `Retry-After: <seconds>` on 429 or 503 replaces the
//! backoff for that wait, capped at [`MAX_RETRY_AFTER`]. Any other status (other 4xx, a redirect —
//! never followed, a POST must not be replayed elsewhere) fails at once with up to 200 characters of
//! the body. Every error passes through [`SecretUrl::scrub`] before it is shown.

use crate::error::SinkError;
use crate::spec::SecretUrl;
use crate::{Delivery, Options, Sink};
use credwarden_model::Finding;
use std::io::Read;
use std::thread;
use std::time::Duration;

/// Longest wait between two attempts when backing off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Characters of a rejecting response's body quoted in the error.
const BODY_SNIPPET_CHARS: usize = 200;
/// Bytes of a response body read at most.
const BODY_READ_LIMIT: u64 = 8 * 1024;

/// Builds a batch's request body.
pub(crate) type Encode = fn(&[Finding]) -> Result<Vec<u8>, serde_json::Error>;

/// A sink that POSTs JSON batches to a URL.
pub(crate) struct HttpSink {
    name: String,
    batch: usize,
    encode: Encode,
    poster: Poster,
}

impl HttpSink {
    pub(crate) fn new(name: String, url: SecretUrl, opts: &Options, encode: Encode) -> Self {
        Self::with_poster(Poster::new(name.clone(), url, opts), name, opts, encode)
    }

    /// A sink posting through `poster` (its own content type and headers).
    pub(crate) fn with_poster(
        poster: Poster,
        name: String,
        opts: &Options,
        encode: Encode,
    ) -> Self {
        Self {
            poster,
            name,
            batch: opts.batch,
            encode,
        }
    }
}

impl Sink for HttpSink {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn send(&mut self, findings: &[Finding]) -> Result<Delivery, SinkError> {
        let total = findings.len();
        let mut delivery = Delivery::default();
        for chunk in findings.chunks(self.batch) {
            let body = (self.encode)(chunk)?;
            match self.poster.post(&body) {
                Ok(attempts) => {
                    delivery.attempts += attempts;
                    delivery.sent += chunk.len();
                    tracing::debug!(sink = %self.name, findings = chunk.len(), attempts, "batch delivered");
                }
                Err(failure) => return Err(failure.into_error(&self.name, delivery.sent, total)),
            }
        }
        Ok(delivery)
    }
}

/// POSTs a body to one URL, retrying what may succeed later.
pub(crate) struct Poster {
    name: String,
    url: SecretUrl,
    agent: ureq::Agent,
    retries: u32,
    backoff_initial: Duration,
    content_type: &'static str,
    /// Extra headers (an `Authorization` value among them: never shown).
    headers: Vec<(&'static str, String)>,
    /// The body of the last successful answer (read by sinks whose answer says what was taken).
    last_body: std::cell::RefCell<String>,
}

/// How one attempt ended.
enum Attempt {
    Delivered,
    Retry {
        why: String,
        retry_after: Option<Duration>,
    },
    Fatal(Failure),
}

/// Why a POST failed for good.
pub(crate) enum Failure {
    /// A status retrying cannot fix.
    Rejected {
        status: u16,
        body: String,
        attempts: u32,
    },
    /// Retries exhausted.
    GaveUp { attempts: u32, last: String },
}

impl Failure {
    fn set_attempts(&mut self, n: u32) {
        match self {
            Self::Rejected { attempts, .. } | Self::GaveUp { attempts, .. } => *attempts = n,
        }
    }

    pub(crate) fn into_error(self, sink: &str, delivered: usize, total: usize) -> SinkError {
        let sink = sink.to_string();
        match self {
            Self::Rejected {
                status,
                body,
                attempts,
            } => SinkError::Rejected {
                sink,
                status,
                body,
                attempts,
                delivered,
                total,
            },
            Self::GaveUp { attempts, last } => SinkError::GaveUp {
                sink,
                attempts,
                last,
                delivered,
                total,
            },
        }
    }
}

impl Poster {
    fn new(name: String, url: SecretUrl, opts: &Options) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(opts.timeout))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(format!("credwarden/{}", credwarden_model::PRODUCT_VERSION))
            .build();
        Self {
            name,
            url,
            agent: config.into(),
            retries: opts.retries,
            backoff_initial: opts.backoff_initial,
            content_type: "application/json",
            headers: Vec::new(),
            last_body: Default::default(),
        }
    }

    /// The same poster sending `content_type` with `headers`.
    pub(crate) fn with(
        name: String,
        url: SecretUrl,
        opts: &Options,
        content_type: &'static str,
        headers: Vec<(&'static str, String)>,
    ) -> Self {
        let mut p = Self::new(name, url, opts);
        p.content_type = content_type;
        p.headers = headers;
        p
    }

    /// The body of the last answer that delivered.
    pub(crate) fn last_body(&self) -> String {
        self.last_body.borrow().clone()
    }

    /// The wait before attempt `n + 1` (for sinks that retry parts of a batch themselves).
    pub(crate) fn backoff(&self, n: u32) -> Duration {
        backoff(self.backoff_initial, n)
    }

    /// Attempts a sink may make.
    pub(crate) fn retries(&self) -> u32 {
        self.retries
    }

    /// POST `body` as JSON; the number of attempts it took, or why it failed.
    pub(crate) fn post(&self, body: &[u8]) -> Result<u32, Failure> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(body) {
                Attempt::Delivered => return Ok(attempts),
                Attempt::Fatal(mut failure) => {
                    failure.set_attempts(attempts);
                    return Err(failure);
                }
                Attempt::Retry { why, retry_after } => {
                    if attempts > self.retries {
                        return Err(Failure::GaveUp {
                            attempts,
                            last: why,
                        });
                    }
                    let wait =
                        retry_after.unwrap_or_else(|| backoff(self.backoff_initial, attempts - 1));
                    tracing::warn!(
                        sink = %self.name,
                        attempt = attempts,
                        of = self.retries + 1,
                        "{why}; retrying in {wait:?}"
                    );
                    thread::sleep(wait);
                }
            }
        }
    }

    fn attempt(&self, body: &[u8]) -> Attempt {
        let mut req = self
            .agent
            .post(self.url.expose())
            .header("Content-Type", self.content_type);
        for (k, v) in &self.headers {
            req = req.header(*k, v);
        }
        let result = req.send(body);
        let mut response = match result {
            Ok(r) => r,
            Err(e) => {
                let why = self.url.scrub(&e.to_string());
                return if retryable(&e) {
                    Attempt::Retry {
                        why,
                        retry_after: None,
                    }
                } else {
                    // Not fixable by waiting (bad certificate, malformed request): report it now.
                    Attempt::Fatal(Failure::GaveUp {
                        attempts: 0,
                        last: format!("{why} (not retried)"),
                    })
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = retry_after(
            status,
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
        );
        if (200..=299).contains(&status) {
            let mut raw = Vec::new();
            let _ = response
                .body_mut()
                .as_reader()
                .take(16 << 20)
                .read_to_end(&mut raw);
            *self.last_body.borrow_mut() = String::from_utf8_lossy(&raw).into_owned();
            return Attempt::Delivered;
        }
        let snippet = self.snippet(&mut response);
        match status {
            408 | 429 | 500..=599 => Attempt::Retry {
                why: format!("HTTP {status}{snippet}"),
                retry_after,
            },
            _ => Attempt::Fatal(Failure::Rejected {
                status,
                body: snippet,
                attempts: 0,
            }),
        }
    }

    /// `": <first 200 chars of the body, whitespace folded, scrubbed>"`, or empty.
    fn snippet(&self, response: &mut ureq::http::Response<ureq::Body>) -> String {
        let mut raw = Vec::new();
        // A body we cannot read is no reason to lose the status: keep what was read.
        let _ = response
            .body_mut()
            .as_reader()
            .take(BODY_READ_LIMIT)
            .read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw);
        let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let scrubbed = self.url.scrub(&folded);
        let mut out: String = scrubbed.chars().take(BODY_SNIPPET_CHARS).collect();
        if out.is_empty() {
            return out;
        }
        if scrubbed.chars().nth(BODY_SNIPPET_CHARS).is_some() {
            out.push('…');
        }
        format!(": {out}")
    }
}

/// Errors worth another attempt: the network, not the request, was at fault.
fn retryable(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Protocol(_)
            | ureq::Error::ConnectProxyFailed(_)
    )
}

/// The wait a 429 or 503 response asks for with `Retry-After: <seconds>`, capped at
/// [`MAX_RETRY_AFTER`]. `None` for other statuses and for the HTTP-date form (the backoff applies).
pub(crate) fn retry_after(status: u16, header: Option<&str>) -> Option<Duration> {
    if !matches!(status, 429 | 503) {
        return None;
    }
    let secs = header?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// Wait before retry `n` (0-based): `initial × 2ⁿ`, capped at [`MAX_BACKOFF`].
pub(crate) fn backoff(initial: Duration, n: u32) -> Duration {
    initial
        .checked_mul(2u32.saturating_pow(n))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let ms = Duration::from_millis;
        assert_eq!(backoff(ms(500), 0), ms(500));
        assert_eq!(backoff(ms(500), 1), ms(1000));
        assert_eq!(backoff(ms(500), 4), ms(8000));
        assert_eq!(backoff(ms(500), 6), MAX_BACKOFF);
        assert_eq!(backoff(ms(500), 40), MAX_BACKOFF);
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_and_capped() {
        let secs = Duration::from_secs;
        assert_eq!(retry_after(429, Some("0")), Some(secs(0)));
        assert_eq!(retry_after(429, Some(" 7 ")), Some(secs(7)));
        assert_eq!(retry_after(503, Some("3600")), Some(MAX_RETRY_AFTER));
        assert_eq!(
            retry_after(429, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(retry_after(429, None), None);
        assert_eq!(retry_after(500, Some("5")), None);
    }
}
