//! Shared Signals transmitter with poll delivery (RFC 8936): receivers create a stream
//! (`/ssf/stream`), every departure queues signed CAEP/RISC events for them to poll and
//! acknowledge (`/ssf/poll/{id}`), and `/.well-known/ssf-configuration` describes it (OpenID
//! Shared Signals Framework 1.0). The signing itself lives in `credwarden-respond`; this module
//! only queues and serves what it is given.

use crate::{hash_token, hex, scim_error, AppState, Authed};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use credwarden_model::Identity;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

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
pub(crate) const POLL: &str = "urn:ietf:rfc:8936";

pub(crate) struct Stream {
    aud: String,
    events: Vec<String>,
    queue: std::collections::VecDeque<(String, String)>,
}

/// Queue the SETs about `who` on every stream.
pub(crate) fn enqueue(st: &AppState, who: &Identity) {
    let Some(ssf) = &st.ssf else { return };
    let Ok(mut streams) = st.streams.lock() else {
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

pub(crate) async fn ssf_configuration(a: Authed) -> Response {
    let Some(ssf) = &a.st.ssf else {
        a.journal(StatusCode::NOT_FOUND, "no transmitter configured");
        return scim_error(
            StatusCode::NOT_FOUND,
            "no Shared Signals transmitter configured",
            None,
        );
    };
    a.journal(StatusCode::OK, "");
    (StatusCode::OK, axum::Json(json!({"spec_version": "1_0", "issuer": ssf.issuer, "delivery_methods_supported": [POLL], "configuration_endpoint": "/ssf/stream"}))).into_response()
}

fn json_error(status: StatusCode, why: &str) -> Response {
    (status, axum::Json(json!({"err": why}))).into_response()
}

fn stream_json(id: &str, s: &Stream, issuer: &str) -> Value {
    json!({"stream_id": id, "iss": issuer, "aud": s.aud, "delivery": {"method": POLL, "endpoint_url": format!("/ssf/poll/{id}")}, "events_supported": EVENTS_SUPPORTED, "events_requested": s.events, "events_delivered": s.events})
}

pub(crate) async fn stream_create(a: Authed, body: String) -> Response {
    let Some(ssf) = &a.st.ssf else {
        return json_error(StatusCode::NOT_FOUND, "no transmitter");
    };
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        a.journal(StatusCode::BAD_REQUEST, "not JSON");
        return json_error(StatusCode::BAD_REQUEST, "not JSON");
    };
    if v.pointer("/delivery/method")
        .and_then(Value::as_str)
        .is_some_and(|m| m != POLL)
    {
        a.journal(StatusCode::BAD_REQUEST, "unsupported delivery");
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
    if let Ok(mut m) = a.st.streams.lock() {
        m.insert(id, s);
    }
    a.journal(StatusCode::CREATED, "stream created");
    (StatusCode::CREATED, axum::Json(out)).into_response()
}

pub(crate) async fn stream_get(a: Authed, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(ssf) = &a.st.ssf else {
        return json_error(StatusCode::NOT_FOUND, "no transmitter");
    };
    let m = a.st.streams.lock().expect("not poisoned");
    let found = q
        .get("stream_id")
        .and_then(|id| m.get(id).map(|s| stream_json(id, s, &ssf.issuer)));
    match found {
        Some(v) => {
            a.journal(StatusCode::OK, "");
            (StatusCode::OK, axum::Json(v)).into_response()
        }
        None => {
            a.journal(StatusCode::NOT_FOUND, "unknown stream");
            json_error(StatusCode::NOT_FOUND, "unknown stream")
        }
    }
}

pub(crate) async fn stream_delete(a: Authed, Query(q): Query<HashMap<String, String>>) -> Response {
    let gone = q.get("stream_id").is_some_and(|id| {
        a.st.streams
            .lock()
            .map(|mut m| m.remove(id).is_some())
            .unwrap_or(false)
    });
    let status = if gone {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    };
    a.journal(
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
pub(crate) async fn poll(a: Authed, Path(id): Path<String>, body: String) -> Response {
    let v: Value = if body.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(_) => {
                a.journal(StatusCode::BAD_REQUEST, "not JSON");
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
    let mut m = a.st.streams.lock().expect("not poisoned");
    let Some(s) = m.get_mut(&id) else {
        drop(m);
        a.journal(StatusCode::NOT_FOUND, "unknown stream");
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
    a.journal(
        StatusCode::OK,
        &format!("{} acknowledged, {} returned", acks.len(), sets.len()),
    );
    (
        StatusCode::OK,
        axum::Json(json!({"sets": sets, "moreAvailable": more})),
    )
        .into_response()
}
