//! The GCP rule pack against Panther's GCP audit-log rule tests (shared corpora), where a Panther rule
//! means the same as one of ours; prints the agreement table and holds a floor (Panther's expectations
//! follow Panther's logic, not ground truth).

use credwarden_ingest::gcp_audit;
use std::collections::BTreeMap;
use std::sync::Arc;

#[path = "../../ingest/tests/support/corpora.rs"]
mod corpora;

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
    let same: BTreeMap<&str, &str> = SAME.iter().copied().collect();
    let file: Arc<str> = Arc::from("panther-gcp");
    let mut table: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(ours) = same.get(v["rule"].as_str().unwrap_or("")) else {
            continue;
        };
        let expected = v["expected"].as_bool().unwrap();
        let Ok(ev) = gcp_audit::normalize(&v["event"], &file, n as u64 + 1) else {
            continue;
        };
        let mut out = Vec::new();
        for d in credwarden_detect::all().iter_mut() {
            d.on_event(&ev, &mut out);
        }
        let fired = out.iter().any(|f| f.rule.id == *ours);
        let e = table
            .entry(format!("{} ~ {ours}", v["rule"].as_str().unwrap()))
            .or_default();
        match (fired, expected) {
            (a, b) if a == b => e.0 += 1,
            (true, false) => e.1 += 1,
            _ => e.2 += 1,
        }
    }
    let (mut agree, mut total) = (0, 0);
    eprintln!("{:<66} agree  we-only  panther-only", "Panther rule ~ ours");
    for (k, (a, x, y)) in &table {
        eprintln!("{k:<66} {a:>5} {x:>8} {y:>12}");
        agree += a;
        total += a + x + y;
    }
    eprintln!("agreement {agree}/{total}");
    assert!(
        total >= 15,
        "expected the mapped Panther GCP tests, found {total}"
    );
    assert!(
        agree * 100 >= total * 75,
        "agreement {agree}/{total} below 75 %"
    );
}
