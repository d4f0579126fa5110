//! CW-B008: a forged-token campaign, caught from the gateway log alone (no issuance log needed),
//! within minutes, by accumulating evidence per network and per country — never per address.
//!
//! A gateway request is *novel* when its member's token comes from a network that member has not
//! been seen on (or the member was never seen). Benign novelty exists (travel, new ISPs, VPNs,
//! never-seen customers) and each network and country has its own usual rate of it, learnt per day.
//! A forger walking member ids produces novelty far above that rate wherever it comes from. Per
//! network (ASN, else /16) and per country, the last 15 minutes of novel requests are kept; the
//! line is crossed when the count of distinct members is improbable for the group's rate (Poisson
//! tail, −log10 p), plus evidence that a real customer rarely shows: members whose known countries
//! do not include this one, claims unlike what the login service mints for that key (an unseen
//! client id or lifetime, a missing `exp`), requests for members that do not exist (4xx), member ids
//! walked at a constant step, one member's token in two countries within 30 minutes. The requests
//! must be spread over many addresses (a partner integration or a carrier NAT presenting many
//! members from a few addresses is not this; CW-B005 looks at those).
//!
//! Learning never takes in what is being judged: a novel request teaches its member the network
//! only once it has left the 15-minute window without being part of a campaign; a day on which a
//! group crossed the line does not join its history; and once a campaign is found, every request
//! of its fingerprint (user agent + client id) from its networks is counted for it and learnt by
//! nobody. Members are never blamed: the finding names the key, the networks and addresses, and the
//! first forged request.
//!
//! One finding per campaign (key + client fingerprint), raised when found and again as it reaches
//! 100, 10,000 and 1,000,000 requests, naming every network that has joined it.
//!
//! Memory: per member 24 bytes of profile (three networks, two countries, last use), about 70 with
//! the map; per network or country a daily series and its window (bounded to 4,096 requests).

use crate::baseline::{self, DailySeries};
use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-B008",
    name: "forged-token-campaign",
    version: 1,
    title: "Forged-token campaign: many members' tokens from networks they never use",
    description: "Within minutes, one network or country presents far more members' tokens that were never used there than it ever does, spread over many addresses, with the marks of a forger: members abroad who live elsewhere, claims the login service does not mint, members that do not exist, ids walked in order, one member in two countries at once. Someone holds the signing key or a token factory; per-address thresholds do not see it.",
    severity: Severity::High,
    attack: &[FORGE_WEB_CREDENTIALS, APP_ACCESS_TOKEN],
    d3fend: &[RESOURCE_ACCESS_PATTERN, CREDENTIAL_ROTATION],
    false_positives: &["a new app store region or marketing launch abroad bringing many new customers at once (no forger's marks: claims as minted, members exist)", "a VPN provider's new exit network (a few members a day, not dozens in minutes)"],
    recommendation: "Block the campaign's networks and fingerprint at the gateway, check the listed tokens against the issuance log, rotate the signing key (publish a successor, drop the old kid) and scope every request of the campaign (`credwarden scope`).",
};

/// The window evidence is accumulated over.
const WINDOW: i64 = 900;
/// −log10 p (with the marks) a window must reach.
const LINE: f64 = 9.0;
/// A window needs at least this many distinct members.
const MIN_MEMBERS: usize = 4;
/// Days a key's claim shape and the groups' rates are learnt before judging.
const LEARN_DAYS: i64 = 2;
/// Rate (novel members per window) assumed for a group without history.
const PRIOR: f64 = 0.3;
/// Floor of a learnt rate.
const FLOOR: f64 = 0.02;
/// Entries a window keeps (a huge domestic ISP cannot grow it without bound).
const CAP: usize = 4_096;
const MILESTONES: [u64; 3] = [100, 10_000, 1_000_000];

/// What is known of one member (by hash of `sub`).
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
struct Member {
    nets: [u32; 3],
    countries: [u16; 2],
    last: i64,
    last_country: u16,
}

impl Member {
    fn knows(&self, net: u32) -> bool {
        self.nets.contains(&net)
    }
    fn seen(&self) -> bool {
        self.nets[0] != 0
    }
    fn learn(&mut self, net: u32, country: u16) {
        if !self.knows(net) {
            self.nets.rotate_right(1);
            self.nets[0] = net;
        }
        if country != 0 && !self.countries.contains(&country) {
            if self.countries[0] == 0 {
                self.countries[0] = country;
            } else if self.countries[1] == 0 {
                self.countries[1] = country;
            }
        }
    }
}

/// One novel request in a window.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    t: i64,
    member: u64,
    number: Option<u64>,
    ip: String,
    fp: u64,
    net: u32,
    country: u16,
    abroad: bool,
    odd: bool,
    failed: bool,
    twice: bool,
    jti: Option<String>,
    request: Option<String>,
}

/// A network or a country: its usual novelty and its current window.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Group {
    label: String,
    novel_per_day: DailySeries,
    first_day: i64,
    window: VecDeque<Entry>,
    members: HashMap<u64, u32>,
    ips: HashMap<String, u32>,
    /// Marks in the window, kept as entries come and go (judging is O(1), not O(window)).
    #[serde(default)]
    marks: [usize; 4],
}

impl Entry {
    fn marks(&self) -> [usize; 4] {
        [self.abroad, self.odd, self.failed, self.twice].map(usize::from)
    }
}

impl Group {
    fn push(&mut self, e: Entry) {
        *self.members.entry(e.member).or_insert(0) += 1;
        *self.ips.entry(e.ip.clone()).or_insert(0) += 1;
        for (m, x) in self.marks.iter_mut().zip(e.marks()) {
            *m += x;
        }
        self.window.push_back(e);
    }

    /// Drop entries older than `t - WINDOW` (or beyond the cap); returns them.
    fn expire(&mut self, t: i64) -> Vec<Entry> {
        let mut gone = Vec::new();
        while let Some(e) = self.window.front() {
            if e.t > t - WINDOW && self.window.len() <= CAP {
                break;
            }
            let e = self.window.pop_front().expect("non-empty");
            dec(&mut self.members, &e.member);
            dec(&mut self.ips, &e.ip);
            for (m, x) in self.marks.iter_mut().zip(e.marks()) {
                *m -= x;
            }
            gone.push(e);
        }
        gone
    }

    /// Novel members expected in one window.
    fn expected(&self, day: i64) -> f64 {
        if day - self.first_day < LEARN_DAYS {
            return PRIOR;
        }
        match self.novel_per_day.baseline(2) {
            // Peak hours carry about three times the average hour.
            Some((median, _)) => (median.max(self.novel_per_day.max() as f64 / 2.0) * 3.0
                / (baseline::DAY / WINDOW) as f64)
                .max(FLOOR),
            None => PRIOR,
        }
    }
}

fn dec<K: std::hash::Hash + Eq + Clone>(m: &mut HashMap<K, u32>, k: &K) {
    if let Some(n) = m.get_mut(k) {
        *n -= 1;
        if *n == 0 {
            m.remove(k);
        }
    }
}

/// What the login service mints under one key.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Shape {
    first_day: i64,
    total: u64,
    without_exp: u64,
    clients: HashMap<u64, u64>,
    lifetimes: HashMap<i64, u64>,
}

impl Shape {
    fn learn(&mut self, client: u64, lifetime: Option<i64>) {
        self.total += 1;
        *self.clients.entry(client).or_insert(0) += 1;
        match lifetime {
            Some(l) if self.lifetimes.len() < 64 || self.lifetimes.contains_key(&l) => {
                *self.lifetimes.entry(l).or_insert(0) += 1
            }
            Some(_) => {}
            None => self.without_exp += 1,
        }
    }

    /// Unlike anything minted under this key (judged once it has learnt).
    fn odd(&self, day: i64, client: u64, lifetime: Option<i64>) -> bool {
        if day - self.first_day < LEARN_DAYS || self.total < 200 {
            return false;
        }
        let rare = |n: u64| n * 2_000 < self.total;
        rare(self.clients.get(&client).copied().unwrap_or(0))
            || match lifetime {
                Some(l) => rare(self.lifetimes.get(&l).copied().unwrap_or(0)),
                None => rare(self.without_exp),
            }
    }
}

/// A campaign found.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Campaign {
    kid: String,
    fingerprint: String,
    first_time: i64,
    first_request: Option<String>,
    first_jti: Option<String>,
    first_ip: String,
    first_member: String,
    networks: BTreeSet<String>,
    addresses: BTreeSet<String>,
    requests: u64,
}

/// The detector.
#[derive(Default, Serialize, Deserialize)]
pub struct ForgedTokenCampaign {
    /// First day of gateway traffic: nothing is judged while the members are being learnt.
    first_day: Option<i64>,
    members: HashMap<u64, Member>,
    groups: HashMap<u64, Group>,
    shapes: HashMap<u64, Shape>,
    campaigns: Vec<Campaign>,
    /// (network, fingerprint) → campaign index.
    suspects: HashMap<(u32, u64), usize>,
}

fn code(c: &str) -> u16 {
    let b = c.as_bytes();
    if b.len() == 2 {
        (b[0] as u16) << 8 | b[1] as u16
    } else {
        0
    }
}

/// The network of a request: its ASN, else its /16 (IPv4) or /32 (IPv6), as a label and a
/// non-zero id.
fn network(ev: &Event) -> (u32, String) {
    let label = match ev.src.asn {
        Some(a) => format!("AS{a}"),
        None => {
            let ip = ev.src.ip.as_deref().unwrap_or("-");
            match ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(v4)) => {
                    let o = v4.octets();
                    format!("{}.{}.0.0/16", o[0], o[1])
                }
                Ok(std::net::IpAddr::V6(v6)) => {
                    let s = v6.segments();
                    format!("{:x}:{:x}::/32", s[0], s[1])
                }
                Err(_) => ip.to_string(),
            }
        }
    };
    ((baseline::hash(&label) as u32) | 1, label)
}

/// −log10 of P(X ≥ n) for X ~ Poisson(λ).
pub(crate) fn poisson_surprise(n: usize, lambda: f64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    // Σ_{k≥n} e^-λ λ^k / k!, in log space from the first term.
    let ln_first = -lambda + n as f64 * lambda.ln() - ln_factorial(n);
    let mut sum = 1.0;
    let mut term = 1.0;
    for k in n + 1..n + 200 {
        term *= lambda / k as f64;
        sum += term;
        if term < 1e-12 * sum {
            break;
        }
    }
    let ln_p = (ln_first + sum.ln()).min(0.0);
    -ln_p / std::f64::consts::LN_10
}

fn ln_factorial(n: usize) -> f64 {
    (1..=n).map(|k| (k as f64).ln()).sum()
}

/// Member ids walked at a constant step: the most common gap between sorted ids, if it covers at
/// least three gaps and half of them.
fn walked(ids: &mut [u64]) -> Option<u64> {
    ids.sort_unstable();
    let mut gaps: HashMap<u64, usize> = HashMap::new();
    for w in ids.windows(2) {
        if w[1] > w[0] {
            *gaps.entry(w[1] - w[0]).or_insert(0) += 1;
        }
    }
    let (&gap, &n) = gaps
        .iter()
        .max_by_key(|(g, n)| (**n, std::cmp::Reverse(**g)))?;
    (n >= 3 && n * 2 >= ids.len().saturating_sub(1) && gap <= 1_000).then_some(gap)
}

/// How a window scores.
struct Verdict {
    score: f64,
    members: usize,
    expected: f64,
    marks: Vec<String>,
}

impl ForgedTokenCampaign {
    fn judge(&self, g: &Group, day: i64) -> Option<Verdict> {
        let n = g.members.len();
        let ips = g.ips.len();
        if n < MIN_MEMBERS || ips < 4 || ips * 2 < n {
            return None;
        }
        let expected = g.expected(day);
        let mut score = poisson_surprise(n, expected);
        let [abroad, odd, failed, twice] = g.marks;
        // (present, weight, what it says), one row per forger's mark.
        let table = [
            (
                abroad * 2 >= n && abroad >= 3,
                1.5,
                format!("{abroad} members whose known countries are elsewhere"),
            ),
            (
                odd >= 2,
                4.0,
                format!("{odd} tokens shaped unlike what the login service mints"),
            ),
            (
                failed >= 2,
                1.5,
                format!("{failed} requests refused (members that do not exist)"),
            ),
            (
                twice >= 1,
                2.0,
                format!("{twice} members' tokens in two countries within 30 minutes"),
            ),
        ];
        let mut marks = Vec::new();
        for (present, weight, what) in table {
            if present {
                score += weight;
                marks.push(what);
            }
        }
        if score + 2.0 >= LINE {
            let mut ids: Vec<u64> = g.window.iter().filter_map(|e| e.number).collect();
            if let Some(step) = walked(&mut ids) {
                score += 2.0;
                marks.push(format!("member ids walked in steps of {step}"));
            }
        }
        (score >= LINE).then_some(Verdict {
            score,
            members: n,
            expected,
            marks,
        })
    }

    fn learn(&mut self, e: &Entry) {
        if self.suspects.contains_key(&(e.net, e.fp)) {
            return;
        }
        self.members
            .entry(e.member)
            .or_default()
            .learn(e.net, e.country);
    }

    /// Open (or grow) campaigns from a window that crossed the line.
    #[allow(clippy::too_many_arguments)]
    fn found(
        &mut self,
        gk: u64,
        v: &Verdict,
        ev: &Event,
        kid: &str,
        fp_labels: &HashMap<u64, String>,
        out: &mut Vec<Finding>,
    ) {
        let g = self.groups.get_mut(&gk).expect("judged");
        g.novel_per_day.mark_anomalous();
        // The fingerprint most of the window shares is the campaign's.
        let mut by_fp: HashMap<u64, usize> = HashMap::new();
        for e in &g.window {
            *by_fp.entry(e.fp).or_insert(0) += 1;
        }
        let Some((&fp, _)) = by_fp.iter().max_by_key(|(f, n)| (**n, **f)) else {
            return;
        };
        let label = g.label.clone();
        let entries: Vec<Entry> = g.window.iter().filter(|e| e.fp == fp).cloned().collect();
        let fingerprint = fp_labels.get(&fp).cloned().unwrap_or_default();
        let idx = match self
            .campaigns
            .iter()
            .position(|c| c.kid == kid && c.fingerprint == fingerprint)
        {
            Some(i) => i,
            None => {
                let first = entries.iter().min_by_key(|e| e.t).expect("non-empty");
                self.campaigns.push(Campaign {
                    kid: kid.to_string(),
                    fingerprint: fingerprint.clone(),
                    first_time: first.t,
                    first_request: first.request.clone(),
                    first_jti: first.jti.clone(),
                    first_ip: first.ip.clone(),
                    first_member: first.member.to_string(),
                    networks: BTreeSet::new(),
                    addresses: BTreeSet::new(),
                    requests: 0,
                });
                self.campaigns.len() - 1
            }
        };
        let new = self.campaigns[idx].requests == 0;
        let nets: BTreeSet<(u32, String)> = entries
            .iter()
            .map(|e| (e.net, self.net_label(e.net)))
            .collect();
        let c = &mut self.campaigns[idx];
        for e in &entries {
            c.requests += 1;
            if c.addresses.len() < 50 {
                c.addresses.insert(e.ip.clone());
            }
        }
        for (id, l) in nets {
            c.networks.insert(l);
            self.suspects.insert((id, fp), idx);
        }
        if new {
            let msg = format!(
                "forged-token campaign on key {kid}: {} members' tokens in 15 minutes from {label} where about {:.1} is usual (surprise 10^-{:.0}), spread over {} addresses, client {}; {}. First request {} at {} from {}",
                v.members,
                v.expected,
                v.score,
                self.groups[&gk].ips.len(),
                fingerprint,
                if v.marks.is_empty() { "no other mark".to_string() } else { v.marks.join(", ") },
                self.campaigns[idx].first_request.as_deref().unwrap_or("?"),
                jiff::Timestamp::from_second(self.campaigns[idx].first_time).map(|t| t.to_string()).unwrap_or_default(),
                self.campaigns[idx].first_ip,
            );
            out.push(self.finding(idx, ev, msg, 0));
        }
    }

    fn net_label(&self, id: u32) -> String {
        self.groups
            .get(&(id as u64))
            .map(|g| g.label.clone())
            .unwrap_or_default()
    }

    fn finding(&self, idx: usize, ev: &Event, msg: String, milestone: u64) -> Finding {
        let c = &self.campaigns[idx];
        let mut f = finding_for(&META, ev, msg)
            .fact("fingerprint", c.fingerprint.clone())
            .fact("networks", c.networks.iter().cloned().collect::<Vec<_>>())
            .fact("requests", c.requests)
            .fact("addresses_sampled", c.addresses.len());
        f.observables.clear();
        f.subject.principal = Some(format!("campaign:{}", c.fingerprint));
        f.subject.credential_id = Some(c.kid.clone());
        f.subject.credential_kind = Some("signing_key".into());
        f.subject.system = Some("gateway".into());
        f.first_seen = jiff::Timestamp::from_second(c.first_time).ok();
        f.discriminator = Some(format!("{}|{milestone}", c.fingerprint));
        for n in &c.networks {
            f.observe("network", n.clone());
        }
        for a in &c.addresses {
            f.observe("src_endpoint.ip", a.clone());
        }
        if let Some(j) = &c.first_jti {
            f.observe("token.jti", j.clone());
        }
        if let Some(r) = &c.first_request {
            f.observe("request.uid", r.clone());
        }
        f
    }
}

impl Detector for ForgedTokenCampaign {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    crate::whole_state!();
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.resource.kind.as_deref() != Some("gateway") || ev.outcome == EventOutcome::Denied {
            return;
        }
        let Some(tok) = ev.token.as_ref() else {
            return;
        };
        let (Some(sub), Some(kid)) = (tok.sub.as_deref(), tok.kid.as_deref()) else {
            return;
        };
        let t = ev.time.as_second();
        let day = baseline::day(ev.time);
        let learning = day - *self.first_day.get_or_insert(day) < LEARN_DAYS;
        let client = tok.client.as_deref().unwrap_or("-");
        let ua = ev.user_agent.as_deref().unwrap_or("-");
        let fp_label = format!("{client} / {ua}");
        let fp = baseline::hash(&fp_label);
        let (net, net_label) = network(ev);
        let country_s = ev.src.country.as_deref().unwrap_or("");
        let country = code(country_s);
        let member_h = baseline::hash(sub);
        let lifetime = match (tok.iat, tok.exp) {
            (Some(i), Some(e)) => Some((e.as_second() - i.as_second()) / 60 * 60),
            (_, Some(_)) => Some(-1),
            _ => None,
        };
        let client_h = baseline::hash(client);

        // A campaign already found: count, never learn.
        if let Some(&idx) = self.suspects.get(&(net, fp)) {
            let c = &mut self.campaigns[idx];
            c.requests += 1;
            if c.addresses.len() < 50 {
                if let Some(ip) = &ev.src.ip {
                    c.addresses.insert(ip.clone());
                }
            }
            if MILESTONES.contains(&c.requests) {
                let msg = format!(
                    "forged-token campaign on key {} (client {}) has reached {} requests from {}; latest from {}",
                    c.kid,
                    c.fingerprint,
                    c.requests,
                    c.networks.iter().cloned().collect::<Vec<_>>().join(", "),
                    ev.src.ip.as_deref().unwrap_or("?")
                );
                let n = c.requests;
                out.push(self.finding(idx, ev, msg, n));
            }
            return;
        }

        let shape = self
            .shapes
            .entry(baseline::hash(kid))
            .or_insert_with(|| Shape {
                first_day: day,
                ..Shape::default()
            });
        let odd = shape.odd(day, client_h, lifetime);
        let m = self.members.get(&member_h).copied().unwrap_or_default();
        let novel = !m.knows(net);
        if !novel {
            shape.learn(client_h, lifetime);
            let e = self.members.entry(member_h).or_default();
            e.last = t;
            if country != 0 {
                e.last_country = country;
            }
            return;
        }
        if !odd {
            shape.learn(client_h, lifetime);
        }
        let abroad =
            m.seen() && country != 0 && m.countries[0] != 0 && !m.countries.contains(&country);
        let twice =
            m.last_country != 0 && country != 0 && m.last_country != country && t - m.last < 1_800;
        let entry = Entry {
            t,
            member: member_h,
            number: sub.parse().ok(),
            ip: ev.src.ip.clone().unwrap_or_default(),
            fp,
            net,
            country,
            abroad,
            odd,
            failed: ev.outcome == EventOutcome::Failure,
            twice,
            jti: tok.jti.clone(),
            request: ev.event_id.clone(),
        };
        let mut keys = vec![(net as u64, net_label)];
        if country != 0 {
            keys.push((
                (1u64 << 40) | country as u64,
                format!("country {country_s}"),
            ));
        }
        let mut fp_labels = HashMap::new();
        fp_labels.insert(fp, fp_label);
        for (gk, label) in keys {
            let g = self.groups.entry(gk).or_insert_with(|| Group {
                label,
                first_day: day,
                ..Group::default()
            });
            let gone = g.expire(t);
            g.novel_per_day.add(day, 1);
            g.push(entry.clone());
            // Only the network group teaches members (once per request).
            if gk == net as u64 {
                for e in &gone {
                    self.learn(e);
                }
            }
            let g = &self.groups[&gk];
            if learning {
                continue;
            }
            if let Some(v) = self.judge(g, day) {
                self.found(gk, &v, ev, kid, &fp_labels, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::testkit::gateway;

    fn ev(day: i64, secs: i64, member: u64, ip: &str, asn: u32, country: &str, ua: &str) -> Event {
        let mut e = gateway(day, secs, member);
        e.src.ip = Some(ip.into());
        e.src.asn = Some(asn);
        e.src.country = Some(country.into());
        e.user_agent = Some(ua.into());
        let t = e.token.as_mut().unwrap();
        t.client = Some("shop-ios".into());
        t.iat = Some(e.time);
        t.exp = Some(jiff::Timestamp::from_second(e.time.as_second() + 3600).unwrap());
        e
    }

    /// Ten days of home traffic: 2,000 members on three domestic networks, a few travellers.
    fn history(d: &mut ForgedTokenCampaign, out: &mut Vec<Finding>) {
        for day in 0..10 {
            for k in 0..4_000u64 {
                let m = 1 + (k * 7 + day as u64 * 13) % 2_000;
                let asn = [4766, 9644, 17858][(m % 3) as usize];
                let ip = format!("121.{}.{}.{}", m % 3, (m / 250) % 250, m % 250);
                d.on_event(
                    &ev(
                        day,
                        (k * 21) as i64 % 86_000,
                        m,
                        &ip,
                        asn,
                        "KR",
                        "ShopApp/5.2.1",
                    ),
                    out,
                );
            }
            // A traveller or two abroad.
            for k in 0..2u64 {
                let m = 1 + (day as u64 * 31 + k) % 2_000;
                d.on_event(
                    &ev(
                        day,
                        40_000 + k as i64,
                        m,
                        "73.162.16.9",
                        7922,
                        "US",
                        "ShopApp/5.2.1",
                    ),
                    out,
                );
            }
        }
    }

    #[test]
    fn distributed_forgery_is_found_within_minutes_naming_its_networks() {
        let mut d = ForgedTokenCampaign::default();
        let mut out = vec![];
        history(&mut d, &mut out);
        assert!(
            out.is_empty(),
            "{:?}",
            out.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        // The forger: one request a minute, each for the next member, from 300 addresses.
        let start = 10 * 86_400 + 3_600;
        for k in 0..60u64 {
            let ip = format!("45.133.{}.{}", k % 16, 2 + k % 200);
            let mut e = ev(
                0,
                start + k as i64 * 60,
                100 + k,
                &ip,
                14061,
                "NL",
                "ShopApp/5.2.1",
            );
            e.time = jiff::Timestamp::from_second(1_743_465_600 + start + k as i64 * 60).unwrap();
            d.on_event(&e, &mut out);
            if !out.is_empty() {
                assert!(k < 15, "found only after {k} minutes");
                break;
            }
        }
        assert_eq!(
            out.len(),
            1,
            "{:?}",
            out.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        let f = &out[0];
        assert_eq!(f.severity, Severity::High);
        assert!(f
            .observables
            .iter()
            .any(|(k, v)| *k == "network" && v == "AS14061"));
        assert!(f
            .observables
            .iter()
            .any(|(k, v)| *k == "src_endpoint.ip" && v.starts_with("45.133.")));
        assert!(f.message.contains("walked"), "{}", f.message);
    }

    #[test]
    fn travellers_partners_and_nat_stay_quiet() {
        let mut d = ForgedTokenCampaign::default();
        let mut out = vec![];
        history(&mut d, &mut out);
        let base = 10 * 86_400;
        // A partner going live: 500 members from three addresses in minutes.
        for k in 0..500u64 {
            let ip = format!("52.79.200.{}", 2 + k % 3);
            let mut e = ev(0, 0, 1 + k * 3, &ip, 16509, "KR", "GiftBox/1.0");
            e.time = jiff::Timestamp::from_second(1_743_465_600 + base + k as i64).unwrap();
            d.on_event(&e, &mut out);
        }
        // A holiday: twenty travellers land in Japan over an evening.
        for k in 0..20u64 {
            let ip = format!("126.75.34.{}", 2 + k);
            let mut e = ev(0, 0, 500 + k * 11, &ip, 17676, "JP", "ShopApp/5.2.1");
            e.time = jiff::Timestamp::from_second(1_743_465_600 + base + 7_200 + k as i64 * 400)
                .unwrap();
            d.on_event(&e, &mut out);
        }
        assert!(
            out.is_empty(),
            "{:?}",
            out.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
    }

    #[test]
    fn members_do_not_learn_the_forgers_networks() {
        let mut d = ForgedTokenCampaign::default();
        let mut out = vec![];
        history(&mut d, &mut out);
        let start = 10 * 86_400;
        for k in 0..200u64 {
            let ip = format!("45.133.{}.{}", k % 16, 2 + k % 200);
            let mut e = ev(0, 0, 100 + k, &ip, 14061, "NL", "python-requests/2.31.0");
            e.time = jiff::Timestamp::from_second(1_743_465_600 + start + k as i64 * 30).unwrap();
            d.on_event(&e, &mut out);
        }
        assert!(!out.is_empty());
        // Well after the window: the members the forger used never learnt its network.
        let m = d.members[&baseline::hash("105")];
        let (net, _) = network(&{
            let mut e = gateway(0, 0, 1);
            e.src.asn = Some(14061);
            e
        });
        assert!(!m.knows(net));
        assert!(!m.countries.contains(&code("NL")));
    }

    #[test]
    fn surprise_is_a_poisson_tail() {
        assert!((poisson_surprise(1, 1.0) - (-(1.0 - (-1.0f64).exp()).log10())).abs() < 1e-9);
        assert!(poisson_surprise(10, 0.3) > 9.0);
        assert!(poisson_surprise(3, 3.0) < 1.0);
        assert_eq!(walked(&mut [1, 2, 3, 4, 9]), Some(1));
        assert_eq!(walked(&mut [5, 12, 19, 26, 33]), Some(7));
        assert_eq!(walked(&mut [5, 900, 19, 2_600, 33_000]), None);
    }
}
