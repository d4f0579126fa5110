//! Our rules against Panther's CloudTrail rule tests (shared corpora), where a Panther rule means the
//! same as one of ours: each test event goes through every detector, and whether our rule fired is
//! compared with whether Panther's should. Panther's expectations follow Panther's logic, not ground
//! truth, so the test prints the agreement table and holds a floor rather than demanding equality.

use credwarden_ingest::cloudtrail;
use std::sync::Arc;

#[path = "../../ingest/tests/support/corpora.rs"]
mod corpora;

#[path = "support/agreement.rs"]
mod agreement;

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
    let file: Arc<str> = Arc::from("panther");
    let (agree, total) = agreement::agreement(&text, SAME, &|v, n| {
        cloudtrail::normalize(v.clone(), &file, n).ok()
    });
    assert!(
        total >= 40,
        "expected the mapped Panther tests, found {total}"
    );
    assert!(
        agree * 100 >= total * 85,
        "agreement {agree}/{total} below 85 %"
    );
}
