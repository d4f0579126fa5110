//! `credwarden scope` and `credwarden evidence`: what a subject touched, from the evidence archive,
//! and signed bundles of the raw records behind it.

use crate::args::{EvidenceAction, EvidenceArgs, ScopeArgs, ScopeBounds, ScopeFormat};
use credwarden_scope::{Query, Subject};

fn time(flag: &str, s: &Option<String>) -> Result<Option<jiff::Timestamp>, String> {
    s.as_deref()
        .map(|t| {
            // A bare date is midnight UTC.
            credwarden_ingest::parse_timestamp(t).map_err(|e| format!("{flag} {t:?}: {e}"))
        })
        .transpose()
}

fn archive(b: &ScopeBounds) -> Result<&std::path::Path, String> {
    b.archive.as_deref().ok_or_else(|| {
        "--archive DIR is required (the folder `detect --archive` writes)".to_string()
    })
}

fn query(b: &ScopeBounds) -> Result<Query, String> {
    let s = &b.subject;
    let subject = if let Some(v) = &s.credential {
        Subject::Credential(v.clone())
    } else if let Some(v) = &s.identity {
        Subject::Identity(v.clone())
    } else if let Some(v) = &s.signing_key {
        Subject::SigningKey(v.clone())
    } else if let Some(v) = &s.client {
        Subject::Client(v.clone())
    } else if let Some(v) = &s.network {
        Subject::network(v).map_err(|e| e.to_string())?
    } else {
        return Err(
            "name a subject: --credential, --identity, --signing-key, --client or --network".into(),
        );
    };
    let (from, to) = (time("--from", &b.from)?, time("--to", &b.to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(format!("--from {f} is not before --to {t}"));
        }
    }
    Ok(Query {
        subject,
        from,
        to,
        findings: b.findings.clone(),
    })
}

/// `credwarden scope`.
pub fn run(a: &ScopeArgs) -> Result<u8, String> {
    let q = query(&a.bounds)?;
    let r = credwarden_scope::scope(archive(&a.bounds)?, &q).map_err(|e| e.to_string())?;
    let text = match a.format {
        ScopeFormat::Table => credwarden_scope::render::table(&r),
        ScopeFormat::Json => credwarden_scope::render::json(&r),
        ScopeFormat::Html => credwarden_scope::html::page(&r),
    };
    match &a.output {
        Some(p) => std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

/// `credwarden evidence`.
pub fn evidence(a: &EvidenceArgs) -> Result<u8, String> {
    if let Some(EvidenceAction::Verify { dir, public_key }) = &a.action {
        let c = credwarden_scope::evidence::verify(dir, public_key.as_deref())
            .map_err(|e| e.to_string())?;
        if c.problems.is_empty() {
            println!(
                "{}: ok: {} file(s), Merkle root {}, signed by {}",
                dir.display(),
                c.files,
                c.merkle_root.as_deref().unwrap_or("-"),
                c.signed_by.as_deref().unwrap_or("-")
            );
            return Ok(0);
        }
        println!("{}: {} problem(s):", dir.display(), c.problems.len());
        for p in &c.problems {
            println!("  {p}");
        }
        return Ok(crate::EXIT_FINDINGS);
    }
    let b = &a.bounds;
    let key = a.key.as_ref().ok_or("evidence: --key FILE is required (an Ed25519 PKCS#8 PEM key; `credwarden offboard --keygen FILE` makes one)")?;
    let out = a.out.as_ref().ok_or("evidence: --out DIR is required")?;
    let pair = credwarden_respond::approval::load_key_file(key)?;
    let q = query(b)?;
    let r = credwarden_scope::scope(archive(b)?, &q).map_err(|e| e.to_string())?;
    let c = credwarden_scope::evidence::create(archive(b)?, &r, out, &pair)
        .map_err(|e| e.to_string())?;
    println!(
        "{}: {} raw record(s) of {} event(s) in {} file(s); Merkle root {}; signed by {}",
        out.display(),
        c.manifest.records,
        r.events,
        c.manifest.files.len(),
        c.manifest.merkle_root,
        c.public_key
    );
    if c.manifest.records_missing > 0 {
        eprintln!(
            "warning: {} event(s) have no raw record in the archive (read from standard input, or their copy is shorter)",
            c.manifest.records_missing
        );
    }
    Ok(0)
}
