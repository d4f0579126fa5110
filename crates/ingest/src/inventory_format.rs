//! Which reader handles an inventory file: sniffed from content, or forced with a `FORMAT:` prefix
//! on the path (`iam-report:report.csv`, `gcp-keys:keys.json`, `inventory:secrets.csv`).

use crate::error::{IngestError, Rejects};
use crate::records::Input;
use crate::{gcp_keys, iam_report, inventory};
use credwarden_model::Credential;
use std::fmt;
use std::path::PathBuf;

/// Supported credential-inventory formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    /// AWS IAM credential report CSV.
    IamReport,
    /// `gcloud iam service-accounts keys list --format=json`.
    GcpKeys,
    /// credwarden's generic inventory CSV/JSON.
    Generic,
}

impl InventoryFormat {
    /// All formats with their prefix names.
    pub const ALL: [(&'static str, InventoryFormat); 3] = [
        ("iam-report", Self::IamReport),
        ("gcp-keys", Self::GcpKeys),
        ("inventory", Self::Generic),
    ];

    /// Guess from content.
    pub fn sniff(input: &Input) -> Self {
        if iam_report::sniff(&input.text) {
            Self::IamReport
        } else if input.looks_like_json() && gcp_keys::sniff(&input.text) {
            Self::GcpKeys
        } else {
            Self::Generic
        }
    }
}

impl fmt::Display for InventoryFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Self::ALL
            .iter()
            .find(|(_, v)| v == self)
            .map(|(n, _)| *n)
            .unwrap_or("?");
        f.write_str(name)
    }
}

/// Split an optional `FORMAT:` prefix off a command-line path.
pub fn split_prefix(arg: &str) -> (Option<InventoryFormat>, PathBuf) {
    if let Some((pre, rest)) = arg.split_once(':') {
        if let Some((_, f)) = InventoryFormat::ALL.iter().find(|(n, _)| *n == pre) {
            return (Some(*f), PathBuf::from(rest));
        }
    }
    (None, PathBuf::from(arg))
}

/// Read an inventory argument (path with optional `FORMAT:` prefix).
pub fn read_inventory(
    arg: &str,
    rejects: &mut Rejects,
) -> Result<(InventoryFormat, Vec<Credential>), IngestError> {
    let (forced, path) = split_prefix(arg);
    let input = Input::read(&path)?;
    input.non_empty()?;
    let format = forced.unwrap_or_else(|| InventoryFormat::sniff(&input));
    let creds = match format {
        InventoryFormat::IamReport => iam_report::read(&input, rejects)?,
        InventoryFormat::GcpKeys => gcp_keys::read(&input, rejects)?,
        InventoryFormat::Generic => inventory::read(&input, rejects)?,
    };
    Ok((format, creds))
}
