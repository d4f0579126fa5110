//! The HTTP side of credwarden (`credwarden serve`): our own SCIM 2.0 endpoint, so that HR systems and
//! identity providers that provision by SCIM tell us about a departure the way they tell everyone
//! else (`PATCH /Users/{id}` with `active=false`), and that starts the offboarding playbook.
//!
//! This service can cut anyone's access, so every endpoint needs a bearer token; tokens are stored as
//! SHA-256 hashes and compared in constant time. A request without a token, with a wrong one, or
//! malformed changes nothing, and every request — accepted or not — is written to the request journal
//! (JSON lines: time, method, path, status, why; never the token).
//!
//! With a signing key configured it is also a Shared Signals transmitter with poll delivery (RFC 8936):
//! receivers create a stream (`/ssf/stream`), and every deactivation queues signed CAEP/RISC events
//! for them to poll and acknowledge (`/ssf/poll/{id}`); `/.well-known/ssf-configuration` describes it.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use credwarden_model::{Directory, Identity, Resolution};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Called when the IdP deactivates someone (on a background thread: the playbook may take seconds).
pub type OnDeactivate = Arc<dyn Fn(Identity) + Send + Sync>;

/// Makes the signed Security Event Tokens about an identity for one audience: (event type, jti, SET).
pub type SetMaker = Arc<dyn Fn(&Identity, &str) -> Vec<(String, String, String)> + Send + Sync>;

/// Shared Signals transmitter with poll delivery (RFC 8936) and a stream configuration endpoint.
pub struct SsfServe {
    /// Our issuer.
    pub issuer: String,
    /// The signer.
    pub make: SetMaker,
}

/// Events a receiver may ask for.
pub const EVENTS_SUPPORTED: [&str; 3] = [
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
    "https://schemas.openid.net/secevent/caep/event-type/credential-change",
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
];
const POLL: &str = "urn:ietf:rfc:8936";

struct Stream {
    aud: String,
    events: Vec<String>,
    queue: std::collections::VecDeque<(String, String)>,
}

/// Settings.
pub struct ServerConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// SHA-256 of every accepted bearer token.
    pub token_hashes: Vec<[u8; 32]>,
    /// The request journal.
    pub request_log: PathBuf,
    /// The HR roster, as the users this endpoint knows.
    pub directory: Arc<Directory>,
    /// Shared Signals poll transmitter, when configured.
    pub ssf: Option<SsfServe>,
}

struct AppState {
    tokens: Vec<[u8; 32]>,
    log: Mutex<std::fs::File>,
    dir: Arc<Directory>,
    deactivated: Mutex<HashSet<String>>,
    on_deactivate: OnDeactivate,
    ssf: Option<SsfServe>,
    streams: Mutex<HashMap<String, Stream>>,
}

/// SHA-256 of a token, as stored.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// Hex of a token hash.
pub fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl AppState {
    fn journal(&self, method: &Method, uri: &Uri, status: StatusCode, why: &str) {
        let line = json!({"time": jiff::Timestamp::now().to_string(), "method": method.as_str(), "path": uri.path(), "status": status.as_u16(), "why": why});
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "{line}");
            let _ = f.sync_data();
        }
    }

    fn authorized(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return Err("no bearer token");
        };
        let Some(token) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        else {
            return Err("not a bearer token");
        };
        let h = hash_token(token);
        if self.tokens.iter().any(|t| ct_eq(t, &h)) {
            Ok(())
        } else {
            Err("wrong token")
        }
    }

    fn user(&self, i: &Identity) -> Value {
        let today = jiff::Zoned::now().date();
        let active = !i.is_departed(today)
            && !self
                .deactivated
                .lock()
                .map(|d| d.contains(&i.id))
                .unwrap_or(false);
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": i.id,
            "userName": i.usernames.first().or(i.emails.first()).unwrap_or(&i.id),
            "displayName": i.display_name,
            "emails": i.emails.iter().map(|e| json!({"value": e})).collect::<Vec<_>>(),
            "active": active,
            "meta": {"resourceType": "User", "location": format!("/scim/v2/Users/{}", i.id)},
        })
    }

    /// Queue the SETs about `who` on every stream.
    fn enqueue(&self, who: &Identity) {
        let Some(ssf) = &self.ssf else { return };
        let Ok(mut streams) = self.streams.lock() else {
            return;
        };
        for s in streams.values_mut() {
            for (event, jti, set) in (ssf.make)(who, &s.aud) {
                if s.events.contains(&event) {
                    s.queue.push_back((jti, set));
                }
            }
        }
    }

    fn find(&self, id: &str) -> Option<Identity> {
        match self.dir.resolve(id) {
            Resolution::Found(i, _) => Some(self.dir.get(i).clone()),
            _ => None,
        }
    }
}

fn scim_error(status: StatusCode, detail: &str, scim_type: Option<&str>) -> Response {
    let mut body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": status.as_u16().to_string(), "detail": detail});
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    let mut r = (
        status,
        [("content-type", "application/scim+json")],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            "www-authenticate",
            "Bearer realm=\"credwarden\"".parse().expect("valid header"),
        );
    }
    r
}

fn scim_ok(status: StatusCode, v: Value) -> Response {
    (
        status,
        [("content-type", "application/scim+json")],
        v.to_string(),
    )
        .into_response()
}

macro_rules! guard {
    ($st:expr, $method:expr, $uri:expr, $headers:expr) => {
        if let Err(why) = $st.authorized(&$headers) {
            $st.journal(&$method, &$uri, StatusCode::UNAUTHORIZED, why);
            return scim_error(
                StatusCode::UNAUTHORIZED,
                "a valid bearer token is required",
                None,
            );
        }
    };
}

async fn service_provider_config(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    guard!(st, method, uri, headers);
    st.journal(&method, &uri, StatusCode::OK, "");
    scim_ok(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true}, "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": 200}, "changePassword": {"supported": false},
            "sort": {"supported": false}, "etag": {"supported": false},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "Authentication with a bearer token", "primary": true}],
        }),
    )
}

async fn list_users(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    guard!(st, method, uri, headers);
    let users: Vec<Value> = match q.get("filter") {
        Some(f) => {
            // userName eq "x" (the filter IdPs use to find an account before patching it).
            let Some(name) = f
                .split_once(" eq ")
                .map(|(_, v)| v.trim().trim_matches('"').to_string())
            else {
                st.journal(&method, &uri, StatusCode::BAD_REQUEST, "unsupported filter");
                return scim_error(
                    StatusCode::BAD_REQUEST,
                    "only `attribute eq \"value\"` filters are supported",
                    Some("invalidFilter"),
                );
            };
            st.find(&name)
                .map(|i| vec![st.user(&i)])
                .unwrap_or_default()
        }
        None => st
            .dir
            .identities()
            .iter()
            .take(200)
            .map(|i| st.user(i))
            .collect(),
    };
    st.journal(&method, &uri, StatusCode::OK, "");
    scim_ok(
        StatusCode::OK,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": users.len(), "startIndex": 1, "itemsPerPage": users.len(), "Resources": users}),
    )
}

async fn get_user(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    guard!(st, method, uri, headers);
    match st.find(&id) {
        Some(i) => {
            st.journal(&method, &uri, StatusCode::OK, "");
            scim_ok(StatusCode::OK, st.user(&i))
        }
        None => {
            st.journal(&method, &uri, StatusCode::NOT_FOUND, "unknown user");
            scim_error(StatusCode::NOT_FOUND, "no such user", None)
        }
    }
}

/// Does a PatchOp body set `active` to false?
fn deactivates(body: &Value) -> Result<bool, &'static str> {
    let schemas = body
        .get("schemas")
        .and_then(Value::as_array)
        .ok_or("no schemas")?;
    if !schemas
        .iter()
        .any(|s| s == "urn:ietf:params:scim:api:messages:2.0:PatchOp")
    {
        return Err("not a PatchOp");
    }
    let ops = body
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or("no Operations")?;
    let mut off = false;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("an operation without `op`")?
            .to_ascii_lowercase();
        if kind != "replace" && kind != "add" {
            continue;
        }
        let value = op.get("value");
        let is_false = |v: Option<&Value>| {
            v.is_some_and(|v| v == &json!(false) || v == &json!("False") || v == &json!("false"))
        };
        match op.get("path").and_then(Value::as_str) {
            Some(p) if p.eq_ignore_ascii_case("active") => off |= is_false(value),
            None => off |= is_false(value.and_then(|v| v.get("active"))),
            _ => {}
        }
    }
    Ok(off)
}

async fn patch_user(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    guard!(st, method, uri, headers);
    let Some(i) = st.find(&id) else {
        st.journal(&method, &uri, StatusCode::NOT_FOUND, "unknown user");
        return scim_error(StatusCode::NOT_FOUND, "no such user", None);
    };
    let parsed: Result<Value, _> = serde_json::from_str(&body);
    let off = match parsed
        .as_ref()
        .map_err(|_| "not JSON")
        .and_then(deactivates)
    {
        Ok(off) => off,
        Err(why) => {
            st.journal(&method, &uri, StatusCode::BAD_REQUEST, why);
            return scim_error(StatusCode::BAD_REQUEST, why, Some("invalidSyntax"));
        }
    };
    if off {
        let first = st
            .deactivated
            .lock()
            .map(|mut d| d.insert(i.id.clone()))
            .unwrap_or(false);
        if first {
            st.enqueue(&i);
            let cb = st.on_deactivate.clone();
            let who = i.clone();
            std::thread::spawn(move || cb(who));
        }
        st.journal(
            &method,
            &uri,
            StatusCode::OK,
            if first {
                "deactivated: offboarding started"
            } else {
                "already deactivated"
            },
        );
    } else {
        st.journal(&method, &uri, StatusCode::OK, "no change to active");
    }
    scim_ok(StatusCode::OK, st.user(&i))
}

async fn ssf_configuration(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    guard!(st, method, uri, headers);
    let Some(ssf) = &st.ssf else {
        st.journal(
            &method,
            &uri,
            StatusCode::NOT_FOUND,
            "no transmitter configured",
        );
        return scim_error(
            StatusCode::NOT_FOUND,
            "no Shared Signals transmitter configured",
            None,
        );
    };
    st.journal(&method, &uri, StatusCode::OK, "");
    (StatusCode::OK, axum::Json(json!({"spec_version": "1_0", "issuer": ssf.issuer, "delivery_methods_supported": [POLL], "configuration_endpoint": "/ssf/stream"}))).into_response()
}

fn json_error(status: StatusCode, why: &str) -> Response {
    (status, axum::Json(json!({"err": why}))).into_response()
}

fn stream_json(id: &str, s: &Stream, issuer: &str) -> Value {
    json!({"stream_id": id, "iss": issuer, "aud": s.aud, "delivery": {"method": POLL, "endpoint_url": format!("/ssf/poll/{id}")}, "events_supported": EVENTS_SUPPORTED, "events_requested": s.events, "events_delivered": s.events})
}

async fn stream_create(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    guard!(st, method, uri, headers);
    let Some(ssf) = &st.ssf else {
        return json_error(StatusCode::NOT_FOUND, "no transmitter");
    };
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        st.journal(&method, &uri, StatusCode::BAD_REQUEST, "not JSON");
        return json_error(StatusCode::BAD_REQUEST, "not JSON");
    };
    if v.pointer("/delivery/method")
        .and_then(Value::as_str)
        .is_some_and(|m| m != POLL)
    {
        st.journal(
            &method,
            &uri,
            StatusCode::BAD_REQUEST,
            "unsupported delivery",
        );
        return json_error(
            StatusCode::BAD_REQUEST,
            "only poll delivery (urn:ietf:rfc:8936) is served here",
        );
    }
    let events: Vec<String> = v
        .get("events_requested")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|e| EVENTS_SUPPORTED.contains(e))
                .map(String::from)
                .collect()
        })
        .unwrap_or_else(|| EVENTS_SUPPORTED.iter().map(|e| e.to_string()).collect());
    let aud = v
        .get("aud")
        .and_then(Value::as_str)
        .unwrap_or("receiver")
        .to_string();
    let id = hex(&hash_token(&format!(
        "{aud}{}",
        jiff::Timestamp::now().as_nanosecond()
    )))[..16]
        .to_string();
    let s = Stream {
        aud,
        events,
        queue: Default::default(),
    };
    let out = stream_json(&id, &s, &ssf.issuer);
    if let Ok(mut m) = st.streams.lock() {
        m.insert(id, s);
    }
    st.journal(&method, &uri, StatusCode::CREATED, "stream created");
    (StatusCode::CREATED, axum::Json(out)).into_response()
}

async fn stream_get(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    guard!(st, method, uri, headers);
    let Some(ssf) = &st.ssf else {
        return json_error(StatusCode::NOT_FOUND, "no transmitter");
    };
    let m = st.streams.lock().expect("not poisoned");
    let found = q
        .get("stream_id")
        .and_then(|id| m.get(id).map(|s| stream_json(id, s, &ssf.issuer)));
    match found {
        Some(v) => {
            st.journal(&method, &uri, StatusCode::OK, "");
            (StatusCode::OK, axum::Json(v)).into_response()
        }
        None => {
            st.journal(&method, &uri, StatusCode::NOT_FOUND, "unknown stream");
            json_error(StatusCode::NOT_FOUND, "unknown stream")
        }
    }
}

async fn stream_delete(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    guard!(st, method, uri, headers);
    let gone = q.get("stream_id").is_some_and(|id| {
        st.streams
            .lock()
            .map(|mut m| m.remove(id).is_some())
            .unwrap_or(false)
    });
    let status = if gone {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    };
    st.journal(
        &method,
        &uri,
        status,
        if gone {
            "stream deleted"
        } else {
            "unknown stream"
        },
    );
    status.into_response()
}

/// RFC 8936: acknowledge what the receiver got, return what is queued.
async fn poll(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Response {
    guard!(st, method, uri, headers);
    let v: Value = if body.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(_) => {
                st.journal(&method, &uri, StatusCode::BAD_REQUEST, "not JSON");
                return json_error(StatusCode::BAD_REQUEST, "not JSON");
            }
        }
    };
    let max = v.get("maxEvents").and_then(Value::as_u64).unwrap_or(100) as usize;
    let acks: Vec<String> = v
        .get("ack")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let mut m = st.streams.lock().expect("not poisoned");
    let Some(s) = m.get_mut(&id) else {
        drop(m);
        st.journal(&method, &uri, StatusCode::NOT_FOUND, "unknown stream");
        return json_error(StatusCode::NOT_FOUND, "unknown stream");
    };
    s.queue.retain(|(jti, _)| !acks.contains(jti));
    let sets: serde_json::Map<String, Value> = s
        .queue
        .iter()
        .take(max)
        .map(|(j, t)| (j.clone(), json!(t)))
        .collect();
    let more = s.queue.len() > max;
    drop(m);
    st.journal(
        &method,
        &uri,
        StatusCode::OK,
        &format!("{} acknowledged, {} returned", acks.len(), sets.len()),
    );
    (
        StatusCode::OK,
        axum::Json(json!({"sets": sets, "moreAvailable": more})),
    )
        .into_response()
}

async fn fallback(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    st.journal(&method, &uri, StatusCode::NOT_FOUND, "no such endpoint");
    scim_error(StatusCode::NOT_FOUND, "no such endpoint", None)
}

/// The router (for tests and for [`serve`]).
pub fn router(cfg: &ServerConfig, on_deactivate: OnDeactivate) -> std::io::Result<Router> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cfg.request_log)?;
    let st = Arc::new(AppState {
        tokens: cfg.token_hashes.clone(),
        log: Mutex::new(log),
        dir: cfg.directory.clone(),
        deactivated: Mutex::new(HashSet::new()),
        on_deactivate,
        ssf: cfg.ssf.as_ref().map(|s| SsfServe {
            issuer: s.issuer.clone(),
            make: s.make.clone(),
        }),
        streams: Mutex::new(HashMap::new()),
    });
    Ok(Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/Users", get(list_users))
        .route("/scim/v2/Users/{id}", get(get_user).patch(patch_user))
        .route("/.well-known/ssf-configuration", get(ssf_configuration))
        .route(
            "/ssf/stream",
            get(stream_get).post(stream_create).delete(stream_delete),
        )
        .route("/ssf/poll/{id}", axum::routing::post(poll))
        .fallback(fallback)
        .with_state(st))
}

/// Listen until the process ends.
pub fn serve(cfg: ServerConfig, on_deactivate: OnDeactivate) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let app = router(&cfg, on_deactivate)?;
        let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
        tracing::info!("listening on {}", listener.local_addr()?);
        axum::serve(listener, app).await
    })
}
