//! What a subject touched, from the evidence archive (`detect --archive`): a credential, an
//! identity, a token-signing key, a client or a network. [`scope`] reads only the row groups that
//! may hold the subject (statistics and bloom filters, see `credwarden_store::archive::columns`) and
//! counts exactly: events, actions, objects by sensitivity, members whose data came back, bytes out,
//! addresses, networks, countries, activity per hour and day, and — for a signing key, when the token
//! issuance log was archived — the requests carrying tokens the login service never issued.
//!
//! Rendering lives in [`render`] (table, JSON) and [`html`]; evidence bundles in [`evidence`].

pub mod evidence;
pub mod html;
pub mod render;

use credwarden_store::archive::columns::{self, col, Batch, Filter, ScanStats};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Errors of a scope, each naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// The archive cannot be read.
    #[error(transparent)]
    Store(#[from] credwarden_store::StoreError),
    /// A part cannot be read as Parquet.
    #[error("{file}: {reason}")]
    Part {
        /// The part.
        file: String,
        /// Why.
        reason: String,
    },
    /// The subject or a bound is not usable.
    #[error("{0}")]
    Usage(String),
    /// Writing or reading a bundle failed.
    #[error("{file}: {reason}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

/// What to scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An access key / credential id (`actor_credential_uid`).
    Credential(String),
    /// A person or principal: the acting user name, or an ARN ending in `/NAME`.
    Identity(String),
    /// A token-signing key id (`token_kid`).
    SigningKey(String),
    /// A client: the token's client id or the exact user agent.
    Client(String),
    /// Source addresses in a network.
    Network(ipnet::IpNet),
    /// Source addresses announced by an autonomous system.
    Asn(i64),
}

impl Subject {
    /// `--network` value: a CIDR, an address, or `AS64500` / `64500`.
    pub fn network(s: &str) -> Result<Subject, ScopeError> {
        let t = s.trim();
        let asn = t
            .strip_prefix("AS")
            .or_else(|| t.strip_prefix("as"))
            .unwrap_or(t);
        if let Ok(n) = asn.parse::<u32>() {
            return Ok(Subject::Asn(i64::from(n)));
        }
        if let Ok(n) = t.parse::<ipnet::IpNet>() {
            return Ok(Subject::Network(n.trunc()));
        }
        if let Ok(ip) = t.parse::<std::net::IpAddr>() {
            return Ok(Subject::Network(ipnet::IpNet::from(ip)));
        }
        Err(ScopeError::Usage(format!(
            "--network {s:?}: not a CIDR (203.0.113.0/24), an address or an ASN (AS64500)"
        )))
    }

    /// Kind and value, as reports name them.
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            Subject::Credential(v) => ("credential", v.clone()),
            Subject::Identity(v) => ("identity", v.clone()),
            Subject::SigningKey(v) => ("signing_key", v.clone()),
            Subject::Client(v) => ("client", v.clone()),
            Subject::Network(n) => ("network", n.to_string()),
            Subject::Asn(a) => ("network", format!("AS{a}")),
        }
    }

    /// The pruning filter: an exact column value when there is one.
    fn filter(&self) -> Option<(usize, String)> {
        match self {
            Subject::Credential(v) => Some((col::CREDENTIAL, v.clone())),
            Subject::SigningKey(v) => Some((col::KID, v.clone())),
            Subject::Asn(a) => Some((col::ASN, a.to_string())),
            Subject::Network(n) if n.prefix_len() == n.max_prefix_len() => {
                Some((col::IP, n.addr().to_string()))
            }
            _ => None,
        }
    }

    /// Does row `i` of `b` belong to the subject?
    fn matches(&self, b: &Batch, i: usize) -> bool {
        let s = |c: usize| b.s(c)[i].as_deref();
        match self {
            Subject::Credential(v) => s(col::CREDENTIAL) == Some(v.as_str()),
            Subject::SigningKey(v) => {
                s(col::KID) == Some(v.as_str()) && s(col::SOURCE) != Some("token_issuance")
            }
            Subject::Client(v) => {
                s(col::CLIENT) == Some(v.as_str()) || s(col::USER_AGENT) == Some(v.as_str())
            }
            Subject::Identity(v) => s(col::USER)
                .is_some_and(|u| u == v || u.rsplit_once('/').is_some_and(|(_, last)| last == v)),
            Subject::Asn(a) => b.i(col::ASN)[i] == Some(*a),
            Subject::Network(n) => s(col::IP)
                .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
                .is_some_and(|ip| n.contains(&ip)),
        }
    }
}

/// A scope request.
#[derive(Debug, Clone)]
pub struct Query {
    /// The subject.
    pub subject: Subject,
    /// Earliest event time, inclusive.
    pub from: Option<Timestamp>,
    /// Latest event time, exclusive.
    pub to: Option<Timestamp>,
    /// Findings files to search for findings on the subject (besides the archive's own).
    pub findings: Vec<PathBuf>,
}

/// A count under a name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Count {
    /// The name (action, address, network…).
    pub name: String,
    /// Events.
    pub events: u64,
}

/// One hour or day of activity.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the bucket (RFC 3339).
    pub start: String,
    /// Events.
    pub events: u64,
    /// Bytes out.
    pub bytes_out: u64,
    /// Distinct members whose data came back in the bucket.
    pub members: u64,
    /// Requests with tokens never issued (signing key with issuance log; else 0).
    pub forged_requests: u64,
}

/// Objects touched, by sensitivity class.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Sensitivity {
    /// Class (`unclassified` when the log and inventory say nothing).
    pub class: String,
    /// Distinct objects.
    pub objects: u64,
    /// Events.
    pub events: u64,
    /// Bytes out.
    pub bytes_out: u64,
}

/// The scope report. The top-level keys are stable (`docs/scope.md`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Subject kind (`credential`, `identity`, `signing_key`, `client`, `network`).
    pub subject_kind: &'static str,
    /// Subject value.
    pub subject: String,
    /// Bounds asked for.
    pub from: Option<String>,
    /// Bounds asked for.
    pub to: Option<String>,
    /// Events of the subject.
    pub events: u64,
    /// Distinct objects / records / resources touched.
    pub objects: u64,
    /// Bytes sent out (sum of the logs' response sizes).
    pub bytes_out: u64,
    /// Distinct members whose data came back (successful requests on a member's data).
    pub members: u64,
    /// First event (RFC 3339), if any.
    pub first_seen: Option<String>,
    /// Last event (RFC 3339), if any.
    pub last_seen: Option<String>,
    /// Successful / failed / denied events.
    pub outcomes: BTreeMap<String, u64>,
    /// Events by log kind.
    pub sources: BTreeMap<String, u64>,
    /// Actions, most frequent first.
    pub actions: Vec<Count>,
    /// Objects by sensitivity class.
    pub sensitivity: Vec<Sensitivity>,
    /// Distinct source addresses.
    pub addresses: u64,
    /// Top addresses (at most 50).
    pub top_addresses: Vec<Count>,
    /// Networks (ASN) seen.
    pub asns: Vec<Count>,
    /// Countries seen.
    pub countries: Vec<Count>,
    /// Clients (client id or user agent), most frequent first (at most 20).
    pub clients: Vec<Count>,
    /// Activity per UTC day.
    pub days: Vec<Bucket>,
    /// Activity per UTC hour (hours with events only).
    pub hours: Vec<Bucket>,
    /// Was a token-issuance log archived (so never-issued tokens can be told)?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuance_log: Option<bool>,
    /// Signing key: requests whose token the login service never issued (issuance log only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forged_requests: Option<u64>,
    /// Signing key: distinct members whose data came back to never-issued tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forged_members: Option<u64>,
    /// Signing key: addresses that sent never-issued tokens (top 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forged_addresses: Option<Vec<Count>>,
    /// Signing key: the first never-issued token's request time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_forged: Option<String>,
    /// Findings on the subject (rule, severity, time, message).
    pub findings: Vec<serde_json::Value>,
    /// What was read: parts, row groups read / skipped, rows read, seconds.
    pub read: ReadStats,
    /// Raw records behind the events: archive copy → positions (for evidence; not serialized).
    #[serde(skip)]
    pub raw: BTreeMap<String, BTreeSet<u64>>,
}

/// What a scope read.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ReadStats {
    /// Parts listed.
    pub parts: u64,
    /// Row groups in them.
    pub row_groups: u64,
    /// Row groups read.
    pub row_groups_read: u64,
    /// Rows in the row groups read.
    pub rows_read: u64,
    /// Wall seconds.
    pub seconds: f64,
}

/// One time bucket being counted: events, bytes, members, never-issued requests.
type Slot = (u64, u64, HashSet<Arc<str>>, u64);

#[derive(Default)]
struct Acc {
    events: u64,
    bytes: u64,
    first: Option<i64>,
    last: Option<i64>,
    objects: HashSet<Arc<str>>,
    members: HashSet<Arc<str>>,
    outcomes: BTreeMap<String, u64>,
    sources: BTreeMap<String, u64>,
    actions: HashMap<Arc<str>, u64>,
    sens: HashMap<String, (HashSet<Arc<str>>, u64, u64)>,
    ips: HashMap<Arc<str>, u64>,
    asns: HashMap<i64, u64>,
    countries: HashMap<Arc<str>, u64>,
    clients: HashMap<Arc<str>, u64>,
    days: BTreeMap<i64, Slot>,
    hours: BTreeMap<i64, Slot>,
    forged: u64,
    forged_members: HashSet<Arc<str>>,
    forged_ips: HashMap<Arc<str>, u64>,
    first_forged: Option<i64>,
    raw: BTreeMap<String, BTreeSet<u64>>,
}

const COLUMNS: [usize; 22] = [
    col::TIME,
    col::SOURCE,
    col::CREDENTIAL,
    col::USER,
    col::JTI,
    col::KID,
    col::CLIENT,
    col::OPERATION,
    col::RESOURCE,
    col::SENSITIVITY,
    col::MEMBER,
    col::IP,
    col::ASN,
    col::COUNTRY,
    col::USER_AGENT,
    col::STATUS_ID,
    col::STATUS,
    col::BYTES,
    col::RAW_FILE,
    col::RAW_LINE,
    col::SUB,
    col::RECORDS,
];

fn top<K: ToString>(m: HashMap<K, u64>, n: usize) -> Vec<Count> {
    let mut v: Vec<Count> = m
        .into_iter()
        .map(|(k, events)| Count {
            name: k.to_string(),
            events,
        })
        .collect();
    v.sort_by(|a, b| b.events.cmp(&a.events).then_with(|| a.name.cmp(&b.name)));
    v.truncate(n);
    v
}

fn rfc(ms: i64) -> String {
    Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

fn part_err(path: &Path, e: impl std::fmt::Display) -> ScopeError {
    ScopeError::Part {
        file: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The jti of every token the login service issued with `kid` (or without a key id), from the
/// archived issuance log; `None` when no issuance log was archived.
fn issued(
    dir: &Path,
    parts: &[credwarden_store::archive::Part],
    kid: &str,
    stats: &mut ScanStats,
) -> Result<Option<HashSet<Arc<str>>>, ScopeError> {
    let mut set = HashSet::new();
    let mut any = false;
    for p in parts.iter().filter(|p| p.source == "token_issuance") {
        any = true;
        let path = dir.join(&p.entry.path);
        columns::scan(
            &path,
            &[col::JTI, col::KID],
            &Filter::default(),
            stats,
            &mut |b| {
                for i in 0..b.rows {
                    let k = b.s(col::KID)[i].as_deref();
                    if k.is_none() || k == Some(kid) {
                        if let Some(j) = &b.s(col::JTI)[i] {
                            set.insert(j.clone());
                        }
                    }
                }
            },
        )
        .map_err(|e| part_err(&path, e))?;
    }
    Ok(any.then_some(set))
}

/// The subject's rows of one part (by its position in the part list).
type PartRows = (usize, Vec<Batch>);

/// Scope `q.subject` over the archive in `dir`.
pub fn scope(dir: &Path, q: &Query) -> Result<Report, ScopeError> {
    let started = std::time::Instant::now();
    let parts = credwarden_store::archive::parts(dir)?;
    let mut stats = ScanStats::default();
    let from_ms = q.from.map(|t| t.as_millisecond());
    let to_ms = q.to.map(|t| t.as_millisecond());
    let issued = match &q.subject {
        Subject::SigningKey(k) => issued(dir, &parts, k, &mut stats)?,
        _ => None,
    };
    let filter = Filter {
        equals: q.subject.filter(),
        from_ms,
        to_ms,
    };
    // Parts are read on every core (each worker keeps only the subject's rows), then counted in
    // part order, so the report does not depend on which worker read what.
    let wanted: Vec<(usize, PathBuf)> = parts
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            // Partition pruning: the part's times against the bounds, issuance parts for a
            // signing key (counted apart, above).
            if matches!(q.subject, Subject::SigningKey(_)) && p.source == "token_issuance" {
                return false;
            }
            let first = p.entry.first.parse::<Timestamp>().ok();
            let last = p.entry.last.parse::<Timestamp>().ok();
            !(q.from.zip(last).is_some_and(|(f, l)| l < f)
                || q.to.zip(first).is_some_and(|(t, f)| f >= t))
        })
        .map(|(i, p)| (i, dir.join(&p.entry.path)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, wanted.len().max(1));
    let read = |stats: &mut ScanStats| -> Result<Vec<PartRows>, ScopeError> {
        let mut out = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((i, path)) = wanted.get(k) else {
                return Ok(out);
            };
            let mut kept = Vec::new();
            columns::scan(path, &COLUMNS, &filter, stats, &mut |b| {
                let rows: Vec<usize> = (0..b.rows).filter(|&r| q.subject.matches(b, r)).collect();
                if !rows.is_empty() {
                    kept.push(b.take(&rows));
                }
            })
            .map_err(|e| part_err(path, e))?;
            out.push((*i, kept));
        }
    };
    let results: Vec<(ScanStats, Result<Vec<PartRows>, ScopeError>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut st = ScanStats::default();
                    let r = read(&mut st);
                    (st, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a scope worker does not panic"))
            .collect()
    });
    let mut batches = Vec::new();
    for (st, r) in results {
        stats.row_groups += st.row_groups;
        stats.row_groups_read += st.row_groups_read;
        stats.rows_read += st.rows_read;
        batches.extend(r?);
    }
    batches.sort_by_key(|(i, _)| *i);
    let mut acc = Acc::default();
    for b in batches.iter().flat_map(|(_, bs)| bs) {
        add(&mut acc, b, q, from_ms, to_ms, issued.as_ref());
    }
    let findings = findings_on(dir, q)?;
    let (kind, value) = q.subject.describe();
    let signing = matches!(q.subject, Subject::SigningKey(_));
    let with_issuance = signing && issued.is_some();
    let buckets = |m: BTreeMap<i64, Slot>| {
        m.into_iter()
            .map(|(k, (events, bytes, members, forged))| Bucket {
                start: rfc(k),
                events,
                bytes_out: bytes,
                members: members.len() as u64,
                forged_requests: forged,
            })
            .collect()
    };
    let mut sensitivity: Vec<Sensitivity> = acc
        .sens
        .into_iter()
        .map(|(class, (objs, events, bytes))| Sensitivity {
            class,
            objects: objs.len() as u64,
            events,
            bytes_out: bytes,
        })
        .collect();
    sensitivity.sort_by(|a, b| b.objects.cmp(&a.objects).then(a.class.cmp(&b.class)));
    Ok(Report {
        subject_kind: kind,
        subject: value,
        from: q.from.map(|t| t.to_string()),
        to: q.to.map(|t| t.to_string()),
        events: acc.events,
        objects: acc.objects.len() as u64,
        bytes_out: acc.bytes,
        members: acc.members.len() as u64,
        first_seen: acc.first.map(rfc),
        last_seen: acc.last.map(rfc),
        outcomes: acc.outcomes,
        sources: acc.sources,
        actions: top(acc.actions, usize::MAX),
        sensitivity,
        addresses: acc.ips.len() as u64,
        top_addresses: top(acc.ips, 50),
        asns: top(
            acc.asns
                .into_iter()
                .map(|(k, v)| (format!("AS{k}"), v))
                .collect(),
            50,
        ),
        countries: top(acc.countries, 50),
        clients: top(acc.clients, 20),
        days: buckets(acc.days),
        hours: buckets(acc.hours),
        issuance_log: signing.then_some(issued.is_some()),
        forged_requests: with_issuance.then_some(acc.forged),
        forged_members: with_issuance.then_some(acc.forged_members.len() as u64),
        forged_addresses: with_issuance.then(|| top(acc.forged_ips, 50)),
        first_forged: if with_issuance {
            acc.first_forged.map(rfc)
        } else {
            None
        },
        findings,
        read: ReadStats {
            parts: parts.len() as u64,
            row_groups: stats.row_groups,
            row_groups_read: stats.row_groups_read,
            rows_read: stats.rows_read,
            seconds: started.elapsed().as_secs_f64(),
        },
        raw: acc.raw,
    })
}

fn add(
    acc: &mut Acc,
    b: &Batch,
    q: &Query,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    issued: Option<&HashSet<Arc<str>>>,
) {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    for (i, t) in b.i(col::TIME).iter().enumerate() {
        let Some(t) = *t else { continue };
        if from_ms.is_some_and(|f| t < f) || to_ms.is_some_and(|e| t >= e) {
            continue;
        }
        if !q.subject.matches(b, i) {
            continue;
        }
        let s = |c: usize| b.s(c)[i].clone();
        let bytes = b.i(col::BYTES)[i].unwrap_or(0).max(0) as u64;
        let success = b.i(col::STATUS_ID)[i] == Some(1);
        acc.events += 1;
        acc.bytes += bytes;
        acc.first = Some(acc.first.map_or(t, |f| f.min(t)));
        acc.last = Some(acc.last.map_or(t, |l| l.max(t)));
        if let Some(st) = s(col::STATUS) {
            *acc.outcomes.entry(st.to_string()).or_default() += 1;
        }
        if let Some(src) = s(col::SOURCE) {
            *acc.sources.entry(src.to_string()).or_default() += 1;
        }
        if let Some(op) = s(col::OPERATION) {
            *acc.actions.entry(op).or_default() += 1;
        }
        let member = s(col::MEMBER).filter(|_| success);
        if let Some(m) = &member {
            acc.members.insert(m.clone());
        }
        if let Some(obj) = s(col::RESOURCE) {
            let class =
                s(col::SENSITIVITY).map_or_else(|| "unclassified".to_string(), |c| c.to_string());
            let e = acc.sens.entry(class).or_default();
            e.0.insert(obj.clone());
            e.1 += 1;
            e.2 += bytes;
            acc.objects.insert(obj);
        }
        let ip = s(col::IP);
        if let Some(ip) = &ip {
            *acc.ips.entry(ip.clone()).or_default() += 1;
        }
        if let Some(a) = b.i(col::ASN)[i] {
            *acc.asns.entry(a).or_default() += 1;
        }
        if let Some(c) = s(col::COUNTRY) {
            *acc.countries.entry(c).or_default() += 1;
        }
        if let Some(c) = s(col::CLIENT).or_else(|| s(col::USER_AGENT)) {
            *acc.clients.entry(c).or_default() += 1;
        }
        let forged = issued.is_some_and(|set| {
            s(col::SOURCE).as_deref() == Some("gateway")
                && !s(col::JTI).is_some_and(|j| set.contains(&j))
        });
        if forged {
            acc.forged += 1;
            acc.first_forged = Some(acc.first_forged.map_or(t, |f| f.min(t)));
            if let Some(m) = &member {
                acc.forged_members.insert(m.clone());
            }
            if let Some(ip) = &ip {
                *acc.forged_ips.entry(ip.clone()).or_default() += 1;
            }
        }
        for (map, width) in [(&mut acc.days, DAY), (&mut acc.hours, HOUR)] {
            let e = map.entry(t.div_euclid(width) * width).or_default();
            e.0 += 1;
            e.1 += bytes;
            if let Some(m) = &member {
                e.2.insert(m.clone());
            }
            e.3 += u64::from(forged);
        }
        if let (Some(f), Some(line)) = (s(col::RAW_FILE), b.i(col::RAW_LINE)[i]) {
            acc.raw
                .entry(f.to_string())
                .or_default()
                .insert(line.max(0) as u64);
        }
    }
}

/// Does the finding's JSON name the subject anywhere (a string value equal to it, or an address
/// inside the network)?
fn names_subject(v: &serde_json::Value, s: &Subject) -> bool {
    match v {
        serde_json::Value::String(x) => match s {
            Subject::Credential(c) | Subject::SigningKey(c) | Subject::Client(c) => x == c,
            Subject::Identity(c) => x == c || x.rsplit_once('/').is_some_and(|(_, l)| l == c),
            Subject::Network(n) => {
                x.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| n.contains(&ip))
                    || x.parse::<ipnet::IpNet>().is_ok_and(|o| n.contains(&o))
            }
            Subject::Asn(a) => *x == format!("AS{a}"),
        },
        serde_json::Value::Number(n) => matches!(s, Subject::Asn(a) if n.as_i64() == Some(*a)),
        serde_json::Value::Array(a) => a.iter().any(|x| names_subject(x, s)),
        serde_json::Value::Object(o) => o.values().any(|x| names_subject(x, s)),
        _ => false,
    }
}

/// Findings on the subject: from the archive's `findings/` files and the files the query names.
fn findings_on(dir: &Path, q: &Query) -> Result<Vec<serde_json::Value>, ScopeError> {
    let mut files: Vec<PathBuf> = credwarden_store::archive::findings_files(dir)?
        .into_iter()
        .map(|rel| dir.join(rel))
        .collect();
    files.extend(q.findings.iter().cloned());
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| ScopeError::Io {
            file: f.display().to_string(),
            reason: e.to_string(),
        })?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if !names_subject(&v, &q.subject) {
                continue;
            }
            let key = v
                .pointer("/finding_info/uid")
                .and_then(|x| x.as_str())
                .map_or_else(|| line.to_string(), str::to_string);
            if seen.insert(key) {
                out.push(v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_subjects() {
        assert_eq!(Subject::network("AS64500").unwrap(), Subject::Asn(64500));
        assert_eq!(Subject::network("64500").unwrap(), Subject::Asn(64500));
        assert_eq!(
            Subject::network("203.0.113.9/24").unwrap(),
            Subject::Network("203.0.113.0/24".parse().unwrap())
        );
        assert!(matches!(
            Subject::network("203.0.113.9").unwrap().filter(),
            Some((c, v)) if c == col::IP && v == "203.0.113.9"
        ));
        assert!(Subject::network("nope").is_err());
    }

    #[test]
    fn findings_name_subjects() {
        let f = serde_json::json!({"observables":[{"name":"src_endpoint.ip","value":"203.0.113.7"}],"resources":[{"uid":"AKIA1"}]});
        assert!(names_subject(&f, &Subject::Credential("AKIA1".into())));
        assert!(!names_subject(&f, &Subject::Credential("AKIA2".into())));
        assert!(names_subject(
            &f,
            &Subject::network("203.0.113.0/24").unwrap()
        ));
        assert!(!names_subject(
            &f,
            &Subject::network("198.51.100.0/24").unwrap()
        ));
    }
}
