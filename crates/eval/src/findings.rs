//! credwarden's findings as the evaluator sees them: the few fields of an OCSF Detection Finding
//! JSON line that scoring needs, and de-duplication by fingerprint across runs.

use crate::error::{quote, EvalError};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// One finding, reduced to what scoring needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    /// Stable fingerprint (`finding_info.uid`): the same condition has the same uid in every run.
    pub uid: String,
    /// Rule id (`finding_info.analytic.uid`), e.g. `CW-A002`.
    pub rule: String,
    /// When the finding was emitted (`time`, epoch milliseconds).
    pub time: Timestamp,
    /// When the reported condition began (`finding_info.first_seen_time`), if the finding says: an
    /// old-key finding raised after an attack began is not a detection of it.
    pub since: Option<Timestamp>,
    /// OCSF `severity_id` (1 informational … 5 critical, 6 fatal; 0 unknown, 99 other).
    pub severity_id: u8,
    /// Every subject name the finding carries: `resources[].uid`, `resources[].owner.uid` and
    /// `unmapped.subject.{identity_id, credential_id, principal}`, without duplicates.
    pub names: Vec<String>,
    /// The finding's observables (`observables[].value`): addresses, networks, token and request
    /// ids it names beyond its subject.
    pub observables: Vec<String>,
}

impl FindingRef {
    /// Severity for ranking: `severity_id`, except that 99 ("other") ranks with 0 ("unknown").
    pub fn severity_rank(&self) -> u8 {
        if self.severity_id == 99 {
            0
        } else {
            self.severity_id
        }
    }
}

/// Parse OCSF JSON lines (blank lines are skipped); `file` names the input in errors.
pub fn read_findings(text: &str, file: &str) -> Result<Vec<FindingRef>, EvalError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .zip(1u64..)
        .filter(|(l, _)| !l.trim().is_empty())
        .map(|(l, n)| parse_line(l, file, n))
        .collect()
}

fn parse_line(text: &str, file: &str, line: u64) -> Result<FindingRef, EvalError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| EvalError::syntax(file, line, format!("not a JSON finding: {e}")))?;
    if !v.is_object() {
        return Err(EvalError::syntax(file, line, "expected a JSON object"));
    }
    let field = |name: &str, reason: &str| {
        let got = match v.pointer(&format!("/{}", name.replace('.', "/"))) {
            None | Some(Value::Null) => "missing".to_string(),
            Some(other) => quote(&other.to_string()),
        };
        EvalError::field(file, line, name, format!("{got}: {reason}"))
    };
    let string = |name: &str| {
        v.pointer(&format!("/{}", name.replace('.', "/")))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| field(name, "expected a non-empty string"))
    };
    let ms = v
        .get("time")
        .and_then(Value::as_i64)
        .ok_or_else(|| field("time", "expected epoch milliseconds"))?;
    let time = Timestamp::from_millisecond(ms).map_err(|_| field("time", "out of range"))?;
    let severity_id = v
        .get("severity_id")
        .and_then(Value::as_u64)
        .and_then(|n| u8::try_from(n).ok())
        .ok_or_else(|| field("severity_id", "expected an integer 0-255"))?;

    let mut names: Vec<String> = Vec::new();
    let mut add = |n: Option<&Value>| {
        if let Some(s) = n.and_then(Value::as_str).filter(|s| !s.is_empty()) {
            if !names.iter().any(|x| x == s) {
                names.push(s.to_string());
            }
        }
    };
    for r in v
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add(r.get("uid"));
        add(r.pointer("/owner/uid"));
    }
    if let Some(subject) = v.pointer("/unmapped/subject") {
        for key in ["identity_id", "credential_id", "principal"] {
            add(subject.get(key));
        }
    }
    let observables: Vec<String> = v
        .get("observables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("value").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let since = match v.pointer("/finding_info/first_seen_time") {
        None | Some(Value::Null) => None,
        Some(x) => Some(
            x.as_i64()
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .ok_or_else(|| {
                    field(
                        "finding_info.first_seen_time",
                        "expected epoch milliseconds",
                    )
                })?,
        ),
    };
    Ok(FindingRef {
        uid: string("finding_info.uid")?,
        rule: string("finding_info.analytic.uid")?,
        time,
        since,
        severity_id,
        names,
        observables,
    })
}

/// One finding per fingerprint, keeping the earliest report of each (first one read on a tie),
/// sorted by time then fingerprint.
pub fn dedup(findings: &[FindingRef]) -> Vec<FindingRef> {
    let mut by_uid: HashMap<&str, &FindingRef> = HashMap::new();
    for f in findings {
        let kept = by_uid.entry(&f.uid).or_insert(f);
        if f.time < kept.time {
            *kept = f;
        }
    }
    let mut unique: Vec<FindingRef> = by_uid.into_values().cloned().collect();
    unique.sort_by(|a, b| (a.time, &a.uid).cmp(&(b.time, &b.uid)));
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(uid: &str, ms: i64) -> String {
        json!({
            "time": ms, "severity_id": 5, "class_uid": 2004,
            "finding_info": {"uid": uid, "analytic": {"uid": "CW-A002"}},
            "resources": [{"uid": "arn:aws:iam::1:user/dosei#access_key_1", "owner": {"uid": "E1004"}}],
            "unmapped": {"subject": {"identity_id": "E1004",
                "credential_id": "arn:aws:iam::1:user/dosei#access_key_1", "principal": null}}
        })
        .to_string()
    }

    #[test]
    fn reads_fields_and_skips_blank_lines() {
        let text = format!(
            "{}\n\n  \n{}\r\n",
            line("u1", 1_763_423_999_000),
            line("u2", 0)
        );
        let fs = read_findings(&text, "f.jsonl").unwrap();
        assert_eq!(fs.len(), 2);
        assert_eq!(fs[0].uid, "u1");
        assert_eq!(fs[0].rule, "CW-A002");
        assert_eq!(fs[0].severity_id, 5);
        assert_eq!(fs[0].time.to_string(), "2025-11-17T23:59:59Z");
        assert_eq!(
            fs[0].names,
            ["arn:aws:iam::1:user/dosei#access_key_1", "E1004"]
        );
    }

    #[test]
    fn malformed_line_is_named() {
        let text = format!("{}\n{{\"time\": 1,\n", line("u1", 0));
        let e = read_findings(&text, "f.jsonl").unwrap_err();
        assert!(
            e.to_string().starts_with("f.jsonl:2: not a JSON finding"),
            "{e}"
        );
        let e = read_findings("[1]\n", "f.jsonl").unwrap_err();
        assert_eq!(e.to_string(), "f.jsonl:1: expected a JSON object");
    }

    #[test]
    fn missing_or_bad_fields_are_named() {
        let mut v: Value = serde_json::from_str(&line("u1", 0)).unwrap();
        v["finding_info"].as_object_mut().unwrap().remove("uid");
        let e = read_findings(&format!("\n{v}"), "f.jsonl").unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.jsonl:2: field `finding_info.uid`: missing: expected a non-empty string"
        );
        v["finding_info"]["uid"] = json!("u1");
        v["time"] = json!("yesterday");
        let e = read_findings(&v.to_string(), "f.jsonl").unwrap_err();
        assert!(
            e.to_string().starts_with("f.jsonl:1: field `time`: "),
            "{e}"
        );
        v["time"] = json!(0);
        v["severity_id"] = json!(300);
        let e = read_findings(&v.to_string(), "f.jsonl").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.jsonl:1: field `severity_id`: \"300\""),
            "{e}"
        );
    }

    #[test]
    fn dedup_keeps_earliest_per_fingerprint() {
        let text = [
            line("u1", 3_000),
            line("u2", 2_000),
            line("u1", 1_000),
            line("u1", 5_000),
        ]
        .join("\n");
        let unique = dedup(&read_findings(&text, "f.jsonl").unwrap());
        let got: Vec<(&str, i64)> = unique
            .iter()
            .map(|f| (f.uid.as_str(), f.time.as_millisecond()))
            .collect();
        assert_eq!(got, [("u1", 1_000), ("u2", 2_000)]);
    }
}
