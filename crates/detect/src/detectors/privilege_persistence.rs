//! CW-D004: users or login profiles created, or administrator policies attached.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D004",
    name: "privilege-persistence",
    version: 1,
    title: "User, login profile or administrator policy added",
    description: "CreateUser, CreateLoginProfile / UpdateLoginProfile for another user, or an AdministratorAccess (or `*:*`) policy attached or put on a user, group or role.",
    severity: Severity::Medium,
    attack: &[CREATE_CLOUD_ACCOUNT, ADDITIONAL_CLOUD_ROLES],
    d3fend: &[USER_ACCOUNT_PERMISSIONS, ACCOUNT_MONITORING],
    false_positives: &["onboarding by the identity team", "infrastructure-as-code pipelines (list their principals as known)"],
    recommendation: "Confirm the change against a ticket; remove the user, profile or policy if nobody owns it.",
};

fn admin_policy(ev: &Event) -> bool {
    let p = ev.detail.pointer("/requestParameters");
    let arn = p
        .and_then(|p| p.get("policyArn"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let doc = p
        .and_then(|p| p.get("policyDocument"))
        .map(|v| v.to_string())
        .unwrap_or_default();
    arn.ends_with("/AdministratorAccess")
        || (doc.contains("\\\"Action\\\":\\\"*\\\"") && doc.contains("\\\"Resource\\\":\\\"*\\\""))
}

/// The detector.
pub struct PrivilegePersistence;

impl Detector for PrivilegePersistence {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Success
            || !matches!(
                ev.action.as_str(),
                "CreateUser"
                    | "CreateLoginProfile"
                    | "UpdateLoginProfile"
                    | "AttachUserPolicy"
                    | "AttachRolePolicy"
                    | "AttachGroupPolicy"
                    | "PutUserPolicy"
                    | "PutRolePolicy"
                    | "PutGroupPolicy"
            )
        {
            return;
        }
        let caller = ev
            .principal
            .as_deref()
            .map(|p| p.rsplit('/').next().unwrap_or(p));
        let target = ev
            .detail
            .pointer("/requestParameters/userName")
            .and_then(|v| v.as_str());
        let (hit, severity) = match ev.action.as_str() {
            "CreateUser" => (true, Severity::Medium),
            "CreateLoginProfile" | "UpdateLoginProfile" => {
                (target.is_some() && target != caller, Severity::High)
            }
            "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" | "PutUserPolicy"
            | "PutRolePolicy" | "PutGroupPolicy" => (admin_policy(ev), Severity::High),
            _ => (false, Severity::Medium),
        };
        if !hit {
            return;
        }
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{} called {} on {}",
                caller.unwrap_or("?"),
                ev.action,
                target.unwrap_or("(see request)")
            ),
        );
        f.severity = severity;
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
    fn fires_for_admin_attach_and_foreign_login_profile() {
        let mut b = ct(
            "CreateLoginProfile",
            "iam.amazonaws.com",
            json!({"userName": "alice"}),
        );
        b.event_id = Some("ev-2".into());
        let f = run(
            &mut PrivilegePersistence,
            &[
                ct(
                    "AttachUserPolicy",
                    "iam.amazonaws.com",
                    json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
                ),
                b,
            ],
        );
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.severity == Severity::High));
    }

    #[test]
    fn quiet_for_read_only_policies_and_own_profile() {
        let evs = [
            ct(
                "AttachUserPolicy",
                "iam.amazonaws.com",
                json!({"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
            ),
            ct(
                "UpdateLoginProfile",
                "iam.amazonaws.com",
                json!({"userName": "bob"}),
            ),
        ];
        assert!(run(&mut PrivilegePersistence, &evs).is_empty());
    }
}
