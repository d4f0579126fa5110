//! Our SCIM 2.0 service provider (RFC 7643, RFC 7644) under `/scim/v2`: discovery
//! (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`), Users and Groups (list with filters and
//! paging, `.search` per type and at the root, create, read, replace, patch, delete) and partial
//! responses (`attributes`, `excludedAttributes`). Bulk, sorting and ETags are not offered, and the
//! ServiceProviderConfig says so. Routes are made per resource type from `resource_types.json`.
//!
//! A departure (a user deactivated or deleted) queues Shared Signals events and starts the
//! offboarding playbook on a background thread, with the IdP's group memberships; the answer does
//! not wait for it.
//!
//! The pieces: [`schema`] (what we serve, from the JSON we publish), [`filter`] (paths and
//! filters), [`patch`] (PatchOp), [`resource`] (canonical form, partial responses, identity),
//! [`store`] (users, groups, their history and the state file).

pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;
pub mod store;

use crate::{scim_error, scim_ok, AppState, Authed};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use credwarden_model::Identity;
use filter::{AttrPath, Filter};
use resource::{render, ScimError};
use schema::{Catalogue, Kind};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use store::{Changed, Store};

/// The most resources one page holds (and the default page size).
pub const MAX_RESULTS: usize = 1000;

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// What a handler answers: status, body and the journal's why — or a SCIM error.
type Answer = Result<(StatusCode, Value, String), ScimError>;

/// The SCIM routes: discovery, then for each resource type its collection, `.search` and items.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    let only = |m: MethodRouter<Arc<AppState>>| m.fallback(not_allowed);
    let mut r = Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            only(get(service_provider_config)),
        )
        .route("/scim/v2/ResourceTypes", only(get(resource_types)))
        .route("/scim/v2/ResourceTypes/{id}", only(get(resource_type)))
        .route("/scim/v2/Schemas", only(get(schemas)))
        .route("/scim/v2/Schemas/{id}", only(get(schema_by_id)))
        .route(
            "/scim/v2/.search",
            only(post(|a: Authed, body: String| async move {
                search(a, body, None)
            })),
        );
    for kind in &Catalogue::get().kinds {
        let at = format!("/scim/v2{}", kind.endpoint);
        r = r
            .route(
                &at,
                only(
                    get(move |a: Authed, Query(q): Params| async move { list(a, q, kind) }).post(
                        move |a: Authed, Query(q): Params, body: String| async move {
                            create(a, q, body, kind)
                        },
                    ),
                ),
            )
            .route(
                &format!("{at}/.search"),
                only(post(move |a: Authed, body: String| async move {
                    search(a, body, Some(kind))
                })),
            )
            .route(
                &format!("{at}/{{id}}"),
                only(
                    get(
                        move |a: Authed, Path(id): Path<String>, Query(q): Params| async move {
                            get_one(a, id, q, kind)
                        },
                    )
                    .put(
                        move |a: Authed, Path(id): Path<String>, Query(q): Params, body: String| async move {
                            let r = object(&body).and_then(|b| {
                                change(&a, &q, kind, |s| s.replace(kind, &id, &b))
                            });
                            a.answer(r)
                        },
                    )
                    .patch(
                        move |a: Authed, Path(id): Path<String>, Query(q): Params, body: String| async move {
                            let r = json_body(&body)
                                .and_then(|b| change(&a, &q, kind, |s| s.patch(kind, &id, &b)));
                            a.answer(r)
                        },
                    )
                    .delete(move |a: Authed, Path(id): Path<String>| async move {
                        delete(a, id, kind)
                    }),
                ),
            );
    }
    r
}

impl Authed {
    /// Where clients reach us, for `meta.location`.
    fn base(&self) -> String {
        if let Some(u) = &self.st.public_url {
            return u.trim_end_matches('/').to_string();
        }
        let host = self
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("{}://{host}/scim/v2", self.st.scheme)
    }

    /// Journal and answer.
    fn answer(&self, r: Answer) -> Response {
        match r {
            Ok((status, body, why)) => {
                self.journal(status, &why);
                if status == StatusCode::NO_CONTENT {
                    return status.into_response();
                }
                let mut resp = scim_ok(status, body.clone());
                if status == StatusCode::CREATED {
                    if let Some(Ok(loc)) = body
                        .pointer("/meta/location")
                        .and_then(Value::as_str)
                        .map(axum::http::HeaderValue::from_str)
                    {
                        resp.headers_mut().insert("location", loc);
                    }
                }
                resp
            }
            Err(e) => {
                let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
                self.journal(status, &e.detail);
                scim_error(status, &e.detail, e.scim_type)
            }
        }
    }
}

async fn not_allowed(a: Authed) -> Response {
    a.journal(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    scim_error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{} is not supported here", a.method),
        None,
    )
}

/// A published document with its `meta.location` made absolute.
fn located(doc: &Value, base: &str) -> Value {
    let mut d = doc.clone();
    if let Some(Value::String(loc)) = d.pointer_mut("/meta/location") {
        *loc = format!("{base}{loc}");
    }
    d
}

fn list_of(items: Vec<Value>) -> Value {
    json!({"schemas": [LIST], "totalResults": items.len(), "startIndex": 1, "itemsPerPage": items.len(), "Resources": items})
}

async fn service_provider_config(a: Authed) -> Response {
    let base = a.base();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "Authentication with a bearer token (RFC 6750); tokens are issued out of band and stored hashed", "primary": true}],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    });
    a.answer(Ok((StatusCode::OK, body, String::new())))
}

/// A discovery collection (`/ResourceTypes`, `/Schemas`) as a ListResponse.
fn discovery_list(a: &Authed, docs: &[Value]) -> Answer {
    let base = a.base();
    let items = docs.iter().map(|d| located(d, &base)).collect();
    Ok((StatusCode::OK, list_of(items), String::new()))
}

/// One discovery document by id (case-insensitive).
fn discovery_one(a: &Authed, docs: &[Value], id: &str, what: &str) -> Answer {
    let base = a.base();
    docs.iter()
        .find(|d| {
            d.get("id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        })
        .map(|d| (StatusCode::OK, located(d, &base), String::new()))
        .ok_or_else(|| ScimError::not_found(format!("no {what} `{id}`")))
}

async fn resource_types(a: Authed) -> Response {
    let r = discovery_list(&a, &Catalogue::get().resource_types_json);
    a.answer(r)
}

async fn resource_type(a: Authed, Path(id): Path<String>) -> Response {
    let docs = &Catalogue::get().resource_types_json;
    let r = discovery_one(&a, docs, &id, "resource type");
    a.answer(r)
}

async fn schemas(a: Authed) -> Response {
    let r = discovery_list(&a, &Catalogue::get().schemas_json);
    a.answer(r)
}

async fn schema_by_id(a: Authed, Path(id): Path<String>) -> Response {
    let r = discovery_one(&a, &Catalogue::get().schemas_json, &id, "schema");
    a.answer(r)
}

/// What a list or search asks for.
struct ListQuery {
    filter: Option<Filter>,
    start: usize,
    count: usize,
    attributes: Vec<AttrPath>,
    excluded: Vec<AttrPath>,
}

fn paths(list: &[String], what: &str) -> Result<Vec<AttrPath>, ScimError> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            AttrPath::parse(s).map_err(|e| ScimError::bad("invalidValue", format!("{what}: {e}")))
        })
        .collect()
}

fn split(s: Option<&String>) -> Vec<String> {
    s.map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

fn number(v: Option<&Value>, what: &str) -> Result<Option<i64>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ScimError::bad("invalidValue", format!("`{what}` must be an integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ScimError::bad("invalidValue", format!("`{what}` must be an integer"))),
        Some(_) => Err(ScimError::bad(
            "invalidValue",
            format!("`{what}` must be an integer"),
        )),
    }
}

impl ListQuery {
    fn new(
        filter: Option<&str>,
        start: Option<i64>,
        count: Option<i64>,
        attributes: &[String],
        excluded: &[String],
    ) -> Result<ListQuery, ScimError> {
        let filter = match filter.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(
                Filter::parse(f)
                    .map_err(|e| ScimError::bad("invalidFilter", format!("filter: {e}")))?,
            ),
            None => None,
        };
        let attributes = paths(attributes, "attributes")?;
        let excluded = paths(excluded, "excludedAttributes")?;
        if !attributes.is_empty() && !excluded.is_empty() {
            return Err(ScimError::bad(
                "invalidValue",
                "`attributes` and `excludedAttributes` cannot be used together",
            ));
        }
        Ok(ListQuery {
            filter,
            start: start.unwrap_or(1).max(1) as usize,
            count: count
                .unwrap_or(MAX_RESULTS as i64)
                .clamp(0, MAX_RESULTS as i64) as usize,
            attributes,
            excluded,
        })
    }

    fn run(&self, st: &AppState, base: &str, kinds: &[&Kind]) -> Answer {
        let store = st.store.lock().map_err(|_| store_error())?;
        let all = store.list_across(kinds, self.filter.as_ref());
        let total = all.len();
        let page: Vec<Value> = all
            .into_iter()
            .skip(self.start - 1)
            .take(self.count)
            .map(|(kind, r)| render(kind, r, base, &self.attributes, &self.excluded))
            .collect();
        let n = page.len();
        Ok((
            StatusCode::OK,
            json!({"schemas": [LIST], "totalResults": total, "startIndex": self.start, "itemsPerPage": n, "Resources": page}),
            format!("{n} of {total}"),
        ))
    }
}

type Params = Query<HashMap<String, String>>;

/// GET on a collection.
fn list(a: Authed, q: HashMap<String, String>, kind: &'static Kind) -> Response {
    let r = (|| {
        let n = |k: &str| number(q.get(k).map(|s| Value::String(s.clone())).as_ref(), k);
        let query = ListQuery::new(
            q.get("filter").map(String::as_str),
            n("startIndex")?,
            n("count")?,
            &split(q.get("attributes")),
            &split(q.get("excludedAttributes")),
        )?;
        query.run(&a.st, &a.base(), &[kind])
    })();
    a.answer(r)
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    ScimError::bad("invalidValue", format!("`{what}` must list strings"))
                })
            })
            .collect(),
        Some(Value::String(s)) => Ok(s.split(',').map(str::to_string).collect()),
        Some(_) => Err(ScimError::bad(
            "invalidValue",
            format!("`{what}` must list strings"),
        )),
    }
}

fn json_body(body: &str) -> Result<Value, ScimError> {
    serde_json::from_str(body)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("not JSON: {e}")))
}

fn object(body: &str) -> Result<Map<String, Value>, ScimError> {
    match json_body(body)? {
        Value::Object(o) => Ok(o),
        _ => Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        )),
    }
}

fn one_query(q: &HashMap<String, String>) -> Result<(Vec<AttrPath>, Vec<AttrPath>), ScimError> {
    let query = ListQuery::new(
        None,
        None,
        None,
        &split(q.get("attributes")),
        &split(q.get("excludedAttributes")),
    )?;
    Ok((query.attributes, query.excluded))
}

fn store_error() -> ScimError {
    ScimError::internal("the store is unusable after an earlier failure")
}

/// POST `.search` on a collection, or at the root across every resource type (RFC 7644 §3.4.3).
fn search(a: Authed, body: String, kind: Option<&'static Kind>) -> Response {
    let r = (|| {
        let b = object(&body)?;
        if !b
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|x| x == SEARCH))
        {
            return Err(ScimError::bad(
                "invalidSyntax",
                format!("`schemas` must hold {SEARCH}"),
            ));
        }
        let query = ListQuery::new(
            b.get("filter").and_then(Value::as_str),
            number(b.get("startIndex"), "startIndex")?,
            number(b.get("count"), "count")?,
            &strings(b.get("attributes"), "attributes")?,
            &strings(b.get("excludedAttributes"), "excludedAttributes")?,
        )?;
        let kinds: Vec<&Kind> = match kind {
            Some(k) => vec![k],
            None => Catalogue::get().kinds.iter().collect(),
        };
        query.run(&a.st, &a.base(), &kinds)
    })();
    a.answer(r)
}

fn get_one(a: Authed, id: String, q: HashMap<String, String>, kind: &'static Kind) -> Response {
    let r = (|| {
        let (attributes, excluded) = one_query(&q)?;
        let store = a.st.store.lock().map_err(|_| store_error())?;
        let found = store
            .get(kind, &id)
            .ok_or_else(|| ScimError::not_found(format!("no {} `{id}`", kind.name)))?;
        Ok((
            StatusCode::OK,
            render(kind, found, &a.base(), &attributes, &excluded),
            String::new(),
        ))
    })();
    a.answer(r)
}

fn create(a: Authed, q: HashMap<String, String>, body: String, kind: &'static Kind) -> Response {
    let r = (|| {
        let (attributes, excluded) = one_query(&q)?;
        let b = object(&body)?;
        let r =
            a.st.store
                .lock()
                .map_err(|_| store_error())?
                .create(kind, &b)?;
        let why = format!("created {} {}", kind.name, r["id"].as_str().unwrap_or(""));
        Ok((
            StatusCode::CREATED,
            render(kind, &r, &a.base(), &attributes, &excluded),
            why,
        ))
    })();
    a.answer(r)
}

/// Start the offboarding for a departure, and say so in the journal line.
fn departed(st: &AppState, who: Option<Identity>, what: &str) -> String {
    match who {
        Some(who) => {
            crate::ssf::enqueue(st, &who);
            let groups = st
                .store
                .lock()
                .map(|s| s.memberships_for(&who))
                .unwrap_or_default();
            let cb = st.on_deactivate.clone();
            std::thread::spawn(move || cb(crate::Departure { who, groups }));
            format!("{what}: offboarding started")
        }
        None => what.to_string(),
    }
}

/// PUT and PATCH: change resource `id` through `f`; a departure it made starts the offboarding.
fn change(
    a: &Authed,
    q: &HashMap<String, String>,
    kind: &Kind,
    f: impl FnOnce(&mut Store) -> Result<Changed, ScimError>,
) -> Answer {
    let (attributes, excluded) = one_query(q)?;
    let (r, who) = {
        let mut store = a.st.store.lock().map_err(|_| store_error())?;
        f(&mut store)?
    };
    let why = match (&who, resource::is_active(&r)) {
        (Some(_), _) => departed(&a.st, who, "deactivated"),
        (None, false) => "inactive (already reported)".to_string(),
        (None, true) => "changed".to_string(),
    };
    Ok((
        StatusCode::OK,
        render(kind, &r, &a.base(), &attributes, &excluded),
        why,
    ))
}

fn delete(a: Authed, id: String, kind: &'static Kind) -> Response {
    let r = (|| {
        let who =
            a.st.store
                .lock()
                .map_err(|_| store_error())?
                .delete(kind, &id)?;
        Ok((
            StatusCode::NO_CONTENT,
            Value::Null,
            departed(&a.st, who, "deleted"),
        ))
    })();
    a.answer(r)
}
