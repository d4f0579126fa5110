//! Agreement between our rules and Panther's rule tests (shared by the CloudTrail and GCP tests): each
//! mapped test event goes through every detector; whether our rule fired is compared with whether
//! Panther's should. Returns (agreeing, total) and prints the table.

use credwarden_model::Event;
use std::collections::BTreeMap;

/// Run the Panther tests in `jsonl` whose rule `same` maps to one of ours; `normalize` turns a test
/// event into ours (`None`: not an event we read).
pub fn agreement(
    jsonl: &str,
    same: &[(&str, &str)],
    normalize: &dyn Fn(&serde_json::Value, u64) -> Option<Event>,
) -> (u32, u32) {
    let same: BTreeMap<&str, &str> = same.iter().copied().collect();
    // rule → (agree, we fire but Panther would not, Panther fires and we do not)
    let mut table: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    for (n, line) in jsonl.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(ours) = same.get(v["rule"].as_str().unwrap_or("")) else {
            continue;
        };
        let Some(ev) = normalize(&v["event"], n as u64 + 1) else {
            continue;
        };
        let mut out = Vec::new();
        for d in credwarden_detect::all().iter_mut() {
            d.on_event(&ev, &mut out);
        }
        let fired = out.iter().any(|f| f.rule.id == *ours);
        let e = table
            .entry(format!("{} ~ {ours}", v["rule"].as_str().unwrap()))
            .or_default();
        match (fired, v["expected"].as_bool().unwrap()) {
            (a, b) if a == b => e.0 += 1,
            (true, false) => e.1 += 1,
            _ => e.2 += 1,
        }
    }
    let (mut agree, mut total) = (0, 0);
    eprintln!("{:<66} agree  we-only  panther-only", "Panther rule ~ ours");
    for (k, (a, x, y)) in &table {
        eprintln!("{k:<66} {a:>5} {x:>8} {y:>12}");
        agree += a;
        total += a + x + y;
    }
    eprintln!("agreement {agree}/{total}");
    (agree, total)
}
