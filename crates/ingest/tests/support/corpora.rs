//! Where the shared corpora of real logs are: `CREDWARDEN_CORPORA`, else `../shared/corpora` beside the
//! repository. Absent corpora fail the calling test under `CI=true` and skip it (with a message)
//! elsewhere. Included by path from every crate's corpus tests.

use std::path::PathBuf;

/// The corpora folder, or `None` to skip (never `None` under `CI=true`: that panics instead).
pub fn dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CREDWARDEN_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "corpora not found at {} (set CREDWARDEN_CORPORA)",
            dir.display()
        );
    }
    eprintln!(
        "skipping: corpora not found at {} (set CREDWARDEN_CORPORA to run)",
        dir.display()
    );
    None
}
