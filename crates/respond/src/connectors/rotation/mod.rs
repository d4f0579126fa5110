//! Secrets and keys the leaver could read (not their own credentials): signing keys, shared API
//! secrets, KMS keys. Their rotation belongs to each secret's owner (publish a successor, drop the old
//! key id from the verifiers, redeploy the consumers), so each becomes an open action naming what to
//! do; it is verified when the inventory shows the secret rotated after the departure, or closed by a
//! person with a reason. This is the part Coupang missed: the engineer's accounts were closed, the key
//! he could read lived on.
//!
//! Here: `Rotations` (the connector); it has no config section: it is always there, fed by the
//! inventories.

use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use credwarden_model::Credential;

/// The rotation "connector": plans from the inventory, verifies from the inventory.
pub struct Rotations {
    /// What the leaver could read.
    readable: Vec<Credential>,
    /// Their departure date, for "rotated since".
    left: Option<jiff::civil::Date>,
}

impl Rotations {
    /// From the leaver's readable secrets.
    pub fn new(who: &Leaver) -> Rotations {
        Rotations {
            readable: who.readable.clone(),
            left: who.identity.end_date,
        }
    }

    /// Leave out secrets another connector rotates (signing keys in a managed JWKS).
    pub fn excluding(mut self, ids: &[String]) -> Rotations {
        self.readable.retain(|c| !ids.contains(&c.id));
        self
    }
}

impl Connector for Rotations {
    fn name(&self) -> String {
        "rotation".into()
    }
    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        Ok(self
            .readable
            .iter()
            .map(|c| {
                let how = if c.kind.is_signing() {
                    "publish a successor key, remove the old kid from every verifier's JWKS, then prove a token signed with the old key is refused"
                } else {
                    "rotate the secret and redeploy its consumers"
                };
                Action::new("rotation", ActionKind::RotateSecret, &c.id, &who.identity.id, format!("{} ({}): {how}", c.id, c.system))
            })
            .collect())
    }
    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        Err(RespondError::Refused { connector: "rotation".into(), reason: format!("{}: rotation is done by the secret's owner; close this item when done (credwarden offboard --close {})", a.target, a.id) })
    }
    fn already_done(&mut self, a: &Action) -> Option<Proof> {
        self.verify(a).ok().filter(|p| p.strength().is_some())
    }
    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        let c = self.readable.iter().find(|c| c.id == a.target);
        let rotated = c
            .and_then(|c| c.material_since())
            .zip(self.left)
            .is_some_and(|(m, l)| m.to_zoned(jiff::tz::TimeZone::UTC).date() > l);
        Ok(if rotated {
            // The inventory's word, not a refusal of the old value: shown as "gone".
            Proof::gone("the inventory shows it rotated after the departure")
        } else {
            Proof::alive("not rotated since the departure")
        })
    }
    fn covers(&self, c: &Credential) -> bool {
        self.readable
            .iter()
            .any(|r| r.id == c.id && r.system == c.system)
    }
}
