//! Sample events for detector tests.

use credwarden_model::{Event, EventOutcome, Finding, Network, ResourceRef, SourceRef, Volume};
use serde_json::{json, Value};

/// A CloudTrail event by IAM user `bob` with `params`.
pub fn ct(name: &str, source: &str, params: Value) -> Event {
    Event {
        time: "2025-04-01T03:00:00Z".parse().unwrap(),
        credential_id: Some("AKIAEXAMPLE".into()),
        principal: Some("arn:aws:iam::111122223333:user/bob".into()),
        token: None,
        action: name.into(),
        resource: ResourceRef {
            kind: Some(source.into()),
            id: None,
            sensitivity: None,
        },
        src: Network {
            ip: Some("198.51.100.7".into()),
            asn: None,
            country: None,
        },
        user_agent: Some("aws-cli/2".into()),
        outcome: EventOutcome::Success,
        volume: Volume::default(),
        event_id: Some("ev-1".into()),
        detail: json!({"eventSource": source, "userIdentityType": "IAMUser", "recipientAccountId": "111122223333", "requestParameters": params}),
        raw: SourceRef::new("ct.json", 1),
    }
}

/// Run one detector over events.
pub fn run(d: &mut dyn crate::Detector, events: &[Event]) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in events {
        d.on_event(e, &mut out);
    }
    out
}

/// A gateway request with member `member`'s token (kid `login-rs256-2019`) for their address book,
/// `day` days and `secs` seconds after 2025-04-01T00:00:00Z.
pub fn gateway(day: i64, secs: i64, member: u64) -> Event {
    Event {
        time: jiff::Timestamp::from_second(1_743_465_600 + day * 86_400 + secs).unwrap(),
        credential_id: Some("login-rs256-2019".into()),
        principal: Some(member.to_string()),
        token: Some(credwarden_model::TokenClaims {
            sub: Some(member.to_string()),
            kid: Some("login-rs256-2019".into()),
            ..Default::default()
        }),
        action: format!("/api/v1/members/{member}/address-book"),
        resource: ResourceRef {
            kind: Some("gateway".into()),
            id: None,
            sensitivity: None,
        },
        src: Network {
            ip: Some("203.0.113.5".into()),
            asn: None,
            country: None,
        },
        user_agent: None,
        outcome: EventOutcome::Success,
        volume: Volume::default(),
        event_id: None,
        detail: Value::Null,
        raw: SourceRef::new("gw.jsonl", 1),
    }
}
