//! The Users and Groups the SCIM endpoint serves: the HR roster's people as the endpoint first
//! knows them, then what identity providers create, replace, patch and delete. Writes are saved to a
//! state file (atomically, before the answer goes out) so a restart forgets nothing: SCIM-written
//! users and groups, deleted users, and who has already been offboarded.
//!
//! A departure is a user set `active=false` (by PATCH or PUT) or deleted. It is reported once
//! per user: the same deactivation sent again starts nothing; a user made active again is
//! watched again. Group memberships are handed to the offboarding: a secret readable by a group is
//! readable by its members.

use super::filter::Filter;
use super::resource::{self, canonical, is_active, stored, writable, ScimError};
use super::schema::{Catalogue, Kind};
use credwarden_model::{Directory, Identity};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize, Default)]
struct Saved {
    /// Users as last written over SCIM (they override the roster's view).
    users: BTreeMap<String, Map<String, Value>>,
    /// Groups, all written over SCIM.
    #[serde(default)]
    groups: BTreeMap<String, Map<String, Value>>,
    /// Users deleted over SCIM (roster users stay deleted across restarts).
    deleted: BTreeSet<String>,
    /// Users whose departure has been reported.
    offboarded: BTreeSet<String>,
    /// Every group (by name) each member (by alias) was ever in: memberships removed before a
    /// departure still count for what the leaver could read.
    #[serde(default)]
    ever_in: BTreeMap<String, BTreeSet<String>>,
}

/// The store.
pub struct Store {
    users: BTreeMap<String, Map<String, Value>>,
    saved: Saved,
    path: Option<PathBuf>,
    counter: u64,
}

/// A new version of a resource and the departure it made, if any.
pub type Changed = (Map<String, Value>, Option<Identity>);

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn not_found(kind: &Kind, id: &str) -> ScimError {
    ScimError::not_found(format!("no {} `{id}`", kind.name))
}

fn is_user(kind: &Kind) -> bool {
    kind.name == "User"
}

impl Store {
    /// The roster's people, then what an earlier run saved at `path`.
    pub fn open(dir: &Directory, path: Option<PathBuf>) -> Result<Store, String> {
        let saved: Saved = match &path {
            Some(p) => credwarden_store::load(p, FORMAT)
                .map_err(|e| e.to_string())?
                .unwrap_or_default(),
            None => Saved::default(),
        };
        let user = Catalogue::get().user();
        let today = jiff::Zoned::now().date();
        let t = now();
        let mut users = BTreeMap::new();
        for i in dir.identities() {
            if saved.deleted.contains(&i.id) {
                continue;
            }
            let attrs = resource::from_identity(i, !i.is_departed(today));
            let attrs = canonical(user, &attrs)
                .map_err(|e| format!("roster identity {}: {}", i.id, e.detail))?;
            if let Value::Object(r) = stored(user, &i.id, attrs, &t, &t) {
                users.insert(i.id.clone(), r);
            }
        }
        for (id, r) in &saved.users {
            users.insert(id.clone(), r.clone());
        }
        Ok(Store {
            users,
            saved,
            path,
            counter: 0,
        })
    }

    fn all(&self, kind: &Kind) -> &BTreeMap<String, Map<String, Value>> {
        if is_user(kind) {
            &self.users
        } else {
            &self.saved.groups
        }
    }

    /// One resource.
    pub fn get(&self, kind: &Kind, id: &str) -> Option<&Map<String, Value>> {
        self.all(kind).get(id)
    }

    /// Every resource of `kind` matching `filter` (all without one), newest first (then by id): a
    /// client that just created something finds it on the first page, however large the roster.
    pub fn list<'a>(
        &'a self,
        kind: &'a Kind,
        filter: Option<&'a Filter>,
    ) -> impl Iterator<Item = &'a Map<String, Value>> {
        self.list_across(&[kind], filter)
            .into_iter()
            .map(|(_, r)| r)
    }

    /// As [`Store::list`], across several resource types (a root `.search`), newest first.
    pub fn list_across<'a>(
        &'a self,
        kinds: &[&'a Kind],
        filter: Option<&Filter>,
    ) -> Vec<(&'a Kind, &'a Map<String, Value>)> {
        let created = |r: &Map<String, Value>| -> Option<jiff::Timestamp> {
            r.get("meta")?.get("created")?.as_str()?.parse().ok()
        };
        let mut v: Vec<(Option<jiff::Timestamp>, &'a Kind, &'a Map<String, Value>)> = kinds
            .iter()
            .flat_map(|k| {
                self.all(k)
                    .values()
                    .filter(move |r| filter.is_none_or(|f| f.matches(k, r)))
                    .map(move |r| (created(r), *k, r))
            })
            .collect();
        // Stable: equal times keep the id order of each type.
        v.sort_by_key(|x| std::cmp::Reverse(x.0));
        v.into_iter().map(|(_, k, r)| (k, r)).collect()
    }

    /// The first attribute whose schema says `uniqueness: server` and whose value another resource
    /// of `kind` already holds (case-insensitively).
    fn taken(
        &self,
        kind: &Kind,
        attrs: &Map<String, Value>,
        by_other_than: Option<&str>,
    ) -> Option<String> {
        kind.core
            .attributes
            .iter()
            .filter(|a| a.uniqueness.as_deref() == Some("server"))
            .find_map(|a| {
                let mine = attrs.get(&a.name)?.as_str()?;
                self.all(kind)
                    .iter()
                    .any(|(id, r)| {
                        Some(id.as_str()) != by_other_than
                            && r.get(&a.name)
                                .and_then(Value::as_str)
                                .is_some_and(|n| n.eq_ignore_ascii_case(mine))
                    })
                    .then(|| format!("{} `{mine}` is taken", a.name))
            })
    }

    fn unique(
        &self,
        kind: &Kind,
        attrs: &Map<String, Value>,
        by_other_than: Option<&str>,
    ) -> Result<(), ScimError> {
        match self.taken(kind, attrs, by_other_than) {
            Some(detail) => Err(ScimError {
                status: 409,
                scim_type: Some("uniqueness"),
                detail,
            }),
            None => Ok(()),
        }
    }

    fn save(&self) -> Result<(), ScimError> {
        match &self.path {
            Some(p) => credwarden_store::save(p, FORMAT, &self.saved)
                .map_err(|e| ScimError::internal(format!("could not save the change: {e}"))),
            None => Ok(()),
        }
    }

    /// POST.
    pub fn create(
        &mut self,
        kind: &Kind,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ScimError> {
        let attrs = canonical(kind, body)?;
        self.unique(kind, &attrs, None)?;
        self.counter += 1;
        let seed = format!(
            "{}:{}:{}",
            jiff::Timestamp::now().as_nanosecond(),
            std::process::id(),
            self.counter
        );
        let id: String = Sha256::digest(seed.as_bytes())[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let t = now();
        let Value::Object(r) = stored(kind, &id, attrs, &t, &t) else {
            unreachable!("stored() builds an object")
        };
        self.write(kind, &id, r.clone())?;
        Ok(r)
    }

    /// Store `r` as resource `id` (saved; undone in memory if the save fails).
    fn write(&mut self, kind: &Kind, id: &str, r: Map<String, Value>) -> Result<(), ScimError> {
        if !is_user(kind) {
            let name = r
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_string);
            let members = self.members(&r);
            let before = self.saved.groups.insert(id.to_string(), r);
            let ever_before = self.saved.ever_in.clone();
            if let Some(name) = name {
                for m in members {
                    self.saved
                        .ever_in
                        .entry(m)
                        .or_default()
                        .insert(name.clone());
                }
            }
            if let Err(e) = self.save() {
                match before {
                    Some(b) => self.saved.groups.insert(id.to_string(), b),
                    None => self.saved.groups.remove(id),
                };
                self.saved.ever_in = ever_before;
                return Err(e);
            }
            return Ok(());
        }
        let before = (
            self.users.get(id).cloned(),
            self.saved.users.get(id).cloned(),
            self.saved.offboarded.contains(id),
        );
        if is_active(&r) {
            // Rehired or reactivated: a later deactivation is a departure again.
            self.saved.offboarded.remove(id);
        }
        self.users.insert(id.to_string(), r.clone());
        self.saved.users.insert(id.to_string(), r);
        if let Err(e) = self.save() {
            match before.0 {
                Some(r) => self.users.insert(id.to_string(), r),
                None => self.users.remove(id),
            };
            match before.1 {
                Some(r) => self.saved.users.insert(id.to_string(), r),
                None => self.saved.users.remove(id),
            };
            if before.2 {
                self.saved.offboarded.insert(id.to_string());
            }
            return Err(e);
        }
        Ok(())
    }

    /// A new version of resource `id` from its client-writable attributes: stored when it
    /// differs, and the departure it makes, if any.
    fn update(
        &mut self,
        kind: &Kind,
        id: &str,
        attrs: Map<String, Value>,
    ) -> Result<Changed, ScimError> {
        let old = self.all(kind).get(id).ok_or_else(|| not_found(kind, id))?;
        self.unique(kind, &attrs, Some(id))?;
        let created = old
            .get("meta")
            .and_then(|m| m.get("created"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(now);
        let unchanged = writable(old) == attrs;
        let r = if unchanged {
            old.clone()
        } else {
            let Value::Object(r) = stored(kind, id, attrs, &created, &now()) else {
                unreachable!("stored() builds an object")
            };
            self.write(kind, id, r.clone())?;
            r
        };
        let departure = (is_user(kind) && !is_active(&r))
            .then(|| self.depart(id, &r))
            .flatten();
        Ok((r, departure))
    }

    /// Report the departure of `id` unless it was reported already.
    fn depart(&mut self, id: &str, r: &Map<String, Value>) -> Option<Identity> {
        if !self.saved.offboarded.insert(id.to_string()) {
            return None;
        }
        if let Err(e) = self.save() {
            // The departure is still reported: offboarding must not wait for a disk.
            tracing::error!("{}", e.detail);
        }
        Some(resource::identity(r))
    }

    /// PUT.
    pub fn replace(
        &mut self,
        kind: &Kind,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<Changed, ScimError> {
        if !self.all(kind).contains_key(id) {
            return Err(not_found(kind, id));
        }
        let attrs = canonical(kind, body)?;
        self.update(kind, id, attrs)
    }

    /// PATCH.
    pub fn patch(&mut self, kind: &Kind, id: &str, body: &Value) -> Result<Changed, ScimError> {
        let old = self.all(kind).get(id).ok_or_else(|| not_found(kind, id))?;
        let mut doc = writable(old);
        super::patch::apply(kind, &mut doc, body)?;
        let attrs = canonical(kind, &doc)?;
        self.update(kind, id, attrs)
    }

    /// DELETE: gone, and for a user a departure if it had not been reported.
    pub fn delete(&mut self, kind: &Kind, id: &str) -> Result<Option<Identity>, ScimError> {
        if !is_user(kind) {
            let r = self
                .saved
                .groups
                .remove(id)
                .ok_or_else(|| not_found(kind, id))?;
            if let Err(e) = self.save() {
                self.saved.groups.insert(id.to_string(), r);
                return Err(e);
            }
            return Ok(None);
        }
        let r = self.users.remove(id).ok_or_else(|| not_found(kind, id))?;
        let was_saved = self.saved.users.remove(id);
        self.saved.deleted.insert(id.to_string());
        let first = self.saved.offboarded.insert(id.to_string());
        if let Err(e) = self.save() {
            self.users.insert(id.to_string(), r);
            if let Some(s) = was_saved {
                self.saved.users.insert(id.to_string(), s);
            }
            self.saved.deleted.remove(id);
            if first {
                self.saved.offboarded.remove(id);
            }
            return Err(e);
        }
        Ok(first.then(|| resource::identity(&r)))
    }

    /// How many resources of `kind`.
    pub fn count(&self, kind: &Kind) -> usize {
        self.all(kind).len()
    }

    /// A group's members, each by the alias the roster knows them by: a user's HR number when the
    /// IdP sent one, else their SCIM id (the HR id for roster users); a nested group by its name.
    fn members(&self, g: &Map<String, Value>) -> Vec<String> {
        g.get("members")
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .filter_map(|m| m.get("value").and_then(Value::as_str))
                    .filter_map(|v| {
                        if let Some(u) = self.users.get(v) {
                            return Some(resource::identity(u).id);
                        }
                        self.saved
                            .groups
                            .get(v)
                            .and_then(|g| g.get("displayName"))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The groups as (name, members) for the offboarding of `who`: today's members, and `who` in
    /// every group they were ever in.
    pub fn memberships_for(&self, who: &Identity) -> Vec<(String, Vec<String>)> {
        let mut out: BTreeMap<String, Vec<String>> = self
            .saved
            .groups
            .values()
            .filter_map(|g| {
                let name = g.get("displayName")?.as_str()?.to_string();
                Some((name, self.members(g)))
            })
            .collect();
        for name in self.saved.ever_in.get(&who.id).into_iter().flatten() {
            let members = out.entry(name.clone()).or_default();
            if !members.contains(&who.id) {
                members.push(who.id.clone());
            }
        }
        out.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> &'static Kind {
        Catalogue::get().user()
    }
    use credwarden_model::{IdentityStatus, SourceRef};
    use serde_json::json;

    fn roster() -> Directory {
        let mut bo = Identity::leaver("E2", SourceRef::new("hr.csv", 2));
        bo.display_name = Some("Bo Kim".into());
        bo.emails = vec!["bo@shop.example".into()];
        bo.usernames = vec!["bo".into()];
        bo.status = IdentityStatus::Active;
        Directory::new(vec![bo])
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    const OFF: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#;

    #[test]
    fn a_departure_is_reported_once_and_survives_a_restart() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("scim.json");
        let mut u = Store::open(&roster(), Some(state.clone())).unwrap();
        let off: Value = serde_json::from_str(OFF).unwrap();
        let (r, who) = u.patch(user(), "E2", &off).unwrap();
        assert_eq!(r["active"], false);
        assert_eq!(who.unwrap().id, "E2");
        assert!(
            u.patch(user(), "E2", &off).unwrap().1.is_none(),
            "sent again: nothing new"
        );
        let mut again = Store::open(&roster(), Some(state.clone())).unwrap();
        assert_eq!(again.get(user(), "E2").unwrap()["active"], false);
        assert!(
            again.patch(user(), "E2", &off).unwrap().1.is_none(),
            "not after a restart either"
        );
        // Reactivated, then deactivated: a departure again.
        let on = json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]});
        assert!(again.patch(user(), "E2", &on).unwrap().1.is_none());
        assert!(again.patch(user(), "E2", &off).unwrap().1.is_some());
    }

    #[test]
    fn create_replace_delete_with_unique_user_names() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("scim.json");
        let mut u = Store::open(&roster(), Some(state.clone())).unwrap();
        assert_eq!(
            u.create(user(), &obj(json!({"userName": "BO"})))
                .unwrap_err()
                .status,
            409
        );
        let r = u
            .create(user(), &obj(json!({"userName": "cy", "emails": [{"value": "cy@shop.example"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E3"}})))
            .unwrap();
        let id = r["id"].as_str().unwrap().to_string();
        assert_eq!(u.count(user()), 2);
        assert_eq!(
            u.replace(user(), &id, &obj(json!({"userName": "bo"})))
                .unwrap_err()
                .status,
            409
        );
        let (r2, who) = u
            .replace(
                user(),
                &id,
                &obj(json!({"userName": "cy", "displayName": "Cy"})),
            )
            .unwrap();
        assert!(who.is_none() && r2["displayName"] == "Cy");
        let f = Filter::parse(r#"displayName eq "cy""#).unwrap();
        assert_eq!(u.list(user(), Some(&f)).count(), 1);
        let who = u.delete(user(), &id).unwrap().unwrap();
        assert_eq!(who.id, id, "the replacement dropped the employee number");
        assert_eq!(u.delete(user(), &id).unwrap_err().status, 404);
        // Deleting a roster user sticks across a restart.
        assert_eq!(u.delete(user(), "E2").unwrap().unwrap().id, "E2");
        let u = Store::open(&roster(), Some(state)).unwrap();
        assert_eq!(u.count(user()), 0);
    }

    #[test]
    fn a_new_user_is_on_the_first_page_of_a_large_roster() {
        let people: Vec<Identity> = (0..1500)
            .map(|n| {
                let mut i = roster().identities()[0].clone();
                i.id = format!("E{n:05}");
                i.usernames = vec![format!("u{n}")];
                i.emails = vec![format!("u{n}@shop.example")];
                i
            })
            .collect();
        let mut u = Store::open(&Directory::new(people), None).unwrap();
        for name in ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"] {
            let r = u.create(user(), &obj(json!({ "userName": name }))).unwrap();
            let id = r["id"].as_str().unwrap();
            let first: Vec<&str> = u
                .list(user(), None)
                .take(crate::scim::MAX_RESULTS)
                .filter_map(|r| r["id"].as_str())
                .collect();
            assert!(first.contains(&id), "{name} not on the first page");
        }
    }

    #[test]
    fn a_change_that_cannot_be_saved_is_not_made() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        let mut u = Store::open(&roster(), Some(dir.join("scim.json"))).unwrap();
        // The state file's directory becomes a file: every save fails.
        std::fs::remove_dir(&dir).unwrap();
        std::fs::write(&dir, "").unwrap();
        let e = u
            .create(user(), &obj(json!({"userName": "cy"})))
            .unwrap_err();
        assert_eq!(e.status, 500);
        assert_eq!(u.count(user()), 1);
        assert_eq!(u.delete(user(), "E2").unwrap_err().status, 500);
        assert!(u.get(user(), "E2").is_some());
    }
}
