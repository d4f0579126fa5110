//! Identity: a person or workload owner as HR or the IdP knows it.

use crate::SourceRef;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Kind of identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A salaried employee.
    Employee,
    /// A contractor, vendor or temporary worker; usually has an end date.
    Contractor,
    /// A service or workload identity with a human owner.
    Service,
}

/// Employment status as HR records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    /// Currently employed / engaged.
    Active,
    /// On leave (parental, sabbatical, suspension): still employed, should not be using credentials much.
    Leave,
    /// Left the company (resigned, dismissed, contract ended and recorded).
    Terminated,
}

impl FromStr for IdentityKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n = normalize_word(s);
        Ok(match n.as_str() {
            "employee" | "fulltime" | "parttime" | "regular" | "permanent" | "staff" | "fte"
            | "intern" => Self::Employee,
            "contractor" | "contract" | "contingent" | "contingentworker" | "vendor"
            | "consultant" | "temp" | "temporary" | "freelancer" | "external" => Self::Contractor,
            "service" | "serviceaccount" | "workload" | "system" | "bot" | "machine" => {
                Self::Service
            }
            _ => {
                return Err(format!(
                    "unknown identity kind {s:?} (expected employee, contractor or service)"
                ))
            }
        })
    }
}

impl FromStr for IdentityStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n = normalize_word(s);
        Ok(match n.as_str() {
            "active" | "employed" | "current" | "enabled" | "a" => Self::Active,
            "leave" | "onleave" | "loa" | "leaveofabsence" | "suspended" | "l" => Self::Leave,
            "terminated" | "termed" | "term" | "inactive" | "separated" | "offboarded" | "left"
            | "departed" | "resigned" | "retired" | "disabled" | "deprovisioned" | "former"
            | "t" => Self::Terminated,
            _ => {
                return Err(format!(
                    "unknown employment status {s:?} (expected active, leave or terminated)"
                ))
            }
        })
    }
}

fn normalize_word(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Employee => "employee",
            Self::Contractor => "contractor",
            Self::Service => "service",
        })
    }
}

impl fmt::Display for IdentityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Leave => "leave",
            Self::Terminated => "terminated",
        })
    }
}

/// A person or workload owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// Stable HR/IdP id (employee number, SCIM id).
    pub id: String,
    /// Human-readable name, if known.
    pub display_name: Option<String>,
    /// Email addresses (lower-cased).
    pub emails: Vec<String>,
    /// Usernames / logins / other handles (lower-cased) used to join credentials to this identity.
    pub usernames: Vec<String>,
    /// Employee, contractor or service.
    pub kind: IdentityKind,
    /// Employment status.
    pub status: IdentityStatus,
    /// First day of employment.
    pub start_date: Option<Date>,
    /// Last day of employment (terminations) or end of contract (contractors).
    pub end_date: Option<Date>,
    /// Manager's id or email, as HR gives it.
    pub manager: Option<String>,
    /// Department / team.
    pub department: Option<String>,
    /// Where this record was read.
    pub source: SourceRef,
}

impl Identity {
    /// A leaver known by nothing but an id (from a journal entry, or a record that could not be
    /// read further): terminated, no aliases, no dates.
    pub fn leaver(id: impl Into<String>, source: SourceRef) -> Identity {
        Identity {
            id: id.into(),
            display_name: None,
            emails: vec![],
            usernames: vec![],
            kind: IdentityKind::Employee,
            status: IdentityStatus::Terminated,
            start_date: None,
            end_date: None,
            manager: None,
            department: None,
            source,
        }
    }

    /// Every alias this identity can be joined by: id, emails and usernames (lower-cased).
    pub fn aliases(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.id.to_lowercase())
            .chain(self.emails.iter().cloned())
            .chain(self.usernames.iter().cloned())
    }

    /// True when the person has left as of `as_of`: HR says terminated and the last day (if known) is
    /// not in the future.
    pub fn is_departed(&self, as_of: Date) -> bool {
        self.status == IdentityStatus::Terminated && self.end_date.is_none_or(|d| d <= as_of)
    }

    /// Whole days from the last day of employment to `as_of`, when the end date is known.
    pub fn days_since_end(&self, as_of: Date) -> Option<i64> {
        self.end_date.map(|d| days_between(d, as_of))
    }

    /// Short label for humans: display name and id.
    pub fn label(&self) -> String {
        match &self.display_name {
            Some(n) if !n.is_empty() => format!("{n} ({})", self.id),
            _ => self.id.clone(),
        }
    }
}

/// Whole calendar days from `from` to `to` (negative if `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    // Both are civil dates; the span in days is exact.
    let span = from.until(to).expect("date span in days never overflows");
    span.get_days() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_kind_spellings() {
        assert_eq!(
            "Terminated".parse::<IdentityStatus>().unwrap(),
            IdentityStatus::Terminated
        );
        assert_eq!(
            "On Leave".parse::<IdentityStatus>().unwrap(),
            IdentityStatus::Leave
        );
        assert_eq!(
            "Full-Time".parse::<IdentityKind>().unwrap(),
            IdentityKind::Employee
        );
        assert_eq!(
            "Contingent Worker".parse::<IdentityKind>().unwrap(),
            IdentityKind::Contractor
        );
        assert!("sometimes".parse::<IdentityStatus>().is_err());
    }

    #[test]
    fn days_between_counts_calendar_days() {
        let a: Date = "2024-12-31".parse().unwrap();
        let b: Date = "2025-03-01".parse().unwrap();
        assert_eq!(days_between(a, b), 60);
        assert_eq!(days_between(b, a), -60);
    }
}
