//! AWS IAM through the official SDK (endpoint configurable, so it also talks to test servers): for each
//! IAM user of the leaver, deactivate then delete every access key, delete the console password, and
//! put an explicit deny on sessions issued before now (`aws:TokenIssueTime`), so temporary credentials
//! already handed out die too.
//!
//! Proof: when the old key's secret is supplied for verification (a file, never the command line),
//! the key must be refused by STS (`GetCallerIdentity` → InvalidClientTokenId); otherwise IAM itself
//! must no longer know the key. A console password must be gone; the deny policy must be in place.
//!
//! Here: `AwsIam` (the connector), `AwsConfig` (its settings), `[respond.aws]` as `AwsSection`
//! (config.rs), and the SDK plumbing the AWS connectors share (`sdk`, `sdk_err`).

mod config;
pub use config::AwsSection;

use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError};
use aws_sdk_iam::error::ProvideErrorMetadata;
use std::collections::HashMap;

/// The name of the policy that denies older sessions.
pub const DENY_POLICY: &str = "credwarden-deny-sessions-before";

/// Settings.
#[derive(Clone, Default)]
pub struct AwsConfig {
    /// Endpoint URL (`None`: AWS itself).
    pub endpoint: Option<String>,
    /// Region (default `us-east-1`; IAM is global).
    pub region: Option<String>,
    /// Secrets of keys to prove dead by trying them (key id → secret). Never printed.
    pub verify_secrets: HashMap<String, String>,
    /// The connector's own credentials (key id, secret); `None`: the environment's default chain.
    pub credentials: Option<(String, String)>,
    /// The AWS account this connector acts in. Checked against its own credentials' account (STS
    /// `GetCallerIdentity`) before anything is done; credentials whose ARN or system names another
    /// account are never touched (they stay open items). `None`: the credentials' account.
    pub account_id: Option<String>,
}

impl std::fmt::Debug for AwsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of debug output.
        f.debug_struct("AwsConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "verify_secrets",
                &self.verify_secrets.keys().collect::<Vec<_>>(),
            )
            .field("credentials", &self.credentials.as_ref().map(|c| &c.0))
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// The connector.
pub struct AwsIam {
    rt: tokio::runtime::Runtime,
    iam: aws_sdk_iam::Client,
    base: aws_config::SdkConfig,
    cfg: AwsConfig,
    /// The account our own credentials belong to (learnt from STS before the first change).
    account: Option<String>,
    /// The departure, before which a deny-older-sessions policy's cutoff is stale.
    departed: Option<jiff::Timestamp>,
    /// Cutoffs this run put in place, per IAM user.
    cutoffs: HashMap<String, jiff::Timestamp>,
}

/// The 12-digit AWS account id a credential names (an ARN in its principal or id, or its system,
/// e.g. `aws:210987654321`), if any.
pub fn account_of(c: &credwarden_model::Credential) -> Option<String> {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    for s in c.principal.iter().chain(std::iter::once(&c.id)) {
        if let Some(rest) = s.strip_prefix("arn:") {
            if let Some(a) = rest.split(':').nth(3).filter(|a| is_account(a)) {
                return Some(a.to_string());
            }
        }
    }
    c.system
        .split([':', '/', '-'])
        .find(|p| is_account(p))
        .map(str::to_string)
}

/// The error code of an AWS query-protocol error document (`<ErrorResponse>…<Code>X</Code>`), if
/// the body is one.
pub fn error_code(body: &str) -> Option<String> {
    if !body.contains("<ErrorResponse") {
        return None;
    }
    let start = body.find("<Code>")? + "<Code>".len();
    let len = body[start..].find("</Code>")?;
    let code = body[start..start + len].trim();
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'))
        .then(|| code.to_string())
}

/// The `aws:TokenIssueTime` cutoff of a deny-older-sessions policy document we wrote (a single
/// Deny of every action on every resource), or `None` when the document is anything else.
pub fn deny_cutoff(doc: &str) -> Option<jiff::Timestamp> {
    // IAM returns policy documents URL-encoded (RFC 3986); some servers return them as they are.
    let v: serde_json::Value = serde_json::from_str(doc)
        .or_else(|_| serde_json::from_str(&crate::codec::percent_decode(doc)))
        .ok()?;
    let st = v.get("Statement")?;
    let st = match st {
        serde_json::Value::Array(a) if a.len() == 1 => &a[0],
        serde_json::Value::Object(_) => st,
        _ => return None,
    };
    let all = |k: &str| {
        st.get(k)
            .is_some_and(|x| x == "*" || x.as_array().is_some_and(|a| a.len() == 1 && a[0] == "*"))
    };
    if st.get("Effect")? != "Deny" || !all("Action") || !all("Resource") {
        return None;
    }
    st.get("Condition")?
        .get("DateLessThan")?
        .get("aws:TokenIssueTime")?
        .as_str()?
        .parse()
        .ok()
}

fn is_not_found<E: ProvideErrorMetadata>(e: &aws_sdk_iam::error::SdkError<E>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "NoSuchEntity")
}

/// A runtime and an SDK configuration for `endpoint` (`None`: AWS itself), `region` (default
/// us-east-1) and `credentials` (`None`: the environment's default chain); shared by the AWS
/// connectors. `who` names the connector in errors.
pub(crate) fn sdk(
    who: &str,
    endpoint: Option<&str>,
    region: Option<&str>,
    credentials: Option<&(String, String)>,
) -> Result<(tokio::runtime::Runtime, aws_config::SdkConfig), RespondError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RespondError::Local(format!("{who}: {e}")))?;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .region(aws_config::Region::new(
            region.unwrap_or("us-east-1").to_string(),
        ));
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    if let Some((id, secret)) = credentials {
        loader = loader.credentials_provider(aws_sdk_iam::config::Credentials::new(
            id,
            secret,
            None,
            None,
            "credwarden",
        ));
    }
    let base = rt.block_on(loader.load());
    Ok((rt, base))
}

/// An SDK error as ours: the service answered (refused: its code and message), or it could not be
/// reached (unavailable: retried, the item stays open).
pub(crate) fn sdk_err<E: ProvideErrorMetadata + std::fmt::Debug>(
    connector: String,
    what: &str,
    e: aws_sdk_iam::error::SdkError<E>,
) -> RespondError {
    match e.as_service_error() {
        Some(s) => RespondError::Refused {
            connector,
            reason: format!(
                "{what}: {} {}",
                s.code().unwrap_or("error"),
                s.message().unwrap_or("")
            ),
        },
        None => RespondError::Unavailable {
            connector,
            reason: format!("{what}: {e}"),
        },
    }
}

impl AwsIam {
    /// A client (credentials from the environment's default chain).
    pub fn new(cfg: AwsConfig) -> Result<AwsIam, RespondError> {
        let (rt, base) = sdk(
            "aws-iam",
            cfg.endpoint.as_deref(),
            cfg.region.as_deref(),
            cfg.credentials.as_ref(),
        )?;
        let iam = aws_sdk_iam::Client::new(&base);
        Ok(AwsIam {
            rt,
            iam,
            base,
            cfg,
            account: None,
            departed: None,
            cutoffs: HashMap::new(),
        })
    }

    /// The account our own credentials belong to, checked against the configured one: a
    /// connector never acts in an account it is not configured for.
    fn ensure_account(&mut self) -> Result<String, RespondError> {
        if let Some(a) = &self.account {
            return Ok(a.clone());
        }
        let sts = aws_sdk_sts::Client::new(&self.base);
        let who = self
            .rt
            .block_on(sts.get_caller_identity().send())
            .map_err(|e| sdk_err(self.name(), "GetCallerIdentity (our own credentials)", e))?;
        let actual = who.account().unwrap_or_default().to_string();
        if let Some(want) = &self.cfg.account_id {
            if *want != actual {
                return Err(RespondError::Refused {
                    connector: self.name(),
                    reason: format!("configured for account {want}, but its credentials are of account {actual}: not acting"),
                });
            }
        }
        self.account = Some(actual.clone());
        Ok(actual)
    }

    /// The account this connector acts in, as far as known without asking.
    fn account(&self) -> Option<&str> {
        self.account.as_deref().or(self.cfg.account_id.as_deref())
    }

    /// Ask STS with our own credentials: does the endpoint answer as STS for our account? The
    /// control that makes a refusal of the old key mean something.
    fn control_ok(&self) -> bool {
        let sts = aws_sdk_sts::Client::new(&self.base);
        match self.rt.block_on(sts.get_caller_identity().send()) {
            Ok(r) => self.account().is_none_or(|a| r.account() == Some(a)),
            Err(_) => false,
        }
    }

    fn err<E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        what: &str,
        e: aws_sdk_iam::error::SdkError<E>,
    ) -> RespondError {
        sdk_err(self.name(), what, e)
    }

    fn users_of(&self, who: &Leaver) -> Vec<String> {
        // The IAM user: from an ARN (`…:user/path/name`, in the principal or the credential id), else
        // the principal as a user name; root is never a leaver's.
        let user_of = |c: &credwarden_model::Credential| -> Option<String> {
            let from_arn = |s: &str| {
                s.split(":user/").nth(1).map(|u| {
                    u.split('#')
                        .next()
                        .unwrap_or(u)
                        .rsplit('/')
                        .next()
                        .unwrap_or(u)
                        .to_string()
                })
            };
            c.principal
                .as_deref()
                .and_then(from_arn)
                .or_else(|| from_arn(&c.id))
                .or_else(|| {
                    c.principal
                        .clone()
                        .filter(|p| !p.contains(':') && !p.contains('@'))
                })
                .filter(|u| !u.is_empty() && u != "<root_account>")
        };
        let mut v: Vec<String> = who
            .credentials
            .iter()
            .filter(|c| self.covers(c))
            .filter_map(user_of)
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Connector for AwsIam {
    fn name(&self) -> String {
        "aws-iam".into()
    }

    fn covers(&self, c: &credwarden_model::Credential) -> bool {
        use credwarden_model::CredentialKind as K;
        c.system.starts_with("aws")
            && !c.account_level
            && matches!(c.kind, K::AccessKey | K::ConsolePassword)
            && match (account_of(c), self.account()) {
                (Some(theirs), Some(ours)) => theirs == ours,
                _ => true,
            }
    }

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        let mut out = Vec::new();
        if !who.credentials.iter().any(|c| self.covers(c)) {
            return Ok(out);
        }
        self.ensure_account()?;
        self.departed = who
            .identity
            .end_date
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp());
        for user in self.users_of(who) {
            let keys = match self
                .rt
                .block_on(self.iam.list_access_keys().user_name(&user).send())
            {
                Ok(k) => k,
                Err(e) if is_not_found(&e) => continue,
                Err(e) => return Err(self.err("ListAccessKeys", e)),
            };
            for k in keys.access_key_metadata() {
                let id = k.access_key_id().unwrap_or("?");
                out.push(Action::new(
                    "aws-iam",
                    ActionKind::DeleteAccessKey,
                    &format!("{user}/{id}"),
                    &who.identity.id,
                    format!("access key {id} of IAM user {user}"),
                ));
            }
            match self
                .rt
                .block_on(self.iam.get_login_profile().user_name(&user).send())
            {
                Ok(_) => out.push(Action::new(
                    "aws-iam",
                    ActionKind::DeleteLoginProfile,
                    &user,
                    &who.identity.id,
                    format!("console password of IAM user {user}"),
                )),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(self.err("GetLoginProfile", e)),
            }
            let deny = Action::new(
                "aws-iam",
                ActionKind::DenySessionsBefore,
                &user,
                &who.identity.id,
                format!("deny sessions of IAM user {user} issued before now"),
            );
            match self.rt.block_on(
                self.iam
                    .get_user_policy()
                    .user_name(&user)
                    .policy_name(DENY_POLICY)
                    .send(),
            ) {
                // One of ours that already covers every session issued before the departure.
                Ok(p)
                    if deny_cutoff(p.policy_document())
                        .zip(self.departed)
                        .is_some_and(|(cut, left)| cut >= left) => {}
                // Missing, stale (an earlier offboarding's cutoff), not ours, or no departure to
                // judge it by: put a fresh one.
                Ok(_) => out.push(deny),
                Err(e) if is_not_found(&e) => out.push(deny),
                Err(e) => return Err(self.err("GetUserPolicy", e)),
            }
        }
        Ok(out)
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
        // Never act before knowing we are in the account we are configured for.
        self.ensure_account()?;
        match a.kind {
            ActionKind::DeleteAccessKey => {
                let (user, key) = a.target.split_once('/').unwrap_or(("", &a.target));
                // Inactive first: if the delete fails, the key is at least unusable.
                match self.rt.block_on(
                    self.iam
                        .update_access_key()
                        .user_name(user)
                        .access_key_id(key)
                        .status(aws_sdk_iam::types::StatusType::Inactive)
                        .send(),
                ) {
                    Ok(_) => {}
                    Err(e) if is_not_found(&e) => return Ok("already gone".into()),
                    Err(e) => return Err(self.err("UpdateAccessKey", e)),
                }
                match self.rt.block_on(
                    self.iam
                        .delete_access_key()
                        .user_name(user)
                        .access_key_id(key)
                        .send(),
                ) {
                    Ok(_) => Ok("deactivated, then deleted".into()),
                    Err(e) if is_not_found(&e) => Ok("already gone".into()),
                    Err(e) => Err(self.err("DeleteAccessKey", e)),
                }
            }
            ActionKind::DeleteLoginProfile => match self
                .rt
                .block_on(self.iam.delete_login_profile().user_name(&a.target).send())
            {
                Ok(_) => Ok("deleted".into()),
                Err(e) if is_not_found(&e) => Ok("already gone".into()),
                Err(e) => Err(self.err("DeleteLoginProfile", e)),
            },
            ActionKind::DenySessionsBefore => {
                let cut = jiff::Timestamp::now();
                self.cutoffs.insert(a.target.clone(), cut);
                let now = cut.to_string();
                let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "CredwardenOffboarding", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}}}]});
                self.rt
                    .block_on(
                        self.iam
                            .put_user_policy()
                            .user_name(&a.target)
                            .policy_name(DENY_POLICY)
                            .policy_document(doc.to_string())
                            .send(),
                    )
                    .map(|_| format!("sessions issued before {now} denied"))
                    .map_err(|e| self.err("PutUserPolicy", e))
            }
            k => Err(RespondError::Local(format!("aws-iam cannot {}", k.label()))),
        }
    }

    fn verify(&mut self, a: &Action) -> Result<Proof, RespondError> {
        match a.kind {
            ActionKind::DeleteAccessKey => {
                let (user, key) = a.target.split_once('/').unwrap_or(("", &a.target));
                if let Some(secret) = self.cfg.verify_secrets.get(key) {
                    // Try the old key itself: only STS's own refusal of it is proof.
                    return Ok(self.try_old_key(key, secret));
                }
                match self
                    .rt
                    .block_on(self.iam.list_access_keys().user_name(user).send())
                {
                    Ok(k) => {
                        let listed = k
                            .access_key_metadata()
                            .iter()
                            .any(|m| m.access_key_id() == Some(key));
                        Ok(if listed {
                            Proof::alive("IAM still lists the key")
                        } else {
                            Proof::gone(
                                "IAM no longer lists the key (no secret supplied to try it against STS)",
                            )
                        })
                    }
                    Err(e) if is_not_found(&e) => Ok(Proof::gone(
                        "the IAM user no longer exists (no secret supplied to try the key against STS)",
                    )),
                    Err(e) => Err(self.err("ListAccessKeys", e)),
                }
            }
            ActionKind::DeleteLoginProfile => match self
                .rt
                .block_on(self.iam.get_login_profile().user_name(&a.target).send())
            {
                Ok(_) => Ok(Proof::alive("the console password still exists")),
                Err(e) if is_not_found(&e) => {
                    Ok(Proof::gone("IAM has no console password for the user"))
                }
                Err(e) => Err(self.err("GetLoginProfile", e)),
            },
            ActionKind::DenySessionsBefore => match self.rt.block_on(
                self.iam
                    .get_user_policy()
                    .user_name(&a.target)
                    .policy_name(DENY_POLICY)
                    .send(),
            ) {
                Ok(p) => {
                    // Ours, with the cutoff this run put (or one covering the departure).
                    let want = self.cutoffs.get(&a.target).copied().or(self.departed);
                    Ok(match (deny_cutoff(p.policy_document()), want) {
                        (Some(cut), Some(want)) if cut >= want => Proof::gone(format!(
                            "IAM holds the deny policy for sessions issued before {cut}"
                        )),
                        (Some(cut), _) => Proof::alive(format!(
                            "the deny policy's cutoff {cut} is older than this offboarding"
                        )),
                        (None, _) => Proof::alive(format!(
                            "a policy named {DENY_POLICY} exists but is not a deny of every session before a time"
                        )),
                    })
                }
                Err(e) if is_not_found(&e) => Ok(Proof::alive("the deny policy is missing")),
                Err(e) => Err(self.err("GetUserPolicy", e)),
            },
            k => Err(RespondError::Local(format!(
                "aws-iam cannot verify {}",
                k.label()
            ))),
        }
    }
}

impl AwsIam {
    /// Classify STS's answer to `GetCallerIdentity` signed with the old key. Refused only when STS
    /// names the key unknown or invalid (`InvalidClientTokenId` and kin) and the same endpoint
    /// answers our own credentials as STS for our account; a bare 401/403, a proxy's or WAF's
    /// page, a network error or a wrong endpoint proves nothing.
    fn try_old_key(&self, key: &str, secret: &str) -> Proof {
        let creds = aws_sdk_sts::config::Credentials::new(key, secret, None, None, "verification");
        let conf = aws_sdk_sts::config::Builder::from(&self.base)
            .credentials_provider(creds)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(conf);
        let e = match self.rt.block_on(sts.get_caller_identity().send()) {
            Ok(r) => {
                return Proof::alive(format!(
                    "the old key still authenticates as {}",
                    r.arn().unwrap_or("?")
                ))
            }
            Err(e) => e,
        };
        let status = e.raw_response().map(|r| r.status().as_u16());
        let code = e
            .as_service_error()
            .and_then(|s| s.code())
            .map(str::to_string)
            .or_else(|| {
                // The query protocol's error document in the shape the SDK does not read
                // (`<ErrorResponse><Errors><Error><Code>`, as EC2-style services and moto send it).
                let body = e.raw_response()?.body().bytes()?;
                error_code(std::str::from_utf8(body).ok()?)
            });
        match code.as_deref() {
            Some(
                c @ ("InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "InvalidAccessKeyId"
                | "AuthFailure"),
            ) => {
                if self.control_ok() {
                    Proof::refused(format!("the old key was refused by STS ({c})"))
                } else {
                    Proof::ambiguous(format!(
                        "the old key got {c}, but the endpoint did not answer our own credentials as STS for account {}: not taken as proof",
                        self.account().unwrap_or("?")
                    ))
                }
            }
            // The key id is known; only the secret we were given does not match it.
            Some(c @ "SignatureDoesNotMatch") => Proof::alive(format!(
                "STS still knows the key ({c}: the verification secret supplied does not match it)"
            )),
            Some(c) => Proof::ambiguous(format!(
                "STS answered {c} (HTTP {}): not a refusal of the key",
                status.unwrap_or(0)
            )),
            None => Proof::ambiguous(match status {
                Some(s) => format!("HTTP {s} with no AWS error code (a proxy, WAF or wrong endpoint?): not a refusal of the key"),
                None => format!("STS could not be asked: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deny_cutoff_is_read_only_from_a_deny_of_everything() {
        let ours = r#"{"Version":"2012-10-17","Statement":[{"Sid":"CredwardenOffboarding","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-12-02T09:00:00Z"}}}]}"#;
        let cut = deny_cutoff(ours).unwrap();
        assert_eq!(cut.to_string(), "2026-12-02T09:00:00Z");
        // URL-encoded, as IAM returns it.
        let enc: String = ours
            .bytes()
            .map(|b| match b {
                b'{' | b'}' | b'"' | b':' | b',' | b'[' | b']' | b'*' => format!("%{b:02X}"),
                _ => (b as char).to_string(),
            })
            .collect();
        assert_eq!(deny_cutoff(&enc), Some(cut));
        // An Allow, a narrower action or resource, or no time: not ours.
        assert_eq!(deny_cutoff(&ours.replace("Deny", "Allow")), None);
        assert_eq!(
            deny_cutoff(&ours.replace(r#""Action":"*""#, r#""Action":"s3:*""#)),
            None
        );
        assert_eq!(
            deny_cutoff(&ours.replace("aws:TokenIssueTime", "aws:CurrentTime")),
            None
        );
        assert_eq!(deny_cutoff("not json"), None);
    }

    #[test]
    fn error_codes_are_read_only_from_an_aws_error_document() {
        let moto = r#"<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>x</Message></Error></Errors></ErrorResponse>"#;
        assert_eq!(error_code(moto).as_deref(), Some("InvalidClientTokenId"));
        assert_eq!(error_code(""), None);
        assert_eq!(error_code("<html><body>403 Forbidden</body></html>"), None);
        assert_eq!(
            error_code("<Code>InvalidClientTokenId</Code>"),
            None,
            "not an ErrorResponse"
        );
        assert_eq!(error_code("<ErrorResponse><Code>a b</Code>"), None);
    }

    #[test]
    fn the_account_of_a_credential_comes_from_its_arn_or_system() {
        let mut c = credwarden_model::Credential::new(
            "arn:aws:iam::210987654321:user/dosei#access_key_1",
            credwarden_model::CredentialKind::AccessKey,
            "aws",
            credwarden_model::SourceRef::new("r.csv", 2),
        );
        assert_eq!(account_of(&c).as_deref(), Some("210987654321"));
        c.id = "AKIA1".into();
        c.system = "aws:123456789012".into();
        assert_eq!(account_of(&c).as_deref(), Some("123456789012"));
        c.system = "aws".into();
        assert_eq!(account_of(&c), None);
    }
}
