//! Event: one normalized activity record (API call, authentication, data access, network flow).
//!
//! Aligned with OCSF API Activity (6003), Authentication (3002), Account Change (3001) and Network
//! Activity (4001). Log-driven detectors consume these; the `audit` command does not need them.

use crate::SourceRef;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Outcome of the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// Succeeded.
    Success,
    /// Refused (AccessDenied, 401/403).
    Denied,
    /// Failed for another reason.
    Failure,
    /// Not stated by the source.
    Unknown,
}

/// Claims of a bearer token the relying service saw (gateway logs). No signature, no token text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Subject (member / user id).
    pub sub: Option<String>,
    /// Token id (`jti`) or session id.
    pub jti: Option<String>,
    /// Signing key id (`kid`).
    pub kid: Option<String>,
    /// Issued-at.
    pub iat: Option<Timestamp>,
    /// Client / application id.
    pub client: Option<String>,
    /// Expiry (`exp`), when logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<Timestamp>,
}

/// What was acted upon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    /// Type (`s3_object`, `endpoint`, `table`, `iam_user`...).
    pub kind: Option<String>,
    /// Identifier (ARN, path, table name).
    pub id: Option<String>,
    /// Sensitivity class (`pii`, `secret`...), when known.
    pub sensitivity: Option<String>,
}

/// Where the request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Source address as logged (may be a hostname or an invalid string in anonymized logs).
    pub ip: Option<String>,
    /// Autonomous system number, if enriched.
    pub asn: Option<u32>,
    /// ISO 3166 country code, if enriched.
    pub country: Option<String>,
}

/// Amount of data moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Bytes out.
    pub bytes: Option<u64>,
    /// Records / rows returned.
    pub records: Option<u64>,
}

/// One normalized activity record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event time.
    pub time: Timestamp,
    /// Credential used (access key id, API key id), if the source names one.
    pub credential_id: Option<String>,
    /// Principal (IAM ARN, username, service account) that acted.
    pub principal: Option<String>,
    /// Token claims for bearer-token requests.
    pub token: Option<TokenClaims>,
    /// Action (API name, HTTP method + route, SQL verb).
    pub action: String,
    /// What was acted upon.
    pub resource: ResourceRef,
    /// Source network.
    pub src: Network,
    /// User agent, if logged.
    pub user_agent: Option<String>,
    /// Outcome.
    pub outcome: EventOutcome,
    /// Data volume.
    pub volume: Volume,
    /// Source event id, when the log has one (CloudTrail `eventID`).
    pub event_id: Option<String>,
    /// Source-specific details detectors may need (CloudTrail: `eventSource`, `requestParameters`,
    /// `responseElements`, `userIdentity.type`, region, account). `Null` when there are none.
    pub detail: serde_json::Value,
    /// Pointer back to the raw record.
    pub raw: SourceRef,
}
