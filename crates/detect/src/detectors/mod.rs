//! Built-in detectors, one file each. Adding one: a file here with `META`, the detector type and its
//! tests, and one line in [`all`].

use crate::Detector;

mod access_denied_burst;
mod access_key_for_other_user;
pub mod api_rules;
mod bulk_export_command;
mod client_many_members;
mod console_login_without_mfa;
mod dormant_reactivation;
mod forged_token_campaign;
mod instance_credentials_off_instance;
mod leaver_readable_key_in_use;
mod log_tampering;
mod new_network;
mod personal_data_surge;
mod privilege_persistence;
mod root_activity;
mod snapshot_shared;
mod terminated_identity_activity;
mod token_never_issued;
/// CW-D007's metadata, for findings raised outside the engine (the gateway's token check).
pub use token_never_issued::META as TOKEN_NEVER_ISSUED;
mod unknown_owner_activity;
mod unseen_personal_data;
mod unusual_call;
mod volume_anomaly;

#[cfg(test)]
pub(crate) mod testkit;

/// The detectors that need HR: they join actors to identities through `dir`, and signing keys to
/// their readers through the inventory's `credentials`.
pub fn with_identities(
    dir: std::sync::Arc<credwarden_model::Directory>,
    credentials: &[credwarden_model::Credential],
) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(terminated_identity_activity::TerminatedIdentityActivity::new(dir.clone())),
        Box::new(unknown_owner_activity::UnknownOwnerActivity::new(
            dir.clone(),
            credentials,
        )),
        Box::new(leaver_readable_key_in_use::LeaverReadableKeyInUse::new(
            dir,
            credentials,
        )),
    ]
}

/// Every built-in detector that needs no HR data, fresh (hand-written ones, then the rule pack).
pub fn all() -> Vec<Box<dyn Detector>> {
    let mut v = hand_written();
    v.extend(api_rules::builtin());
    v
}

fn hand_written() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(log_tampering::LogTampering),
        Box::new(snapshot_shared::SnapshotShared),
        Box::new(access_key_for_other_user::AccessKeyForOtherUser),
        Box::new(privilege_persistence::PrivilegePersistence),
        Box::new(root_activity::RootActivity),
        Box::new(bulk_export_command::BulkExportCommand),
        Box::new(token_never_issued::TokenNeverIssued::default()),
        Box::new(access_denied_burst::AccessDeniedBurst::default()),
        Box::new(console_login_without_mfa::ConsoleLoginWithoutMfa::default()),
        Box::new(dormant_reactivation::DormantReactivation::default()),
        Box::new(instance_credentials_off_instance::InstanceCredentialsOffInstance::default()),
        Box::new(new_network::NewNetwork::default()),
        Box::new(volume_anomaly::VolumeAnomaly::default()),
        Box::new(unseen_personal_data::UnseenPersonalData::default()),
        Box::new(personal_data_surge::PersonalDataSurge::default()),
        Box::new(client_many_members::ClientManyMembers::default()),
        Box::new(forged_token_campaign::ForgedTokenCampaign::default()),
        Box::new(unusual_call::UnusualCall::default()),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_unique_and_metadata_complete() {
        let mut all = super::all();
        all.extend(super::with_identities(
            std::sync::Arc::new(credwarden_model::Directory::default()),
            &[],
        ));
        let mut ids: Vec<&str> = all.iter().map(|d| d.meta().id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for d in &all {
            let m = d.meta();
            assert!(
                ["CW-D", "CW-B", "CW-R", "CW-G"]
                    .iter()
                    .any(|p| m.id.starts_with(p)),
                "{}",
                m.id
            );
            assert!(
                !m.attack.is_empty() && !m.d3fend.is_empty() && !m.false_positives.is_empty(),
                "{}",
                m.id
            );
        }
    }
}
