//! [`SinkError`]: everything that can go wrong parsing a sink spec, opening a sink or delivering to it.
//!
//! Messages name the sink by its redacted form (`webhook:https://host/…`): a webhook URL's path and
//! query often carry a secret token, so no variant ever holds the full URL.

use std::io;
use std::path::PathBuf;

/// The forms a sink spec may take, quoted in every spec error.
pub const EXPECTED_FORMS: &str =
    "expected file:PATH, webhook:URL, slack:URL, hec:URL, elasticsearch:URL/INDEX, opensearch:URL/INDEX (URL starting with http:// or https://), syslog:udp://HOST:PORT, syslog:tcp://HOST:PORT or syslog:tls://HOST:PORT";

/// Why a sink could not be parsed, opened or delivered to.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The sink spec string is malformed.
    #[error("invalid sink spec: {reason}; {EXPECTED_FORMS}")]
    Spec {
        /// What is wrong with it (never the URL itself).
        reason: String,
    },
    /// An option is out of range (e.g. a batch size of 0).
    #[error("invalid sink option: {0}")]
    Options(String),
    /// The output file could not be opened or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Findings could not be encoded as JSON.
    #[error("encoding findings as JSON: {0}")]
    Encode(#[from] serde_json::Error),
    /// The endpoint refused the request with a status that retrying cannot fix (4xx other than
    /// 408/429, or an unexpected redirect).
    #[error(
        "{sink}: rejected with HTTP {status}{body} after {attempts} attempt(s); \
         {delivered} of {total} findings delivered"
    )]
    Rejected {
        /// Redacted sink name.
        sink: String,
        /// HTTP status.
        status: u16,
        /// `: <up to 200 chars of the response body>`, or empty; scrubbed of the URL.
        body: String,
        /// Requests made for the failing batch.
        attempts: u32,
        /// Findings delivered by earlier batches.
        delivered: usize,
        /// Findings in the whole send.
        total: usize,
    },
    /// Every attempt failed with a retryable error (connection, timeout, 408, 429, 5xx), or a
    /// transport error waiting cannot fix (e.g. a bad TLS certificate) ended it early, marked
    /// "not retried".
    #[error(
        "{sink}: gave up after {attempts} attempt(s), last error: {last}; \
         {delivered} of {total} findings delivered"
    )]
    GaveUp {
        /// Redacted sink name.
        sink: String,
        /// Requests made for the failing batch.
        attempts: u32,
        /// The last attempt's error, scrubbed of the URL.
        last: String,
        /// Findings delivered by earlier batches.
        delivered: usize,
        /// Findings in the whole send.
        total: usize,
    },
}

impl SinkError {
    pub(crate) fn spec(reason: impl Into<String>) -> Self {
        Self::Spec {
            reason: reason.into(),
        }
    }
}
