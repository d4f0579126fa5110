//! CW-D014: a credential (or principal) that no HR identity owns succeeds in doing something — what a
//! leaver's forgotten key or a key an attacker created for themselves looks like in the logs. Owners
//! come from the inventory (mapping for the key id, stated owner, principal, as the audit resolves them)
//! and, for credentials the inventory does not list, from the acting principal through the directory.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{
    Credential, Directory, Event, EventOutcome, Finding, Resolution, RuleMeta, Severity,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D014",
    name: "unknown-owner-activity",
    version: 1,
    title: "Activity by a credential with no known owner",
    description: "A credential or principal that cannot be tied to any HR identity (neither through the inventory's owner nor through the directory) is used successfully: a leaver's forgotten key, a shared key nobody answers for, or a key an attacker created.",
    severity: Severity::Medium,
    attack: &[VALID_ACCOUNTS, CLOUD_ACCOUNTS, ADDITIONAL_CLOUD_CREDENTIALS],
    d3fend: &[ACCOUNT_MONITORING, CREDENTIAL_REVOKING],
    false_positives: &["service users and service accounts whose owner is not yet in the owner-mapping file (add them to --owners)", "aliases HR does not record", "keys created since the inventory was taken"],
    recommendation: "Find who uses the credential (source address, user agent); assign an owner in the inventory or the owner-mapping file, or revoke it and scope what it did.",
};

/// How a credential id stands.
#[derive(Clone, Copy)]
enum Listing {
    /// In the inventory; whether its owner resolves.
    Listed(bool),
    /// Not in the inventory, but the owner-mapping file (or an alias) names it.
    Mapped,
    /// Unknown: the principal decides.
    Unlisted,
}

/// The detector: the directory, what the inventory says about each key and principal, resolutions
/// already made (the same few actors act millions of times), and the credentials or principals
/// already reported (once each: an unowned key in use is one condition, not one a day).
pub struct UnknownOwnerActivity {
    dir: Arc<Directory>,
    /// Inventory credential id → its owner resolves.
    keys: HashMap<String, bool>,
    /// Inventory principal (lowercased) → some credential of it has an owner that resolves.
    principals: HashMap<String, bool>,
    credential_cache: HashMap<String, Listing>,
    principal_cache: HashMap<String, bool>,
    seen: HashSet<(String, String)>,
}

/// Does the inventory's owner of `c` resolve to one identity? Same order as the audit: an explicit
/// mapping for the credential id, then the stated owner, then the principal; ambiguity is not an owner.
fn owner_resolves(dir: &Directory, c: &Credential) -> bool {
    matches!(
        credwarden_model::exposure::owner(dir, c),
        credwarden_model::exposure::Owner::Identity(..)
            | credwarden_model::exposure::Owner::Account
    )
}

impl UnknownOwnerActivity {
    /// Build from the directory (HR, aliases, owner mapping) and the inventory's credentials.
    pub fn new(dir: Arc<Directory>, credentials: &[Credential]) -> Self {
        let mut keys: HashMap<String, bool> = HashMap::new();
        let mut principals: HashMap<String, bool> = HashMap::new();
        // Account-level (root) credentials belong to another rule.
        for c in credentials.iter().filter(|c| !c.account_level) {
            let owned = owner_resolves(&dir, c);
            *keys.entry(c.id.clone()).or_default() |= owned;
            if let Some(p) = c.principal.as_deref().filter(|p| !p.trim().is_empty()) {
                *principals.entry(p.trim().to_lowercase()).or_default() |= owned;
            }
        }
        Self {
            dir,
            keys,
            principals,
            credential_cache: HashMap::new(),
            principal_cache: HashMap::new(),
            seen: HashSet::new(),
        }
    }

    fn credential(&mut self, id: &str) -> Listing {
        if let Some(&l) = self.credential_cache.get(id) {
            return l;
        }
        let l = match self.keys.get(id) {
            Some(&owned) => Listing::Listed(owned),
            None => match self.dir.resolve(id) {
                Resolution::Found(..) => Listing::Mapped,
                _ => Listing::Unlisted,
            },
        };
        self.credential_cache.insert(id.to_string(), l);
        l
    }

    /// Is the principal tied to an identity: by its full name or its last path segment (IAM user
    /// name, session name), through the directory or through an owned inventory credential?
    fn principal_owned(&mut self, p: &str) -> bool {
        if let Some(&o) = self.principal_cache.get(p) {
            return o;
        }
        // arn:aws:iam::123:user/path/name → name; emails and plain names stay as they are.
        let short = p.rsplit('/').next().unwrap_or(p);
        let owned = [p, short].iter().any(|n| {
            self.principals
                .get(&n.trim().to_lowercase())
                .copied()
                .unwrap_or(false)
                || matches!(self.dir.resolve(n), Resolution::Found(..))
        });
        self.principal_cache.insert(p.to_string(), owned);
        owned
    }
}

/// Actors that are not workforce credentials, or that other rules cover: AWS services, other
/// accounts, root, assumed-role sessions, Google service agents.
fn out_of_scope(ev: &Event) -> bool {
    if matches!(
        ev.resource.kind.as_deref(),
        Some("gateway") | Some("token_issuance") | Some("network")
    ) {
        return true;
    }
    let kind = ev.detail.get("userIdentityType").and_then(|v| v.as_str());
    if matches!(
        kind,
        Some("AWSService") | Some("AWSAccount") | Some("Root") | Some("AssumedRole")
    ) {
        return true;
    }
    let Some(p) = ev.principal.as_deref() else {
        return false;
    };
    let domain = p.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    p.ends_with(".amazonaws.com")
        || p.contains(":assumed-role/")
        || p.ends_with(":root")
        || p.eq_ignore_ascii_case("root")
        || domain.starts_with("gcp-sa-")
        || domain == "cloudservices.gserviceaccount.com"
        || domain == "system.gserviceaccount.com"
}

impl Detector for UnknownOwnerActivity {
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
        if ev.outcome != EventOutcome::Success || out_of_scope(ev) {
            return;
        }
        let key = ev.credential_id.as_deref().filter(|k| !k.is_empty());
        let principal = ev.principal.as_deref().filter(|p| !p.is_empty());
        // Temporary session keys (ASIA…) are nobody's: only their principal can be unowned.
        let temporary = key.is_some_and(|k| k.starts_with("ASIA"));
        let key = key.filter(|_| !temporary);
        if key.is_none() && principal.is_none() {
            return;
        }
        let in_inventory = match key.map(|k| self.credential(k)) {
            Some(Listing::Listed(true)) | Some(Listing::Mapped) => return,
            Some(Listing::Listed(false)) => true,
            Some(Listing::Unlisted) | None => {
                if principal.is_some_and(|p| self.principal_owned(p)) {
                    return;
                }
                false
            }
        };
        let Some(subject) = key.or(principal) else {
            return;
        };
        // A persisting condition: one finding per key or principal, not one a day.
        if !self.seen.insert((subject.to_string(), String::new())) {
            return;
        }
        let ip = ev.src.ip.as_deref().unwrap_or("?");
        let why = if in_inventory {
            "the inventory lists it but no identity matches its owner"
        } else {
            "not in the inventory and no identity matches its principal"
        };
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{subject} ({}) called {} from {ip}: {why}",
                principal.unwrap_or("no principal"),
                ev.action
            ),
        )
        .fact("credential", ev.credential_id.clone())
        .fact("principal", ev.principal.clone())
        .fact("first_action", ev.action.clone())
        .fact("source_ip", ev.src.ip.clone())
        .fact("in_inventory", in_inventory);
        // A session key changes hourly; the principal is what is unowned.
        f.subject.credential_id = key.map(str::to_string);
        f.subject.principal = principal.map(str::to_string);
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use credwarden_model::{CredentialKind, Identity, IdentityKind, IdentityStatus, SourceRef};
    use serde_json::json;

    fn dir() -> Arc<Directory> {
        let p = |id: &str, email: &str, user: &str| Identity {
            id: id.into(),
            display_name: None,
            emails: vec![email.into()],
            usernames: vec![user.into()],
            kind: IdentityKind::Employee,
            status: IdentityStatus::Active,
            start_date: None,
            end_date: None,
            manager: None,
            department: None,
            source: SourceRef::new("hr.csv", 2),
        };
        Arc::new(Directory::new(vec![
            p("E1", "alice@corp.example", "asmith"),
            p("E2", "dan@corp.example", "dan"),
        ]))
    }

    fn key(id: &str, owner: Option<&str>, principal: &str) -> Credential {
        let mut c = Credential::new(
            id,
            CredentialKind::AccessKey,
            "aws:111122223333",
            SourceRef::new("inv.csv", 2),
        );
        c.owner = owner.map(str::to_string);
        c.principal = Some(principal.into());
        c
    }

    fn inventory() -> Vec<Credential> {
        vec![
            key("AKIAOWNED", Some("dan@corp.example"), "deployer"),
            key("AKIAORPHAN", Some("former-contractor"), "svc-legacy"),
        ]
    }

    fn detector() -> UnknownOwnerActivity {
        UnknownOwnerActivity::new(dir(), &inventory())
    }

    /// A call with key `k` as IAM user `user` at `time`.
    fn call(k: &str, user: &str, time: &str) -> Event {
        let mut e = ct("ListBuckets", "s3.amazonaws.com", json!({}));
        e.credential_id = Some(k.into());
        e.principal = Some(format!("arn:aws:iam::111122223333:user/{user}"));
        e.time = time.parse().unwrap();
        e
    }

    #[test]
    fn quiet_for_an_owned_inventory_key() {
        let evs = [call("AKIAOWNED", "deployer", "2025-04-01T03:00:00Z")];
        assert!(run(&mut detector(), &evs).is_empty());
    }

    #[test]
    fn fires_once_for_an_inventory_key_without_owner() {
        let evs = [
            call("AKIAORPHAN", "svc-legacy", "2025-04-01T03:00:00Z"),
            call("AKIAORPHAN", "svc-legacy", "2025-04-01T18:00:00Z"),
            call("AKIAORPHAN", "svc-legacy", "2025-04-02T01:00:00Z"),
        ];
        let f = run(&mut detector(), &evs);
        assert_eq!(f.len(), 1, "one finding per key, however many days");
        assert_eq!(f[0].facts["in_inventory"], true);
        assert_eq!(f[0].facts["credential"], "AKIAORPHAN");
        assert_eq!(f[0].facts["first_action"], "ListBuckets");
        assert_eq!(f[0].facts["source_ip"], "198.51.100.7");
        assert_eq!(f[0].subject.credential_id.as_deref(), Some("AKIAORPHAN"));
        assert_eq!(f[0].discriminator, None);
    }

    #[test]
    fn fires_for_an_unlisted_key_of_an_unknown_iam_user() {
        let evs = [call("AKIANEWKEY", "backdoor", "2025-04-01T03:00:00Z")];
        let f = run(&mut detector(), &evs);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].facts["in_inventory"], false);
        assert_eq!(
            f[0].subject.principal.as_deref(),
            Some("arn:aws:iam::111122223333:user/backdoor")
        );
    }

    #[test]
    fn fires_for_an_unowned_principal_without_a_key() {
        let mut e = call("AKIAX", "x", "2025-04-01T03:00:00Z");
        e.credential_id = None;
        e.principal = Some("etl@acme-prod.iam.gserviceaccount.com".into());
        e.detail = json!({});
        let f = run(&mut detector(), &[e]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].subject.credential_id, None);
    }

    #[test]
    fn quiet_for_an_unlisted_key_whose_principal_resolves() {
        let evs = [
            // IAM user named after an email local part, and after a username.
            call("AKIAALICE", "alice", "2025-04-01T03:00:00Z"),
            call("AKIAASMITH", "asmith", "2025-04-01T03:00:00Z"),
            // An unlisted key of a principal the inventory gives an owner.
            call("AKIADEPLOY2", "deployer", "2025-04-01T03:00:00Z"),
        ];
        assert!(run(&mut detector(), &evs).is_empty());
    }

    #[test]
    fn quiet_for_sessions_services_root_denied_and_customers() {
        let mut session = call("ASIASESSION", "x", "2025-04-01T03:00:00Z");
        session.principal = Some("arn:aws:sts::111122223333:assumed-role/app-role/i-0abc".into());
        session.detail["userIdentityType"] = json!("AssumedRole");
        let mut user_session = call("ASIAUSER", "alice", "2025-04-01T03:00:00Z");
        user_session.detail["userIdentityType"] = json!("IAMUser");
        let mut service = call("AKIAX", "x", "2025-04-01T03:00:00Z");
        service.credential_id = None;
        service.principal = Some("cloudtrail.amazonaws.com".into());
        service.detail["userIdentityType"] = json!("AWSService");
        let mut root = call("AKIAROOTKEY", "x", "2025-04-01T03:00:00Z");
        root.principal = Some("arn:aws:iam::111122223333:root".into());
        root.detail["userIdentityType"] = json!("Root");
        let mut denied = call("AKIANEWKEY", "backdoor", "2025-04-01T03:00:00Z");
        denied.outcome = EventOutcome::Denied;
        let mut gateway = call("kid-1", "7", "2025-04-01T03:00:00Z");
        gateway.principal = Some("7".into());
        gateway.resource.kind = Some("gateway".into());
        let mut flow = call("AKIAX", "x", "2025-04-01T03:00:00Z");
        flow.credential_id = None;
        flow.principal = Some("eni-0a1b2c3d".into());
        flow.resource.kind = Some("network".into());
        let mut nobody = call("AKIAX", "x", "2025-04-01T03:00:00Z");
        nobody.credential_id = None;
        nobody.principal = None;
        let evs = [
            session,
            user_session,
            service,
            root,
            denied,
            gateway,
            flow,
            nobody,
        ];
        assert!(run(&mut detector(), &evs).is_empty());
    }

    #[test]
    fn session_key_of_an_unowned_user_fires_by_principal() {
        let a = call("ASIAONE", "backdoor", "2025-04-01T03:00:00Z");
        let b = call("ASIATWO", "backdoor", "2025-04-01T04:00:00Z");
        let f = run(&mut detector(), &[a, b]);
        assert_eq!(f.len(), 1, "one finding per principal");
        assert_eq!(f[0].subject.credential_id, None);
        assert_eq!(f[0].facts["credential"], "ASIAONE");
    }

    #[test]
    fn reported_set_survives_save_and_restore() {
        let mut d = detector();
        let first = [call("AKIAORPHAN", "svc-legacy", "2025-04-01T03:00:00Z")];
        assert_eq!(run(&mut d, &first).len(), 1);
        let saved = d.save().expect("stateful");
        let mut again = detector();
        again.restore(saved).unwrap();
        let evs = [
            call("AKIAORPHAN", "svc-legacy", "2025-04-01T20:00:00Z"),
            call("AKIAORPHAN", "svc-legacy", "2025-04-02T01:00:00Z"),
        ];
        let f = run(&mut again, &evs);
        assert!(f.is_empty(), "reported before the restart: {f:?}");
        assert!(again.restore(json!("garbage")).is_err());
    }
}
