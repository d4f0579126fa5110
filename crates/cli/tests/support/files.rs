//! Files on disk for the CLI tests. Included by path (`#[path = "support/files.rs"] mod files;`).

use std::path::{Path, PathBuf};

/// Every file under `d` (recursively), sorted.
pub fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
