//! Splunk HTTP Event Collector: each batch POSTed to the collector's `/services/collector/event`
//! as concatenated JSON events (`{"time","host","source","sourcetype","event"}`, the event an OCSF
//! Detection Finding), with `Authorization: Splunk <token>` — the token from the environment
//! (`CREDWARDEN_HEC_TOKEN`), never the command line. HEC answers `{"text":"Success","code":0}`;
//! 503 (server busy) and other 5xx are retried like the webhook's.

use crate::error::SinkError;
use crate::http::{HttpSink, Poster};
use crate::spec::SecretUrl;
use crate::Options;
use credwarden_model::ocsf::DetectionFinding;
use credwarden_model::Finding;

/// The environment variable holding the HEC token.
pub const TOKEN_ENV: &str = "CREDWARDEN_HEC_TOKEN";

/// The request body for one batch.
pub(crate) fn encode(findings: &[Finding]) -> Result<Vec<u8>, serde_json::Error> {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    for f in findings {
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({
                "time": f.time.as_millisecond() as f64 / 1000.0,
                "host": host,
                "source": "credwarden",
                "sourcetype": "ocsf:detection_finding",
                "event": DetectionFinding::from_finding(f),
            }),
        )?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The HEC sink: the shared HTTP sink, with the token header.
pub(crate) fn sink(name: String, url: SecretUrl, opts: &Options) -> Result<HttpSink, SinkError> {
    let token = std::env::var(TOKEN_ENV).map_err(|_| {
        SinkError::Options(format!(
            "the Splunk HEC sink needs its token in the environment variable {TOKEN_ENV}"
        ))
    })?;
    let poster = Poster::with(
        name.clone(),
        url,
        opts,
        "application/json",
        vec![("Authorization", format!("Splunk {token}"))],
    );
    Ok(HttpSink::with_poster(poster, name, opts, encode))
}
