//! The HTTP side of credwarden (`credwarden serve`): our own SCIM 2.0 service provider, so that HR
//! systems and identity providers that provision by SCIM tell us about a departure the way they
//! tell everyone else — `PATCH /Users/{id}` with `active=false`, a `PUT` with `active: false`, or a
//! `DELETE` — and that starts the offboarding playbook. It is a whole SCIM service (RFC 7643/7644:
//! discovery, Users and Groups create/read/replace/patch/delete, filters, `.search`, partial
//! responses),
//! checked by the scim2-tester conformance suite; see [`scim`].
//!
//! This service can cut anyone's access, so every endpoint needs a bearer token; tokens are stored as
//! SHA-256 hashes and compared in constant time. A request without a token, with a wrong one, or
//! malformed changes nothing, and every request — accepted or not — is written to the request journal
//! (JSON lines: time, method, path, status, why; never the token).
//!
//! With a signing key configured it is also a Shared Signals transmitter with poll delivery; see
//! [`ssf`].

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use credwarden_model::{Directory, Identity};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use ssf::{SetMaker, SsfServe, EVENTS_SUPPORTED};

/// A departure reported by the identity provider.
#[derive(Debug, Clone)]
pub struct Departure {
    /// Who left.
    pub who: Identity,
    /// The IdP's groups as (name, members by the alias the roster knows), the leaver counted in
    /// every group they were ever a member of — an IdP often empties a leaver's groups before it
    /// deactivates them, and what they could read through those groups must still be rotated.
    pub groups: Vec<(String, Vec<String>)>,
}

/// Called when the IdP deactivates someone (on a background thread: the playbook may take seconds).
pub type OnDeactivate = Arc<dyn Fn(Departure) + Send + Sync>;

/// An offboarding request or approval, by the principal of the bearer token that sent it.
#[derive(Debug, Clone)]
pub struct OffboardingCall {
    /// The identity (HR id, username or e-mail).
    pub identity: String,
    /// The bearer token's principal.
    pub principal: String,
    /// `Some(reason)` for a request, `None` for an approval.
    pub reason: Option<String>,
}

/// Handles an [`OffboardingCall`]: what happened, or why it was refused (a second person is
/// needed, no request is open…).
pub type OnOffboarding = Arc<dyn Fn(OffboardingCall) -> Result<String, String> + Send + Sync>;

/// Settings.
pub struct ServerConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// SHA-256 of every accepted bearer token, with the principal it stands for (journaled with
    /// each request, and the one who requests or approves an offboarding).
    pub token_hashes: Vec<([u8; 32], String)>,
    /// Offboarding requests and approvals by authenticated principals (`POST
    /// /v1/offboarding/requests`, `POST /v1/offboarding/approvals`); `None`: not offered.
    pub on_offboarding: Option<OnOffboarding>,
    /// The request journal.
    pub request_log: PathBuf,
    /// The HR roster, as the users this endpoint knows before any IdP writes.
    pub directory: Arc<Directory>,
    /// Where SCIM writes are kept across restarts (`None`: in memory only).
    pub scim_state: Option<PathBuf>,
    /// The URL clients reach the SCIM service at (`…/scim/v2`), for `meta.location`; without it,
    /// `http://` and the request's Host.
    pub public_url: Option<String>,
    /// Shared Signals poll transmitter, when configured.
    pub ssf: Option<SsfServe>,
    /// Serve over TLS with this certificate and key (`None`: plain HTTP, for a TLS terminator in
    /// front or loopback).
    pub tls: Option<tls::TlsFiles>,
    /// The issuance ledger and its token-check endpoints ([`ledger`]); `None`: not offered.
    pub ledger: Option<Arc<ledger::LedgerHandle>>,
}

pub(crate) struct AppState {
    tokens: Vec<([u8; 32], String)>,
    on_offboarding: Option<OnOffboarding>,
    log: Mutex<std::fs::File>,
    pub(crate) store: Mutex<scim::store::Store>,
    pub(crate) public_url: Option<String>,
    /// `https` when we terminate TLS ourselves.
    pub(crate) scheme: &'static str,
    pub(crate) on_deactivate: OnDeactivate,
    pub(crate) ssf: Option<SsfServe>,
    pub(crate) streams: Mutex<HashMap<String, ssf::Stream>>,
    pub(crate) ledger: Option<Arc<ledger::LedgerHandle>>,
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
    pub(crate) fn journal(&self, method: &Method, uri: &Uri, status: StatusCode, why: &str) {
        self.journal_as(None, method, uri, status, why)
    }

    /// A request arrived (written before it is handled; not flushed to disk — the kernel keeps it
    /// if the process dies).
    pub(crate) fn received(&self, method: &Method, uri: &Uri) {
        let line = json!({"time": jiff::Timestamp::now().to_string(), "method": method.as_str(), "path": uri.path(), "received": true});
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "{line}");
        }
    }

    pub(crate) fn journal_as(
        &self,
        principal: Option<&str>,
        method: &Method,
        uri: &Uri,
        status: StatusCode,
        why: &str,
    ) {
        let mut line = json!({"time": jiff::Timestamp::now().to_string(), "method": method.as_str(), "path": uri.path(), "status": status.as_u16(), "why": why});
        if let Some(p) = principal {
            line["principal"] = json!(p);
        }
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "{line}");
            let _ = f.sync_data();
        }
    }

    pub(crate) fn authorized(&self, headers: &HeaderMap) -> Result<String, &'static str> {
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
        // Every token is compared (constant time per token, no early exit on a match).
        let mut who = None;
        for (t, p) in &self.tokens {
            if ct_eq(t, &h) {
                who = Some(p.clone());
            }
        }
        who.ok_or("wrong token")
    }
}

pub(crate) fn scim_error(status: StatusCode, detail: &str, scim_type: Option<&str>) -> Response {
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

pub(crate) fn scim_ok(status: StatusCode, v: Value) -> Response {
    (
        status,
        [("content-type", "application/scim+json")],
        v.to_string(),
    )
        .into_response()
}

/// An authenticated request: a handler that takes one cannot run without a valid bearer token.
/// Refusals are answered 401 (with `WWW-Authenticate`) and journaled with why; the token never is.
pub(crate) struct Authed {
    pub(crate) st: Arc<AppState>,
    /// The bearer token's principal.
    pub(crate) principal: String,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
}

impl Authed {
    /// Journal this request.
    pub(crate) fn journal(&self, status: StatusCode, why: &str) {
        self.st
            .journal_as(Some(&self.principal), &self.method, &self.uri, status, why);
    }
}

impl axum::extract::FromRequestParts<Arc<AppState>> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        st: &Arc<AppState>,
    ) -> Result<Self, Response> {
        let principal = match st.authorized(&parts.headers) {
            Ok(p) => p,
            Err(why) => {
                st.journal(&parts.method, &parts.uri, StatusCode::UNAUTHORIZED, why);
                return Err(scim_error(
                    StatusCode::UNAUTHORIZED,
                    "a valid bearer token is required",
                    None,
                ));
            }
        };
        Ok(Authed {
            st: st.clone(),
            principal,
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
        })
    }
}

pub mod ledger;
pub mod listen;
pub mod scim;
pub mod ssf;
pub mod tls;

pub(crate) fn json_answer(status: StatusCode, v: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// Request or approve an offboarding as the bearer token's principal.
fn offboarding_call(a: Authed, body: &str, request: bool) -> Response {
    let Some(handler) = a.st.on_offboarding.clone() else {
        a.journal(
            StatusCode::NOT_FOUND,
            "offboarding requests are not offered",
        );
        return json_answer(
            StatusCode::NOT_FOUND,
            json!({"error": "offboarding requests are not offered by this server"}),
        );
    };
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let identity = v.get("identity").and_then(Value::as_str).unwrap_or("");
    let reason = v.get("reason").and_then(Value::as_str).unwrap_or("");
    if identity.is_empty() || (request && reason.trim().is_empty()) {
        a.journal(StatusCode::BAD_REQUEST, "identity or reason missing");
        return json_answer(
            StatusCode::BAD_REQUEST,
            json!({"error": if request { "a JSON body with `identity` and `reason` is required" } else { "a JSON body with `identity` is required" }}),
        );
    }
    let call = OffboardingCall {
        identity: identity.to_string(),
        principal: a.principal.clone(),
        reason: request.then(|| reason.to_string()),
    };
    match handler(call) {
        Ok(msg) => {
            a.journal(StatusCode::OK, &msg);
            json_answer(StatusCode::OK, json!({"result": msg}))
        }
        Err(why) => {
            a.journal(StatusCode::CONFLICT, &why);
            json_answer(StatusCode::CONFLICT, json!({"error": why}))
        }
    }
}

async fn offboarding_request(a: Authed, body: String) -> Response {
    tokio::task::spawn_blocking(move || offboarding_call(a, &body, true))
        .await
        .unwrap_or_else(|_| {
            json_answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "failed"}),
            )
        })
}

async fn offboarding_approval(a: Authed, body: String) -> Response {
    tokio::task::spawn_blocking(move || offboarding_call(a, &body, false))
        .await
        .unwrap_or_else(|_| {
            json_answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "failed"}),
            )
        })
}

/// Every request is in the request journal before it is handled (the outcome line follows), so
/// even one that brings the process down leaves its trace — except token checks (routed outside
/// this layer: a gateway sends them by the thousand a second; see [`ledger`]).
async fn received(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    st.received(req.method(), req.uri());
    next.run(req).await
}

/// Anything else: 404 with a SCIM error (after authentication, like every endpoint).
async fn fallback(a: Authed) -> Response {
    a.journal(StatusCode::NOT_FOUND, "no such endpoint");
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
        on_offboarding: cfg.on_offboarding.clone(),
        log: Mutex::new(log),
        store: Mutex::new(
            scim::store::Store::open(&cfg.directory, cfg.scim_state.clone())
                .map_err(std::io::Error::other)?,
        ),
        public_url: cfg.public_url.clone(),
        scheme: if cfg.tls.is_some() { "https" } else { "http" },
        on_deactivate,
        ssf: cfg.ssf.as_ref().map(|s| SsfServe {
            issuer: s.issuer.clone(),
            make: s.make.clone(),
        }),
        streams: Mutex::new(HashMap::new()),
        ledger: cfg.ledger.clone(),
    });
    Ok(scim::routes()
        .route(
            "/.well-known/ssf-configuration",
            get(ssf::ssf_configuration),
        )
        .route(
            "/ssf/stream",
            get(ssf::stream_get)
                .post(ssf::stream_create)
                .delete(ssf::stream_delete),
        )
        .route("/ssf/poll/{id}", axum::routing::post(ssf::poll))
        .route(
            "/v1/offboarding/requests",
            axum::routing::post(offboarding_request),
        )
        .route(
            "/v1/offboarding/approvals",
            axum::routing::post(offboarding_approval),
        )
        .route("/v1/issued", axum::routing::post(ledger::issued))
        .route("/v1/token-check/stats", get(ledger::stats))
        .route("/v1/revocations", axum::routing::post(ledger::revocations))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(st.clone(), received))
        // Token checks, added after the journaling layer: a gateway sends thousands a second
        // (their refusals are findings and stats, see `ledger`).
        .route("/v1/token-check", axum::routing::post(ledger::token_check))
        .route(
            "/v1/token-check/http",
            axum::routing::any(ledger::token_check_http),
        )
        .route(
            "/v1/token-check/http/{*rest}",
            axum::routing::any(ledger::token_check_http),
        )
        .with_state(st))
}

/// Listen until the process ends.
pub fn serve(cfg: ServerConfig, on_deactivate: OnDeactivate) -> std::io::Result<()> {
    // Every core: a gateway's token checks arrive on many connections at once.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Certificate problems show before anything listens.
    let acceptor = cfg.tls.as_ref().map(tls::acceptor).transpose()?;
    rt.block_on(async move {
        let app = router(&cfg, on_deactivate)?;
        if let Some(l) = cfg.ledger.clone() {
            // Expired tokens leave the ledger.
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    let l = l.clone();
                    let _ = tokio::task::spawn_blocking(move || l.sweep()).await;
                }
            });
        }
        let listener = listen::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        match &acceptor {
            Some(_) => tracing::info!("listening on https://{addr}"),
            None if !addr.ip().is_loopback() => tracing::warn!(
                "listening on http://{addr}: bearer tokens cross the network in clear unless a TLS terminator is in front (or use --tls-cert / --tls-key)"
            ),
            None => tracing::info!("listening on http://{addr}"),
        }
        listen::serve(listener, acceptor, app).await
    })
}
