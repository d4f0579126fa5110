//! AWS IAM through the official SDK (endpoint configurable, so it also talks to test servers): for each
//! IAM user of the leaver, deactivate then delete every access key, delete the console password, and
//! put an explicit deny on sessions issued before now (`aws:TokenIssueTime`), so temporary credentials
//! already handed out die too.
//!
//! Proof: when the old key's secret is supplied for verification (a file, never the command line),
//! the key must be refused by STS (`GetCallerIdentity` → InvalidClientTokenId); otherwise IAM itself
//! must no longer know the key. A console password must be gone; the deny policy must be in place.

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
            .finish()
    }
}

/// The connector.
pub struct AwsIam {
    rt: tokio::runtime::Runtime,
    iam: aws_sdk_iam::Client,
    base: aws_config::SdkConfig,
    cfg: AwsConfig,
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
        Ok(AwsIam { rt, iam, base, cfg })
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
            .filter(|c| c.system.starts_with("aws") && !c.account_level)
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

    fn plan(&mut self, who: &Leaver) -> Result<Vec<Action>, RespondError> {
        let mut out = Vec::new();
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
            match self.rt.block_on(
                self.iam
                    .get_user_policy()
                    .user_name(&user)
                    .policy_name(DENY_POLICY)
                    .send(),
            ) {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => out.push(Action::new(
                    "aws-iam",
                    ActionKind::DenySessionsBefore,
                    &user,
                    &who.identity.id,
                    format!("deny sessions of IAM user {user} issued before now"),
                )),
                Err(e) => return Err(self.err("GetUserPolicy", e)),
            }
        }
        Ok(out)
    }

    fn apply(&mut self, a: &Action) -> Result<String, RespondError> {
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
                let now = jiff::Timestamp::now().to_string();
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
                    // Try the old key itself.
                    let creds = aws_sdk_sts::config::Credentials::new(
                        key,
                        secret,
                        None,
                        None,
                        "verification",
                    );
                    let conf = aws_sdk_sts::config::Builder::from(&self.base)
                        .credentials_provider(creds)
                        .build();
                    let sts = aws_sdk_sts::Client::from_conf(conf);
                    return match self.rt.block_on(sts.get_caller_identity().send()) {
                        Ok(r) => Ok(Proof {
                            dead: false,
                            how: format!(
                                "the old key still authenticates as {}",
                                r.arn().unwrap_or("?")
                            ),
                        }),
                        Err(e) => {
                            let status = e.raw_response().map(|r| r.status().as_u16());
                            let code = e
                                .as_service_error()
                                .and_then(|s| s.code())
                                .map(str::to_string);
                            // Only "this key is unknown" is proof; AccessDenied means the key still
                            // authenticates (it merely lacks a permission).
                            let unknown = code.as_deref().is_some_and(|c| {
                                matches!(
                                    c,
                                    "InvalidClientTokenId"
                                        | "UnrecognizedClientException"
                                        | "AuthFailure"
                                        | "InvalidAccessKeyId"
                                )
                            });
                            match (status, code) {
                                (Some(401 | 403), code) if unknown || code.is_none() => Ok(Proof {
                                    dead: true,
                                    how: format!(
                                        "the old key was refused by STS ({})",
                                        code.unwrap_or_else(|| format!(
                                            "HTTP {}",
                                            status.unwrap_or(0)
                                        ))
                                    ),
                                }),
                                _ => Err(RespondError::Unavailable {
                                    connector: self.name(),
                                    reason: format!("STS: {e}"),
                                }),
                            }
                        }
                    };
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
                        Ok(Proof {
                            dead: !listed,
                            how: if listed {
                                "IAM still lists the key".into()
                            } else {
                                "IAM no longer knows the key (no secret supplied to try it)".into()
                            },
                        })
                    }
                    Err(e) if is_not_found(&e) => Ok(Proof {
                        dead: true,
                        how: "the IAM user no longer exists".into(),
                    }),
                    Err(e) => Err(self.err("ListAccessKeys", e)),
                }
            }
            ActionKind::DeleteLoginProfile => match self
                .rt
                .block_on(self.iam.get_login_profile().user_name(&a.target).send())
            {
                Ok(_) => Ok(Proof {
                    dead: false,
                    how: "the console password still exists".into(),
                }),
                Err(e) if is_not_found(&e) => Ok(Proof {
                    dead: true,
                    how: "IAM has no console password for the user".into(),
                }),
                Err(e) => Err(self.err("GetLoginProfile", e)),
            },
            ActionKind::DenySessionsBefore => match self.rt.block_on(
                self.iam
                    .get_user_policy()
                    .user_name(&a.target)
                    .policy_name(DENY_POLICY)
                    .send(),
            ) {
                Ok(_) => Ok(Proof {
                    dead: true,
                    how: "the deny-older-sessions policy is in place".into(),
                }),
                Err(e) if is_not_found(&e) => Ok(Proof {
                    dead: false,
                    how: "the deny policy is missing".into(),
                }),
                Err(e) => Err(self.err("GetUserPolicy", e)),
            },
            k => Err(RespondError::Local(format!(
                "aws-iam cannot verify {}",
                k.label()
            ))),
        }
    }
}
