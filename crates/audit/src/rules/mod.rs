//! The audit rules, one file each. A rule is its metadata plus a `check` function over the
//! [`Context`]; adding one means a new file here and one line in [`ALL`].

use crate::Context;
use credwarden_model::{Finding, RuleMeta, Severity};

mod console_no_mfa;
mod departed_owner_live;
mod departed_reader_secret;
mod identity_past_end;
mod never_used;
mod not_rotated;
mod root_access_key;
mod signing_key_policy;
mod unknown_owner;
mod unresolved_readers;
mod unused;
mod used_after_departure;

#[cfg(test)]
pub(crate) mod testkit;

/// A rule: metadata and its check.
pub struct Rule {
    /// Metadata (id, severity, ATT&CK, D3FEND, recommendation).
    pub meta: &'static RuleMeta,
    /// Appends this rule's findings.
    pub check: fn(&Context, &mut Vec<Finding>),
    /// The highest severity this rule can emit (a rule may raise its default per finding).
    pub max_severity: Severity,
}

const fn rule(meta: &'static RuleMeta, check: fn(&Context, &mut Vec<Finding>)) -> Rule {
    Rule {
        meta,
        check,
        max_severity: meta.severity,
    }
}

/// Every audit rule, in id order.
pub const ALL: &[Rule] = &[
    rule(&departed_owner_live::META, departed_owner_live::check),
    rule(&used_after_departure::META, used_after_departure::check),
    rule(&departed_reader_secret::META, departed_reader_secret::check),
    rule(&signing_key_policy::META, signing_key_policy::check),
    rule(&unknown_owner::META, unknown_owner::check),
    rule(&not_rotated::META, not_rotated::check),
    Rule {
        max_severity: Severity::Medium,
        ..rule(&unused::META, unused::check)
    },
    rule(&never_used::META, never_used::check),
    rule(&root_access_key::META, root_access_key::check),
    Rule {
        max_severity: Severity::High,
        ..rule(&console_no_mfa::META, console_no_mfa::check)
    },
    Rule {
        max_severity: Severity::High,
        ..rule(&identity_past_end::META, identity_past_end::check)
    },
    rule(&unresolved_readers::META, unresolved_readers::check),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_metadata_complete() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.meta.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        for r in ALL {
            assert!(r.meta.id.starts_with("CW-A"), "{}", r.meta.id);
            assert!(r.max_severity >= r.meta.severity, "{}", r.meta.id);
            assert!(
                !r.meta.attack.is_empty() && !r.meta.d3fend.is_empty(),
                "{} lacks references",
                r.meta.id
            );
            assert!(!r.meta.recommendation.is_empty() && !r.meta.false_positives.is_empty());
        }
    }
}
