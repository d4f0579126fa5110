//! CW-D013 (one finding per key and latest leaver): tokens signed with a key that a departed identity could read keep arriving after that
//! departure, and the key was not rotated since — the log-side view of Coupang's root cause. Works
//! without any issuance log: only the gateway's `kid`, the secrets inventory and HR are needed.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Credential, Directory, Event, Finding, Identity, RuleMeta, Severity};
use jiff::civil::Date;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D013",
    name: "leaver-readable-key-in-use",
    version: 1,
    title: "Signing key readable by a leaver still accepted",
    description: "The gateway keeps accepting tokens signed with a key that someone who has left could read, and the key has not been rotated since they left: any of those tokens may be forged.",
    severity: Severity::High,
    attack: &[FORGE_WEB_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[CREDENTIAL_ROTATION],
    false_positives: &["the reader list in the inventory is broader than real access"],
    recommendation: "Rotate the signing key now and drop the old kid from every verifier; scope the requests made with it since the departure.",
};

/// A signing key with the departures that expose it: (departure day, who).
struct Exposed {
    since: Option<Date>,
    leavers: Vec<(Date, String)>,
}

/// The detector: exposure per `kid`, one finding per key and day.
pub struct LeaverReadableKeyInUse {
    keys: HashMap<String, Exposed>,
    seen: HashSet<(String, String)>,
}

impl LeaverReadableKeyInUse {
    /// Build from the directory (HR + groups) and the inventory's signing keys.
    pub fn new(dir: Arc<Directory>, credentials: &[Credential]) -> Self {
        let mut keys = HashMap::new();
        for c in credentials.iter().filter(|c| c.kind.is_signing()) {
            // The one exposure join: readers (groups expanded) and the owner, resolved as the
            // audit and the offboarding resolve them.
            let readers: Vec<&Identity> = credwarden_model::exposure::readers(&dir, c)
                .found
                .into_iter()
                .map(|i| dir.get(i))
                .collect();
            let leavers = readers
                .iter()
                .filter(|r| r.status == credwarden_model::IdentityStatus::Terminated)
                .filter_map(|r| r.end_date.map(|d| (d, r.label())))
                .collect();
            let since = c
                .material_since()
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date());
            keys.insert(c.id.clone(), Exposed { since, leavers });
        }
        Self {
            keys,
            seen: HashSet::new(),
        }
    }
}

impl Detector for LeaverReadableKeyInUse {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn save(&self) -> Option<serde_json::Value> {
        crate::save_json(&self.seen)
    }
    fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
        self.seen = crate::restore_json(state)?;
        Ok(())
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.resource.kind.as_deref() != Some("gateway") {
            return;
        }
        let Some(kid) = ev.token.as_ref().and_then(|t| t.kid.as_deref()) else {
            return;
        };
        let Some(x) = self.keys.get(kid) else { return };
        let day = ev.time.to_zoned(jiff::tz::TimeZone::UTC).date();
        // Leavers gone before this request, whose departure the key's material predates.
        let Some((left, who)) = x
            .leavers
            .iter()
            .filter(|(d, _)| *d < day && x.since.is_none_or(|s| s <= *d))
            .max_by_key(|(d, _)| *d)
        else {
            return;
        };
        let days = credwarden_model::days_between(*left, day);
        // One condition per key and latest leaver: it stays true until the key is rotated.
        if !self.seen.insert((kid.to_string(), who.clone())) {
            return;
        }
        let mut f = finding_for(&META, ev, format!("gateway accepted a token signed with {kid}, readable by {who} who left {left} ({days} days ago); not rotated since"))
            .fact("kid", kid)
            .fact("reader_left", left.to_string())
            .fact("days_since_departure", days);
        f.subject.credential_id = Some(kid.to_string());
        f.subject.credential_kind = Some("signing_key".into());
        f.subject.principal = None;
        // The condition began with the departure.
        f.first_seen = left
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
        f.discriminator = Some(who.clone());
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credwarden_model::{
        CredentialKind, EventOutcome, IdentityKind, IdentityStatus, Network, ResourceRef,
        SourceRef, TokenClaims, Volume,
    };

    fn dir() -> Arc<Directory> {
        let p = |id: &str, status, end: Option<&str>| Identity {
            id: id.into(),
            display_name: None,
            emails: vec![],
            usernames: vec![],
            kind: IdentityKind::Employee,
            status,
            start_date: None,
            end_date: end.map(|e| e.parse().unwrap()),
            manager: None,
            department: None,
            source: SourceRef::new("hr.csv", 2),
        };
        Arc::new(
            Directory::new(vec![
                p("E1", IdentityStatus::Active, None),
                p("E2", IdentityStatus::Terminated, Some("2025-02-01")),
            ])
            .with_groups([(
                "login".to_string(),
                vec!["E1".to_string(), "E2".to_string()],
            )]),
        )
    }

    fn key(rotated: Option<&str>) -> Credential {
        let mut c = Credential::new(
            "kid-2019",
            CredentialKind::SigningKey,
            "login",
            SourceRef::new("inv.csv", 2),
        );
        c.created = Some("2019-01-01T00:00:00Z".parse().unwrap());
        c.last_rotated = rotated.map(|r| r.parse().unwrap());
        c.readers = vec!["login".into()];
        c
    }

    fn req(day: &str) -> Event {
        Event {
            time: format!("{day}T10:00:00Z").parse().unwrap(),
            credential_id: None,
            principal: None,
            token: Some(TokenClaims {
                sub: Some("7".into()),
                jti: Some("j".into()),
                kid: Some("kid-2019".into()),
                iat: None,
                client: None,
                exp: None,
            }),
            action: "/api/v1/members/7/orders".into(),
            resource: ResourceRef {
                kind: Some("gateway".into()),
                id: None,
                sensitivity: None,
            },
            src: Network::default(),
            user_agent: None,
            outcome: EventOutcome::Success,
            volume: Volume::default(),
            event_id: Some("r".into()),
            detail: serde_json::Value::Null,
            raw: SourceRef::new("g.jsonl", 1),
        }
    }

    #[test]
    fn fires_once_after_a_reader_left() {
        let mut d = LeaverReadableKeyInUse::new(dir(), &[key(None)]);
        let f = crate::detectors::testkit::run(
            &mut d,
            &[
                req("2025-01-20"),
                req("2025-03-01"),
                req("2025-03-01"),
                req("2025-03-02"),
            ],
        );
        assert_eq!(f.len(), 1, "one condition per key and latest leaver");
        assert_eq!(f[0].facts["days_since_departure"], 28);
    }

    #[test]
    fn quiet_when_rotated_after_the_departure() {
        let mut d = LeaverReadableKeyInUse::new(dir(), &[key(Some("2025-02-10T00:00:00Z"))]);
        assert!(crate::detectors::testkit::run(&mut d, &[req("2025-03-01")]).is_empty());
    }
}
