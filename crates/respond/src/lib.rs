//! Offboarding that sticks: connectors that revoke a leaver's credentials (and rotate what they could
//! read) in each system, a playbook that plans, applies and then *proves* each revocation by trying the
//! old credential (or, where the secret is not ours to hold, by reading that it no longer exists), and
//! an append-only, hash-chained journal that keeps every unfinished revocation open and visible until
//! it is done or a person closes it.
//!
//! Where things live:
//! - [`connectors`]: one folder per system — [`connectors::aws_iam`], [`connectors::secrets_manager`]
//!   (both behind the `aws` feature), [`connectors::postgres`], [`connectors::ssh`],
//!   [`connectors::scim`], [`connectors::webhook`], [`connectors::oauth`], [`connectors::ssf`]
//!   (Shared Signals push), [`connectors::jwks`] (signing-key roll with a refused-token probe),
//!   [`connectors::rotation`] (rotation of what the leaver could read) — each with its config
//!   section; [`connectors::build`] turns `[respond]` into connectors.
//! - [`config`]: `[respond]` ([`config::RespondConfig`]), made of the connectors' sections.
//! - [`service`]: offboarding as a library call — one leaver, daemon retries with back-off, the
//!   second-person approval policy. The CLI parses arguments and prints.
//! - [`playbook`]: plan, apply, verify, time-to-dead; [`journal`]: the hash-chained journal;
//!   [`approval`]: requests and signed approvals.
//! - `http` (internal): the one mapping of HTTP failures to [`RespondError`].
//!
//! Adding a system: a folder in `connectors/` with a type implementing [`Connector`] (plan from the
//! system's own live listing, apply one action, verify one action) and its config section, the
//! section in [`config::RespondConfig`], and one arm in [`connectors::build`].

pub mod approval;
use credwarden_model::codec;
pub mod config;
pub mod connectors;
mod http;
pub mod journal;
pub mod playbook;
pub mod service;

use credwarden_model::{Credential, Identity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Deactivate then delete an access key (AWS IAM).
    DeleteAccessKey,
    /// Delete a console password (AWS IAM login profile).
    DeleteLoginProfile,
    /// Deny every session issued before now (kills temporary credentials already handed out).
    DenySessionsBefore,
    /// Deactivate an account (SCIM `active=false`).
    DeactivateUser,
    /// Delete an account (SCIM DELETE, after the grace period).
    DeleteUser,
    /// Tell a relying service (webhook).
    Notify,
    /// Revoke an OAuth token (RFC 7009).
    RevokeToken,
    /// Revoke every token and session of a subject at an authorization server (OAuth 2.0 Global
    /// Token Revocation, draft-parecki-oauth-global-token-revocation).
    RevokeSubject,
    /// Put an SSH public key into the key revocation list sshd reads.
    RevokeSshKey,
    /// Revoke every certificate an SSH CA issued under a key id (KRL).
    RevokeSshCertificates,
    /// Take a database role's login and password away and end its open sessions.
    DisableDbLogin,
    /// Send a Security Event Token to a Shared Signals receiver.
    Signal,
    /// Publish a successor signing key and remove the old key id from the verifiers' JWKS.
    RollSigningKey,
    /// Offboarding requested for someone HR has not recorded as gone: needs a second person.
    Approval,
    /// Rotate a secret or signing key the leaver could read (done by its owner; stays open until closed).
    RotateSecret,
    /// A credential or secret tied to the leaver that no configured connector handles: open until
    /// a connector is configured or a person closes it.
    Uncovered,
}

impl ActionKind {
    /// Short label.
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::DeleteAccessKey => "delete access key",
            ActionKind::DeleteLoginProfile => "delete console password",
            ActionKind::DenySessionsBefore => "deny sessions issued before now",
            ActionKind::DeactivateUser => "deactivate account",
            ActionKind::DeleteUser => "delete account",
            ActionKind::Notify => "notify relying service",
            ActionKind::RevokeToken => "revoke OAuth token",
            ActionKind::RevokeSubject => "revoke every token of the subject",
            ActionKind::RevokeSshKey => "revoke SSH key",
            ActionKind::RevokeSshCertificates => "revoke SSH certificates",
            ActionKind::DisableDbLogin => "disable database login",
            ActionKind::Signal => "send security event",
            ActionKind::RollSigningKey => "roll signing key",
            ActionKind::Approval => "approve offboarding",
            ActionKind::RotateSecret => "rotate secret the leaver could read",
            ActionKind::Uncovered => "no connector handles this credential",
        }
    }
}

/// One thing to do in one system. Its id is stable (connector, kind, target), so a second run finds
/// the same action in the journal and does not do it twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Stable id.
    pub id: String,
    /// Connector name.
    pub connector: String,
    /// What.
    pub kind: ActionKind,
    /// On what: a key id, a user name or id, a secret id — never secret material.
    pub target: String,
    /// For whom (HR id).
    pub identity: String,
    /// Why / how, for people.
    pub note: String,
}

impl Action {
    /// A new action with its stable id.
    pub fn new(
        connector: &str,
        kind: ActionKind,
        target: &str,
        identity: &str,
        note: impl Into<String>,
    ) -> Action {
        // A secret is rotated for each leaver who could read it: their rotation is a different
        // action from an earlier leaver's, done or not.
        let h = if kind == ActionKind::RotateSecret {
            Sha256::digest(format!("{connector}\0{kind:?}\0{target}\0{identity}").as_bytes())
        } else {
            Sha256::digest(format!("{connector}\0{kind:?}\0{target}").as_bytes())
        };
        Action {
            id: h[..6].iter().map(|b| format!("{b:02x}")).collect(),
            connector: connector.to_string(),
            kind,
            target: target.to_string(),
            identity: identity.to_string(),
            note: note.into(),
        }
    }
}

/// How strong the evidence that a credential is dead is. Only these count as done; anything else
/// (a bare 401/403, a proxy's answer, a wrong region or account, a network error) leaves the item
/// open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// The system itself refused the old credential (STS `InvalidClientTokenId`, PostgreSQL `28P01`
    /// on a connection that otherwise succeeds, a verifier refusing an old-key token it accepts when
    /// signed by the successor, introspection by the token's own client, `ssh-keygen -Q` REVOKED).
    Refused,
    /// The system's own listing no longer has it: weaker than a refusal, shown as such.
    Gone,
    /// A receiver took a notice (webhook, Shared Signals): told, never proven dead.
    Notified,
}

impl Strength {
    /// Word for people and the journal.
    pub fn label(self) -> &'static str {
        match self {
            Strength::Refused => "refused",
            Strength::Gone => "gone",
            Strength::Notified => "notified",
        }
    }
}

/// What a connector's verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Done, with this strength of evidence.
    Proven(Strength),
    /// The old credential still works (or the change is not in place).
    Alive,
    /// An answer that proves nothing either way: stays open, retried, loud.
    Ambiguous,
}

/// How a revocation was shown to hold (or why it was not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The classification.
    pub verdict: Verdict,
    /// How we know (e.g. "the old key was refused by STS: InvalidClientTokenId").
    pub how: String,
}

impl Proof {
    /// An authoritative refusal of the old credential.
    pub fn refused(how: impl Into<String>) -> Proof {
        Proof {
            verdict: Verdict::Proven(Strength::Refused),
            how: how.into(),
        }
    }
    /// The system's own listing no longer has it.
    pub fn gone(how: impl Into<String>) -> Proof {
        Proof {
            verdict: Verdict::Proven(Strength::Gone),
            how: how.into(),
        }
    }
    /// A receiver took the notice.
    pub fn notified(how: impl Into<String>) -> Proof {
        Proof {
            verdict: Verdict::Proven(Strength::Notified),
            how: how.into(),
        }
    }
    /// Still alive.
    pub fn alive(how: impl Into<String>) -> Proof {
        Proof {
            verdict: Verdict::Alive,
            how: how.into(),
        }
    }
    /// Proves nothing.
    pub fn ambiguous(how: impl Into<String>) -> Proof {
        Proof {
            verdict: Verdict::Ambiguous,
            how: how.into(),
        }
    }
    /// The strength, when proven.
    pub fn strength(&self) -> Option<Strength> {
        match self.verdict {
            Verdict::Proven(s) => Some(s),
            _ => None,
        }
    }
}

/// Who is leaving, and what they hold or could read.
#[derive(Debug, Clone)]
pub struct Leaver {
    /// The HR record.
    pub identity: Identity,
    /// Credentials they own (resolved from the inventories).
    pub credentials: Vec<Credential>,
    /// Secrets and keys they could read (to rotate).
    pub readable: Vec<Credential>,
}

/// Errors, each naming the connector.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// The system could not be reached or answered with an error that waiting may fix.
    #[error("{connector}: unreachable or failing: {reason}")]
    Unavailable {
        /// Connector.
        connector: String,
        /// What happened.
        reason: String,
    },
    /// The system refused the request (permissions, bad input): waiting will not fix it.
    #[error("{connector}: refused: {reason}")]
    Refused {
        /// Connector.
        connector: String,
        /// What happened.
        reason: String,
    },
    /// Local problem (journal, configuration).
    #[error("{0}")]
    Local(String),
}

/// A system credentials live in.
pub trait Connector {
    /// Name (`aws-iam`, `scim`, `webhook:host`…).
    fn name(&self) -> String;
    /// What must be done for `who`, from the system's own live listing (so that what is already
    /// gone is not planned again).
    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError>;
    /// Do one action.
    fn apply(&mut self, a: &Action) -> Result<String, RespondError>;
    /// Show that it holds: classify the system's answer as refused, gone, notified, alive or
    /// ambiguous. An error counts as ambiguous.
    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError>;
    /// Does this connector take charge of `c` (it belongs to the system, account and region the
    /// connector is configured for)? A credential or readable secret of the leaver that no connector
    /// covers becomes an open item naming what is missing.
    fn covers(&self, _c: &Credential) -> bool {
        false
    }
    /// The system's own authoritative statement that `a` is already done (e.g. the inventory shows
    /// the secret rotated since the departure), letting the playbook skip the change. Never an
    /// ambiguous answer: when in doubt, `None`, and the change is applied (connectors' changes are
    /// idempotent).
    fn already_done(&mut self, _a: &Action) -> Option<Proof> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_is_per_leaver_and_a_revocation_is_per_target() {
        let rot =
            |who: &str| Action::new("rotation", ActionKind::RotateSecret, "orders-hmac", who, "");
        assert_ne!(
            rot("E1").id,
            rot("E2").id,
            "each leaver who read it gets a rotation"
        );
        assert_eq!(rot("E1").id, rot("E1").id);
        let key = |who: &str| Action::new("aws-iam", ActionKind::DeleteAccessKey, "AKIA1", who, "");
        assert_eq!(key("E1").id, key("E2").id);
    }
}
