//! One SCIM User as we store it: what a client sent, checked against the served schema and put in
//! canonical form (attribute names in the schema's case, booleans as booleans, unknown and
//! read-only attributes dropped — never a password); partial representations for `attributes` /
//! `excludedAttributes`; and the identity an offboarding is run for.

use super::filter::{get_ci, AttrPath};
use super::schema::{Attr, Kind, Mutability, Returned, ENTERPRISE};
use credwarden_model::{Identity, SourceRef};
use serde_json::{json, Map, Value};

/// A SCIM error response (RFC 7644 §3.12).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimError {
    /// HTTP status.
    pub status: u16,
    /// `scimType`, for 400s and 409s.
    pub scim_type: Option<&'static str>,
    /// What was wrong.
    pub detail: String,
}

impl ScimError {
    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError {
            status: 404,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// 500.
    pub fn internal(detail: impl Into<String>) -> Self {
        ScimError {
            status: 500,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// 400 with a `scimType`.
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }
}

/// The client-writable part of a resource of `kind` in canonical form: everything but `schemas`,
/// `id` and `meta`. Unknown attributes are dropped (RFC 7644 §3.3 lets a provider ignore them);
/// required ones must be there.
pub fn canonical(kind: &Kind, input: &Map<String, Value>) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (k, v) in input {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(k))
        {
            continue;
        }
        if let Some(ext) = kind.extension(k) {
            let Value::Object(o) = v else {
                if v.is_null() {
                    continue;
                }
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("`{k}`: an extension must be an object"),
                ));
            };
            let mut e = Map::new();
            for (ek, ev) in o {
                if let Some(a) = ext.attr(ek) {
                    put(&mut e, a, ev, &format!("{}:{}", ext.id, a.name))?;
                }
            }
            if !e.is_empty() {
                out.insert(ext.id.clone(), Value::Object(e));
            }
            continue;
        }
        if let Some(a) = kind.core_attr(k) {
            put(&mut out, a, v, &a.name)?;
        }
    }
    for a in kind.core.attributes.iter().filter(|a| a.required) {
        let present = match out.get(&a.name) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
            None => false,
        };
        if !present {
            return Err(ScimError::bad(
                "invalidValue",
                format!("`{}` is required", a.name),
            ));
        }
    }
    Ok(out)
}

/// Insert `v` as attribute `a` (unless read-only or unassigned).
fn put(into: &mut Map<String, Value>, a: &Attr, v: &Value, at: &str) -> Result<(), ScimError> {
    if a.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    if let Some(v) = value(a, v, at)? {
        into.insert(a.name.clone(), v);
    }
    Ok(())
}

/// `v` checked and canonicalised as `a`; `None` when unassigned (null, empty list or object).
pub fn value(a: &Attr, v: &Value, at: &str) -> Result<Option<Value>, ScimError> {
    if v.is_null() {
        return Ok(None);
    }
    if a.multi_valued {
        let items: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, it) in items.into_iter().enumerate() {
            if let Some(x) = single(a, it, &format!("{at}[{i}]"))? {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
        }
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    single(a, v, at)
}

fn single(a: &Attr, v: &Value, at: &str) -> Result<Option<Value>, ScimError> {
    let wrong = |what: &str| ScimError::bad("invalidValue", format!("`{at}`: expected {what}"));
    Ok(Some(match a.kind.as_str() {
        _ if v.is_null() => return Ok(None),
        "complex" => {
            let Value::Object(o) = v else {
                return Err(wrong("an object"));
            };
            let mut m = Map::new();
            for (k, x) in o {
                if let Some(s) = a.sub(k) {
                    put(&mut m, s, x, &format!("{at}.{}", s.name))?;
                }
            }
            if m.is_empty() {
                return Ok(None);
            }
            Value::Object(m)
        }
        // Some IdPs send booleans as "True"/"False".
        "boolean" => match v {
            Value::Bool(b) => Value::Bool(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(wrong("true or false")),
        },
        "integer" => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            _ => return Err(wrong("an integer")),
        },
        "decimal" => match v {
            Value::Number(_) => v.clone(),
            _ => return Err(wrong("a number")),
        },
        // string, reference, dateTime, binary. HR systems send employee numbers as numbers.
        _ => match v {
            Value::String(_) => v.clone(),
            Value::Number(n) => Value::String(n.to_string()),
            _ => return Err(wrong("a string")),
        },
    }))
}

/// The resource as stored: canonical attributes plus `schemas`, `id` and `meta`.
pub fn stored(
    kind: &Kind,
    id: &str,
    attrs: Map<String, Value>,
    created: &str,
    modified: &str,
) -> Value {
    let mut schemas = vec![json!(kind.core.id)];
    schemas.extend(
        kind.extensions
            .iter()
            .filter(|e| attrs.contains_key(&e.id))
            .map(|e| json!(e.id)),
    );
    let mut m = Map::new();
    m.insert("schemas".into(), Value::Array(schemas));
    m.insert("id".into(), json!(id));
    m.extend(attrs);
    m.insert(
        "meta".into(),
        json!({"resourceType": kind.name, "created": created, "lastModified": modified}),
    );
    Value::Object(m)
}

/// The client-writable part of a stored resource.
pub fn writable(r: &Map<String, Value>) -> Map<String, Value> {
    r.iter()
        .filter(|(k, _)| !matches!(k.as_str(), "schemas" | "id" | "meta"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Is this user active? (Absent means active, RFC 7643 gives no default; IdPs omit it.)
pub fn is_active(r: &Map<String, Value>) -> bool {
    r.get("active") != Some(&Value::Bool(false))
}

/// The representation returned to a client: `meta.location` made absolute, then `attributes`
/// (only those, plus what is always returned) or `excludedAttributes` applied.
pub fn render(
    kind: &Kind,
    r: &Map<String, Value>,
    base: &str,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let mut r = r.clone();
    if let (Some(Value::Object(meta)), Some(Value::String(id))) =
        (r.get("meta").cloned(), r.get("id").cloned())
    {
        let mut meta = meta;
        meta.insert(
            "location".into(),
            json!(format!("{base}{}/{id}", kind.endpoint)),
        );
        r.insert("meta".into(), Value::Object(meta));
    }
    if !attributes.is_empty() {
        let mut out = Map::new();
        for k in ["schemas", "id"] {
            if let Some(v) = r.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
        for p in attributes {
            copy_path(&r, &mut out, p);
        }
        return Value::Object(out);
    }
    for p in excluded {
        if p.def(kind, None)
            .is_some_and(|a| a.returned == Returned::Always)
        {
            continue;
        }
        remove_path(&mut r, p);
    }
    Value::Object(r)
}

fn key_ci(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.keys().find(|x| x.eq_ignore_ascii_case(k)).cloned()
}

fn copy_path(from: &Map<String, Value>, to: &mut Map<String, Value>, p: &AttrPath) {
    let (src, dst) = match &p.urn {
        Some(u) => {
            let Some(Value::Object(src)) = get_ci(from, u) else {
                return;
            };
            let dst = to
                .entry(u.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("an extension is an object");
            (src, dst)
        }
        None => (from, &mut *to),
    };
    let Some(attr) = &p.attr else {
        dst.extend(src.clone());
        return;
    };
    let Some(k) = key_ci(src, attr) else { return };
    match (&p.sub, &src[&k]) {
        (None, v) => {
            dst.insert(k, v.clone());
        }
        (Some(s), Value::Object(o)) => {
            if let Some(sk) = key_ci(o, s) {
                let e = dst.entry(k).or_insert_with(|| json!({}));
                if let Value::Object(e) = e {
                    e.insert(sk.clone(), o[&sk].clone());
                }
            }
        }
        (Some(s), Value::Array(items)) => {
            let subs: Vec<Value> = items
                .iter()
                .filter_map(|it| {
                    let o = it.as_object()?;
                    let sk = key_ci(o, s)?;
                    Some(json!({ sk.clone(): o[&sk].clone() }))
                })
                .collect();
            dst.insert(k, Value::Array(subs));
        }
        _ => {}
    }
}

fn remove_path(r: &mut Map<String, Value>, p: &AttrPath) {
    if p.attr.is_none() {
        // The whole extension.
        if let Some(k) = p.urn.as_deref().and_then(|u| key_ci(r, u)) {
            r.remove(&k);
        }
        return;
    }
    let container = match &p.urn {
        Some(u) => match key_ci(r, u) {
            Some(k) => match r.get_mut(&k) {
                Some(Value::Object(o)) => o,
                _ => return,
            },
            None => return,
        },
        None => r,
    };
    let Some(k) = p.attr.as_deref().and_then(|a| key_ci(container, a)) else {
        return;
    };
    match &p.sub {
        None => {
            container.remove(&k);
        }
        Some(s) => match container.get_mut(&k) {
            Some(Value::Object(o)) => {
                if let Some(sk) = key_ci(o, s) {
                    o.remove(&sk);
                }
            }
            Some(Value::Array(items)) => {
                for it in items.iter_mut() {
                    if let Some(o) = it.as_object_mut() {
                        if let Some(sk) = key_ci(o, s) {
                            o.remove(&sk);
                        }
                    }
                }
            }
            _ => {}
        },
    }
}

/// The person a deactivated user stands for, to run the offboarding for: read as the roster
/// reader reads SCIM users, but named by the HR number (`employeeNumber`) when the IdP sent one —
/// the id the roster knows — with the SCIM id kept as an alias.
pub fn identity(r: &Map<String, Value>) -> Identity {
    let src: std::sync::Arc<str> = "scim".into();
    let u = Value::Object(r.clone());
    let mut i = credwarden_ingest::hr::scim_identity(&u, &src, 0).unwrap_or_else(|_| {
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        Identity::leaver(id, SourceRef::new(src.clone(), 0))
    });
    if let Some(n) = r
        .get(ENTERPRISE)
        .and_then(|e| e.get("employeeNumber"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && *n != i.id)
    {
        let scim_id = std::mem::replace(&mut i.id, n.to_string());
        i.usernames.push(scim_id.to_lowercase());
    }
    i
}

/// A roster identity as a SCIM User (what the endpoint knows before any IdP writes).
pub fn from_identity(i: &Identity, active: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "userName".into(),
        json!(i.usernames.first().or(i.emails.first()).unwrap_or(&i.id)),
    );
    if let Some(d) = &i.display_name {
        m.insert("displayName".into(), json!(d));
    }
    if !i.emails.is_empty() {
        m.insert(
            "emails".into(),
            Value::Array(
                i.emails
                    .iter()
                    .enumerate()
                    .map(|(n, e)| json!({"value": e, "type": "work", "primary": n == 0}))
                    .collect(),
            ),
        );
    }
    m.insert("active".into(), json!(active));
    let mut ext = Map::new();
    ext.insert("employeeNumber".into(), json!(i.id));
    if let Some(d) = &i.department {
        ext.insert("department".into(), json!(d));
    }
    if let Some(mgr) = &i.manager {
        ext.insert("manager".into(), json!({"value": mgr}));
    }
    m.insert(ENTERPRISE.into(), Value::Object(ext));
    m
}

#[cfg(test)]
mod tests {
    use super::super::schema::Catalogue;
    use super::*;

    fn user() -> &'static Kind {
        Catalogue::get().user()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn canonical_form_fixes_case_and_booleans_and_drops_what_we_do_not_keep() {
        let c = canonical(user(), &obj(json!({
            "schemas": ["x"], "id": "client-chosen", "USERNAME": "bo", "Active": "False",
            "password": "hunter2", "nickname": null, "x509Certificates": [{"value": "MII"}],
            "emails": [{"Value": "bo@x.example", "type": "work"}, {"value": "bo@x.example", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 42, "manager": {"value": "E1", "displayName": "set by us"}},
        })))
        .unwrap();
        assert_eq!(c["userName"], "bo");
        assert_eq!(c["active"], false);
        assert!(
            !c.contains_key("password")
                && !c.contains_key("id")
                && !c.contains_key("x509Certificates")
        );
        assert_eq!(
            c["emails"].as_array().unwrap().len(),
            1,
            "duplicates folded"
        );
        assert_eq!(c["emails"][0]["value"], "bo@x.example");
        assert_eq!(c[ENTERPRISE]["employeeNumber"], "42");
        assert_eq!(c[ENTERPRISE]["manager"], json!({"value": "E1"}));
    }

    #[test]
    fn wrong_types_and_a_missing_user_name_are_refused_naming_the_attribute() {
        let e = canonical(user(), &obj(json!({"userName": "bo", "active": "maybe"}))).unwrap_err();
        assert!(e.detail.contains("`active`"), "{e:?}");
        let e = canonical(
            user(),
            &obj(json!({"userName": "bo", "emails": [{"value": {"x": 1}}]})),
        )
        .unwrap_err();
        assert!(e.detail.contains("`emails[0].value`"), "{e:?}");
        let e = canonical(user(), &obj(json!({"displayName": "Bo"}))).unwrap_err();
        assert!(e.detail.contains("userName"));
        assert_eq!(e.status, 400);
    }

    #[test]
    fn attributes_and_excluded_attributes_shape_the_response() {
        let r = obj(stored(
            user(),
            "u1",
            canonical(user(), &obj(json!({"userName": "bo", "displayName": "Bo", "name": {"givenName": "Bo", "familyName": "Kim"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Payments"}}))).unwrap(),
            "t", "t",
        ));
        let only = render(
            user(),
            &r,
            "http://h/scim/v2",
            &[AttrPath::parse("name.givenName").unwrap()],
            &[],
        );
        assert_eq!(
            only,
            json!({"schemas": r["schemas"], "id": "u1", "name": {"givenName": "Bo"}})
        );
        let ext = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )
        .unwrap();
        let without = render(
            user(),
            &r,
            "http://h/scim/v2",
            &[],
            &[AttrPath::parse("displayName").unwrap(), ext],
        );
        assert!(without.get("displayName").is_none() && without["userName"] == "bo");
        assert_eq!(without[ENTERPRISE], json!({}));
        assert_eq!(without["meta"]["location"], "http://h/scim/v2/Users/u1");
    }

    #[test]
    fn the_offboarded_identity_prefers_the_hr_number() {
        let r = obj(
            json!({"id": "u1", "userName": "Bo", "externalId": "okta-7", "active": false,
            "emails": [{"value": "Bo@Shop.example"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "E2"}}),
        );
        let i = identity(&r);
        assert_eq!(i.id, "E2");
        assert_eq!(i.emails, vec!["bo@shop.example"]);
        assert!(
            i.usernames.contains(&"okta-7".to_string()) && i.usernames.contains(&"bo".to_string())
        );
        assert_eq!(
            identity(&obj(json!({"id": "u1", "userName": "bo"}))).id,
            "u1"
        );
    }
}
