//! CW-D009: an identity HR marks as terminated is still acting — the seed's "identity marked terminated
//! authenticates". Actors are joined to HR by any alias: the IAM user name (last segment of the ARN), an
//! assumed-role session name, a shell or database user.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Directory, Event, Finding, Resolution, RuleMeta, Severity};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D009",
    name: "terminated-identity-activity",
    version: 1,
    title: "Activity by a terminated identity",
    description: "A credential or account of someone HR records as gone is being used after their last day: either a process still runs as them, or someone — possibly them — holds their access.",
    severity: Severity::Critical,
    attack: &[CLOUD_ACCOUNTS, VALID_ACCOUNTS],
    d3fend: &[CREDENTIAL_REVOKING, ACCOUNT_LOCKING],
    false_positives: &["a scheduled job still running under the leaver's key (move it to a service identity)", "HR end date recorded too early"],
    recommendation: "Revoke every credential of the identity now (credwarden offboard), then scope what was done since the last day.",
};

/// The detector: the HR directory, resolutions already made (the same few actors act millions of
/// times), and one finding per identity and credential — a leaver's key still in use is one
/// persisting condition, not one finding a day (the state's reported fingerprints carry it across
/// runs).
pub struct TerminatedIdentityActivity {
    dir: Arc<Directory>,
    resolved: HashMap<String, Option<usize>>,
    seen: HashSet<(usize, String)>,
}

impl TerminatedIdentityActivity {
    /// Over this directory.
    pub fn new(dir: Arc<Directory>) -> Self {
        Self {
            dir,
            resolved: HashMap::new(),
            seen: HashSet::new(),
        }
    }
}

/// The name a log gives the acting person, if any (customers of the gateway are not employees).
fn actor(ev: &Event) -> Option<&str> {
    match ev.resource.kind.as_deref() {
        Some("gateway") | Some("token_issuance") => None,
        _ => {
            let p = ev.principal.as_deref()?;
            // arn:aws:iam::123:user/path/name → name; arn:aws:sts::123:assumed-role/role/session → session.
            Some(p.rsplit('/').next().unwrap_or(p))
        }
    }
}

impl Detector for TerminatedIdentityActivity {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        let Some(name) = actor(ev) else { return };
        let dir = &self.dir;
        let found =
            *self
                .resolved
                .entry(name.to_string())
                .or_insert_with(|| match dir.resolve(name) {
                    Resolution::Found(i, _) => Some(i),
                    _ => None,
                });
        let Some(i) = found else { return };
        let who = self.dir.get(i);
        let day = ev.time.to_zoned(jiff::tz::TimeZone::UTC).date();
        let Some(end) = who
            .end_date
            .filter(|&e| who.status == credwarden_model::IdentityStatus::Terminated && e < day)
        else {
            return;
        };
        let days = credwarden_model::days_between(end, day);
        let via = ev
            .credential_id
            .clone()
            .or_else(|| ev.principal.clone())
            .unwrap_or_default();
        if !self.seen.insert((i, via)) {
            return;
        }
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{} (terminated {end}) acted {days} days after their last day: {} from {}",
                who.label(),
                ev.action,
                ev.src.ip.as_deref().unwrap_or("?")
            ),
        )
        .fact("termination_date", end.to_string())
        .fact("days_after_termination", days);
        f.subject.identity_id = Some(who.id.clone());
        f.subject.identity_label = Some(who.label());
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use credwarden_model::{Identity, IdentityKind, IdentityStatus, SourceRef};
    use serde_json::json;

    fn dir() -> Arc<Directory> {
        let p = |id: &str, user: &str, status, end: Option<&str>| Identity {
            id: id.into(),
            display_name: None,
            emails: vec![],
            usernames: vec![user.into()],
            kind: IdentityKind::Employee,
            status,
            start_date: None,
            end_date: end.map(|e| e.parse().unwrap()),
            manager: None,
            department: None,
            source: SourceRef::new("hr.csv", 2),
        };
        Arc::new(Directory::new(vec![
            p("E1", "bob", IdentityStatus::Terminated, Some("2025-03-01")),
            p("E2", "ann", IdentityStatus::Active, None),
            p("E3", "cy", IdentityStatus::Terminated, Some("2025-04-01")),
        ]))
    }

    #[test]
    fn fires_once_per_leaver_and_credential_after_the_last_day() {
        let evs = [
            ct("ListBuckets", "s3.amazonaws.com", json!({})),
            ct("GetObject", "s3.amazonaws.com", json!({})),
        ];
        let f = run(&mut TerminatedIdentityActivity::new(dir()), &evs);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].subject.identity_id.as_deref(), Some("E1"));
        assert_eq!(f[0].facts["days_after_termination"], 31);
    }

    #[test]
    fn quiet_for_current_staff_on_the_last_day_and_customers() {
        let mut ann = ct("ListBuckets", "s3.amazonaws.com", json!({}));
        ann.principal = Some("arn:aws:iam::1:user/ann".into());
        let mut last_day = ct("ListBuckets", "s3.amazonaws.com", json!({}));
        last_day.principal = Some("arn:aws:iam::1:user/cy".into());
        let mut customer = ct("GET", "gateway", json!({}));
        customer.resource.kind = Some("gateway".into());
        customer.principal = Some("bob".into());
        assert!(run(
            &mut TerminatedIdentityActivity::new(dir()),
            &[ann, last_day, customer]
        )
        .is_empty());
    }
}
