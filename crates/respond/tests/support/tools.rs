//! What the offboarding tests need from the machine, said once: programs on PATH, the rule for a
//! missing one (fails under CI=true, skipped with a message elsewhere), and the journal count that
//! shows a second run changed nothing.
#![allow(dead_code)] // each test file uses a part

use credwarden_respond::journal::{Journal, Phase};

/// A program on PATH.
pub fn which(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(bin))
            .find(|p| p.is_file())
    })
}

/// Is what a test needs here? Under CI=true it must be (the test fails); elsewhere the test is
/// skipped with a message naming what is missing.
pub fn needed(present: bool, what: &str) -> bool {
    if !present {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but {what} is missing"
        );
        eprintln!("skipped: {what} is missing");
    }
    present
}

/// How many times something was applied, per the journal.
pub fn applied(j: &Journal) -> usize {
    j.entries()
        .iter()
        .filter(|e| e.phase == Phase::Applied)
        .count()
}
