//! CW-D010: a console sign-in without MFA (high when failures preceded it).

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, Finding, RuleMeta, Severity};
use std::collections::{HashMap, VecDeque};

/// Failed sign-ins within [`WINDOW_SECS`] before a success that make it high severity.
pub const FAILURES: usize = 3;
/// Look-back window.
pub const WINDOW_SECS: i64 = 3600;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D010",
    name: "console-login-without-mfa",
    version: 1,
    title: "Console sign-in without MFA",
    description: "A successful ConsoleLogin with `MFAUsed: No`; after several failures for the same user it looks like a guessed or stolen password.",
    severity: Severity::Medium,
    attack: &[CLOUD_ACCOUNTS, BRUTE_FORCE],
    d3fend: &[MFA, ACCOUNT_MONITORING],
    false_positives: &["federated sign-ins where the IdP enforces MFA (CloudTrail then shows SAML, not an IAM user)"],
    recommendation: "Require MFA for the user; if failures preceded the sign-in, reset the password and review the session.",
};

/// The detector: recent failures per user.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct ConsoleLoginWithoutMfa {
    failures: HashMap<String, VecDeque<i64>>,
}

impl Detector for ConsoleLoginWithoutMfa {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.action != "ConsoleLogin" {
            return;
        }
        let who = ev.principal.clone().unwrap_or_default();
        let t = ev.time.as_second();
        let q = self.failures.entry(who.clone()).or_default();
        while q.front().is_some_and(|&f| f < t - WINDOW_SECS) {
            q.pop_front();
        }
        if ev
            .detail
            .pointer("/responseElements/ConsoleLogin")
            .and_then(|v| v.as_str())
            == Some("Failure")
        {
            q.push_back(t);
            return;
        }
        if ev
            .detail
            .pointer("/additionalEventData/MFAUsed")
            .and_then(|v| v.as_str())
            != Some("No")
        {
            return;
        }
        // Federated sign-ins (SAML, SSO, assumed roles) are authenticated by the identity provider,
        // which is where MFA is enforced; CloudTrail's MFAUsed says nothing about it.
        let federated = ev
            .detail
            .pointer("/additionalEventData/SamlProviderArn")
            .is_some()
            || matches!(
                ev.detail.get("userIdentityType").and_then(|v| v.as_str()),
                Some("AssumedRole" | "FederatedUser" | "SAMLUser" | "WebIdentityUser")
            );
        if federated {
            return;
        }
        let failed = q.len();
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{who} signed in to the console without MFA from {}{}",
                ev.src.ip.as_deref().unwrap_or("?"),
                if failed > 0 {
                    format!(" after {failed} failure(s)")
                } else {
                    String::new()
                }
            ),
        )
        .fact("failures_before", failed);
        // One condition per user ("signs in without MFA"), re-reported runs de-duplicate; a sign-in after
        // failures is a new, worse one each day it happens.
        if failed >= FAILURES {
            f.severity = Severity::High;
            f.discriminator = Some(format!("after-failures:{}", t.div_euclid(86_400)));
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    fn login(ok: bool, mfa: &str, secs: i64) -> Event {
        let mut e = ct("ConsoleLogin", "signin.amazonaws.com", json!(null));
        e.time = jiff::Timestamp::from_second(1_743_800_000 + secs).unwrap();
        e.event_id = Some(format!("ev-{secs}"));
        e.detail["responseElements"] =
            json!({"ConsoleLogin": if ok { "Success" } else { "Failure" }});
        e.detail["additionalEventData"] = json!({"MFAUsed": mfa});
        e
    }

    #[test]
    fn fires_without_mfa_and_escalates_after_failures() {
        let f = run(
            &mut ConsoleLoginWithoutMfa::default(),
            &[login(true, "No", 0)],
        );
        assert_eq!((f.len(), f[0].severity), (1, Severity::Medium));
        let evs = [
            login(false, "No", 0),
            login(false, "No", 60),
            login(false, "No", 120),
            login(true, "No", 180),
        ];
        let f = run(&mut ConsoleLoginWithoutMfa::default(), &evs);
        assert_eq!((f.len(), f[0].severity), (1, Severity::High));
    }

    #[test]
    fn repeated_plain_logins_are_one_condition() {
        let mut d = ConsoleLoginWithoutMfa::default();
        let f = run(&mut d, &[login(true, "No", 0), login(true, "No", 86_400)]);
        assert_eq!(f[0].fingerprint(), f[1].fingerprint());
    }

    #[test]
    fn quiet_with_mfa_or_on_failures_alone() {
        let evs = [login(false, "No", 0), login(true, "Yes", 60)];
        assert!(run(&mut ConsoleLoginWithoutMfa::default(), &evs).is_empty());
        // Federated sign-ins: MFA is the identity provider's business.
        let mut saml = login(true, "No", 120);
        saml.detail["additionalEventData"]["SamlProviderArn"] =
            serde_json::json!("arn:aws:iam::1:saml-provider/Okta");
        let mut sso = login(true, "No", 180);
        sso.detail["userIdentityType"] = serde_json::json!("AssumedRole");
        assert!(run(&mut ConsoleLoginWithoutMfa::default(), &[saml, sso]).is_empty());
    }
}
