//! The issuance ledger's endpoints: the login service reports what it issued, a gateway asks
//! before it forwards a request whether the token was issued, and responders revoke.
//!
//! - `POST /v1/issued`: one issued token (`{"jti","sub","kid","iat","exp","client_id"}`), a JSON
//!   array of them, or JSON lines; acknowledged (`200 {"recorded": N}`) once flushed to disk.
//! - `POST /v1/token-check`: JSON claims `{"jti","kid","sub","iat"}`, `{"token": JWT}`, the JWT as
//!   the body, or an RFC 7662 introspection form (`token=…`). Answers `200 {"decision":"allow"}`
//!   or `403 {"decision":"deny","reason":…,"code":…}`; the introspection form is answered in its own
//!   shape (`200 {"active":…}`).
//! - `/v1/token-check/http/…` (any method): the shape of Envoy's HTTP `ext_authz` and NGINX's
//!   `auth_request`: the client's token is the request's `Authorization` header, our bearer token
//!   comes in `X-Credwarden-Authorization`; `200` allows, `403` refuses.
//! - `POST /v1/revocations`: `{"kid": …}` (the key was rolled out of the JWKS), `{"sub": …}` (every
//!   session of a member) or `{"jti": …}` (one token), effective at once.
//! - `GET /v1/token-check/stats`: decisions so far and forged-token campaigns.
//!
//! A token not in the ledger whose `iat` is within the grace (`--issuance-grace`) is held until its
//! issuance arrives or the grace ends (the login service may lag): the decision says how long it
//! waited. A forged token is counted per campaign; each campaign raises a CW-D007 finding at its
//! first refusal and again at 100, 10,000 and 1,000,000 ([`OnForged`]). Checks are not written to
//! the request journal one by one (a gateway sends thousands a second): refusals go to the findings
//! and the stats; every other ledger endpoint is journaled like the rest.

use crate::{json_answer, AppState, Authed};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use credwarden_ledger::campaign::{Campaigns, Milestone};
use credwarden_ledger::claims::Form;
use credwarden_ledger::wal::Durable;
use credwarden_ledger::{Change, Claims, Issued, LedgerError, Reason, Verdict};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Called when a forged-token campaign reaches a milestone (to raise a CW-D007 finding).
pub type OnForged = Arc<dyn Fn(Milestone) + Send + Sync>;

/// Most lines in the change log before it is folded into a snapshot.
pub const COMPACT_EVERY: u64 = 1_000_000;

/// The ledger as the server holds it: shared by the endpoints, the issuance-log follower and
/// the sweeper.
pub struct LedgerHandle {
    durable: RwLock<Durable>,
    arrived: tokio::sync::Notify,
    campaigns: Mutex<Campaigns>,
    grace: Duration,
    on_forged: Option<OnForged>,
    allowed: AtomicU64,
    denied: AtomicU64,
    waited: AtomicU64,
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl LedgerHandle {
    /// Serve `durable` with a lag `grace`, calling `on_forged` at campaign milestones.
    pub fn new(durable: Durable, grace: Duration, on_forged: Option<OnForged>) -> LedgerHandle {
        LedgerHandle {
            durable: RwLock::new(durable),
            arrived: tokio::sync::Notify::new(),
            campaigns: Mutex::new(Campaigns::default()),
            grace,
            on_forged,
            allowed: AtomicU64::new(0),
            denied: AtomicU64::new(0),
            waited: AtomicU64::new(0),
        }
    }

    /// Record changes (flushed to disk first), wake checks waiting for an issuance, and fold the
    /// log into a snapshot when it has grown; returns what [`credwarden_ledger::Ledger::apply`]
    /// counted.
    pub fn record(&self, changes: &[Change]) -> Result<u64, LedgerError> {
        let n = {
            let mut d = self.durable.write().unwrap_or_else(|p| p.into_inner());
            let n = d.record(changes, now())?;
            if d.logged >= COMPACT_EVERY {
                d.compact(now())?;
            }
            n
        };
        self.arrived.notify_waiters();
        Ok(n)
    }

    /// Forget expired tokens.
    pub fn sweep(&self) -> u64 {
        let mut d = self.durable.write().unwrap_or_else(|p| p.into_inner());
        d.ledger.sweep(now())
    }

    fn verdict(&self, c: &Claims) -> Verdict {
        let d = self.durable.read().unwrap_or_else(|p| p.into_inner());
        d.ledger.check(c, now(), self.grace.as_secs() as i64)
    }

    /// The decision for `c`, waiting within the grace for an issuance that may be late; returns
    /// the verdict (never [`Verdict::Wait`]) and how long it waited.
    pub async fn decide(&self, c: &Claims, ip: Option<&str>) -> (Verdict, Duration) {
        let started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + self.grace;
        let v = loop {
            match self.verdict(c) {
                Verdict::Wait if tokio::time::Instant::now() < deadline => {
                    // Registered before looking again, so an issuance arriving in between is not
                    // missed (only waiting checks touch the Notify's lock).
                    let arrived = self.arrived.notified();
                    tokio::pin!(arrived);
                    arrived.as_mut().enable();
                    if self.verdict(c) == Verdict::Wait {
                        let _ = tokio::time::timeout_at(deadline, arrived).await;
                    }
                }
                Verdict::Wait => break Verdict::Deny(Reason::NeverIssued),
                v => break v,
            }
        };
        let waited = started.elapsed();
        if waited >= Duration::from_millis(1) {
            self.waited.fetch_add(1, Relaxed);
        }
        match v {
            Verdict::Allow => {
                self.allowed.fetch_add(1, Relaxed);
            }
            Verdict::Deny(r) => {
                self.denied.fetch_add(1, Relaxed);
                if r.forged() {
                    let m = self
                        .campaigns
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(c, &r, ip, now());
                    if let (Some(m), Some(f)) = (m, &self.on_forged) {
                        f(m);
                    }
                }
            }
            Verdict::Wait => unreachable!("waiting ends in a decision"),
        }
        (v, waited)
    }

    fn stats(&self) -> Value {
        let counts = {
            let d = self.durable.read().unwrap_or_else(|p| p.into_inner());
            d.ledger.counts()
        };
        let campaigns = self
            .campaigns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .all();
        json!({
            "ledger": counts,
            "allowed": self.allowed.load(Relaxed),
            "denied": self.denied.load(Relaxed),
            "waited_for_issuance": self.waited.load(Relaxed),
            "grace_ms": self.grace.as_millis() as u64,
            "campaigns": campaigns,
        })
    }
}

fn ledger_of(st: &AppState) -> Option<&Arc<LedgerHandle>> {
    st.ledger.as_ref()
}

/// The answer when the ledger is off (journaled as the request's outcome).
fn not_offered(st: &AppState, principal: Option<&str>, method: &Method, uri: &Uri) -> Response {
    st.journal_as(
        principal,
        method,
        uri,
        StatusCode::NOT_FOUND,
        "the issuance ledger is not enabled",
    );
    json_answer(
        StatusCode::NOT_FOUND,
        json!({"error": "the issuance ledger is not enabled on this server (serve --ledger DIR)"}),
    )
}

/// Record `changes` off the async threads (the change log is flushed to disk), journal the outcome
/// (`done` gives the journal line and the answer from what [`LedgerHandle::record`] counted).
async fn record_and_answer(
    a: &Authed,
    l: Arc<LedgerHandle>,
    changes: Vec<Change>,
    done: impl FnOnce(u64) -> (String, Value),
) -> Response {
    match tokio::task::spawn_blocking(move || l.record(&changes)).await {
        Ok(Ok(n)) => {
            let (why, body) = done(n);
            a.journal(StatusCode::OK, &why);
            json_answer(StatusCode::OK, body)
        }
        Ok(Err(e)) => {
            a.journal(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
            json_answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": e.to_string()}),
            )
        }
        Err(_) => json_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "failed"}),
        ),
    }
}

/// The answer to a check, in the shape of the question.
fn answer(form: Form, v: Verdict, waited: Duration, c: &Claims) -> Response {
    let waited_ms = waited.as_secs_f64() * 1e3;
    match (form, v) {
        (Form::Introspection, Verdict::Allow) => {
            let mut body = json!({"active": true, "token_type": "access_token"});
            for (k, val) in [
                ("jti", c.jti.clone().map(Value::from)),
                ("sub", c.sub.clone().map(Value::from)),
                ("client_id", c.client.clone().map(Value::from)),
                ("iat", c.iat.map(Value::from)),
                ("exp", c.exp.map(Value::from)),
            ] {
                if let Some(val) = val {
                    body[k] = val;
                }
            }
            json_answer(StatusCode::OK, body)
        }
        // RFC 7662 says no more than `active: false` about a refused token.
        (Form::Introspection, _) => json_answer(StatusCode::OK, json!({"active": false})),
        (Form::Claims, Verdict::Allow) if waited_ms < 1.0 => (
            StatusCode::OK,
            [("content-type", "application/json")],
            r#"{"decision":"allow"}"#,
        )
            .into_response(),
        (Form::Claims, Verdict::Allow) => json_answer(
            StatusCode::OK,
            json!({"decision": "allow", "waited_ms": waited_ms.round()}),
        ),
        (Form::Claims, Verdict::Deny(r)) => {
            let mut body = json!({"decision": "deny", "reason": r.as_str(), "code": r.code()});
            if waited_ms >= 1.0 {
                body["waited_ms"] = json!(waited_ms.round());
            }
            json_answer(StatusCode::FORBIDDEN, body)
        }
        (_, Verdict::Wait) => unreachable!("waiting ends in a decision"),
    }
}

fn client_ip(h: &HeaderMap) -> Option<String> {
    h.get("x-forwarded-for")
        .or_else(|| h.get("x-real-ip"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Most bytes of a token-check body.
const MAX_CHECK_BODY: usize = 64 * 1024;

/// `POST /v1/token-check` (authenticated like every endpoint, without copying the request's
/// headers: this is the hot path).
pub(crate) async fn token_check(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(why) = st.authorized(&parts.headers) {
        st.journal(&parts.method, &parts.uri, StatusCode::UNAUTHORIZED, why);
        return crate::scim_error(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is required",
            None,
        );
    }
    let Some(l) = ledger_of(&st).cloned() else {
        return not_offered(&st, None, &parts.method, &parts.uri);
    };
    let body = match axum::body::to_bytes(body, MAX_CHECK_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return json_answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": format!("a token-check body is at most {MAX_CHECK_BODY} bytes"), "decision": "deny"}),
            )
        }
    };
    let ct = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (claims, form) = match Claims::from_body(ct, &body) {
        Ok(x) => x,
        Err(e) => {
            st.journal(&parts.method, &parts.uri, StatusCode::BAD_REQUEST, &e.0);
            return json_answer(
                StatusCode::BAD_REQUEST,
                json!({"error": e.0, "decision": "deny"}),
            );
        }
    };
    let ip = client_ip(&parts.headers);
    let (v, waited) = l.decide(&claims, ip.as_deref()).await;
    answer(form, v, waited, &claims)
}

/// `/v1/token-check/http/…`: Envoy `ext_authz` (HTTP) and NGINX `auth_request`.
pub(crate) async fn token_check_http(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    // Our bearer token comes in its own header: `Authorization` is the client's token.
    let mut ours = HeaderMap::new();
    if let Some(v) = headers.get("x-credwarden-authorization") {
        ours.insert("authorization", v.clone());
    }
    if let Err(why) = st.authorized(&ours) {
        st.journal(
            &method,
            &uri,
            StatusCode::UNAUTHORIZED,
            &format!("{why} in X-Credwarden-Authorization"),
        );
        return json_answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "a valid bearer token is required in X-Credwarden-Authorization"}),
        );
    }
    let Some(l) = ledger_of(&st).cloned() else {
        return not_offered(&st, None, &method, &uri);
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let claims = match Claims::from_jwt(token) {
        Ok(c) => c,
        Err(e) => {
            // No readable token: refused (the gateway forwards our 403 to its client).
            return json_answer(
                StatusCode::FORBIDDEN,
                json!({"decision": "deny", "reason": e.0, "code": "no_token"}),
            );
        }
    };
    let ip = client_ip(&headers);
    let (v, waited) = l.decide(&claims, ip.as_deref()).await;
    answer(Form::Claims, v, waited, &claims)
}

/// Issued tokens from a body: one object, an array, or JSON lines.
fn issued_from(body: &[u8]) -> Result<Vec<Issued>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed)
            .map_err(|e| format!("not an array of issued tokens: {e}"));
    }
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
    while let Some(v) = stream.next() {
        let v = v.map_err(|e| format!("at byte {}: not JSON: {e}", stream.byte_offset()))?;
        let c = Claims::from_object(&v, None).map_err(|e| e.0)?;
        let Some(jti) = c.jti else {
            return Err(format!("token {}: `jti` is required", out.len() + 1));
        };
        let Some(exp) = c.exp else {
            return Err(format!(
                "token {jti}: `exp` is required (the ledger forgets a token when it expires)"
            ));
        };
        out.push(Issued {
            jti,
            sub: c.sub,
            kid: c.kid,
            iat: c.iat,
            exp,
            client_id: c.client,
        });
    }
    if out.is_empty() {
        return Err("no issued tokens in the body".into());
    }
    Ok(out)
}

/// `POST /v1/issued`.
pub(crate) async fn issued(a: Authed, body: axum::body::Bytes) -> Response {
    let Some(l) = ledger_of(&a.st).cloned() else {
        return not_offered(&a.st, Some(&a.principal), &a.method, &a.uri);
    };
    let tokens = match issued_from(&body) {
        Ok(t) => t,
        Err(e) => {
            a.journal(StatusCode::BAD_REQUEST, &e);
            return json_answer(StatusCode::BAD_REQUEST, json!({"error": e}));
        }
    };
    let changes: Vec<Change> = tokens.into_iter().map(Change::Issued).collect();
    let n = changes.len();
    record_and_answer(&a, l, changes, |kept| {
        (
            format!("{n} issued token(s) recorded"),
            json!({"recorded": n, "live": kept, "expired_on_arrival": n as u64 - kept}),
        )
    })
    .await
}

/// `POST /v1/revocations`.
pub(crate) async fn revocations(a: Authed, body: axum::body::Bytes) -> Response {
    let Some(l) = ledger_of(&a.st).cloned() else {
        return not_offered(&a.st, Some(&a.principal), &a.method, &a.uri);
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    let at = now();
    let change = match (s("kid"), s("sub"), s("jti")) {
        (Some(kid), None, None) => Change::RetireKey { kid, at },
        (None, Some(sub), None) => Change::RevokeSubject { sub, at },
        (None, None, Some(jti)) => Change::RevokeToken { jti },
        _ => {
            a.journal(StatusCode::BAD_REQUEST, "one of kid, sub, jti is required");
            return json_answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "a JSON body with exactly one of `kid` (retire a signing key), `sub` (revoke a member's sessions) or `jti` (revoke one token)"}),
            );
        }
    };
    let what = serde_json::to_string(&change).unwrap_or_default();
    record_and_answer(&a, l, vec![change], |n| {
        (
            format!("revocation {what}: {n} live token(s)"),
            json!({"revoked_live_tokens": n}),
        )
    })
    .await
}

/// `GET /v1/token-check/stats`.
pub(crate) async fn stats(a: Authed) -> Response {
    let Some(l) = ledger_of(&a.st).cloned() else {
        return not_offered(&a.st, Some(&a.principal), &a.method, &a.uri);
    };
    a.journal(StatusCode::OK, "ledger stats");
    json_answer(StatusCode::OK, l.stats())
}
