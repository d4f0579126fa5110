//! Delivers findings to sinks: OCSF JSON lines appended to a file, batches of OCSF findings POSTed to a
//! generic JSON webhook, or Slack incoming-webhook messages.
//!
//! * [`SinkSpec`] — what the CLI's `file:PATH` / `webhook:URL` / `slack:URL` names (spec.rs).
//! * [`open`] — a [`Sink`] for a spec, with [`Options`] for retries, backoff, timeout and batch size.
//! * http.rs — batching and retries shared by the HTTP sinks; webhook.rs and slack.rs — their payloads;
//!   file.rs — the file sink; error.rs — [`SinkError`].
//!
//! Webhook URLs are secrets: a sink's [`Sink::name`], its errors and its log lines show only
//! `scheme://host[:port]/…` (see [`SecretUrl`]).

mod bulk;
mod error;
mod file;
mod hec;
mod http;
mod slack;
mod spec;
pub mod syslog;
mod webhook;

pub use error::{SinkError, EXPECTED_FORMS};
pub use file::sync_to_disk;
pub use http::{MAX_BACKOFF, MAX_RETRY_AFTER};
pub use slack::MAX_BLOCKS;
pub use spec::{SecretUrl, SinkSpec};
pub use webhook::SOURCE;

use credwarden_model::Finding;
use std::time::Duration;

/// Somewhere findings can be delivered.
pub trait Sink: Send {
    /// The sink's name for messages, e.g. `slack:https://hooks.slack.com/…`: never a secret.
    fn name(&self) -> String;

    /// Deliver `findings`, in batches where the sink batches. Returns how many were sent and how many
    /// attempts (HTTP requests, file writes) that took; nothing to send makes no attempt. On failure,
    /// the error says how many findings earlier batches delivered.
    fn send(&mut self, findings: &[Finding]) -> Result<Delivery, SinkError>;
}

/// What a [`Sink::send`] achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Findings delivered.
    pub sent: usize,
    /// Attempts made in all, retries included.
    pub attempts: u32,
}

/// Delivery settings (HTTP sinks; the file sink has nothing to tune).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Retries after the first attempt of each batch (default 5, so at most 6 attempts).
    pub retries: u32,
    /// Wait before the first retry; doubled each retry, capped at [`MAX_BACKOFF`] (default 500 ms).
    pub backoff_initial: Duration,
    /// Limit on one request, connect to last byte of the response (default 10 s).
    pub timeout: Duration,
    /// Most findings per request (default 100).
    pub batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            retries: 5,
            backoff_initial: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
            batch: 100,
        }
    }
}

/// Open the sink `spec` names: the file is opened (and created) now; HTTP sinks connect on send.
pub fn open(spec: &SinkSpec, opts: &Options) -> Result<Box<dyn Sink>, SinkError> {
    if opts.batch == 0 {
        return Err(SinkError::Options("batch size must be at least 1".into()));
    }
    if opts.timeout.is_zero() {
        return Err(SinkError::Options("timeout must be more than 0".into()));
    }
    Ok(match spec {
        SinkSpec::File(path) => Box::new(file::FileSink::open(path)?),
        SinkSpec::Webhook(url) => Box::new(http::HttpSink::new(
            spec.to_string(),
            url.clone(),
            opts,
            webhook::encode,
        )),
        SinkSpec::Slack(url) => Box::new(http::HttpSink::new(
            spec.to_string(),
            url.clone(),
            opts,
            slack::encode,
        )),
        SinkSpec::Hec(url) => Box::new(hec::sink(spec.to_string(), url.clone(), opts)?),
        SinkSpec::Bulk(url) => Box::new(bulk::BulkSink::new(spec.to_string(), url, opts)?),
        SinkSpec::Syslog(t, addr) => Box::new(syslog::SyslogSink::new(
            spec.to_string(),
            t.clone(),
            addr.clone(),
            opts,
        )),
    })
}
