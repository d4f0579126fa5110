//! The scope report as a person reads it in a terminal (table) and as programs read it (JSON).

use crate::Report;
use std::fmt::Write;

/// Bytes in binary units.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The report as pretty JSON.
pub fn json(r: &Report) -> String {
    serde_json::to_string_pretty(r).expect("a report serializes") + "\n"
}

/// The report as text.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "scope of {} {}", r.subject_kind, r.subject);
    if r.from.is_some() || r.to.is_some() {
        let _ = writeln!(
            s,
            "  between {} and {}",
            r.from.as_deref().unwrap_or("the start"),
            r.to.as_deref().unwrap_or("the end")
        );
    }
    let _ = writeln!(
        s,
        "  events {}   objects {}   members whose data came back {}   bytes out {} ({})",
        r.events,
        r.objects,
        r.members,
        r.bytes_out,
        human_bytes(r.bytes_out)
    );
    let _ = writeln!(
        s,
        "  first seen {}   last seen {}",
        r.first_seen.as_deref().unwrap_or("-"),
        r.last_seen.as_deref().unwrap_or("-")
    );
    match (r.issuance_log, r.forged_requests, r.forged_members) {
        (Some(true), Some(req), Some(mem)) => {
            let _ = writeln!(
                s,
                "  tokens never issued by the login service: {req} request(s), {mem} member(s) whose data came back, first {}",
                r.first_forged.as_deref().unwrap_or("-")
            );
        }
        (Some(false), _, _) => {
            let _ = writeln!(
                s,
                "  no token-issuance log in the archive: never-issued tokens cannot be told apart (archive the login service's log)"
            );
        }
        _ => {}
    }
    let list = |s: &mut String, title: &str, v: &[crate::Count], n: usize| {
        if v.is_empty() {
            return;
        }
        let _ = writeln!(s, "\n{title}");
        for c in v.iter().take(n) {
            let _ = writeln!(s, "  {:>10}  {}", c.events, c.name);
        }
        if v.len() > n {
            let _ = writeln!(s, "  … {} more", v.len() - n);
        }
    };
    let outcomes: Vec<crate::Count> = r
        .outcomes
        .iter()
        .map(|(k, v)| crate::Count {
            name: k.clone(),
            events: *v,
        })
        .collect();
    list(&mut s, "outcomes", &outcomes, 10);
    list(&mut s, "actions", &r.actions, 15);
    if !r.sensitivity.is_empty() {
        let _ = writeln!(s, "\nobjects by sensitivity");
        for c in &r.sensitivity {
            let _ = writeln!(
                s,
                "  {:>10} objects  {:>10} events  {:>10}  {}",
                c.objects,
                c.events,
                human_bytes(c.bytes_out),
                c.class
            );
        }
    }
    let _ = writeln!(s, "\naddresses: {} distinct", r.addresses);
    list(&mut s, "top addresses", &r.top_addresses, 10);
    list(&mut s, "networks", &r.asns, 10);
    list(&mut s, "countries", &r.countries, 10);
    list(&mut s, "clients", &r.clients, 10);
    if let Some(f) = &r.forged_addresses {
        list(&mut s, "addresses sending never-issued tokens", f, 10);
    }
    if !r.days.is_empty() {
        let _ = writeln!(
            s,
            "\nper day (UTC)           events      bytes out   members"
        );
        for d in &r.days {
            let _ = writeln!(
                s,
                "  {}  {:>10}  {:>12}  {:>8}",
                &d.start[..10.min(d.start.len())],
                d.events,
                human_bytes(d.bytes_out),
                d.members
            );
        }
    }
    if !r.findings.is_empty() {
        let _ = writeln!(s, "\nfindings on the subject");
        for f in &r.findings {
            let rule = f
                .pointer("/finding_info/analytic/uid")
                .or_else(|| f.pointer("/metadata/labels/0"))
                .and_then(|x| x.as_str())
                .unwrap_or("?");
            let sev = f.get("severity").and_then(|x| x.as_str()).unwrap_or("?");
            let msg = f
                .get("message")
                .and_then(|x| x.as_str())
                .unwrap_or_default();
            let _ = writeln!(s, "  {rule} {sev}: {msg}");
        }
    }
    let _ = writeln!(
        s,
        "\nread {} of {} row groups ({} rows) in {} part(s), {:.3} s",
        r.read.row_groups_read, r.read.row_groups, r.read.rows_read, r.read.parts, r.read.seconds
    );
    s
}
