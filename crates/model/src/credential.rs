//! Credential: anything that authenticates or mints authentication. Holds ids and metadata, never secrets.

use crate::SourceRef;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What kind of credential this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// Cloud access key (AWS access key id, etc.).
    AccessKey,
    /// Console / web password (AWS login profile).
    ConsolePassword,
    /// X.509 signing certificate attached to a cloud user.
    Certificate,
    /// Cloud service-account key (GCP JSON key, Azure SP secret).
    ServiceAccountKey,
    /// API key or long-lived API token.
    ApiKey,
    /// SSH public key authorised somewhere.
    SshKey,
    /// Database user / login.
    DbUser,
    /// Key that signs tokens (JWT/JWKS `kid`, SAML signing cert).
    SigningKey,
    /// KMS / HSM key.
    KmsKey,
    /// Shared secret that several parties read (HMAC secret, webhook secret, shared API secret).
    SharedSecret,
    /// Anything else.
    Other,
}

impl CredentialKind {
    /// Kinds whose compromise lets the holder mint authentication for others (tokens, signatures).
    pub fn is_signing(self) -> bool {
        matches!(self, Self::SigningKey | Self::KmsKey)
    }

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessKey => "access_key",
            Self::ConsolePassword => "console_password",
            Self::Certificate => "certificate",
            Self::ServiceAccountKey => "service_account_key",
            Self::ApiKey => "api_key",
            Self::SshKey => "ssh_key",
            Self::DbUser => "db_user",
            Self::SigningKey => "signing_key",
            Self::KmsKey => "kms_key",
            Self::SharedSecret => "shared_secret",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CredentialKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .flat_map(|c| c.to_lowercase())
            .collect();
        Ok(match n.as_str() {
            "accesskey" | "awsaccesskey" | "cloudaccesskey" | "iamaccesskey" => Self::AccessKey,
            "consolepassword" | "password" | "loginprofile" => Self::ConsolePassword,
            "certificate" | "cert" | "x509" | "signingcertificate" => Self::Certificate,
            "serviceaccountkey" | "sakey" | "gcpkey" | "serviceprincipalsecret" => {
                Self::ServiceAccountKey
            }
            "apikey" | "apitoken" | "token" | "pat" | "personalaccesstoken" => Self::ApiKey,
            "sshkey" | "ssh" | "sshpublickey" => Self::SshKey,
            "dbuser" | "database" | "databaseuser" | "dblogin" => Self::DbUser,
            "signingkey" | "jwtsigningkey" | "jwk" | "jwks" | "tokensigningkey"
            | "samlsigningkey" => Self::SigningKey,
            "kmskey" | "kms" | "hsmkey" => Self::KmsKey,
            "sharedsecret" | "secret" | "hmacsecret" | "webhooksecret" | "sharedapisecret"
            | "clientsecret" => Self::SharedSecret,
            "other" => Self::Other,
            _ => return Err(format!("unknown credential kind {s:?}")),
        })
    }
}

/// Lifecycle status of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Usable.
    Active,
    /// Exists but disabled / deactivated (may be re-enabled).
    Inactive,
    /// Deleted, revoked or expired: cannot authenticate.
    Revoked,
}

impl FromStr for CredentialStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .flat_map(|c| c.to_lowercase())
            .collect();
        Ok(match n.as_str() {
            "active" | "enabled" | "valid" | "true" | "inuse" | "current" => Self::Active,
            "inactive" | "disabled" | "suspended" | "false" | "paused" => Self::Inactive,
            "revoked" | "deleted" | "expired" | "destroyed" | "retired" | "rotatedout"
            | "pendingdeletion" => Self::Revoked,
            _ => {
                return Err(format!(
                    "unknown credential status {s:?} (expected active, inactive or revoked)"
                ))
            }
        })
    }
}

impl fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Revoked => "revoked",
        })
    }
}

/// A credential: id and metadata, never the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// Stable id (access key id, JWKS `kid`, key resource name, `arn#access_key_1`...). Never secret.
    pub id: String,
    /// What it is.
    pub kind: CredentialKind,
    /// The system it authenticates to (`aws:123456789012`, `gcp:my-project`, `login-service`...).
    pub system: String,
    /// The principal it belongs to in that system (IAM user name, service-account email), if any.
    pub principal: Option<String>,
    /// Owner as the inventory states it (alias of an identity), before resolution.
    pub owner: Option<String>,
    /// Created.
    pub created: Option<Timestamp>,
    /// Last rotated (for keys whose id stays across rotation); `None` if never rotated.
    pub last_rotated: Option<Timestamp>,
    /// Last used, as the inventory reports it.
    pub last_used: Option<Timestamp>,
    /// Whether the source tracks use at all: when true, `last_used == None` means "never used";
    /// when false it means "unknown" and no usage rule may conclude anything.
    pub usage_known: bool,
    /// End of validity (certificates, signing keys, GCP keys), if any.
    pub expires: Option<Timestamp>,
    /// Lifecycle status.
    pub status: CredentialStatus,
    /// Scopes / permissions / policies, as free text.
    pub scopes: Vec<String>,
    /// Identities or groups that could read or export the secret material.
    pub readers: Vec<String>,
    /// Whether MFA protects it (console passwords), if known.
    pub mfa: Option<bool>,
    /// Account-level (root) credential.
    pub account_level: bool,
    /// Where this record was read.
    pub source: SourceRef,
}

impl Credential {
    /// Minimal credential, for builders and tests.
    pub fn new(
        id: impl Into<String>,
        kind: CredentialKind,
        system: impl Into<String>,
        source: SourceRef,
    ) -> Self {
        Self {
            id: id.into(),
            kind,
            system: system.into(),
            principal: None,
            owner: None,
            created: None,
            last_rotated: None,
            last_used: None,
            usage_known: false,
            expires: None,
            status: CredentialStatus::Active,
            scopes: Vec::new(),
            readers: Vec::new(),
            mfa: None,
            account_level: false,
            source,
        }
    }

    /// Can it authenticate as of `now`? Active and not past its validity.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.status == CredentialStatus::Active && self.expires.is_none_or(|e| e > now)
    }

    /// When the secret material was last replaced: last rotation, else creation.
    pub fn material_since(&self) -> Option<Timestamp> {
        self.last_rotated.or(self.created)
    }
}
