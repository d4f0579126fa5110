//! Readers for what credwarden audits: HR rosters (CSV, JSON, SCIM 2.0 ListResponse), AWS IAM
//! credential reports, GCP service-account key listings, generic credential inventories, group
//! membership and owner-mapping files.
//!
//! Every reader returns located errors ([`IngestError`]: file, line, field). Row-level problems go
//! through [`Rejects`]: with `keep_going` they are counted and kept (with the raw row) for quarantine
//! and the run continues; without it the first one stops the run.
//!
//! Adding an inventory format: one module here with a `read(&Input, &mut Rejects)` function, plus one
//! arm in [`inventory_format::sniff`] and [`read_inventory`].

pub mod cloudtrail;
mod dates;
mod error;
pub mod gcp_audit;
pub mod gcp_keys;
pub mod hr;
pub mod iam_report;
pub mod inventory;
pub mod inventory_format;
mod json_split;
pub mod jsonlines;
pub mod lines;
pub mod mapping;
pub mod raw;
mod records;
pub mod vpcflow;

pub use dates::{parse_date, parse_timestamp};
pub use error::{IngestError, Reject, Rejects};
pub use inventory_format::{read_inventory, InventoryFormat};
pub use records::Input;

/// Open a log file for streaming, undoing gzip when the content starts with gzip's magic bytes
/// (whatever the name says); `-` is standard input.
pub fn open(path: &std::path::Path) -> Result<Box<dyn std::io::Read>, IngestError> {
    use std::io::{BufRead, BufReader};
    let label = path.display().to_string();
    let io = |e: std::io::Error| IngestError::Io {
        file: label.clone(),
        reason: e.to_string(),
    };
    let raw: Box<dyn std::io::Read> = if label == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).map_err(io)?)
    };
    let mut r = BufReader::with_capacity(1 << 16, raw);
    let gz = r.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else {
        Box::new(r)
    })
}
