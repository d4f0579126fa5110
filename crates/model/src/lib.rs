//! credwarden's core nouns and their wire encodings.
//!
//! * [`Identity`] — a person or workload owner from HR/IdP.
//! * [`Credential`] — anything that authenticates or mints authentication (never the secret itself).
//! * [`Event`] — one normalized activity record (used by the log-driven detectors).
//! * [`Finding`] — what a detection concluded, encoded as OCSF Detection Finding (class 2004) by [`ocsf`].
//! * [`Directory`] — joins credential owners and secret readers to identities by any alias.
//!
//! This crate does no I/O: readers live in `credwarden-ingest`, rules in `credwarden-audit`.

pub mod codec;
mod credential;
mod directory;
mod event;
pub mod exposure;
mod finding;
mod identity;
pub mod ocsf;
pub mod refs;
mod source;

pub use credential::{Credential, CredentialKind, CredentialStatus};
pub use directory::{Directory, Resolution};
pub use event::{Event, EventOutcome, Network, ResourceRef, TokenClaims, Volume};
pub use finding::{AttackRef, D3fendRef, Finding, RuleMeta, Severity, Subject};
pub use identity::{days_between, Identity, IdentityKind, IdentityStatus};
pub use source::SourceRef;

/// Version of credwarden stamped into emitted findings.
pub const PRODUCT_VERSION: &str = env!("CARGO_PKG_VERSION");
