//! CW-D003: an access key created for a user other than the caller (persistence).

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D003",
    name: "access-key-for-other-user",
    version: 1,
    title: "Access key created for another user",
    description: "CreateAccessKey naming a userName that is not the caller's own: a classic way to keep access after the caller's own key is revoked.",
    severity: Severity::High,
    attack: &[ADDITIONAL_CLOUD_CREDENTIALS],
    d3fend: &[CREDENTIAL_REVOKING, ACCOUNT_MONITORING],
    false_positives: &["an administrator provisioning a key for a service user through a ticket"],
    recommendation: "Deactivate the new key, confirm with the caller and the user's owner, and review what the new key did.",
};

fn caller_name(ev: &Event) -> Option<&str> {
    ev.principal
        .as_deref()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
}

/// The detector.
pub struct AccessKeyForOtherUser;

impl Detector for AccessKeyForOtherUser {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Success || ev.action != "CreateAccessKey" {
            return;
        }
        let Some(target) = ev
            .detail
            .pointer("/requestParameters/userName")
            .and_then(|v| v.as_str())
        else {
            return;
        };
        if caller_name(ev) == Some(target) {
            return;
        }
        let new_key = ev
            .detail
            .pointer("/responseElements/accessKey/accessKeyId")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{} created access key {new_key} for user {target}",
                ev.principal.as_deref().unwrap_or("?")
            ),
        )
        .fact("target_user", target)
        .fact("new_access_key_id", new_key);
        f.discriminator = ev.event_id.clone();
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn fires_for_another_user() {
        let f = run(
            &mut AccessKeyForOtherUser,
            &[ct(
                "CreateAccessKey",
                "iam.amazonaws.com",
                json!({"userName": "report-bot"}),
            )],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].facts["target_user"], "report-bot");
    }

    #[test]
    fn quiet_for_own_key_or_no_user() {
        let evs = [
            ct(
                "CreateAccessKey",
                "iam.amazonaws.com",
                json!({"userName": "bob"}),
            ),
            ct("CreateAccessKey", "iam.amazonaws.com", json!({})),
        ];
        assert!(run(&mut AccessKeyForOtherUser, &evs).is_empty());
    }
}
