//! Built-in detectors, one file each. Adding one: a file here with `META`, the detector type and its
//! tests, and one line in [`all`].

use crate::Detector;

mod access_denied_burst;
mod access_key_for_other_user;
mod bulk_export_command;
mod log_tampering;
mod privilege_persistence;
mod root_activity;
mod snapshot_shared;
mod token_never_issued;

#[cfg(test)]
pub(crate) mod testkit;

/// Every built-in detector, fresh.
pub fn all() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(log_tampering::LogTampering),
        Box::new(snapshot_shared::SnapshotShared),
        Box::new(access_key_for_other_user::AccessKeyForOtherUser),
        Box::new(privilege_persistence::PrivilegePersistence),
        Box::new(root_activity::RootActivity),
        Box::new(bulk_export_command::BulkExportCommand),
        Box::new(token_never_issued::TokenNeverIssued::default()),
        Box::new(access_denied_burst::AccessDeniedBurst::default()),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_unique_and_metadata_complete() {
        let all = super::all();
        let mut ids: Vec<&str> = all.iter().map(|d| d.meta().id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for d in &all {
            let m = d.meta();
            assert!(m.id.starts_with("CW-D"), "{}", m.id);
            assert!(
                !m.attack.is_empty() && !m.d3fend.is_empty() && !m.false_positives.is_empty(),
                "{}",
                m.id
            );
        }
    }
}
