//! The audit rules, one file each. A rule is its metadata plus a `check` function over the
//! [`Context`]; adding one means a new file here and one line in [`ALL`].

use crate::Context;
use credwarden_model::{Finding, RuleMeta};

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
}

/// Every audit rule, in id order.
pub const ALL: &[Rule] = &[
    Rule {
        meta: &departed_owner_live::META,
        check: departed_owner_live::check,
    },
    Rule {
        meta: &used_after_departure::META,
        check: used_after_departure::check,
    },
    Rule {
        meta: &departed_reader_secret::META,
        check: departed_reader_secret::check,
    },
    Rule {
        meta: &signing_key_policy::META,
        check: signing_key_policy::check,
    },
    Rule {
        meta: &unknown_owner::META,
        check: unknown_owner::check,
    },
    Rule {
        meta: &not_rotated::META,
        check: not_rotated::check,
    },
    Rule {
        meta: &unused::META,
        check: unused::check,
    },
    Rule {
        meta: &never_used::META,
        check: never_used::check,
    },
    Rule {
        meta: &root_access_key::META,
        check: root_access_key::check,
    },
    Rule {
        meta: &console_no_mfa::META,
        check: console_no_mfa::check,
    },
    Rule {
        meta: &identity_past_end::META,
        check: identity_past_end::check,
    },
    Rule {
        meta: &unresolved_readers::META,
        check: unresolved_readers::check,
    },
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
            assert!(
                !r.meta.attack.is_empty() && !r.meta.d3fend.is_empty(),
                "{} lacks references",
                r.meta.id
            );
            assert!(!r.meta.recommendation.is_empty() && !r.meta.false_positives.is_empty());
        }
    }
}
