//! The GCP rule pack against Panther's GCP audit-log rule tests (shared corpora), where a Panther rule
//! means the same as one of ours; prints the agreement table and holds a floor (Panther's expectations
//! follow Panther's logic, not ground truth).

use credwarden_ingest::gcp_audit;
use std::sync::Arc;

#[path = "../../ingest/tests/support/corpora.rs"]
mod corpora;

#[path = "support/agreement.rs"]
mod agreement;

const SAME: &[(&str, &str)] = &[
    ("GCP.Log.Bucket.Or.Sink.Deleted", "CW-G001"),
    ("GCP.Logging.Sink.Modified", "CW-G001"),
    ("GCP.VPC.Flow.Logs.Disabled", "CW-G002"),
    ("GCP.Service.Account.or.Keys.Created", "CW-G003"),
    ("GCP.GCS.Public", "CW-G004"),
    ("GCP.Project.ExternalUserOwnershipInvite", "CW-G005"),
    (
        "GCP.IAM.serviceAccounts.getAccessToken.Privilege.Escalation",
        "CW-G008",
    ),
    (
        "GCP.IAM.serviceAccounts.signJwt.Privilege.Escalation",
        "CW-G008",
    ),
];

#[test]
fn agreement_with_panther_gcp_where_the_rules_mean_the_same() {
    let Some(dir) = corpora::dir() else { return };
    let text = std::fs::read_to_string(dir.join("panther-gcp-auditlog/rule-tests.jsonl")).unwrap();
    let file: Arc<str> = Arc::from("panther");
    let (agree, total) =
        agreement::agreement(&text, SAME, &|v, n| gcp_audit::normalize(v, &file, n).ok());
    assert!(
        total >= 15,
        "expected the mapped Panther tests, found {total}"
    );
    assert!(
        agree * 100 >= total * 75,
        "agreement {agree}/{total} below 75 %"
    );
}
