//! Property tests for what a SCIM client controls: request bodies, PATCH operations, paths and
//! filters. Whatever arrives, the store answers with a resource or a SCIM error — it never panics —
//! and a refused request leaves the resource as it was.

use credwarden_model::Directory;
use credwarden_server::scim::schema::Catalogue;
use credwarden_server::scim::store::Store;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Paths a client might send: real attributes, sub-attributes, URNs, filters, and noise.
fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("active".to_string()),
        Just("userName".to_string()),
        Just("name.givenName".to_string()),
        Just("emails".to_string()),
        Just(r#"emails[type eq "work"].value"#.to_string()),
        Just(r#"emails[value co "@"]"#.to_string()),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string()),
        Just(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".to_string()
        ),
        Just("urn:ietf:params:scim:schemas:core:2.0:User:displayName".to_string()),
        Just("members".to_string()),
        "\\PC{0,40}",
    ]
}

/// JSON values of every shape, a few levels deep.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,20}".prop_map(Value::String),
        Just(json!("False")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("value".to_string()),
                    Just("type".to_string()),
                    Just("primary".to_string()),
                    Just("givenName".to_string()),
                    Just("active".to_string()),
                    "[a-zA-Z$]{1,10}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn op() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("add"),
            Just("remove"),
            Just("replace"),
            Just("Replace"),
            Just("move")
        ],
        prop::option::of(path()),
        prop::option::of(value()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = json!({ "op": op });
            if let Some(p) = path {
                o["path"] = json!(p);
            }
            if let Some(v) = value {
                o["value"] = v;
            }
            o
        })
}

fn store() -> (Store, String) {
    let mut s = Store::open(&Directory::new(vec![]), None).unwrap();
    let u = s
        .create(
            Catalogue::get().user(),
            json!({"userName": "bo", "emails": [{"value": "bo@shop.example", "type": "work"}], "active": true})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    (s, u["id"].as_str().unwrap().to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_patch_answers_without_panicking_and_a_refusal_changes_nothing(ops in prop::collection::vec(op(), 0..4)) {
        let user = Catalogue::get().user();
        let (mut s, id) = store();
        let before = s.get(user, &id).unwrap().clone();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        match s.patch(user, &id, &body) {
            Ok((r, _)) => {
                // Whatever was patched, the result is a valid user.
                prop_assert!(r.get("userName").and_then(Value::as_str).is_some_and(|n| !n.trim().is_empty()));
                prop_assert_eq!(r.get("id"), before.get("id"));
            }
            Err(e) => {
                prop_assert!(e.status >= 400 && e.status < 500, "{e:?}");
                prop_assert_eq!(s.get(user, &id).unwrap(), &before);
            }
        }
    }

    #[test]
    fn any_body_creates_or_is_refused_for_users_and_groups(body in value(), group in any::<bool>()) {
        let cat = Catalogue::get();
        let kind = if group { cat.group() } else { cat.user() };
        let (mut s, _) = store();
        let n = s.count(kind);
        if let Value::Object(o) = &body {
            match s.create(kind, o) {
                Ok(r) => prop_assert_eq!(s.get(kind, r["id"].as_str().unwrap()), Some(&r)),
                Err(e) => {
                    prop_assert!(e.status >= 400 && e.status < 500, "{e:?}");
                    prop_assert_eq!(s.count(kind), n);
                }
            }
        }
    }

    #[test]
    fn any_filter_parses_or_errs_and_lists_without_panicking(f in prop_oneof![
        "\\PC{0,60}",
        (path(), prop_oneof![Just("eq"), Just("co"), Just("pr"), Just("gt"), Just("zz")], "\\PC{0,10}")
            .prop_map(|(p, o, v)| format!("{p} {o} \"{v}\"")),
    ]) {
        let (s, _) = store();
        if let Ok(f) = credwarden_server::scim::filter::Filter::parse(&f) {
            let _ = s.list(Catalogue::get().user(), Some(&f)).count();
            let _ = s.list(Catalogue::get().group(), Some(&f)).count();
        }
    }
}
