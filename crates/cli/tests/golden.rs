//! Golden-file tests that run the real `credwarden` binary, in the spirit of chainsaw's.
//!
//! Each folder under `tests/cases/` holds `args` (one argument per line, paths relative to the
//! workspace root; `#` starts a comment line), optional `env` (KEY=VALUE lines), and the expected
//! `stdout`, `stderr` (optional: compared only when present) and `code`. Run with
//! `UPDATE_GOLDEN=1 cargo test -p credwarden --test golden` to rewrite the expectations after a
//! deliberate change, then review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Run times (`in 0.31 s`) vary from run to run: written as `in <time>`.
fn timeless(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(" in ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits > 0 && rest[digits..].starts_with(" s") {
            out.push_str("<time>");
            rest = &rest[digits + 2..];
        }
    }
    out.push_str(rest);
    out
}

fn run_case(dir: &Path) -> Result<(), String> {
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).ok();
    let args: Vec<String> = read("args")
        .ok_or("missing args file")?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_credwarden"));
    cmd.current_dir(root())
        .args(&args)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .env_remove("CREDWARDEN_CONFIG");
    for line in read("env")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains('='))
    {
        let (k, v) = line.split_once('=').unwrap();
        cmd.env(k.trim(), v.trim());
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = timeless(&String::from_utf8_lossy(&out.stderr));
    let code = format!("{}\n", out.status.code().unwrap_or(-1));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(dir.join("stdout"), &stdout).unwrap();
        std::fs::write(dir.join("stderr"), &stderr).unwrap();
        std::fs::write(dir.join("code"), &code).unwrap();
        return Ok(());
    }
    let mut errs = Vec::new();
    for (name, got) in [("code", &code), ("stdout", &stdout), ("stderr", &stderr)] {
        match read(name) {
            Some(want) if &want != got => errs.push(format!(
                "--- {name} differs\n--- want:\n{want}\n--- got:\n{got}"
            )),
            None if name != "stderr" => errs.push(format!("missing expected `{name}` file")),
            _ => {}
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

#[test]
fn golden_cases() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 5,
        "golden cases not found in {}",
        cases.display()
    );
    let mut failed = Vec::new();
    for d in &dirs {
        if let Err(e) = run_case(d) {
            failed.push(format!(
                "case {}:\n{e}",
                d.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} golden cases failed:\n{}",
        failed.len(),
        dirs.len(),
        failed.join("\n\n")
    );
}
