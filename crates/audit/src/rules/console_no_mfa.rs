//! CW-A010: a console password without MFA (high for the root account).

use crate::refs::*;
use crate::Context;
use credwarden_model::{CredentialKind, Finding, RuleMeta, Severity, Subject};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-A010",
    name: "console-password-without-mfa",
    version: 1,
    title: "Console password without MFA",
    description:
        "A password alone protects console access: phishing or reuse is enough to sign in.",
    severity: Severity::Medium,
    attack: &[CLOUD_ACCOUNTS, BRUTE_FORCE],
    d3fend: &[MFA],
    false_positives: &[
        "MFA enforced by an external IdP for federated sign-in (then remove the IAM password)",
    ],
    recommendation: "Enable MFA, or remove the console password if the user signs in through SSO.",
};

/// Check.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in ctx
        .live()
        .filter(|r| r.cred.kind == CredentialKind::ConsolePassword && r.cred.mfa == Some(false))
    {
        let root = r.cred.account_level;
        let mut f = Finding::new(
            &META,
            Subject::credential(r.cred, r.identity()),
            format!(
                "{} console password for {} ({}) has no MFA",
                if root { "Root" } else { "User" },
                r.cred.principal.as_deref().unwrap_or(&r.cred.id),
                r.cred.system
            ),
            ctx.now,
        )
        .fact("account_level", root);
        if root {
            f.severity = Severity::High;
        }
        f.last_seen = r.cred.last_used;
        f.first_seen = r.cred.created;
        f.evidence = vec![r.cred.source.clone()];
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use credwarden_model::{CredentialKind, IdentityStatus, Severity};

    #[test]
    fn fires_without_mfa_and_escalates_for_root() {
        let p = vec![person("E1", IdentityStatus::Active, None)];
        let mut pw = cred("pw", CredentialKind::ConsolePassword, "E1");
        pw.mfa = Some(false);
        let mut root = cred("root#password", CredentialKind::ConsolePassword, "");
        root.mfa = Some(false);
        root.account_level = true;
        let mut ok = cred("pw2", CredentialKind::ConsolePassword, "E1");
        ok.mfa = Some(true);
        let f = audit(p, vec![pw, root, ok]);
        let f = of(&f, "CW-A010");
        assert_eq!(
            f.iter().map(|f| f.severity).collect::<Vec<_>>(),
            [Severity::High, Severity::Medium]
        );
    }
}
