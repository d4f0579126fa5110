//! SCIM PATCH (RFC 7644 §3.5.2): `add`, `remove` and `replace` on the client-writable part of a
//! stored User, with or without a path; paths may name a sub-attribute, an extension attribute by
//! URN, a whole extension, or the values of a multi-valued attribute that match a filter
//! (`emails[type eq "work"].value`). Values are canonicalised as they are written; the caller
//! checks the whole result again before storing it.
//!
//! Where RFC 7644 leaves room, we do what identity providers expect: `replace` on a filtered
//! path that matches nothing adds the value the filter describes (Entra ID and Okta send
//! `emails[type eq "work"].value` for users who have no work address yet), and `remove` of
//! values that are not there changes nothing, so a retried request is harmless.

use super::filter::{AttrPath, Filter, Op};
use super::resource::{value, ScimError};
use super::schema::{Attr, Kind, Mutability};
use serde_json::{Map, Value};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Verb {
    Add,
    Remove,
    Replace,
}

/// Apply a PatchOp request body to `doc`, a resource of `kind`.
pub fn apply(rk: &Kind, doc: &mut Map<String, Value>, body: &Value) -> Result<(), ScimError> {
    let schemas = body
        .get("schemas")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "no `schemas`"))?;
    if !schemas.iter().any(|s| s == PATCH_OP) {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("`schemas` must hold {PATCH_OP}"),
        ));
    }
    let ops = body
        .get("Operations")
        .and_then(Value::as_array)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| ScimError::bad("invalidSyntax", "no `Operations`"))?;
    for (n, op) in ops.iter().enumerate() {
        let at = |e: ScimError| ScimError {
            detail: format!("Operations[{n}]: {}", e.detail),
            ..e
        };
        let verb = match op
            .get("op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("add") => Verb::Add,
            Some("remove") => Verb::Remove,
            Some("replace") => Verb::Replace,
            _ => {
                return Err(at(ScimError::bad(
                    "invalidSyntax",
                    "`op` must be add, remove or replace",
                )))
            }
        };
        let value = op.get("value").unwrap_or(&Value::Null);
        match op.get("path").and_then(Value::as_str).map(str::trim) {
            None | Some("") => without_path(rk, doc, verb, value).map_err(at)?,
            Some(p) => with_path(rk, doc, verb, p, value).map_err(at)?,
        }
    }
    Ok(())
}

/// `value` holds attribute names (and extension URNs) with their values.
fn without_path(
    rk: &Kind,
    doc: &mut Map<String, Value>,
    kind: Verb,
    value: &Value,
) -> Result<(), ScimError> {
    if kind == Verb::Remove {
        return Err(ScimError::bad("noTarget", "`remove` needs a `path`"));
    }
    let Value::Object(o) = value else {
        return Err(ScimError::bad(
            "invalidValue",
            "without a `path`, `value` must be an object of attributes",
        ));
    };
    for (k, v) in o {
        if let Some(ext) = rk.extension(k) {
            let Value::Object(e) = v else {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("`{k}`: an extension must be an object"),
                ));
            };
            for (ek, ev) in e {
                if let Some(a) = ext.attr(ek) {
                    if a.mutability != Mutability::ReadOnly {
                        set(container(doc, Some(&ext.id)), a, None, ev, kind)?;
                    }
                }
            }
        } else if let Some(a) = rk.core_attr(k) {
            if a.mutability != Mutability::ReadOnly {
                set(doc, a, None, v, kind)?;
            }
        }
        // Anything else (schemas, id, meta, attributes we do not keep) is ignored, as on create.
    }
    tidy(doc);
    Ok(())
}

fn container<'a>(doc: &'a mut Map<String, Value>, urn: Option<&str>) -> &'a mut Map<String, Value> {
    match urn {
        None => doc,
        Some(u) => {
            let v = doc
                .entry(u.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !v.is_object() {
                *v = Value::Object(Map::new());
            }
            v.as_object_mut().expect("made an object")
        }
    }
}

/// Drop extension objects left empty.
fn tidy(doc: &mut Map<String, Value>) {
    doc.retain(|_, v| !matches!(v, Value::Object(o) if o.is_empty()));
}

fn with_path(
    rk: &Kind,
    doc: &mut Map<String, Value>,
    kind: Verb,
    path: &str,
    v: &Value,
) -> Result<(), ScimError> {
    let invalid = |e: String| ScimError::bad("invalidPath", e);
    // attrPath [ "[" filter "]" ] [ "." subAttr ]
    let (head, filter, sub) = match path.find('[') {
        Some(open) => {
            let close = path
                .rfind(']')
                .filter(|&c| c > open)
                .ok_or_else(|| invalid(format!("`{path}`: `[` without `]`")))?;
            let f = Filter::parse(&path[open + 1..close])
                .map_err(|e| invalid(format!("`{path}`: {e}")))?;
            let after = &path[close + 1..];
            let sub = match after.strip_prefix('.') {
                Some(s) => Some(s.to_string()),
                None if after.is_empty() => None,
                None => return Err(invalid(format!("`{path}`: unexpected `{after}` after `]`"))),
            };
            (&path[..open], Some(f), sub)
        }
        None => (path, None, None),
    };
    let mut p = AttrPath::parse(head).map_err(invalid)?;
    let sub = match (sub, p.sub.take()) {
        (Some(_), Some(_)) => return Err(invalid(format!("`{path}`: two sub-attributes"))),
        (a, b) => a.or(b),
    };
    let Some(attr) = p.attr.clone() else {
        // The whole extension.
        let urn = p
            .urn
            .clone()
            .expect("a path without attribute names an extension");
        return match kind {
            Verb::Remove => {
                doc.retain(|k, _| !k.eq_ignore_ascii_case(&urn));
                Ok(())
            }
            _ => without_path(
                rk,
                doc,
                kind,
                &Value::Object(Map::from_iter([(urn, v.clone())])),
            ),
        };
    };
    let def = match &p.urn {
        Some(u) => rk.extension(u).and_then(|s| s.attr(&attr)),
        None => rk.core_attr(&attr),
    }
    .ok_or_else(|| invalid(format!("`{path}`: no such attribute")))?;
    let sub_def = match &sub {
        Some(s) => Some(def.sub(s).ok_or_else(|| {
            invalid(format!(
                "`{path}`: `{}` has no sub-attribute `{s}`",
                def.name
            ))
        })?),
        None => None,
    };
    if def.mutability == Mutability::ReadOnly
        || sub_def.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return Err(ScimError::bad(
            "mutability",
            format!("`{path}` is read-only"),
        ));
    }
    if kind != Verb::Remove && v.is_null() {
        return Err(ScimError::bad(
            "invalidValue",
            format!("`{path}`: no `value`"),
        ));
    }
    let c = container(doc, p.urn.as_deref());
    match filter {
        None => set(c, def, sub_def, v, kind)?,
        Some(f) => filtered(rk, c, def, &f, sub_def, v, kind, path)?,
    }
    tidy(doc);
    Ok(())
}

/// Add, replace or remove attribute `a` (or its sub-attribute `s`) in `c`.
fn set(
    c: &mut Map<String, Value>,
    a: &Attr,
    s: Option<&Attr>,
    v: &Value,
    kind: Verb,
) -> Result<(), ScimError> {
    let key = c
        .keys()
        .find(|k| k.eq_ignore_ascii_case(&a.name))
        .cloned()
        .unwrap_or_else(|| a.name.clone());
    if key != a.name {
        // Stored under another case: move it to the canonical name first.
        let old = c.remove(&key).expect("found");
        c.insert(a.name.clone(), old);
    }
    let key = a.name.clone();
    if let Some(s) = s {
        let new = match kind {
            Verb::Remove => None,
            _ => value(s, v, &format!("{}.{}", a.name, s.name))?,
        };
        let slot = c.entry(key.clone()).or_insert_with(|| {
            if a.multi_valued {
                Value::Array(vec![])
            } else {
                Value::Object(Map::new())
            }
        });
        match slot {
            Value::Array(items) => {
                if items.is_empty() {
                    if let Some(n) = &new {
                        items.push(Value::Object(Map::from_iter([(s.name.clone(), n.clone())])));
                    }
                }
                for it in items.iter_mut() {
                    if let Value::Object(o) = it {
                        put_sub(o, s, new.clone());
                    }
                }
            }
            Value::Object(o) => put_sub(o, s, new),
            other => {
                *other = Value::Object(Map::new());
                if let (Value::Object(o), Some(n)) = (other, new) {
                    o.insert(s.name.clone(), n);
                }
            }
        }
        if matches!(c.get(&key), Some(Value::Object(o)) if o.is_empty())
            || matches!(c.get(&key), Some(Value::Array(a)) if a.is_empty())
        {
            c.remove(&key);
        }
        return Ok(());
    }
    if kind == Verb::Remove {
        c.remove(&key);
        return Ok(());
    }
    let Some(new) = value(a, v, &a.name)? else {
        if kind == Verb::Replace {
            c.remove(&key);
        }
        return Ok(());
    };
    match (kind, c.get_mut(&key), new) {
        (Verb::Add, Some(Value::Array(items)), Value::Array(more)) => {
            for m in more {
                if !items.contains(&m) {
                    items.push(m);
                }
            }
        }
        // A complex attribute: the sub-attributes given replace theirs, the others stay (§3.5.2.3).
        (_, Some(Value::Object(o)), Value::Object(more)) if !a.multi_valued => o.extend(more),
        (_, _, new) => {
            c.insert(key, new);
        }
    }
    Ok(())
}

fn put_sub(o: &mut Map<String, Value>, s: &Attr, v: Option<Value>) {
    o.retain(|k, _| !k.eq_ignore_ascii_case(&s.name));
    if let Some(v) = v {
        o.insert(s.name.clone(), v);
    }
}

/// The values of a multi-valued complex attribute that match `f`.
#[allow(clippy::too_many_arguments)]
fn filtered(
    rk: &Kind,
    c: &mut Map<String, Value>,
    a: &Attr,
    f: &Filter,
    s: Option<&Attr>,
    v: &Value,
    kind: Verb,
    path: &str,
) -> Result<(), ScimError> {
    if !(a.multi_valued && a.is_complex()) {
        return Err(ScimError::bad(
            "invalidPath",
            format!("`{path}`: a filter applies to a multi-valued complex attribute"),
        ));
    }
    let item_def = Attr {
        multi_valued: false,
        ..a.clone()
    };
    let mut items: Vec<Value> = match c.remove(&a.name).or_else(|| {
        let k = c
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&a.name))
            .cloned()?;
        c.remove(&k)
    }) {
        Some(Value::Array(items)) => items,
        Some(one) => vec![one],
        None => vec![],
    };
    let hits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, it)| it.as_object().is_some_and(|o| f.matches_within(rk, o, a)))
        .map(|(i, _)| i)
        .collect();
    match kind {
        Verb::Remove => match s {
            None => {
                let mut n = 0;
                items.retain(|_| {
                    n += 1;
                    !hits.contains(&(n - 1))
                });
            }
            Some(s) => {
                for &i in &hits {
                    if let Value::Object(o) = &mut items[i] {
                        put_sub(o, s, None);
                    }
                }
            }
        },
        _ => {
            let new = match s {
                Some(s) => {
                    value(s, v, path)?.map(|x| Value::Object(Map::from_iter([(s.name.clone(), x)])))
                }
                None => value(&item_def, v, path)?,
            };
            let Some(Value::Object(new)) = new else {
                return Err(ScimError::bad(
                    "invalidValue",
                    format!("`{path}`: no value"),
                ));
            };
            if hits.is_empty() {
                let Some(mut seed) = seed(f) else {
                    return Err(ScimError::bad(
                        "noTarget",
                        format!("`{path}`: no value matches the filter"),
                    ));
                };
                seed.extend(new.clone());
                // Checked like any other value of the attribute.
                if let Some(x) = value(&item_def, &Value::Object(seed), path)? {
                    items.push(x);
                }
            }
            for &i in &hits {
                if let Value::Object(o) = &mut items[i] {
                    if kind == Verb::Replace && s.is_none() {
                        o.clear();
                    }
                    o.extend(new.clone());
                }
            }
        }
    }
    if !items.is_empty() {
        c.insert(a.name.clone(), Value::Array(items));
    }
    Ok(())
}

/// The value a filter of `sub eq "x"` terms (joined by `and`) describes.
fn seed(f: &Filter) -> Option<Map<String, Value>> {
    match f {
        Filter::Cmp(p, Op::Eq, v) if p.urn.is_none() && p.sub.is_none() && !v.is_null() => {
            Some(Map::from_iter([(p.attr.clone()?, v.clone())]))
        }
        Filter::And(a, b) => {
            let mut m = seed(a)?;
            m.extend(seed(b)?);
            Some(m)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::Catalogue;
    use super::*;
    use serde_json::json;

    fn doc() -> Map<String, Value> {
        json!({
            "userName": "bo", "active": true, "displayName": "Bo",
            "name": {"givenName": "Bo", "familyName": "Kim"},
            "emails": [{"value": "bo@shop.example", "type": "work", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Payments"},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn patch(ops: Value) -> Result<Map<String, Value>, ScimError> {
        let mut d = doc();
        apply(
            Catalogue::get().user(),
            &mut d,
            &json!({"schemas": [PATCH_OP], "Operations": ops}),
        )?;
        Ok(d)
    }

    #[test]
    fn deactivation_in_the_forms_identity_providers_send() {
        for ops in [
            json!([{"op": "replace", "path": "active", "value": false}]),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            json!([{"op": "replace", "value": {"active": false}}]),
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false}]),
        ] {
            let d = patch(ops.clone()).unwrap();
            assert_eq!(d["active"], false, "{ops}");
        }
    }

    #[test]
    fn paths_with_filters_sub_attributes_and_extensions() {
        let d = patch(json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bo.kim@shop.example"},
            {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "bo@home.example"},
            {"op": "add", "path": "name.middleName", "value": "J"},
            {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Risk"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": "E1"},
        ]))
        .unwrap();
        let emails = d["emails"].as_array().unwrap();
        assert_eq!(emails.len(), 2);
        assert_eq!(
            emails[0],
            json!({"value": "bo.kim@shop.example", "type": "work", "primary": true})
        );
        assert_eq!(
            emails[1],
            json!({"type": "home", "value": "bo@home.example"})
        );
        assert_eq!(
            d["name"],
            json!({"givenName": "Bo", "familyName": "Kim", "middleName": "J"})
        );
        let ext = &d["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(
            ext,
            &json!({"department": "Risk", "manager": {"value": "E1"}})
        );
    }

    #[test]
    fn add_appends_replace_swaps_remove_takes_away() {
        let d = patch(json!([{"op": "add", "path": "emails", "value": [{"value": "b@x.example", "type": "other"}]}])).unwrap();
        assert_eq!(d["emails"].as_array().unwrap().len(), 2);
        let d = patch(
            json!([{"op": "replace", "path": "emails", "value": [{"value": "b@x.example"}]}]),
        )
        .unwrap();
        assert_eq!(d["emails"], json!([{"value": "b@x.example"}]));
        let d = patch(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}, {"op": "remove", "path": "name.givenName"}])).unwrap();
        assert!(d.get("emails").is_none());
        assert_eq!(d["name"], json!({"familyName": "Kim"}));
        let d = patch(json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}])).unwrap();
        assert!(d
            .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .is_none());
        // Removing what is not there changes nothing.
        assert_eq!(
            patch(json!([{"op": "remove", "path": "title"}])).unwrap(),
            doc()
        );
    }

    #[test]
    fn bad_operations_are_refused_with_the_scim_type() {
        for (ops, ty) in [
            (json!([{"op": "move", "path": "active"}]), "invalidSyntax"),
            (json!([{"op": "remove"}]), "noTarget"),
            (
                json!([{"op": "replace", "path": "nosuch", "value": 1}]),
                "invalidPath",
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq", "value": 1}]),
                "invalidPath",
            ),
            (
                json!([{"op": "replace", "path": "active", "value": "maybe"}]),
                "invalidValue",
            ),
            (
                json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName", "value": "x"}]),
                "mutability",
            ),
            (
                json!([{"op": "replace", "path": "emails[value co \"nowhere\"].type", "value": "work"}]),
                "noTarget",
            ),
            (json!([]), "invalidSyntax"),
        ] {
            let e = patch(ops.clone()).expect_err(&ops.to_string());
            assert_eq!(e.scim_type, Some(ty), "{ops}: {e:?}");
        }
        let mut d = doc();
        let e = apply(
            Catalogue::get().user(),
            &mut d,
            &json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
    }
}
