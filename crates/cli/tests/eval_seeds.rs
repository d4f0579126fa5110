//! The detection figures cannot quietly regress: `credwarden eval --seeds 10` on a small company
//! (every seed its own company, attacker and drift), compared with the saved baseline
//! `tests/data/eval-baseline.json`, without an issuance log (as at Coupang). The test fails when recall, precision, false findings per
//! 1,000 credential-days, a scenario's detection rate or its median time to detect is worse than
//! the baseline by more than the baseline's own spread. After an intended change, regenerate the
//! baseline with `UPDATE_EVAL_BASELINE=1 cargo test -p credwarden --test eval_seeds` and say why in
//! the commit.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn ten_seeds_do_not_regress() {
    let baseline = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/eval-baseline.json");
    let update = std::env::var_os("UPDATE_EVAL_BASELINE").is_some();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_credwarden"));
    cmd.args([
        "eval",
        "--seeds",
        "10",
        "--days",
        "28",
        "--identities",
        "40",
        "--members",
        "2000",
        "--logins-per-day",
        "250",
        // The Coupang case: no issuance log, so the forged tokens are found from the gateway
        // alone (with it, CW-D007 finds them at the first request; its own tests cover that).
        "--no-issuance-log",
        "--format",
        "json",
        "--out",
    ])
    .arg(dir.path());
    if update {
        cmd.arg("--write-baseline").arg(&baseline);
    } else {
        cmd.arg("--baseline").arg(&baseline);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["seeds"].as_array().unwrap().len(), 10);
    // Whatever the baseline says, the forged-token campaign is found in every seed.
    let a = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == "a")
        .unwrap();
    assert_eq!(a["detection_rate"], 1.0, "{stderr}");
    if !update {
        assert!(stderr.contains("no regression against"), "{stderr}");
    }
}
