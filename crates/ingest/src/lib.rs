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

mod dates;
mod error;
pub mod gcp_keys;
pub mod hr;
pub mod iam_report;
pub mod inventory;
pub mod inventory_format;
pub mod mapping;
mod records;

pub use dates::{parse_date, parse_timestamp};
pub use error::{IngestError, Reject, Rejects};
pub use inventory_format::{read_inventory, InventoryFormat};
pub use records::Input;
