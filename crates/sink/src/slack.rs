//! The Slack incoming-webhook payload: one message per batch, `{"text": ..., "blocks": [...]}`.
//!
//! Blocks: a header with the count and severity breakdown, then one section per finding
//! (`*SEVERITY* `rule id` title`, the subject, the message). Slack rejects a message with more than
//! [`MAX_BLOCKS`] blocks or a section over 3,000 characters, so a batch with more findings shows the
//! first [`MAX_BLOCKS`]` - 2` and ends with a context block "…and N more"; long lines are cut with `…`.
//! `text` (the notification fallback) carries the same lines in plain text, within the same bounds.

use credwarden_model::{Finding, Severity, Subject};
use serde_json::{json, Value};
use std::fmt::Write;

/// Most blocks Slack accepts in one message.
pub const MAX_BLOCKS: usize = 50;
/// Most characters in a section block's text.
const MAX_SECTION_CHARS: usize = 3000;
/// Most characters in a header block's text.
const MAX_HEADER_CHARS: usize = 150;
/// Most characters we put in the fallback `text` (Slack's own limit is 40,000).
const MAX_TEXT_CHARS: usize = 12_000;

/// The request body for one batch.
pub(crate) fn encode(findings: &[Finding]) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&payload(findings))
}

/// The Slack message for one batch.
pub(crate) fn payload(findings: &[Finding]) -> Value {
    let n = findings.len();
    // Header + one section per finding, or header + (MAX_BLOCKS - 2) sections + "…and N more".
    let shown = if n < MAX_BLOCKS { n } else { MAX_BLOCKS - 2 };
    let summary = summary(findings);

    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&summary, MAX_HEADER_CHARS)},
    })];
    let mut text = summary;
    for f in &findings[..shown] {
        let subject = subject(&f.subject);
        let mrkdwn = format!(
            "*{}* `{}` {}\n{}\n{}",
            f.severity.caption().to_uppercase(),
            escape(f.rule.id),
            escape(f.rule.title),
            escape(&subject),
            escape(&f.message),
        );
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate(&mrkdwn, MAX_SECTION_CHARS)},
        }));
        let _ = write!(
            text,
            "\n[{}] {} {} | {} | {}",
            f.severity.caption().to_uppercase(),
            f.rule.id,
            f.rule.title,
            subject,
            f.message
        );
    }
    if shown < n {
        let more = format!("…and {} more", n - shown);
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": more}],
        }));
        let _ = write!(text, "\n{more}");
    }
    json!({"text": truncate(&text, MAX_TEXT_CHARS), "blocks": blocks})
}

/// `credwarden: 3 findings (1 critical, 2 high)`.
fn summary(findings: &[Finding]) -> String {
    let n = findings.len();
    let mut out = format!("credwarden: {n} finding{}", if n == 1 { "" } else { "s" });
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|&s| {
            let c = findings.iter().filter(|f| f.severity == s).count();
            (c > 0).then(|| format!("{c} {s}"))
        })
        .collect();
    if !counts.is_empty() {
        let _ = write!(out, " ({})", counts.join(", "));
    }
    out
}

/// Who or what a finding is about: `system/principal · credential ID`, else the identity.
fn subject(s: &Subject) -> String {
    let mut parts = Vec::new();
    match (&s.system, &s.principal) {
        (Some(sys), Some(p)) => parts.push(format!("{sys}/{p}")),
        (None, Some(p)) => parts.push(p.clone()),
        _ => {}
    }
    if let Some(c) = &s.credential_id {
        parts.push(format!("credential {c}"));
    }
    if parts.is_empty() {
        if let Some(i) = s.identity_label.as_ref().or(s.identity_id.as_ref()) {
            parts.push(i.clone());
        }
    }
    if parts.is_empty() {
        "(no subject)".to_string()
    } else {
        parts.join(" · ")
    }
}

/// Slack mrkdwn control characters, escaped as Slack asks.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters, the last one `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use credwarden_model::RuleMeta;

    static META: RuleMeta = RuleMeta {
        id: "CW-T001",
        name: "test",
        version: 1,
        title: "Test <rule>",
        description: "d",
        severity: Severity::High,
        attack: &[],
        d3fend: &[],
        false_positives: &[],
        recommendation: "r",
    };

    fn finding(i: usize) -> Finding {
        Finding::new(
            &META,
            Subject {
                system: Some("aws".into()),
                principal: Some(format!("svc-{i}")),
                credential_id: Some(format!("AKIA{i:04}")),
                ..Default::default()
            },
            format!("key {i} & more"),
            jiff::Timestamp::UNIX_EPOCH,
        )
    }

    fn section_texts(v: &Value) -> Vec<String> {
        v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "section")
            .map(|b| b["text"]["text"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn one_section_per_finding_with_severity_rule_subject_message() {
        let mut fs: Vec<Finding> = (0..3).map(finding).collect();
        fs[0].severity = Severity::Critical;
        let v = payload(&fs);
        assert_eq!(
            v["text"].as_str().unwrap().lines().next().unwrap(),
            "credwarden: 3 findings (1 critical, 2 high)"
        );
        assert_eq!(v["blocks"][0]["type"], "header");
        let sections = section_texts(&v);
        assert_eq!(sections.len(), 3);
        assert_eq!(
            sections[0],
            "*CRITICAL* `CW-T001` Test &lt;rule&gt;\naws/svc-0 · credential AKIA0000\nkey 0 &amp; more"
        );
    }

    #[test]
    fn stays_within_fifty_blocks() {
        for (n, shown, more) in [(49, 49, None), (50, 48, Some(2)), (120, 48, Some(72))] {
            let fs: Vec<Finding> = (0..n).map(finding).collect();
            let v = payload(&fs);
            let blocks = v["blocks"].as_array().unwrap();
            assert!(blocks.len() <= MAX_BLOCKS, "{n}: {} blocks", blocks.len());
            assert_eq!(section_texts(&v).len(), shown, "{n}");
            if let Some(m) = more {
                let last = blocks.last().unwrap();
                assert_eq!(last["type"], "context");
                assert_eq!(last["elements"][0]["text"], format!("…and {m} more"));
                assert!(v["text"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("…and {m} more")));
            }
        }
    }

    #[test]
    fn long_messages_are_cut() {
        let mut f = finding(1);
        f.message = "x".repeat(5000);
        let v = payload(&[f]);
        let s = &section_texts(&v)[0];
        assert_eq!(s.chars().count(), MAX_SECTION_CHARS);
        assert!(s.ends_with('…'));
    }
}
