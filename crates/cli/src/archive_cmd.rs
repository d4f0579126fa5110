//! `credwarden archive verify`: check an evidence archive end to end.

use crate::args::{ArchiveAction, ArchiveArgs};

/// Run.
pub fn run(a: &ArchiveArgs) -> Result<u8, String> {
    match &a.action {
        ArchiveAction::Verify { dir, public_key } => {
            let r = credwarden_store::archive::verify(dir, public_key.as_deref())
                .map_err(|e| e.to_string())?;
            if r.ok() {
                println!(
                    "{}: ok: {} part(s), {} events, {} raw input(s), manifest head {}, {}",
                    dir.display(),
                    r.parts,
                    r.events,
                    r.raw_files,
                    r.head.as_deref().unwrap_or("(empty)"),
                    r.signed_by
                        .as_deref()
                        .map_or("unsigned".to_string(), |k| format!("signed by {k}"))
                );
                Ok(0)
            } else {
                println!("{}: {} problem(s):", dir.display(), r.problems.len());
                for p in &r.problems {
                    println!("  {p}");
                }
                Ok(crate::EXIT_FINDINGS)
            }
        }
    }
}
