//! The simulator's answer key (`labels.csv`, one row per enabled attack scenario) and its optional
//! run summary (`summary.json`).

use crate::error::{quote, EvalError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Columns of the labels CSV, in the order the simulator writes them.
pub const COLUMNS: [&str; 8] = [
    "scenario",
    "title",
    "identity",
    "credential",
    "subjects",
    "first_malicious_time",
    "event_count",
    "event_ids",
];

/// One labelled attack scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Short scenario id (`a`, `a2`, `b`, …).
    pub scenario: String,
    /// Free-text title.
    pub title: String,
    /// HR identity id of the subject, if the scenario has one.
    pub identity: Option<String>,
    /// Credential id of the subject, if the scenario has one.
    pub credential: Option<String>,
    /// Every name the subject goes by; a finding naming any of them matches (case-sensitive).
    pub subjects: Vec<String>,
    /// When the first malicious event happened.
    pub first_malicious_time: Timestamp,
    /// When the risk began (optional column `exposure_start`; defaults to the first malicious event).
    /// For a leaver's key it is the departure: a finding raised after it, before any misuse, is an
    /// early detection; a finding about the same key from before it (say, an old-key hygiene finding)
    /// is not a detection of this scenario.
    pub exposure_start: Timestamp,
    /// Number of malicious events.
    pub event_count: u64,
    /// Ids of the malicious events (may be empty).
    pub event_ids: Vec<String>,
    /// When the last malicious event happened (optional column `last_malicious_time`; defaults to
    /// the first). A misuse finding counts up to a day after it.
    pub last_malicious_time: Timestamp,
    /// The attack's own entities (optional column `attack_entities`): addresses, networks (CIDR),
    /// token ids, keys only the attacker used. When given, only a finding naming one of them (an
    /// address inside a listed network counts) detects the misuse; the subjects then serve only
    /// for exposure findings.
    pub attack_entities: Vec<String>,
}

/// The simulator's run summary: the simulated window and the population size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Start of the simulated window.
    pub start: Timestamp,
    /// End of the simulated window.
    pub end: Timestamp,
    /// Number of simulated days.
    pub days: u64,
    /// Number of credentials in the simulated estate.
    pub credentials: u64,
    /// Number of identities in the simulated estate.
    pub identities: u64,
}

/// Parse a labels CSV; `file` names it in errors. Columns are found by name, so their order is free.
pub fn read_labels(text: &str, file: &str) -> Result<Vec<Label>, EvalError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| csv_error(file, &e))?.clone();
    let idx = COLUMNS.map(|c| headers.iter().position(|h| h.trim() == c));
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(&idx)
        .filter_map(|(c, i)| i.is_none().then_some(*c))
        .collect();
    if !missing.is_empty() {
        return Err(EvalError::MissingColumns {
            file: file.to_string(),
            missing: missing.join(", "),
            found: headers.iter().collect::<Vec<_>>().join(","),
        });
    }
    let idx = idx.map(|i| i.unwrap_or_default());
    let exposure_col = headers.iter().position(|h| h.trim() == "exposure_start");
    let last_col = headers
        .iter()
        .position(|h| h.trim() == "last_malicious_time");
    let entities_col = headers.iter().position(|h| h.trim() == "attack_entities");

    let mut labels = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(file, &e))?;
        let line = rec.position().map_or(0, csv::Position::line);
        let get = |i: usize| rec.get(idx[i]).unwrap_or("").trim();
        let field = |i: usize, reason: String| EvalError::field(file, line, COLUMNS[i], reason);

        let scenario = get(0).to_string();
        if scenario.is_empty() {
            return Err(field(0, "must not be empty".into()));
        }
        if let Some(&first_line) = seen.get(&scenario) {
            return Err(EvalError::Duplicate {
                file: file.to_string(),
                line,
                scenario,
                first_line,
            });
        }
        seen.insert(scenario.clone(), line);
        let subjects = split_list(get(4));
        if subjects.is_empty() {
            return Err(field(4, "must name at least one subject".into()));
        }
        let first_malicious_time = get(5).parse::<Timestamp>().map_err(|e| {
            field(
                5,
                format!("{} is not an RFC 3339 timestamp: {e}", quote(get(5))),
            )
        })?;
        let event_count = get(6).parse::<u64>().map_err(|_| {
            field(
                6,
                format!("{} is not a non-negative integer", quote(get(6))),
            )
        })?;
        // Optional time columns default to the first malicious event.
        let optional_time = |col: Option<usize>, name: &str| -> Result<Timestamp, EvalError> {
            match col
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                Some(v) => v.parse::<Timestamp>().map_err(|e| {
                    EvalError::field(
                        file,
                        line,
                        name,
                        format!("{} is not an RFC 3339 timestamp: {e}", quote(v)),
                    )
                }),
                None => Ok(first_malicious_time),
            }
        };
        let exposure_start = optional_time(exposure_col, "exposure_start")?;
        let last_malicious_time = optional_time(last_col, "last_malicious_time")?;
        let attack_entities = entities_col
            .and_then(|i| rec.get(i))
            .map(split_list)
            .unwrap_or_default();
        labels.push(Label {
            last_malicious_time,
            attack_entities,
            exposure_start,
            scenario,
            title: get(1).to_string(),
            identity: non_empty(get(2)),
            credential: non_empty(get(3)),
            subjects,
            first_malicious_time,
            event_count,
            event_ids: split_list(get(7)),
        });
    }
    Ok(labels)
}

/// Parse the simulator's run summary JSON; `file` names it in errors.
pub fn read_summary(text: &str, file: &str) -> Result<Summary, EvalError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| EvalError::syntax(file, e.line() as u64, e))
}

fn csv_error(file: &str, e: &csv::Error) -> EvalError {
    let line = e.position().map_or(1, csv::Position::line);
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        _ => e.to_string(),
    };
    EvalError::syntax(file, line, reason)
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "scenario,title,identity,credential,subjects,first_malicious_time,event_count,event_ids\n";

    fn parse(rows: &str) -> Result<Vec<Label>, EvalError> {
        read_labels(&format!("{HEADER}{rows}"), "labels.csv")
    }

    #[test]
    fn reads_rows() {
        let labels = parse(
            "a,Leaver key reuse,E1002,login-jwt-2019,E1002;login-jwt-2019; AKIAEXAMPLE ,2025-03-01T10:00:00Z,3,ev1;ev2;ev3\n\
             b,\"Orphan, shared\",,,svc-deploy,2025-03-02T00:00:00+00:00,0,\n",
        )
        .unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(
            labels[0].subjects,
            ["E1002", "login-jwt-2019", "AKIAEXAMPLE"]
        );
        assert_eq!(labels[0].identity.as_deref(), Some("E1002"));
        assert_eq!(labels[0].event_ids.len(), 3);
        assert_eq!(labels[1].title, "Orphan, shared");
        assert_eq!(labels[1].identity, None);
        assert!(labels[1].event_ids.is_empty());
        assert_eq!(
            labels[1].first_malicious_time,
            "2025-03-02T00:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn header_only_is_no_labels_and_column_order_is_free() {
        assert!(parse("").unwrap().is_empty());
        let text = "event_ids,event_count,first_malicious_time,subjects,credential,identity,title,scenario\n\
                    ,1,2025-01-01T00:00:00Z,x,,,T,z\n";
        assert_eq!(read_labels(text, "l.csv").unwrap()[0].scenario, "z");
    }

    #[test]
    fn bad_timestamp_is_located() {
        let err = parse("a,t,,,x,2025-13-01,1,\nb,t,,,y,yesterday,1,\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("labels.csv:2: field `first_malicious_time`: \"2025-13-01\""),
            "{msg}"
        );
    }

    #[test]
    fn bad_rows_are_errors() {
        let e = parse("a,t,,,x,2025-01-01T00:00:00Z,many,\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("labels.csv:2: field `event_count`"),
            "{e}"
        );
        let e = parse("a,t,,,;,2025-01-01T00:00:00Z,1,\n").unwrap_err();
        assert!(
            e.to_string().starts_with("labels.csv:2: field `subjects`"),
            "{e}"
        );
        let e = parse(",t,,,x,2025-01-01T00:00:00Z,1,\n").unwrap_err();
        assert!(
            e.to_string().starts_with("labels.csv:2: field `scenario`"),
            "{e}"
        );
        let e = parse("a,t,,,x,2025-01-01T00:00:00Z,1,\na,u,,,y,2025-01-01T00:00:00Z,1,\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "labels.csv:3: duplicate scenario \"a\" (first seen at line 2)"
        );
        let e = parse("a,t,,,x,2025-01-01T00:00:00Z\n").unwrap_err();
        assert_eq!(e.to_string(), "labels.csv:2: expected 8 fields, found 6");
    }

    #[test]
    fn missing_columns_are_named() {
        let e = read_labels("scenario,title,subjects\n", "labels.csv").unwrap_err();
        assert!(matches!(&e, EvalError::MissingColumns { missing, .. }
            if missing == "identity, credential, first_malicious_time, event_count, event_ids"));
        assert!(read_labels("", "labels.csv").is_err());
    }

    #[test]
    fn reads_summary() {
        let s = read_summary(
            r#"{"start":"2025-01-01T00:00:00Z","end":"2025-03-01T00:00:00Z","days":59,"credentials":400,"identities":120}"#,
            "summary.json",
        )
        .unwrap();
        assert_eq!((s.days, s.credentials, s.identities), (59, 400, 120));
        let e = read_summary("{\n\"start\": 5\n}", "summary.json").unwrap_err();
        assert!(e.to_string().starts_with("summary.json:2: "), "{e}");
    }
}
