//! Posture audit: joins what HR knows (identities) with what inventories say (credentials and who
//! can read secrets) and reports what should not be — no logs needed.
//!
//! * [`Policy`] — thresholds, read from the `[audit]` table of the TOML config.
//! * [`Context`] — the joined view every rule reads: credentials with their resolved owners.
//! * [`rules`] — one file per rule, each with its metadata and positive/negative tests.
//! * [`run`] — evaluates every rule and returns findings sorted by severity.

mod context;
mod owners;
mod policy;
/// ATT&CK and D3FEND references (shared with the detectors; they live in the model crate).
pub use credwarden_model::refs;
pub mod rules;

pub use context::{is_readable_secret, Context, Owner, Resolved};
pub use owners::OwnerIndex;
pub use policy::Policy;

use credwarden_model::{Finding, Severity};

/// Run every audit rule; findings come back most severe first, then by rule and subject.
pub fn run(ctx: &Context) -> Vec<Finding> {
    run_min(ctx, Severity::Info)
}

/// Like [`run`], keeping only findings at least `min` severe. Filtering after each rule bounds memory
/// to what is kept (a large estate can yield millions of low-severity hygiene findings).
pub fn run_min(ctx: &Context, min: Severity) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in rules::ALL.iter().filter(|r| r.max_severity >= min) {
        let start = out.len();
        (rule.check)(ctx, &mut out);
        let mut i = start;
        while i < out.len() {
            if out[i].severity < min {
                out.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.id.cmp(b.rule.id))
            .then_with(|| a.subject.identity_id.cmp(&b.subject.identity_id))
            .then_with(|| a.subject.credential_id.cmp(&b.subject.credential_id))
            .then_with(|| a.fingerprint().cmp(&b.fingerprint()))
    });
    out
}
