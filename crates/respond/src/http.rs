//! The one mapping of HTTP failures to [`RespondError`] shared by the connectors that speak HTTP
//! (scim, oauth, webhook, ssf, jwks, the Secrets Manager probe): no answer at all (connection
//! refused, DNS, TLS, timeout), a server error (5xx) or rate limiting (429) is
//! [`RespondError::Unavailable`] — waiting may fix it, so the playbook retries and the item stays
//! open; any other status a connector gives no special meaning is [`RespondError::Refused`]
//! (permissions, bad input: waiting will not fix it).
//!
//! Only the fall-through is here. Statuses a connector reads itself stay in the connector: a SCIM
//! DELETE answered 404 is "already gone", a global token revocation answered 404 is unavailable on
//! purpose (a wrong URL or a proxy as likely as an unknown subject), and the verify paths classify
//! answers into proofs. URLs that may carry a secret (webhooks, push endpoints) are shown as their
//! host: see [`transport_hiding`].

use crate::RespondError;
use std::fmt::Display;
use std::time::Duration;

/// An agent that hands every status back (the connectors classify them) and gives up after
/// `timeout`.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// The host of `url` (`https://hooks.example/T0/secret` → `hooks.example`): what errors and names
/// show of a URL that may carry a token.
pub(crate) fn host(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// Would waiting fix an answer with this status? Server errors and rate limiting.
pub(crate) fn retryable(status: u16) -> bool {
    status >= 500 || status == 429
}

/// A request that got no answer: unavailable (retried). `e` is shown as it is: pass it through
/// [`transport_hiding`] when the URL may carry a secret.
pub(crate) fn transport(connector: String, e: impl Display) -> RespondError {
    RespondError::Unavailable {
        connector,
        reason: e.to_string(),
    }
}

/// As [`transport`], with `url` replaced by its host in the error's text (ureq errors may name the
/// URL; they never name headers or bodies).
pub(crate) fn transport_hiding(connector: String, e: impl Display, url: &str) -> RespondError {
    transport(connector, e.to_string().replace(url, &host(url)))
}

/// An answer the connector gives no special meaning: unavailable for 5xx and 429, refused
/// otherwise. `what` names the request (`"revocation"` → "revocation: HTTP 400"; empty: "HTTP 400").
pub(crate) fn status(connector: String, what: &str, status: u16) -> RespondError {
    classify(connector, what, status, None)
}

/// As [`status`], followed by the server's own words about it (a SCIM error's `detail`, an OAuth
/// error code), which may be empty.
pub(crate) fn status_with(
    connector: String,
    what: &str,
    status: u16,
    detail: &str,
) -> RespondError {
    classify(connector, what, status, Some(detail))
}

fn classify(connector: String, what: &str, status: u16, detail: Option<&str>) -> RespondError {
    let mut reason = if what.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("{what}: HTTP {status}")
    };
    if let Some(d) = detail {
        reason.push(' ');
        reason.push_str(d);
    }
    if retryable(status) {
        RespondError::Unavailable { connector, reason }
    } else {
        RespondError::Refused { connector, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(e: &RespondError) -> &'static str {
        match e {
            RespondError::Unavailable { .. } => "unavailable",
            RespondError::Refused { .. } => "refused",
            RespondError::Local(_) => "local",
        }
    }

    #[test]
    fn server_errors_and_rate_limits_are_retried_the_rest_refused() {
        for (s, k) in [
            (500, "unavailable"),
            (503, "unavailable"),
            (429, "unavailable"),
            (400, "refused"),
            (401, "refused"),
            (403, "refused"),
            (404, "refused"),
        ] {
            assert_eq!(kind(&status("x".into(), "", s)), k, "{s}");
        }
        assert_eq!(
            status("scim".into(), "", 503).to_string(),
            "scim: unreachable or failing: HTTP 503"
        );
        assert_eq!(
            status_with("scim".into(), "listing users", 403, "no").to_string(),
            "scim: refused: listing users: HTTP 403 no"
        );
    }

    #[test]
    fn a_secret_in_a_url_never_reaches_the_error() {
        let url = "https://hooks.example/services/T0/s3cret";
        assert_eq!(host(url), "hooks.example");
        let e = transport_hiding(
            "webhook:hooks.example".into(),
            format!("io: {url}: connection refused"),
            url,
        );
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert_eq!(kind(&e), "unavailable");
    }
}
