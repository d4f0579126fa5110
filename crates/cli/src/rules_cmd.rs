//! `credwarden rules`: the rule catalogue, so analysts can see what each id means: the audit's posture
//! rules (CW-A…), the detectors (CW-D…), the behavioural baselines (CW-B…) and the rule pack (CW-R…).

use crate::args::{Global, RulesArgs};
use crate::output;
use credwarden_report::Format;
use std::io::Write;

/// Print every rule's metadata.
pub fn run(_g: &Global, a: &RulesArgs) -> Result<u8, String> {
    let mut out = std::io::stdout().lock();
    let mut metas: Vec<&'static credwarden_model::RuleMeta> = credwarden_audit::rules::ALL
        .iter()
        .map(|r| r.meta)
        .collect();
    let mut detectors = credwarden_detect::all();
    detectors.extend(credwarden_detect::detectors::with_identities(
        std::sync::Arc::new(credwarden_model::Directory::default()),
        &[],
    ));
    let mut detect: Vec<_> = detectors.iter().map(|d| d.meta()).collect();
    detect.sort_by_key(|m| m.id);
    metas.extend(detect);
    if !a.ids.is_empty() {
        let wanted: Vec<String> = a.ids.iter().map(|i| i.to_ascii_uppercase()).collect();
        metas.retain(|m| wanted.iter().any(|w| m.id.starts_with(w.as_str())));
        if metas.is_empty() {
            return Err(format!(
                "no rule matches {} (see `credwarden rules` for the list)",
                a.ids.join(", ")
            ));
        }
    }
    let res = match output::format(a.format, false) {
        Format::Json => metas.iter().try_for_each(|m| {
            serde_json::to_writer(&mut out, m).map_err(std::io::Error::other)?;
            writeln!(out)
        }),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            std::iter::once(
                ["id", "name", "severity", "attack", "d3fend", "title"].map(String::from),
            )
            .chain(metas.iter().map(|m| {
                [
                    m.id.to_string(),
                    m.name.to_string(),
                    m.severity.to_string(),
                    m.attack
                        .iter()
                        .map(|a| a.technique)
                        .collect::<Vec<_>>()
                        .join(" "),
                    m.d3fend.iter().map(|d| d.id).collect::<Vec<_>>().join(" "),
                    m.title.to_string(),
                ]
            }))
            .try_for_each(|r| w.write_record(r).map_err(std::io::Error::other))
            .and_then(|_| w.flush())
        }
        Format::Table => metas.iter().try_for_each(|m| {
            let attack: Vec<&str> = m.attack.iter().map(|a| a.technique).collect();
            writeln!(
                out,
                "{:8}  {:8}  {:32}  {}\n          ATT&CK {}  D3FEND {}\n          {}\n",
                m.id,
                m.severity.to_string(),
                m.name,
                m.title,
                attack.join(", "),
                m.d3fend.iter().map(|d| d.id).collect::<Vec<_>>().join(", "),
                m.recommendation
            )
        }),
    };
    res.map_err(|e| e.to_string())?;
    Ok(0)
}
