//! CW-R…: detections as data. Each `[[rule]]` of `rules/cloudtrail.toml` (embedded) or of a user's rule
//! file names a service, actions (a trailing `*` matches a prefix: Lambda's versioned names), the
//! outcome, conditions on the event's details (JSON pointers) and optionally a count per credential in a
//! window (with a distinct field). Each rule is one detector with its own metadata, so it is listed,
//! fingerprinted and scored like the hand-written ones.
//!
//! Conditions (all must hold): `equals` (any JSON value), `starts_with_any` and `contains_any` (the
//! string, or any string under the field), `exists`,
//! `any_string_ends_with` (some string anywhere under the field), `any_key` (some object under the field
//! has one of these keys).

use crate::{finding_for, Detector};
use credwarden_model::{AttackRef, D3fendRef, Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};

/// The built-in rule pack for AWS CloudTrail.
pub const BUILTIN: &str = include_str!("../../rules/cloudtrail.toml");
/// The built-in rule pack for GCP Cloud Audit Logs.
pub const BUILTIN_GCP: &str = include_str!("../../rules/gcp.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rule: Vec<RuleToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefToml {
    technique: String,
    name: String,
    tactic: String,
    tactic_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct D3Toml {
    id: String,
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Condition {
    field: String,
    #[serde(default)]
    equals: Option<Value>,
    #[serde(default)]
    starts_with_any: Option<Vec<String>>,
    #[serde(default)]
    exists: Option<bool>,
    #[serde(default)]
    contains_any: Option<Vec<String>>,
    #[serde(default)]
    any_string_ends_with: Option<String>,
    #[serde(default)]
    any_key: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Count {
    at_least: usize,
    within_secs: i64,
    #[serde(default)]
    distinct: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    id: String,
    name: String,
    title: String,
    description: String,
    severity: String,
    attack: Vec<RefToml>,
    d3fend: Vec<D3Toml>,
    false_positives: Vec<String>,
    recommendation: String,
    #[serde(default)]
    source: Option<String>,
    actions: Vec<String>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default, rename = "where")]
    conditions: Vec<Condition>,
    #[serde(default)]
    count: Option<Count>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// One data rule as a detector.
pub struct DataRule {
    meta: &'static RuleMeta,
    source: Option<String>,
    /// Exact action names.
    actions: Vec<String>,
    /// Action prefixes (rules written `Name*`).
    prefixes: Vec<String>,
    outcome: Option<EventOutcome>,
    conditions: Vec<Condition>,
    count: Option<Count>,
    /// Per actor: recent (time, distinct value hash) within the window.
    recent: HashMap<String, VecDeque<(i64, u64)>>,
    /// Actors reported, per window start, to report a burst once.
    fired: HashSet<(String, i64)>,
}

fn strings_under<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings_under(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings_under(x, out)),
        _ => {}
    }
}

fn has_key(v: &Value, keys: &[String]) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| keys.iter().any(|w| w == k) || has_key(x, keys)),
        Value::Array(a) => a.iter().any(|x| has_key(x, keys)),
        _ => false,
    }
}

impl Condition {
    fn holds(&self, detail: &Value) -> bool {
        let v = detail.pointer(&self.field).filter(|v| !v.is_null());
        if let Some(want) = self.exists {
            if v.is_some() != want {
                return false;
            }
        }
        if let Some(eq) = &self.equals {
            // `true` in a rule matches `true` and `"true"` in a log (CloudTrail is not consistent).
            let ok = v.is_some_and(|v| {
                v == eq
                    || v.as_str()
                        .is_some_and(|s| s == eq.to_string().trim_matches('"'))
            });
            if !ok {
                return false;
            }
        }
        let mut under = Vec::new();
        if let Some(v) = v {
            strings_under(v, &mut under);
        }
        if let Some(prefixes) = &self.starts_with_any {
            // The string itself, or any string under it (`{"value": "p2.xlarge"}` in some logs).
            if !under
                .iter()
                .any(|s| prefixes.iter().any(|p| s.starts_with(p.as_str())))
            {
                return false;
            }
        }
        if let Some(parts) = &self.contains_any {
            if !under
                .iter()
                .any(|s| parts.iter().any(|p| s.contains(p.as_str())))
            {
                return false;
            }
        }
        if let Some(suffix) = &self.any_string_ends_with {
            if !under.iter().any(|s| s.ends_with(suffix.as_str())) {
                return false;
            }
        }
        if let Some(keys) = &self.any_key {
            if !v.is_some_and(|v| has_key(v, keys)) {
                return false;
            }
        }
        true
    }
}

/// Parse a rule file (`[[rule]]` tables); errors name the file, the line and the rule.
pub fn load(text: &str, file: &str) -> Result<Vec<Box<dyn Detector>>, String> {
    let parsed: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| 1 + text[..s.start].matches('\n').count());
        format!(
            "{file}{}: {}",
            line.map(|l| format!(":{l}")).unwrap_or_default(),
            e.message()
        )
    })?;
    let mut out: Vec<Box<dyn Detector>> = Vec::new();
    let mut ids = HashSet::new();
    for r in parsed.rule {
        let bad = |why: String| format!("{file}: rule {}: {why}", r.id);
        if !ids.insert(r.id.clone()) {
            return Err(bad("id used twice".into()));
        }
        let severity: Severity = r.severity.parse().map_err(bad)?;
        if r.actions.is_empty() {
            return Err(bad("`actions` is empty".into()));
        }
        let outcome = match r.outcome.as_deref() {
            None | Some("success") => Some(EventOutcome::Success),
            Some("any") => None,
            Some("denied") => Some(EventOutcome::Denied),
            Some(o) => {
                return Err(bad(format!(
                    "outcome `{o}`: expected success, denied or any"
                )))
            }
        };
        for c in &r.conditions {
            if !c.field.starts_with('/') {
                return Err(bad(format!(
                    "field `{}` must be a JSON pointer (/requestParameters/…)",
                    c.field
                )));
            }
        }
        let attack: Vec<AttackRef> = r
            .attack
            .into_iter()
            .map(|a| AttackRef {
                technique: leak(a.technique),
                name: leak(a.name),
                tactic: leak(a.tactic),
                tactic_name: leak(a.tactic_name),
            })
            .collect();
        let d3fend: Vec<D3fendRef> = r
            .d3fend
            .into_iter()
            .map(|d| D3fendRef {
                id: leak(d.id),
                name: leak(d.name),
            })
            .collect();
        let fps: Vec<&'static str> = r.false_positives.into_iter().map(leak).collect();
        let meta: &'static RuleMeta = Box::leak(Box::new(RuleMeta {
            id: leak(r.id),
            name: leak(r.name),
            version: 1,
            title: leak(r.title),
            description: leak(r.description),
            severity,
            attack: Box::leak(attack.into_boxed_slice()),
            d3fend: Box::leak(d3fend.into_boxed_slice()),
            false_positives: Box::leak(fps.into_boxed_slice()),
            recommendation: leak(r.recommendation),
        }));
        out.push(Box::new(DataRule {
            meta,
            source: r.source,
            // Split once at load: exact names and `Name*` prefixes (the check runs on every event).
            prefixes: r
                .actions
                .iter()
                .filter_map(|a| a.strip_suffix('*').map(String::from))
                .collect(),
            actions: r
                .actions
                .into_iter()
                .filter(|a| !a.ends_with('*'))
                .collect(),
            outcome,
            conditions: r.conditions,
            count: r.count,
            recent: HashMap::new(),
            fired: HashSet::new(),
        }));
    }
    Ok(out)
}

/// The built-in rules, parsed once per process (their metadata lives for the whole run).
pub fn builtin() -> Vec<Box<dyn Detector>> {
    let mut v =
        load(BUILTIN, "rules/cloudtrail.toml").expect("the built-in rule pack is valid (tested)");
    v.extend(
        load(BUILTIN_GCP, "rules/gcp.toml").expect("the built-in GCP rule pack is valid (tested)"),
    );
    v
}

impl Detector for DataRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        let action = ev.action.as_str();
        if !self.actions.iter().any(|a| a == action)
            && !self.prefixes.iter().any(|p| action.starts_with(p.as_str()))
        {
            return;
        }
        // The service: CloudTrail's eventSource, GCP's serviceName.
        let service = ev
            .detail
            .get("eventSource")
            .or_else(|| ev.detail.get("serviceName"))
            .and_then(Value::as_str);
        if self.source.as_deref().is_some_and(|s| service != Some(s)) {
            return;
        }
        if self.outcome.is_some_and(|o| ev.outcome != o)
            || !self.conditions.iter().all(|c| c.holds(&ev.detail))
        {
            return;
        }
        let who = ev
            .credential_id
            .clone()
            .or_else(|| ev.principal.clone())
            .unwrap_or_default();
        let mut f = match &self.count {
            None => {
                let mut f = finding_for(
                    self.meta,
                    ev,
                    format!(
                        "{} by {} from {}",
                        ev.action,
                        ev.principal.as_deref().unwrap_or("?"),
                        ev.src.ip.as_deref().unwrap_or("?")
                    ),
                );
                f.discriminator = ev
                    .event_id
                    .clone()
                    .or_else(|| Some(ev.time.as_second().to_string()));
                f
            }
            Some(c) => {
                let t = ev.time.as_second();
                let distinct = c
                    .distinct
                    .as_deref()
                    .map(|p| {
                        ev.detail
                            .pointer(p)
                            .map(|v| crate::baseline::hash(&v.to_string()))
                            .unwrap_or(0)
                    })
                    .unwrap_or(t as u64);
                let q = self.recent.entry(who.clone()).or_default();
                while q.front().is_some_and(|(x, _)| t - x > c.within_secs) {
                    q.pop_front();
                }
                q.push_back((t, distinct));
                let n = if c.distinct.is_some() {
                    q.iter().map(|x| x.1).collect::<HashSet<_>>().len()
                } else {
                    q.len()
                };
                if n < c.at_least {
                    return;
                }
                let start = q.front().map_or(t, |x| x.0);
                // One finding per burst: the window's first call identifies it.
                if self
                    .fired
                    .iter()
                    .any(|(w, s)| *w == who && t - s <= c.within_secs)
                    || !self.fired.insert((who.clone(), start))
                {
                    return;
                }
                let mut f = finding_for(
                    self.meta,
                    ev,
                    format!(
                        "{n} {} calls by {} within {} s",
                        ev.action,
                        ev.principal.as_deref().unwrap_or("?"),
                        c.within_secs
                    ),
                )
                .fact("count", n);
                f.discriminator = Some(start.to_string());
                f
            }
        };
        f.severity = self.meta.severity;
        if let Some(s) = service {
            f = f.fact("event_source", s);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{ct, run};
    use super::*;
    use serde_json::json;

    fn rule(id: &str) -> Box<dyn Detector> {
        builtin().into_iter().find(|d| d.meta().id == id).unwrap()
    }

    #[test]
    fn the_builtin_pack_loads_with_unique_complete_metadata() {
        let all = builtin();
        assert!(all.len() >= 17);
        for d in &all {
            let m = d.meta();
            assert!(
                (m.id.starts_with("CW-R") || m.id.starts_with("CW-G"))
                    && !m.attack.is_empty()
                    && !m.d3fend.is_empty()
                    && !m.false_positives.is_empty(),
                "{}",
                m.id
            );
        }
    }

    #[test]
    fn conditions_and_prefix_actions_match_what_they_should() {
        let mut r = rule("CW-R008");
        let mut e = ct(
            "AddPermission20150331v2",
            "lambda.amazonaws.com",
            json!({"principal": "*", "functionName": "f"}),
        );
        assert_eq!(run(r.as_mut(), &[e.clone()]).len(), 1);
        e.detail["requestParameters"]["principal"] = json!("123456789012");
        assert!(run(rule("CW-R008").as_mut(), &[e]).is_empty());
        let open = ct(
            "AuthorizeSecurityGroupIngress",
            "ec2.amazonaws.com",
            json!({"cidrIp": "0.0.0.0/0", "fromPort": 22}),
        );
        let narrow = ct(
            "AuthorizeSecurityGroupIngress",
            "ec2.amazonaws.com",
            json!({"cidrIp": "10.0.0.0/8", "fromPort": 22}),
        );
        assert_eq!(run(rule("CW-R007").as_mut(), &[open, narrow]).len(), 1);
        let gpu = ct(
            "RunInstances",
            "ec2.amazonaws.com",
            json!({"instanceType": "p2.xlarge"}),
        );
        let web = ct(
            "RunInstances",
            "ec2.amazonaws.com",
            json!({"instanceType": "t3.micro"}),
        );
        assert_eq!(run(rule("CW-R005").as_mut(), &[gpu, web]).len(), 1);
        // Wrong service: not matched.
        let other = ct("BatchGetSecretValue", "example.amazonaws.com", json!({}));
        assert!(run(rule("CW-R001").as_mut(), &[other]).is_empty());
    }

    #[test]
    fn counted_rules_fire_once_per_burst_on_distinct_values() {
        let mut events = Vec::new();
        for i in 0..20 {
            let mut e = ct(
                "GetSecretValue",
                "secretsmanager.amazonaws.com",
                json!({"secretId": format!("s{}", i % 12)}),
            );
            e.time = jiff::Timestamp::from_second(1_743_465_600 + i * 10).unwrap();
            events.push(e);
        }
        assert_eq!(run(rule("CW-R002").as_mut(), &events).len(), 1);
        // The same secret read 20 times is not many secrets.
        for e in &mut events {
            e.detail["requestParameters"]["secretId"] = json!("one");
        }
        assert!(run(rule("CW-R002").as_mut(), &events).is_empty());
    }

    #[test]
    fn rule_file_mistakes_are_named() {
        let e = load("[[rule]]\nid = \"X\"\n", "r.toml").err().unwrap();
        assert!(e.starts_with("r.toml"), "{e}");
        let base = BUILTIN.split("\n[[rule]]").nth(1).unwrap();
        let e = load(&format!("[[rule]]{base}\n[[rule]]{base}"), "r.toml")
            .err()
            .unwrap();
        assert!(e.contains("id used twice"), "{e}");
        let e = load(
            &format!(
                "[[rule]]{}",
                base.replace("severity = \"high\"", "severity = \"urgent\"")
            ),
            "r.toml",
        )
        .err()
        .unwrap();
        assert!(e.contains("rule CW-R001") && e.contains("urgent"), "{e}");
    }
}
