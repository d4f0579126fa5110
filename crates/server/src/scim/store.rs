//! The Users the SCIM endpoint serves: the HR roster as the endpoint first knows it, and what
//! identity providers then create, replace, patch and delete. Writes are saved to a state file
//! (atomically, before the answer goes out) so a restart forgets nothing: SCIM-written users,
//! deleted ids, and who has already been offboarded.
//!
//! A departure is a user set `active=false` (by PATCH or PUT) or deleted. It is reported once
//! per user: the same deactivation sent again starts nothing; a user made active again is
//! watched again.

use super::filter::Filter;
use super::resource::{self, canonical, is_active, stored, writable, ScimError};
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
    /// Users deleted over SCIM.
    deleted: BTreeSet<String>,
    /// Users whose departure has been reported.
    offboarded: BTreeSet<String>,
}

/// The store.
pub struct Users {
    all: BTreeMap<String, Map<String, Value>>,
    saved: Saved,
    path: Option<PathBuf>,
    counter: u64,
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn conflict(name: &str) -> ScimError {
    ScimError {
        status: 409,
        scim_type: Some("uniqueness"),
        detail: format!("userName `{name}` is taken"),
    }
}

fn not_found(id: &str) -> ScimError {
    ScimError::not_found(format!("no user `{id}`"))
}

impl Users {
    /// The roster's people, then what an earlier run saved at `path`.
    pub fn open(dir: &Directory, path: Option<PathBuf>) -> Result<Users, String> {
        let saved: Saved = match &path {
            Some(p) => credwarden_store::load(p, FORMAT)
                .map_err(|e| e.to_string())?
                .unwrap_or_default(),
            None => Saved::default(),
        };
        let today = jiff::Zoned::now().date();
        let t = now();
        let mut all = BTreeMap::new();
        for i in dir.identities() {
            if saved.deleted.contains(&i.id) {
                continue;
            }
            let attrs = resource::from_identity(i, !i.is_departed(today));
            let attrs =
                canonical(&attrs).map_err(|e| format!("roster identity {}: {}", i.id, e.detail))?;
            if let Value::Object(r) = stored(&i.id, attrs, &t, &t) {
                all.insert(i.id.clone(), r);
            }
        }
        for (id, r) in &saved.users {
            all.insert(id.clone(), r.clone());
        }
        Ok(Users {
            all,
            saved,
            path,
            counter: 0,
        })
    }

    /// One user.
    pub fn get(&self, id: &str) -> Option<&Map<String, Value>> {
        self.all.get(id)
    }

    /// Every user matching `filter` (all without one), in id order.
    pub fn list<'a>(
        &'a self,
        filter: Option<&'a Filter>,
    ) -> impl Iterator<Item = &'a Map<String, Value>> {
        self.all
            .values()
            .filter(move |r| filter.is_none_or(|f| f.matches(r)))
    }

    fn taken(&self, name: &str, by_other_than: Option<&str>) -> bool {
        self.all.iter().any(|(id, r)| {
            Some(id.as_str()) != by_other_than
                && r.get("userName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }

    fn user_name(attrs: &Map<String, Value>) -> &str {
        attrs.get("userName").and_then(Value::as_str).unwrap_or("")
    }

    fn save(&self) -> Result<(), ScimError> {
        match &self.path {
            Some(p) => credwarden_store::save(p, FORMAT, &self.saved)
                .map_err(|e| ScimError::internal(format!("could not save the change: {e}"))),
            None => Ok(()),
        }
    }

    /// POST /Users.
    pub fn create(&mut self, body: &Map<String, Value>) -> Result<Map<String, Value>, ScimError> {
        let attrs = canonical(body)?;
        if self.taken(Self::user_name(&attrs), None) {
            return Err(conflict(Self::user_name(&attrs)));
        }
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
        let Value::Object(r) = stored(&id, attrs, &t, &t) else {
            unreachable!("stored() builds an object")
        };
        self.write(&id, r.clone())?;
        Ok(r)
    }

    /// Store `r` as user `id` (saved; undone in memory if the save fails).
    fn write(&mut self, id: &str, r: Map<String, Value>) -> Result<(), ScimError> {
        let before = (
            self.all.get(id).cloned(),
            self.saved.users.get(id).cloned(),
            self.saved.offboarded.contains(id),
        );
        if is_active(&r) {
            // Rehired or reactivated: a later deactivation is a departure again.
            self.saved.offboarded.remove(id);
        }
        self.all.insert(id.to_string(), r.clone());
        self.saved.users.insert(id.to_string(), r);
        if let Err(e) = self.save() {
            match before.0 {
                Some(r) => self.all.insert(id.to_string(), r),
                None => self.all.remove(id),
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

    /// A new version of user `id` from its client-writable attributes: stored when it differs,
    /// and the departure it makes, if any.
    fn update(
        &mut self,
        id: &str,
        attrs: Map<String, Value>,
    ) -> Result<(Map<String, Value>, Option<Identity>), ScimError> {
        let old = self.all.get(id).ok_or_else(|| not_found(id))?;
        if self.taken(Self::user_name(&attrs), Some(id)) {
            return Err(conflict(Self::user_name(&attrs)));
        }
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
            let Value::Object(r) = stored(id, attrs, &created, &now()) else {
                unreachable!("stored() builds an object")
            };
            self.write(id, r.clone())?;
            r
        };
        let departure = (!is_active(&r)).then(|| self.depart(id, &r)).flatten();
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

    /// PUT /Users/{id}.
    pub fn replace(
        &mut self,
        id: &str,
        body: &Map<String, Value>,
    ) -> Result<(Map<String, Value>, Option<Identity>), ScimError> {
        if !self.all.contains_key(id) {
            return Err(not_found(id));
        }
        let attrs = canonical(body)?;
        self.update(id, attrs)
    }

    /// PATCH /Users/{id}.
    pub fn patch(
        &mut self,
        id: &str,
        body: &Value,
    ) -> Result<(Map<String, Value>, Option<Identity>), ScimError> {
        let old = self.all.get(id).ok_or_else(|| not_found(id))?;
        let mut doc = writable(old);
        super::patch::apply(&mut doc, body)?;
        let attrs = canonical(&doc)?;
        self.update(id, attrs)
    }

    /// DELETE /Users/{id}: gone, and a departure if it had not been reported.
    pub fn delete(&mut self, id: &str) -> Result<Option<Identity>, ScimError> {
        let r = self.all.remove(id).ok_or_else(|| not_found(id))?;
        let was_saved = self.saved.users.remove(id);
        self.saved.deleted.insert(id.to_string());
        let first = self.saved.offboarded.insert(id.to_string());
        if let Err(e) = self.save() {
            self.all.insert(id.to_string(), r);
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

    /// How many users.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// No users?
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credwarden_model::{IdentityKind, IdentityStatus, SourceRef};
    use serde_json::json;

    fn roster() -> Directory {
        Directory::new(vec![Identity {
            id: "E2".into(),
            display_name: Some("Bo Kim".into()),
            emails: vec!["bo@shop.example".into()],
            usernames: vec!["bo".into()],
            kind: IdentityKind::Employee,
            status: IdentityStatus::Active,
            start_date: None,
            end_date: None,
            manager: None,
            department: None,
            source: SourceRef::new("hr.csv", 2),
        }])
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    const OFF: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#;

    #[test]
    fn a_departure_is_reported_once_and_survives_a_restart() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("scim.json");
        let mut u = Users::open(&roster(), Some(state.clone())).unwrap();
        let off: Value = serde_json::from_str(OFF).unwrap();
        let (r, who) = u.patch("E2", &off).unwrap();
        assert_eq!(r["active"], false);
        assert_eq!(who.unwrap().id, "E2");
        assert!(
            u.patch("E2", &off).unwrap().1.is_none(),
            "sent again: nothing new"
        );
        let mut again = Users::open(&roster(), Some(state.clone())).unwrap();
        assert_eq!(again.get("E2").unwrap()["active"], false);
        assert!(
            again.patch("E2", &off).unwrap().1.is_none(),
            "not after a restart either"
        );
        // Reactivated, then deactivated: a departure again.
        let on = json!({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]});
        assert!(again.patch("E2", &on).unwrap().1.is_none());
        assert!(again.patch("E2", &off).unwrap().1.is_some());
    }

    #[test]
    fn create_replace_delete_with_unique_user_names() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("scim.json");
        let mut u = Users::open(&roster(), Some(state.clone())).unwrap();
        assert_eq!(
            u.create(&obj(json!({"userName": "BO"})))
                .unwrap_err()
                .status,
            409
        );
        let r = u
            .create(&obj(json!({"userName": "cy", "emails": [{"value": "cy@shop.example"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E3"}})))
            .unwrap();
        let id = r["id"].as_str().unwrap().to_string();
        assert_eq!(u.len(), 2);
        assert_eq!(
            u.replace(&id, &obj(json!({"userName": "bo"})))
                .unwrap_err()
                .status,
            409
        );
        let (r2, who) = u
            .replace(&id, &obj(json!({"userName": "cy", "displayName": "Cy"})))
            .unwrap();
        assert!(who.is_none() && r2["displayName"] == "Cy");
        let f = Filter::parse(r#"displayName eq "cy""#).unwrap();
        assert_eq!(u.list(Some(&f)).count(), 1);
        let who = u.delete(&id).unwrap().unwrap();
        assert_eq!(who.id, id, "the replacement dropped the employee number");
        assert_eq!(u.delete(&id).unwrap_err().status, 404);
        // Deleting a roster user sticks across a restart.
        assert_eq!(u.delete("E2").unwrap().unwrap().id, "E2");
        let u = Users::open(&roster(), Some(state)).unwrap();
        assert!(u.is_empty());
    }

    #[test]
    fn a_change_that_cannot_be_saved_is_not_made() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        let mut u = Users::open(&roster(), Some(dir.join("scim.json"))).unwrap();
        // The state file's directory becomes a file: every save fails.
        std::fs::remove_dir(&dir).unwrap();
        std::fs::write(&dir, "").unwrap();
        let e = u.create(&obj(json!({"userName": "cy"}))).unwrap_err();
        assert_eq!(e.status, 500);
        assert_eq!(u.len(), 1);
        assert_eq!(u.delete("E2").unwrap_err().status, 500);
        assert!(u.get("E2").is_some());
    }
}
