//! CW-D005: the account root user acted.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, Finding, RuleMeta, Severity};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D005",
    name: "root-activity",
    version: 1,
    title: "Root account activity",
    description: "An API call or console sign-in by the account's root user, which no policy can restrict and no person should need day to day.",
    severity: Severity::High,
    attack: &[CLOUD_ACCOUNTS],
    d3fend: &[ACCOUNT_MONITORING, MFA],
    false_positives: &["the few tasks only root can do (account settings, support plan), done by the account owner"],
    recommendation: "Confirm with the account owner; if unexplained, reset root credentials and MFA and review what was done.",
};

/// The detector.
pub struct RootActivity;

impl Detector for RootActivity {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.detail.get("userIdentityType").and_then(|v| v.as_str()) != Some("Root") {
            return;
        }
        // AWS's own service events carry invokedBy; only calls by a person count.
        if ev.detail.get("invokedBy").is_some() {
            return;
        }
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "root called {} from {} ({:?})",
                ev.action,
                ev.src.ip.as_deref().unwrap_or("?"),
                ev.outcome
            ),
        );
        // One finding per root call type per day.
        f.discriminator = Some(format!(
            "{}:{}",
            ev.action,
            ev.time.as_second().div_euclid(86_400)
        ));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn fires_for_root_only() {
        let mut root = ct("ConsoleLogin", "signin.amazonaws.com", json!({}));
        root.detail["userIdentityType"] = json!("Root");
        assert_eq!(run(&mut RootActivity, &[root]).len(), 1);
        assert!(run(
            &mut RootActivity,
            &[ct("ConsoleLogin", "signin.amazonaws.com", json!({}))]
        )
        .is_empty());
    }
}
