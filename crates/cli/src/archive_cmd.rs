//! `credwarden archive verify`: check an evidence archive end to end.

use crate::args::{ArchiveAction, ArchiveArgs};

/// Run.
pub fn run(a: &ArchiveArgs) -> Result<u8, String> {
    match &a.action {
        ArchiveAction::Verify { dir } => {
            let r = credwarden_store::archive::verify(dir).map_err(|e| e.to_string())?;
            if r.ok() {
                println!(
                    "{}: ok: {} part(s), {} events, manifest head {}",
                    dir.display(),
                    r.parts,
                    r.events,
                    r.head.as_deref().unwrap_or("(empty)")
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
