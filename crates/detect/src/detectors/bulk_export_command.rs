//! CW-D006: a bulk-export command in shell history (`aws s3 cp|sync` from a bucket, `gsutil cp|rsync`,
//! `rclone copy|sync`).

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, Finding, RuleMeta, Severity};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D006",
    name: "bulk-export-command",
    version: 1,
    title: "Bulk export command run",
    description: "A shell command that copies a whole bucket or prefix out (`aws s3 sync|cp --recursive s3://…`, `gsutil -m cp|rsync gs://…`, `rclone copy|sync`).",
    severity: Severity::Medium,
    attack: &[DATA_FROM_CLOUD_STORAGE],
    d3fend: &[RESOURCE_ACCESS_PATTERN],
    false_positives: &["backups and data migrations run by their owners"],
    recommendation: "Check what was copied where; if it holds customer data and was not a planned job, treat as exfiltration.",
};

/// Does `cmd` export from cloud storage in bulk?
pub fn is_bulk_export(cmd: &str) -> bool {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let has = |w: &str| words.contains(&w);
    let from_bucket = |scheme: &str| words.iter().any(|w| w.starts_with(scheme));
    (has("aws")
        && has("s3")
        && (has("sync") || (has("cp") && has("--recursive")))
        && from_bucket("s3://"))
        || (has("gsutil")
            && (has("rsync") || (has("cp") && (has("-r") || has("-R"))))
            && from_bucket("gs://"))
        || (has("rclone") && (has("copy") || has("sync")))
}

/// The detector.
pub struct BulkExportCommand;

impl Detector for BulkExportCommand {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.resource.kind.as_deref() != Some("shell") || !is_bulk_export(&ev.action) {
            return;
        }
        let host = ev.resource.id.as_deref().unwrap_or("?");
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{} ran `{}` on {host}",
                ev.principal.as_deref().unwrap_or("?"),
                ev.action
            ),
        );
        f.subject.system = Some(format!("host:{host}"));
        // What was copied: the cloud locations the command names.
        for word in ev.action.split_whitespace() {
            if ["s3://", "gs://"].iter().any(|p| word.starts_with(p)) {
                f.observe("file.uri", word.to_string());
            }
        }
        f.discriminator = Some(format!("{}:{}", ev.time.as_second(), ev.raw.line));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_bulk_exports_only() {
        for yes in [
            "aws s3 sync s3://shop-customer-pii/ /tmp/x --quiet",
            "aws s3 cp s3://b/prefix . --recursive",
            "gsutil -m rsync -r gs://b ./d",
            "rclone copy s3:b remote:x",
        ] {
            assert!(is_bulk_export(yes), "{yes}");
        }
        for no in [
            "aws s3 ls s3://shop-logs/",
            "aws s3 cp ./build.zip s3://artifacts/",
            "aws s3 cp s3://b/one-file.txt .",
            "kubectl get pods",
        ] {
            assert!(!is_bulk_export(no), "{no}");
        }
    }
}
