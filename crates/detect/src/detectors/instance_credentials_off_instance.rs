//! CW-D012: EC2 instance-role credentials used from somewhere else — a workstation user agent, or an
//! address people use with their own IAM users (the credentials were lifted from the instance metadata
//! service and replayed).

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, Finding, RuleMeta, Severity};
use std::collections::HashSet;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D012",
    name: "instance-credentials-off-instance",
    version: 1,
    title: "Instance role credentials used off the instance",
    description: "An EC2 instance role session (session named after the instance, or delivered by the instance metadata service) calls AWS from a desktop user agent or from an address that human IAM users call from.",
    severity: Severity::High,
    attack: &[APP_ACCESS_TOKEN, UNSECURED_CREDENTIALS],
    d3fend: &[CREDENTIAL_REVOKING, ACCOUNT_MONITORING],
    false_positives: &["NAT gateways shared by instances and people (list them as known)"],
    recommendation: "Revoke the role's sessions (deny aws:TokenIssueTime before now), require IMDSv2 on the instance, and find how the credentials left it.",
};

/// The detector: addresses human IAM users called from.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct InstanceCredentialsOffInstance {
    human_ips: HashSet<String>,
    flagged: HashSet<String>,
}

fn instance_session(ev: &Event) -> bool {
    let session = ev
        .principal
        .as_deref()
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or("");
    let looks_like_instance = session.len() >= 10
        && session.starts_with("i-")
        && session[2..].chars().all(|c| c.is_ascii_alphanumeric());
    ev.detail.get("userIdentityType").and_then(|v| v.as_str()) == Some("AssumedRole")
        && (looks_like_instance
            || ev
                .detail
                .get("ec2RoleDelivery")
                .is_some_and(|v| !v.is_null()))
}

impl Detector for InstanceCredentialsOffInstance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        let ip = ev.src.ip.as_deref().unwrap_or_default();
        if ev.detail.get("userIdentityType").and_then(|v| v.as_str()) == Some("IAMUser") {
            if !self.human_ips.contains(ip) {
                self.human_ips.insert(ip.to_string());
            }
            return;
        }
        if !instance_session(ev) {
            return;
        }
        let ua = ev.user_agent.as_deref().unwrap_or("");
        let desktop = ["Darwin", "Windows NT", "Macintosh", "Mac OS X"]
            .iter()
            .any(|m| ua.contains(m));
        let shared = self.human_ips.contains(ip);
        if !(desktop || shared) {
            return;
        }
        let session = ev.principal.clone().unwrap_or_default();
        if !self.flagged.insert(session.clone()) {
            return;
        }
        let why = if shared {
            "an address human IAM users call from"
        } else {
            "a desktop user agent"
        };
        out.push(finding_for(
            &META,
            ev,
            format!(
                "instance role session {session} called {} from {ip} ({why})",
                ev.action
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    fn role(ip: &str, ua: &str) -> Event {
        let mut e = ct("DescribeInstances", "ec2.amazonaws.com", json!({}));
        e.principal =
            Some("arn:aws:sts::111122223333:assumed-role/app-role/i-0abc12345def67890".into());
        e.detail["userIdentityType"] = json!("AssumedRole");
        e.src.ip = Some(ip.into());
        e.user_agent = Some(ua.into());
        e
    }

    #[test]
    fn fires_for_a_human_address_or_desktop_agent() {
        let human = ct("ListBuckets", "s3.amazonaws.com", json!({}));
        let f = run(
            &mut InstanceCredentialsOffInstance::default(),
            &[human, role("198.51.100.7", "aws-sdk-go/1.0")],
        );
        assert_eq!(f.len(), 1);
        let f = run(
            &mut InstanceCredentialsOffInstance::default(),
            &[role("3.3.3.3", "aws-cli/2 Python/3.11 Darwin/23.4.0")],
        );
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn quiet_on_the_instance_and_for_other_roles() {
        let mut other = role("198.51.100.7", "aws-cli/2 Darwin/23");
        other.principal = Some("arn:aws:sts::1:assumed-role/admin/alice".into());
        let evs = [
            ct("ListBuckets", "s3.amazonaws.com", json!({})),
            role("3.3.3.3", "aws-sdk-go/1.0"),
            other,
        ];
        assert!(run(&mut InstanceCredentialsOffInstance::default(), &evs).is_empty());
    }
}
