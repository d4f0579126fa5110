//! The scope report as one self-contained HTML page: charts drawn as inline SVG (activity and data
//! volume over time, members per day, top networks), the figures and lists beside them, no script
//! and nothing fetched from elsewhere — it opens the same on an air-gapped analyst's laptop.

use crate::render::human_bytes;
use crate::{Bucket, Count, Report};
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Bars of `values` (label, value) as an SVG chart with a title.
fn bars(title: &str, points: &[(String, f64)], color: &str, fmt: &dyn Fn(f64) -> String) -> String {
    let (w, h, pad) = (900.0, 220.0, 40.0);
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max);
    if points.is_empty() || max <= 0.0 {
        s.push_str("<text x=\"20\" y=\"40\">nothing in this period</text></svg></figure>");
        return s;
    }
    let n = points.len() as f64;
    let bw = (w - 2.0 * pad) / n;
    for (i, (label, v)) in points.iter().enumerate() {
        let bh = (h - 2.0 * pad) * v / max;
        let x = pad + bw * i as f64;
        let y = h - pad - bh;
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{}: {}</title></rect>",
            (bw - 1.0).max(0.5),
            esc(label),
            esc(&fmt(*v))
        );
    }
    let _ = write!(
        s,
        "<text x=\"{pad}\" y=\"{}\" class=\"axis\">{}</text><text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">{}</text><text x=\"4\" y=\"{}\" class=\"axis\">{}</text>",
        h - 12.0,
        esc(&points[0].0),
        w - pad,
        h - 12.0,
        esc(&points[points.len() - 1].0),
        pad - 8.0,
        esc(&fmt(max))
    );
    s.push_str("</svg></figure>");
    s
}

fn hbars(title: &str, items: &[Count]) -> String {
    let items = &items[..items.len().min(12)];
    let (w, row) = (900.0, 22.0);
    let h = row * items.len() as f64 + 10.0;
    let max = items.iter().map(|c| c.events).max().unwrap_or(0) as f64;
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    for (i, c) in items.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let bw = if max > 0.0 {
            560.0 * c.events as f64 / max
        } else {
            0.0
        };
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\" class=\"lbl\">{}</text><rect x=\"260\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"#4c72b0\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"lbl\">{}</text>",
            y + 14.0,
            esc(&c.name.chars().take(36).collect::<String>()),
            row - 6.0,
            265.0 + bw,
            y + 14.0,
            c.events
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn table(title: &str, items: &[Count]) -> String {
    let mut s = format!(
        "<h3>{}</h3><table><tr><th>events</th><th>name</th></tr>",
        esc(title)
    );
    for c in items.iter().take(50) {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td></tr>", c.events, esc(&c.name));
    }
    s.push_str("</table>");
    s
}

fn series(b: &[Bucket], f: impl Fn(&Bucket) -> f64, day: bool) -> Vec<(String, f64)> {
    b.iter()
        .map(|x| {
            let label = if day {
                &x.start[..10.min(x.start.len())]
            } else {
                &x.start[..13.min(x.start.len())]
            };
            (label.to_string(), f(x))
        })
        .collect()
}

/// The page.
pub fn page(r: &Report) -> String {
    let mut s = String::new();
    let title = format!("Scope of {} {}", r.subject_kind, r.subject);
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
body{{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:960px}}h1{{font-size:20px}}\
.kpi{{display:flex;flex-wrap:wrap;gap:12px}}.kpi div{{border:1px solid #ddd;border-radius:6px;padding:8px 12px}}\
.kpi b{{display:block;font-size:20px}}figure{{margin:16px 0}}figcaption{{font-weight:600}}svg{{width:100%;height:auto}}\
.axis,.lbl{{font-size:12px;fill:#555}}table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #eee;padding:2px 8px;text-align:left}}\
.warn{{background:#fff3cd;padding:8px;border-radius:6px}}</style></head><body><h1>{}</h1>",
        esc(&title),
        esc(&title)
    );
    let _ = write!(
        s,
        "<p>{} — {}</p><div class=\"kpi\"><div><b>{}</b>events</div><div><b>{}</b>objects</div><div><b>{}</b>members whose data came back</div><div><b>{}</b>bytes out</div><div><b>{}</b>addresses</div>",
        esc(r.first_seen.as_deref().unwrap_or("no events")),
        esc(r.last_seen.as_deref().unwrap_or("")),
        r.events,
        r.objects,
        r.members,
        esc(&human_bytes(r.bytes_out)),
        r.addresses
    );
    if let (Some(req), Some(mem)) = (r.forged_requests, r.forged_members) {
        let _ = write!(
            s,
            "<div><b>{req}</b>requests with never-issued tokens</div><div><b>{mem}</b>members exposed to them</div>"
        );
    }
    s.push_str("</div>");
    if r.issuance_log == Some(false) {
        s.push_str("<p class=\"warn\">No token-issuance log was archived: requests with tokens the login service never issued cannot be told apart.</p>");
    }
    let daily = r.days.len() > 2;
    let buckets = if daily { &r.days } else { &r.hours };
    let unit = if daily { "day" } else { "hour" };
    let count = |v: f64| format!("{v:.0}");
    let bytes = |v: f64| human_bytes(v as u64);
    s.push_str(&bars(
        &format!("Events per {unit} (UTC)"),
        &series(buckets, |b| b.events as f64, daily),
        "#4c72b0",
        &count,
    ));
    s.push_str(&bars(
        &format!("Data out per {unit}"),
        &series(buckets, |b| b.bytes_out as f64, daily),
        "#dd8452",
        &bytes,
    ));
    s.push_str(&bars(
        "Members whose data came back, per day",
        &series(&r.days, |b| b.members as f64, true),
        "#55a868",
        &count,
    ));
    if r.forged_requests.is_some() {
        s.push_str(&bars(
            &format!("Requests with never-issued tokens per {unit}"),
            &series(buckets, |b| b.forged_requests as f64, daily),
            "#c44e52",
            &count,
        ));
    }
    let nets = if r.asns.is_empty() {
        &r.top_addresses
    } else {
        &r.asns
    };
    s.push_str(&hbars("Top networks", nets));
    s.push_str(&table("Actions", &r.actions));
    s.push_str("<h3>Objects by sensitivity</h3><table><tr><th>class</th><th>objects</th><th>events</th><th>bytes out</th></tr>");
    for c in &r.sensitivity {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.class),
            c.objects,
            c.events,
            esc(&human_bytes(c.bytes_out))
        );
    }
    s.push_str("</table>");
    s.push_str(&table("Top addresses", &r.top_addresses));
    s.push_str(&table("Countries", &r.countries));
    s.push_str(&table("Clients", &r.clients));
    if !r.findings.is_empty() {
        s.push_str("<h3>Findings on the subject</h3><ul>");
        for f in &r.findings {
            let msg = f
                .get("message")
                .and_then(|x| x.as_str())
                .unwrap_or_default();
            let sev = f
                .get("severity")
                .and_then(|x| x.as_str())
                .unwrap_or_default();
            let _ = write!(s, "<li><b>{}</b> {}</li>", esc(sev), esc(msg));
        }
        s.push_str("</ul>");
    }
    let _ = writeln!(
        s,
        "<p class=\"axis\">Read {} of {} row groups ({} rows) in {} part(s), {:.3} s. Generated by credwarden {}.</p></body></html>",
        r.read.row_groups_read,
        r.read.row_groups,
        r.read.rows_read,
        r.read.parts,
        r.read.seconds,
        env!("CARGO_PKG_VERSION")
    );
    s
}
