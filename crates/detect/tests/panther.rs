//! Our rules against Panther's CloudTrail rule tests (shared corpora), where a Panther rule means the
//! same as one of ours: each test event goes through every detector, and whether our rule fired is
//! compared with whether Panther's should. Panther's expectations follow Panther's logic, not ground
//! truth, so the test prints the agreement table and holds a floor rather than demanding equality.

use credwarden_ingest::cloudtrail;
use std::collections::BTreeMap;
use std::sync::Arc;

#[path = "../../ingest/tests/support/corpora.rs"]
mod corpora;

const SAME: &[(&str, &str)] = &[
    ("AWS.CloudTrail.Stopped", "CW-D001"),
    ("AWS.CloudTrail.EventSelectorsDisabled", "CW-D001"),
    ("AWS.CloudTrail.DNSLogsDeleted", "CW-D001"),
    ("AWS.CloudTrail.SnapshotMadePublic", "CW-D002"),
    ("AWS.CloudTrail.AMIModifiedForPublicAccess", "CW-D002"),
    ("AWS.RDS.SnapshotShared", "CW-D002"),
    ("AWS.IAM.Backdoor.User.Keys", "CW-D003"),
    ("AWS.IAM.AttachAdminUserPolicy", "CW-D004"),
    ("AWS.IAM.AttachAdminRolePolicy", "CW-D004"),
    ("AWS.CloudTrail.LoginProfileCreatedOrModified", "CW-D004"),
    ("AWS.Console.RootLogin", "CW-D005"),
    ("AWS.Root.Activity", "CW-D005"),
    ("AWS.Console.LoginWithoutMFA", "CW-D010"),
    ("AWS.CloudTrail.AttemptToLeaveOrg", "CW-R004"),
    ("AWS.EC2.LaunchUnusualEC2Instances", "CW-R005"),
    ("AWS.EC2.Startup.Script.Change", "CW-R006"),
    ("AWS.Potential.Backdoor.Lambda", "CW-R008"),
    ("AWS.IAM.BackdoorRole", "CW-R010"),
    ("AWS.Lambda.UpdateFunctionCode", "CW-R018"),
];

#[test]
fn agreement_with_panther_where_the_rules_mean_the_same() {
    let Some(dir) = corpora::dir() else { return };
    let text = std::fs::read_to_string(dir.join("panther-cloudtrail/cloudtrail-rule-tests.jsonl"))
        .unwrap();
    let same: BTreeMap<&str, &str> = SAME.iter().copied().collect();
    let file: Arc<str> = Arc::from("panther");
    // rule → (agree, disagree: we fire but Panther would not, disagree: Panther fires and we do not)
    let mut table: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(ours) = same.get(v["rule"].as_str().unwrap_or("")) else {
            continue;
        };
        let expected = v["expected"].as_bool().unwrap();
        let Ok(ev) = cloudtrail::normalize(v["event"].clone(), &file, n as u64 + 1) else {
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
    eprintln!("{:<62} agree  we-only  panther-only", "Panther rule ~ ours");
    for (k, (a, x, y)) in &table {
        eprintln!("{k:<62} {a:>5} {x:>8} {y:>12}");
        agree += a;
        total += a + x + y;
    }
    eprintln!("agreement {agree}/{total}");
    assert!(
        total >= 40,
        "expected the mapped Panther tests, found {total}"
    );
    assert!(
        agree * 100 >= total * 85,
        "agreement {agree}/{total} below 85 %"
    );
}
