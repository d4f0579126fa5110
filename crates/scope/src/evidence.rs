//! Evidence bundles: the raw records behind a scope (the log's own bytes, read back from the
//! archive's copies of the inputs), the scope report, a manifest of SHA-256s with a Merkle root, and
//! an Ed25519 signature of the manifest.
//!
//! ```text
//! OUT/scope.json  scope.html           the report
//! OUT/records/NNN-NAME                 raw records of one archived input, one per line, file order
//! OUT/records/index.csv                record file, input copy (raw/SHA256/NAME), position, line in the record file
//! OUT/MANIFEST.json                    every file above: path, bytes, sha256; merkle_root; subject; archive head
//! OUT/SIGNATURE.json                   Ed25519 signature of MANIFEST.json's bytes, with the public key
//! ```
//!
//! The Merkle root is computed over the files sorted by path: leaf = SHA-256(0x00 ‖ path ‖ 0x00 ‖
//! file SHA-256), node = SHA-256(0x01 ‖ left ‖ right), an odd node carried up unchanged. One file's
//! hash and its path to the root prove it belongs to the bundle without handing over the rest.

use crate::{Report, ScopeError};
use credwarden_store::sign::{self, Signature};
use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Name of the bundle's manifest.
pub const MANIFEST: &str = "MANIFEST.json";
/// Name of the manifest's signature.
pub const SIGNATURE: &str = "SIGNATURE.json";

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path in the bundle, `/`-separated.
    pub path: String,
    /// Size.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The bundle's manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format (1).
    pub format: u32,
    /// When made (RFC 3339).
    pub created: String,
    /// Subject kind and value.
    pub subject_kind: String,
    /// Subject value.
    pub subject: String,
    /// The archive read, and its manifest head then.
    pub archive: String,
    /// Head of the archive's manifest when the bundle was made.
    pub archive_head: String,
    /// Raw records in the bundle.
    pub records: u64,
    /// Events whose raw record could not be read back (input read from standard input, or a
    /// position past the end of its copy).
    pub records_missing: u64,
    /// Every file but the manifest and signature.
    pub files: Vec<FileEntry>,
    /// Merkle root over `files` (hex).
    pub merkle_root: String,
}

fn io(path: &Path, e: impl std::fmt::Display) -> ScopeError {
    ScopeError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn sha(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// The Merkle root of `files` (sorted by path first).
pub fn merkle_root(files: &[FileEntry]) -> String {
    let mut sorted: Vec<&FileEntry> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut level: Vec<[u8; 32]> = sorted
        .iter()
        .map(|f| {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(f.path.as_bytes());
            h.update([0u8]);
            h.update(sign::unhex(&f.sha256).unwrap_or_default());
            h.finalize().into()
        })
        .collect();
    if level.is_empty() {
        return sha(b"");
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => {
                    let mut h = Sha256::new();
                    h.update([1u8]);
                    h.update(l);
                    h.update(r);
                    h.finalize().into()
                }
                [one] => *one,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    sign::hex(&level[0])
}

/// What [`create`] wrote.
#[derive(Debug, Clone)]
pub struct Created {
    /// The manifest.
    pub manifest: Manifest,
    /// Public key (hex) that signed it.
    pub public_key: String,
}

/// Make a bundle of `report` (from [`crate::scope`] over `archive`) in `out`, which must not exist
/// or be empty, signed with `pair`.
pub fn create(
    archive: &Path,
    report: &Report,
    out: &Path,
    pair: &Ed25519KeyPair,
) -> Result<Created, ScopeError> {
    if out.exists() && fs::read_dir(out).map_err(|e| io(out, e))?.next().is_some() {
        return Err(ScopeError::Usage(format!(
            "{}: not empty; an evidence bundle is written into a new folder",
            out.display()
        )));
    }
    let records_dir = out.join("records");
    fs::create_dir_all(&records_dir).map_err(|e| io(&records_dir, e))?;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut index = String::from("record_file,input_copy,position,line\n");
    let (mut records, mut missing) = (0u64, 0u64);
    for (n, (rel, positions)) in report.raw.iter().enumerate() {
        if !rel.starts_with("raw/") {
            missing += positions.len() as u64;
            continue;
        }
        let got = credwarden_ingest::raw::records(&archive.join(rel), positions).map_err(|e| {
            ScopeError::Io {
                file: archive.join(rel).display().to_string(),
                reason: e.to_string(),
            }
        })?;
        missing += positions.len() as u64 - got.len() as u64;
        let base = rel.rsplit('/').next().unwrap_or("input");
        let name = format!("records/{:03}-{base}", n + 1);
        let mut body = Vec::new();
        for (line, (pos, bytes)) in got.iter().enumerate() {
            body.extend_from_slice(bytes);
            body.push(b'\n');
            index.push_str(&format!("{name},{rel},{pos},{}\n", line + 1));
        }
        records += got.len() as u64;
        files.insert(name, body);
    }
    files.insert("records/index.csv".into(), index.into_bytes());
    files.insert(
        "scope.json".into(),
        crate::render::json(report).into_bytes(),
    );
    files.insert("scope.html".into(), crate::html::page(report).into_bytes());
    let mut entries = Vec::new();
    for (path, body) in &files {
        let p = out.join(path);
        fs::write(&p, body).map_err(|e| io(&p, e))?;
        entries.push(FileEntry {
            path: path.clone(),
            bytes: body.len() as u64,
            sha256: sha(body),
        });
    }
    let head = credwarden_store::archive::read_manifest(
        &archive.join(credwarden_store::archive::MANIFEST),
    )?
    .last()
    .map_or_else(
        || credwarden_store::archive::GENESIS.to_string(),
        |e| e.hash.clone(),
    );
    let manifest = Manifest {
        format: 1,
        created: jiff::Timestamp::now().to_string(),
        subject_kind: report.subject_kind.to_string(),
        subject: report.subject.clone(),
        archive: archive.display().to_string(),
        archive_head: head,
        records,
        records_missing: missing,
        merkle_root: merkle_root(&entries),
        files: entries,
    };
    let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    let mpath = out.join(MANIFEST);
    fs::write(&mpath, &text).map_err(|e| io(&mpath, e))?;
    let sig = sign::sign(pair, &text);
    let spath = out.join(SIGNATURE);
    let mut stext = serde_json::to_vec_pretty(&sig).expect("a signature serializes");
    stext.push(b'\n');
    fs::write(&spath, stext).map_err(|e| io(&spath, e))?;
    Ok(Created {
        public_key: sig.public_key,
        manifest,
    })
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Files listed and checked.
    pub files: usize,
    /// Public key whose signature checked.
    pub signed_by: Option<String>,
    /// Everything wrong, one sentence each, naming the file.
    pub problems: Vec<String>,
    /// The manifest's Merkle root.
    pub merkle_root: Option<String>,
}

fn walk(dir: &Path, rel: &str, out: &mut BTreeSet<String>) -> Result<(), ScopeError> {
    for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = if rel.is_empty() {
            entry.file_name().to_string_lossy().to_string()
        } else {
            format!("{rel}/{}", entry.file_name().to_string_lossy())
        };
        if entry
            .file_type()
            .map_err(|e| io(&entry.path(), e))?
            .is_dir()
        {
            walk(&entry.path(), &name, out)?;
        } else {
            out.insert(name);
        }
    }
    Ok(())
}

/// Check a bundle: the signature of the manifest (by `trusted` when given, a hex public key), every
/// listed file present with its size and hash, the Merkle root, and no file added.
pub fn verify(dir: &Path, trusted: Option<&str>) -> Result<Checked, ScopeError> {
    let mut c = Checked::default();
    let mpath = dir.join(MANIFEST);
    let text = fs::read(&mpath).map_err(|e| io(&mpath, e))?;
    match fs::read(dir.join(SIGNATURE)) {
        Ok(b) => match serde_json::from_slice::<Signature>(&b) {
            Ok(sig) => match sig.check(&text, trusted) {
                Ok(()) => c.signed_by = Some(sig.public_key),
                Err(why) => c.problems.push(format!(
                    "{SIGNATURE}: {why} ({MANIFEST} or {SIGNATURE} altered)"
                )),
            },
            Err(e) => c
                .problems
                .push(format!("{SIGNATURE}: not a signature ({e})")),
        },
        Err(e) => c.problems.push(format!("{SIGNATURE}: {e}")),
    }
    let manifest: Manifest = match serde_json::from_slice(&text) {
        Ok(m) => m,
        Err(e) => {
            c.problems
                .push(format!("{MANIFEST}: not a bundle manifest ({e})"));
            return Ok(c);
        }
    };
    c.merkle_root = Some(manifest.merkle_root.clone());
    if merkle_root(&manifest.files) != manifest.merkle_root {
        c.problems.push(format!(
            "{MANIFEST}: the Merkle root does not match the files listed"
        ));
    }
    let mut present = BTreeSet::new();
    walk(dir, "", &mut present)?;
    for f in &manifest.files {
        c.files += 1;
        let p = dir.join(&f.path);
        match fs::read(&p) {
            Ok(b) => {
                let h = sha(&b);
                if h != f.sha256 || b.len() as u64 != f.bytes {
                    c.problems.push(format!(
                        "{}: changed: SHA-256 {h} ({} bytes), the manifest says {} ({} bytes)",
                        f.path,
                        b.len(),
                        f.sha256,
                        f.bytes
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => c
                .problems
                .push(format!("{}: removed (listed in {MANIFEST})", f.path)),
            Err(e) => c.problems.push(format!("{}: unreadable: {e}", f.path)),
        }
        present.remove(&f.path);
    }
    for extra in present {
        if extra != MANIFEST && extra != SIGNATURE {
            c.problems
                .push(format!("{extra}: added (not in {MANIFEST})"));
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merkle_root_depends_on_every_file_and_path() {
        let f = |p: &str, s: &str| FileEntry {
            path: p.into(),
            bytes: 1,
            sha256: sha(s.as_bytes()),
        };
        let a = vec![f("a", "1"), f("b", "2"), f("c", "3")];
        let r = merkle_root(&a);
        assert_eq!(r, merkle_root(&[f("c", "3"), f("a", "1"), f("b", "2")]));
        assert_ne!(r, merkle_root(&[f("a", "1"), f("b", "2"), f("c", "4")]));
        assert_ne!(r, merkle_root(&[f("a", "1"), f("b", "2"), f("d", "3")]));
        assert_ne!(r, merkle_root(&a[..2]));
    }
}
