//! The generic webhook payload: `{"source":"credwarden","count":n,"findings":[<OCSF 2004>...]}`, one
//! per batch, POSTed as `application/json`.

use credwarden_model::ocsf::DetectionFinding;
use credwarden_model::Finding;
use serde::Serialize;

/// `source` of every batch.
pub const SOURCE: &str = "credwarden";

#[derive(Serialize)]
struct Batch {
    source: &'static str,
    count: usize,
    findings: Vec<DetectionFinding>,
}

/// The request body for one batch.
pub(crate) fn encode(findings: &[Finding]) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Batch {
        source: SOURCE,
        count: findings.len(),
        findings: findings
            .iter()
            .map(DetectionFinding::from_finding)
            .collect(),
    })
}
