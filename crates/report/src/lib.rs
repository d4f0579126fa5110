//! Renders findings: OCSF Detection Finding JSON lines for machines, CSV for spreadsheets, an aligned
//! table (optionally coloured) for people. Writers take any `io::Write`; the CLI picks stdout or a file.

use credwarden_model::ocsf::DetectionFinding;
use credwarden_model::{Finding, Severity};
use std::io::{self, Write};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// OCSF 2004 JSON, one finding per line.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Write findings in `format`.
pub fn write(
    w: &mut dyn Write,
    findings: &[Finding],
    format: Format,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(w, findings),
        Format::Csv => write_csv(w, findings),
        Format::Table => write_table(w, findings, color),
    }
}

/// OCSF JSON lines.
pub fn write_json(w: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *w, &DetectionFinding::from_finding(f))?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// CSV columns, in order.
pub const CSV_COLUMNS: [&str; 14] = [
    "severity",
    "rule_id",
    "title",
    "credential_id",
    "credential_kind",
    "system",
    "principal",
    "identity_id",
    "identity",
    "days_since_termination",
    "message",
    "attack",
    "evidence",
    "fingerprint",
];

/// CSV with a header.
pub fn write_csv(w: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(CSV_COLUMNS)?;
    for f in findings {
        let s = &f.subject;
        let days = f
            .facts
            .get("days_since_termination")
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
            .unwrap_or_default();
        let attack: Vec<&str> = f.rule.attack.iter().map(|a| a.technique).collect();
        let evidence: Vec<String> = f.evidence.iter().map(|e| e.to_string()).collect();
        out.write_record([
            f.severity.to_string().as_str(),
            f.rule.id,
            f.rule.title,
            s.credential_id.as_deref().unwrap_or(""),
            s.credential_kind.as_deref().unwrap_or(""),
            s.system.as_deref().unwrap_or(""),
            s.principal.as_deref().unwrap_or(""),
            s.identity_id.as_deref().unwrap_or(""),
            s.identity_label.as_deref().unwrap_or(""),
            days.as_str(),
            f.message.as_str(),
            attack.join(" ").as_str(),
            evidence.join(" ").as_str(),
            f.fingerprint().as_str(),
        ])?;
    }
    out.flush()
}

fn paint(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
        Severity::Info => "\x1b[2m",
    }
}

/// `2032106778 bytes` → `1.9 GiB` in a message (sizes for people).
fn human_sizes(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(" bytes") {
        let head = &rest[..i];
        let start = head
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |k| k + 1);
        match head[start..].parse::<u64>() {
            Ok(n) if n >= 10_000 => {
                out.push_str(&head[..start]);
                let units = ["KiB", "MiB", "GiB", "TiB"];
                let (mut v, mut u) = (n as f64 / 1024.0, 0);
                while v >= 1024.0 && u < units.len() - 1 {
                    v /= 1024.0;
                    u += 1;
                }
                out.push_str(&format!("{v:.1} {}", units[u]));
            }
            _ => out.push_str(&rest[..i + 6]),
        }
        rest = &rest[i + 6..];
    }
    out.push_str(rest);
    out
}

/// Who a finding is about, for the table: the person when known, else the principal (shortened).
fn who(f: &Finding) -> String {
    if let Some(l) = &f.subject.identity_label {
        return l.clone();
    }
    match (&f.subject.identity_id, &f.subject.principal) {
        (Some(id), _) => id.clone(),
        (None, Some(p)) => {
            let p = p.rsplit_once(":user/").map_or(p.as_str(), |(_, u)| u);
            if p.chars().count() > 32 {
                format!("{}…", p.chars().take(31).collect::<String>())
            } else {
                p.to_string()
            }
        }
        (None, None) => "-".into(),
    }
}

/// Aligned table for people: time (UTC), severity, rule, who, finding; most severe first, then by
/// time; sizes in human units.
pub fn write_table(w: &mut dyn Write, findings: &[Finding], color: bool) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(w, "No findings.");
    }
    let mut order: Vec<&Finding> = findings.iter().collect();
    order.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.time.cmp(&b.time)));
    let rows: Vec<[String; 5]> = order
        .iter()
        .map(|f| {
            [
                f.time.strftime("%Y-%m-%d %H:%M").to_string(),
                f.severity.to_string().to_uppercase(),
                f.rule.id.to_string(),
                who(f),
                human_sizes(&f.message),
            ]
        })
        .collect();
    let head = ["TIME (UTC)", "SEVERITY", "RULE", "WHO", "FINDING"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([head[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
    writeln!(
        w,
        "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
        head[0], head[1], head[2], head[3], head[4]
    )?;
    for (f, r) in order.iter().zip(&rows) {
        let sev = format!("{:w1$}", r[1]);
        let sev = if color {
            format!("{}{sev}\x1b[0m", paint(f.severity))
        } else {
            sev
        };
        writeln!(
            w,
            "{:w0$}  {sev}  {:w2$}  {:w3$}  {}",
            r[0], r[2], r[3], r[4]
        )?;
    }
    Ok(())
}

/// Count findings per severity, most severe first, for a one-line summary.
pub fn summary(findings: &[Finding]) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| (s, findings.iter().filter(|f| f.severity == *s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    if parts.is_empty() {
        "0 findings".into()
    } else {
        format!("{} findings ({})", findings.len(), parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credwarden_model::{RuleMeta, SourceRef, Subject};

    static META: RuleMeta = RuleMeta {
        id: "CW-T001",
        name: "test",
        version: 1,
        title: "Test rule",
        description: "d",
        severity: Severity::High,
        attack: &[],
        d3fend: &[],
        false_positives: &[],
        recommendation: "r",
    };

    fn finding(msg: &str, sev: Severity) -> Finding {
        let mut f = Finding::new(
            &META,
            Subject {
                credential_id: Some("k,1".into()),
                ..Default::default()
            },
            msg.into(),
            jiff::Timestamp::UNIX_EPOCH,
        )
        .fact("days_since_termination", 12);
        f.severity = sev;
        f.evidence = vec![SourceRef::new("inv.csv", 3)];
        f
    }

    fn render(findings: &[Finding], format: Format, color: bool) -> String {
        let mut buf = Vec::new();
        write(&mut buf, findings, format, color).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn csv_quotes_and_keeps_columns() {
        let out = render(
            &[finding("a \"quoted\", message", Severity::High)],
            Format::Csv,
            false,
        );
        let mut rdr = csv::Reader::from_reader(out.as_bytes());
        assert_eq!(rdr.headers().unwrap().len(), CSV_COLUMNS.len());
        let row = rdr.records().next().unwrap().unwrap();
        assert_eq!(&row[3], "k,1");
        assert_eq!(&row[9], "12");
        assert_eq!(&row[10], "a \"quoted\", message");
        assert_eq!(&row[12], "inv.csv:3");
    }

    #[test]
    fn table_colours_only_when_asked() {
        let f = [finding("m", Severity::Critical)];
        assert!(!render(&f, Format::Table, false).contains('\x1b'));
        assert!(render(&f, Format::Table, true).contains("\x1b[1;31mCRITICAL"));
        assert_eq!(render(&[], Format::Table, false), "No findings.\n");
        assert_eq!(render(&[], Format::Json, false), "");
    }

    #[test]
    fn summary_counts_by_severity() {
        let f = [
            finding("a", Severity::Critical),
            finding("b", Severity::Low),
            finding("c", Severity::Low),
        ];
        assert_eq!(summary(&f), "3 findings (1 critical, 2 low)");
        assert_eq!(summary(&[]), "0 findings");
    }

    #[test]
    fn sizes_read_in_human_units() {
        assert_eq!(human_sizes("sent 2032106778 bytes out"), "sent 1.9 GiB out");
        assert_eq!(
            human_sizes("512 bytes, then 20480 bytes"),
            "512 bytes, then 20.0 KiB"
        );
        assert_eq!(human_sizes("no size"), "no size");
    }
}
