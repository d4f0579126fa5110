//! Elasticsearch / OpenSearch bulk: each batch POSTed to `<URL>/_bulk` as NDJSON `index` actions
//! into the index the URL's path names (`https://es:9200/credwarden-findings`), each document an
//! OCSF Detection Finding with the finding's fingerprint as its `_id` — so sending a finding twice
//! writes the same document, never a second one. An API key comes from the environment
//! (`CREDWARDEN_ES_API_KEY`, sent as `Authorization: ApiKey …`), or user and password in the URL.
//!
//! A bulk answer may say that some documents failed while the others were taken (`"errors": true`,
//! a status per item): only the failed ones are sent again — those a wait may fix (429, 5xx), with
//! backoff; any other failure is an error naming the item. Documents taken are not sent twice.

use crate::error::SinkError;
use crate::http::Poster;
use crate::spec::SecretUrl;
use crate::{Delivery, Options, Sink};
use credwarden_model::ocsf::DetectionFinding;
use credwarden_model::Finding;

/// The environment variable holding an API key.
pub const API_KEY_ENV: &str = "CREDWARDEN_ES_API_KEY";

/// The bulk sink.
pub(crate) struct BulkSink {
    name: String,
    index: String,
    batch: usize,
    poster: Poster,
}

/// `(index, the _bulk URL)` of a sink URL `scheme://host[:port]/index`.
pub(crate) fn split(url: &str) -> Result<(String, String), SinkError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| SinkError::spec("the URL needs a scheme"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let index = path.trim_matches('/');
    if index.is_empty() || index.contains('/') || index.starts_with('_') {
        return Err(SinkError::spec(
            "the bulk URL's path must name the index (https://host:9200/INDEX)",
        ));
    }
    Ok((index.to_string(), format!("{scheme}://{host}/_bulk")))
}

impl BulkSink {
    pub(crate) fn new(name: String, url: &SecretUrl, opts: &Options) -> Result<Self, SinkError> {
        let (index, bulk) = split(url.expose())?;
        let mut headers = Vec::new();
        if let Ok(k) = std::env::var(API_KEY_ENV) {
            headers.push(("Authorization", format!("ApiKey {k}")));
        }
        Ok(Self {
            poster: Poster::with(
                name.clone(),
                SecretUrl::parse(&bulk)?,
                opts,
                "application/x-ndjson",
                headers,
            ),
            name,
            index,
            batch: opts.batch,
        })
    }

    fn encode(&self, docs: &[&Finding]) -> Result<Vec<u8>, SinkError> {
        let mut out = Vec::new();
        for f in docs {
            serde_json::to_writer(
                &mut out,
                &serde_json::json!({"index": {"_index": self.index, "_id": f.fingerprint()}}),
            )?;
            out.push(b'\n');
            serde_json::to_writer(&mut out, &DetectionFinding::from_finding(f))?;
            out.push(b'\n');
        }
        Ok(out)
    }
}

/// Per item of a bulk answer: `None` taken, `Some((status, reason))` failed.
fn failures(answer: &str, n: usize) -> Result<Vec<Option<(u16, String)>>, String> {
    let v: serde_json::Value =
        serde_json::from_str(answer).map_err(|e| format!("not a bulk answer: {e}"))?;
    let items = v
        .get("items")
        .and_then(|i| i.as_array())
        .ok_or("a bulk answer without items")?;
    if items.len() != n {
        return Err(format!("{} items answered for {n} sent", items.len()));
    }
    Ok(items
        .iter()
        .map(|it| {
            let op = it.as_object().and_then(|o| o.values().next());
            let status = op
                .and_then(|o| o.get("status"))
                .and_then(|s| s.as_u64())
                .unwrap_or(0) as u16;
            if (200..300).contains(&status) {
                None
            } else {
                let why = op
                    .and_then(|o| o.get("error"))
                    .map(|e| {
                        e.get("reason")
                            .and_then(|r| r.as_str())
                            .map(str::to_string)
                            .unwrap_or_else(|| e.to_string())
                    })
                    .unwrap_or_default();
                Some((status, why.chars().take(200).collect()))
            }
        })
        .collect())
}

impl Sink for BulkSink {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn send(&mut self, findings: &[Finding]) -> Result<Delivery, SinkError> {
        let total = findings.len();
        let mut delivery = Delivery::default();
        for chunk in findings.chunks(self.batch) {
            let mut pending: Vec<&Finding> = chunk.iter().collect();
            let mut round = 0;
            while !pending.is_empty() {
                let body = self.encode(&pending)?;
                let attempts = self
                    .poster
                    .post(&body)
                    .map_err(|f| f.into_error(&self.name, delivery.sent, total))?;
                delivery.attempts += attempts;
                let answer = self.poster.last_body();
                let items = failures(&answer, pending.len()).map_err(|why| SinkError::GaveUp {
                    sink: self.name.clone(),
                    attempts: attempts + round,
                    last: why,
                    delivered: delivery.sent,
                    total,
                })?;
                let mut again = Vec::new();
                for (f, item) in pending.iter().zip(items) {
                    match item {
                        None => delivery.sent += 1,
                        Some((status, _)) if status == 429 || status >= 500 => again.push(*f),
                        Some((status, why)) => {
                            return Err(SinkError::Rejected {
                                sink: self.name.clone(),
                                status,
                                body: format!(": document {}: {why}", f.fingerprint()),
                                attempts,
                                delivered: delivery.sent,
                                total,
                            })
                        }
                    }
                }
                if !again.is_empty() {
                    round += 1;
                    if round > self.poster.retries() {
                        return Err(SinkError::GaveUp {
                            sink: self.name.clone(),
                            attempts: round,
                            last: format!("{} document(s) still refused for now", again.len()),
                            delivered: delivery.sent,
                            total,
                        });
                    }
                    let wait = self.poster.backoff(round - 1);
                    tracing::warn!(sink = %self.name, "{} of {} document(s) to send again in {wait:?}", again.len(), pending.len());
                    std::thread::sleep(wait);
                }
                pending = again;
            }
        }
        Ok(delivery)
    }
}
