//! The labelled attack scenarios. [`plan`] picks the people and credentials involved (changing the
//! company where the story needs it: a leaver whose key is never revoked); [`inject`] writes each day's
//! malicious events into the same buffers as benign activity and records them in the answer key.
//!
//! | id | story |
//! |---|---|
//! | a | Coupang: a login-team engineer who could read the token-signing key leaves; accounts closed, key not rotated; months later forged tokens (same `kid`, never issued) walk sequential member ids from hundreds of overseas addresses |
//! | a2 | a contractor leaves, the key is not revoked, stays quiet, then pulls customer exports from an overseas ASN at a low steady rate |
//! | b | the order-status service key suddenly reads customer addresses in bulk |
//! | c | an insider bulk-downloads in the two weeks before resigning |
//! | d | a leaked key is used from a new ASN in parallel with its owner |
//! | e | persistence: an access key created for another user |
//! | f | log tampering: StopLogging, DeleteFlowLogs |
//! | g | a database snapshot shared with an outside account |
//! | h | `aws s3 sync` of the PII bucket from the bastion |

use crate::activity::{ct, Actor};
use crate::attacker::Attacker;
use crate::company::{key_id, Company, Kind, OUTSIDE_ACCOUNT};
use crate::config::SimConfig;
use crate::net;
use crate::out::{Claims, GatewayLine, Outputs};
use crate::time::{rfc3339, DAY};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::path::Path;

/// One planned scenario and its answer-key row.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Scenario id.
    pub id: &'static str,
    /// One line.
    pub title: String,
    /// HR id of the identity involved.
    pub identity: String,
    /// Main credential id.
    pub credential: String,
    /// Every name of the subject (identity id, username, email, key ids, ARNs, kid).
    pub subjects: Vec<String>,
    /// Person index.
    pub person: usize,
    /// First and last day of malicious activity.
    pub days: (i64, i64),
    /// First malicious event time (filled while generating).
    pub first: Option<i64>,
    /// Malicious events written.
    pub count: u64,
    /// First event ids (at most 50).
    pub event_ids: Vec<String>,
    /// Extra per-scenario value (key ids created, member-id cursor…).
    pub cursor: u64,
    /// When the risk began, if before the first malicious event (a leaver's departure).
    pub exposure: Option<i64>,
    /// Last malicious event time.
    pub last: Option<i64>,
    /// The attack's own entities, never seen in legitimate traffic (or, for an insider acting with
    /// their own credential, that credential during the attack): the attacker's addresses and /24
    /// networks, forged token ids (the first 1,000), keys only the attacker used, what it created.
    pub entities: Vec<String>,
}

/// All planned scenarios.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// In scenario order.
    pub items: Vec<Planned>,
    /// The forger (scenario a) and the networks a2, d and e come from.
    pub attacker: Option<Attacker>,
}

impl Plan {
    fn entity(&mut self, i: usize, name: &str) {
        let e = &mut self.items[i].entities;
        if e.len() < 4_000 && !e.iter().rev().take(64).any(|x| x == name) {
            e.push(name.to_string());
        }
    }

    fn record(&mut self, i: usize, t: i64, event_id: &str) {
        let p = &mut self.items[i];
        p.last = Some(p.last.map_or(t, |l| l.max(t)));
        p.first = Some(p.first.map_or(t, |f| f.min(t)));
        p.count += 1;
        if p.event_ids.len() < 50 {
            p.event_ids.push(event_id.to_string());
        }
    }

    /// Write the answer key, `labels.csv`.
    pub fn write_labels(&self, path: &Path) -> std::io::Result<()> {
        let mut w = csv::Writer::from_path(path)?;
        w.write_record([
            "scenario",
            "title",
            "identity",
            "credential",
            "subjects",
            "first_malicious_time",
            "last_malicious_time",
            "exposure_start",
            "event_count",
            "event_ids",
            "attack_entities",
        ])?;
        for p in &self.items {
            w.write_record([
                p.id.to_string(),
                p.title.clone(),
                p.identity.clone(),
                p.credential.clone(),
                p.subjects.join(";"),
                p.first.map(rfc3339).unwrap_or_default(),
                p.last.map(rfc3339).unwrap_or_default(),
                p.exposure.or(p.first).map(rfc3339).unwrap_or_default(),
                p.count.to_string(),
                p.event_ids.join(";"),
                {
                    let mut e = p.entities.clone();
                    e.sort();
                    e.dedup();
                    e.join(";")
                },
            ])?;
        }
        w.flush()
    }
}

fn names(company: &Company, i: usize) -> Vec<String> {
    let p = &company.people[i];
    let mut v = vec![p.id.clone(), p.username.clone(), p.email()];
    if let Some(iam) = &p.iam {
        v.push(iam.arn());
        v.extend(iam.keys.iter().map(|k| k.id.clone()));
        v.extend((1..=2).map(|n| format!("{}#access_key_{n}", iam.arn())));
        if iam.password {
            v.push(format!("{}#password", iam.arn()));
        }
    }
    v
}

/// Pick participants and adjust the company for each enabled scenario.
pub fn plan(cfg: &SimConfig, company: &mut Company) -> Plan {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_mul(31).wrapping_add(7));
    let days = cfg.days as i64;
    let attacker = Attacker::draw(cfg);
    let attack = ((days as f64) * attacker.start) as i64;
    let mut taken: Vec<usize> = Vec::new();
    // Pick an engineer of `team` not otherwise involved (no ownership or other scenario), whatever
    // their drift (team moves, trips): victims are not chosen to stand out. In a small company fall
    // back to any engineering team.
    let pick =
        |company: &Company, team: usize, taken: &mut Vec<usize>, rng: &mut ChaCha8Rng| -> usize {
            let free = |i: usize, p: &crate::company::Person, any_team: bool| {
                (any_team || p.team == team)
                    && p.start < 0
                    && p.end.is_none()
                    && p.iam.is_some()
                    && !taken.contains(&i)
                    && company.secrets.iter().all(|s| s.owner != i)
                    && company.services.iter().all(|s| s.owner != i)
            };
            let candidates = |any_team: bool| -> Vec<usize> {
                company
                    .people
                    .iter()
                    .enumerate()
                    .filter(|(i, p)| free(*i, p, any_team))
                    .map(|(i, _)| i)
                    .collect()
            };
            let mut c = candidates(false);
            if c.is_empty() {
                c = candidates(true);
            }
            let i = *c
                .choose(rng)
                .expect("validated size leaves enough engineers");
            taken.push(i);
            i
        };
    let mut items = Vec::new();
    // `extra` names are added to the person's own names; for a service scenario the person is only its
    // owner, so `own_names` is false and the subject is the service alone.
    let mut add = |id: &'static str,
                   title: &str,
                   company: &Company,
                   person: usize,
                   credential: String,
                   extra: Vec<String>,
                   span: (i64, i64),
                   own_names: bool,
                   exposure: Option<i64>| {
        let mut subjects = if own_names {
            names(company, person)
        } else {
            Vec::new()
        };
        subjects.extend(extra);
        subjects.dedup();
        let identity = if own_names {
            company.people[person].id.clone()
        } else {
            String::new()
        };
        items.push(Planned {
            id,
            title: title.into(),
            identity,
            credential,
            subjects,
            person,
            days: span,
            first: None,
            count: 0,
            event_ids: vec![],
            cursor: 0,
            exposure,
            last: None,
            entities: Vec::new(),
        });
    };
    let leave = |company: &mut Company, i: usize, end: i64, close_accounts: bool| {
        let p = &mut company.people[i];
        p.end = Some(end);
        p.hr_recorded = Some(end + cfg.hr_lag_days as i64);
        if let Some(iam) = p.iam.as_mut() {
            if close_accounts {
                let closed = end + cfg.hr_lag_days as i64 + 1;
                iam.deleted = Some(closed);
                for k in iam.keys.iter_mut() {
                    k.deleted = Some(k.deleted.map_or(closed, |d| d.min(closed)));
                }
            }
        }
    };
    if cfg.on("a") {
        let i = pick(company, 0, &mut taken, &mut rng);
        leave(company, i, days / 5, true);
        let kid = company.secrets[company.login_key].id.clone();
        add("a", "Leaver's readable token-signing key never rotated; forged tokens walk member ids from rotating overseas addresses", company, i, kid.clone(), vec![kid, "login-service".into()], (attack, days - 1), true, Some(departure(cfg, days / 5)));
    }
    if cfg.on("a2") {
        let i = pick(company, 2, &mut taken, &mut rng);
        company.people[i].kind = Kind::Contractor;
        leave(company, i, days / 4, false); // HR end date passes; nobody revokes the key
        let key = key_on_day(company, i, attack);
        add("a2", "Departed contractor's unrevoked access key pulls customer exports from an overseas ASN", company, i, key, vec![], (attack, days - 1), true, Some(departure(cfg, days / 4)));
    }
    if cfg.on("b") {
        let s = company
            .services
            .iter()
            .position(|s| s.kind == crate::company::ServiceKind::OrderStatus)
            .expect("exists");
        let owner = company.services[s].owner;
        let key = company.services[s].iam.keys[0].id.clone();
        let user = company.services[s].iam.user.clone();
        let start = (attack + 3).min(days - 6);
        add(
            "b",
            "Order-status service key suddenly reads customer addresses in bulk",
            company,
            owner,
            key.clone(),
            vec![
                key,
                user.clone(),
                format!("arn:aws:iam::{}:user/{user}", crate::company::ACCOUNT),
                "order-status-svc".into(),
            ],
            (start, start + 4),
            false,
            None,
        );
    }
    if cfg.on("c") {
        let i = pick(company, 2, &mut taken, &mut rng);
        let end = days - days / 8;
        leave(company, i, end, true);
        let key = key_on_day(company, i, end - 14);
        add(
            "c",
            "Insider bulk-downloads customer data in the two weeks before resigning",
            company,
            i,
            key,
            vec![],
            (end - 14, end),
            true,
            None,
        );
    }
    if cfg.on("d") {
        let i = pick(company, 1, &mut taken, &mut rng);
        let key = key_on_day(company, i, (attack + 5).min(days - 11));
        let start = (attack + 5).min(days - 11);
        add(
            "d",
            "Leaked access key used from a new ASN in parallel with its owner",
            company,
            i,
            key,
            vec![],
            (start, start + 9),
            true,
            None,
        );
    }
    if cfg.on("e") {
        let i = pick(company, 3, &mut taken, &mut rng);
        let d = rng.random_range(days / 3..days - 3);
        let key = key_on_day(company, i, d);
        add(
            "e",
            "Persistence: access key created for another user",
            company,
            i,
            key,
            vec![],
            (d, d + 2),
            true,
            None,
        );
    }
    if cfg.on("f") {
        let i = pick(company, 3, &mut taken, &mut rng);
        let d = rng.random_range(days / 2..days - 2);
        let key = key_on_day(company, i, d);
        add(
            "f",
            "Log tampering: CloudTrail logging stopped and VPC flow logs deleted",
            company,
            i,
            key,
            vec![],
            (d, d),
            true,
            None,
        );
    }
    if cfg.on("g") {
        let i = pick(company, 2, &mut taken, &mut rng);
        let d = rng.random_range(days / 3..days - 2);
        let key = key_on_day(company, i, d);
        add(
            "g",
            "Database snapshot shared with an outside AWS account",
            company,
            i,
            key,
            vec![],
            (d, d),
            true,
            None,
        );
    }
    if cfg.on("h") {
        let i = pick(company, 3, &mut taken, &mut rng);
        let session = format!(
            "arn:aws:sts::{}:assumed-role/bastion-role/{}",
            crate::company::ACCOUNT,
            company.people[i].username
        );
        let d = rng.random_range(days / 3..days - 2);
        add(
            "h",
            "`aws s3 sync` of the customer PII bucket from the bastion",
            company,
            i,
            session.clone(),
            vec![session],
            (d, d),
            true,
            None,
        );
    }
    let mut plan = Plan {
        items,
        attacker: Some(attacker),
    };
    // Entities known up front: keys only the attacker uses, an insider's own key during the
    // attack, what the attacker creates (added as it happens).
    for i in 0..plan.items.len() {
        let (id, cred) = (plan.items[i].id, plan.items[i].credential.clone());
        if id != "a" && !cred.is_empty() {
            plan.entity(i, &cred);
        }
        if id == "h" {
            plan.entity(i, "s3://shop-customer-pii/");
        }
        if id == "g" {
            plan.entity(i, "customers-manual-export");
            plan.entity(i, OUTSIDE_ACCOUNT);
        }
    }
    plan
}

/// The access key person `i` uses on `day` (rotation may have replaced an older one), else their last.
fn key_on_day(company: &Company, i: usize, day: i64) -> String {
    let iam = company.people[i].iam.as_ref();
    iam.and_then(|m| m.key_on(day).or(m.keys.last()))
        .map(|k| k.id.clone())
        .unwrap_or_default()
}

/// The start of a leaver's last day (`end`): HR's termination date, from which the exposure runs.
fn departure(cfg: &SimConfig, end: i64) -> i64 {
    crate::time::midnight(cfg.start) + end * DAY
}

const CRAWLER_UA: [&str; 3] = [
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Scrapy/2.11.1; +https://scrapy.org)",
    "okhttp/4.12.0",
];

/// Write day `day`'s malicious events.
pub fn inject(
    cfg: &SimConfig,
    company: &Company,
    plan: &mut Plan,
    day: i64,
    midnight: i64,
    rng: &mut ChaCha8Rng,
    out: &mut Outputs,
) {
    for i in 0..plan.items.len() {
        let (first, last) = plan.items[i].days;
        if day < first || day > last {
            continue;
        }
        let person = &company.people[plan.items[i].person];
        let key = plan.items[i].credential.clone();
        let user = person
            .iam
            .as_ref()
            .map(|m| m.user.clone())
            .unwrap_or_default();
        match plan.items[i].id {
            "a" => {
                let Some(atk) = plan.attacker.clone() else {
                    continue;
                };
                if day == first {
                    for b in &atk.blocks {
                        plan.entity(i, &b.cidr());
                    }
                    for ip in &atk.addresses {
                        plan.entity(i, ip);
                    }
                }
                let kid = company.secrets[company.login_key].id.clone();
                let mut token: Option<(String, u64, i64, u32)> = None;
                for _ in 0..atk.per_day {
                    let t = midnight
                        + if atk.evening {
                            crate::customers::customer_second(rng)
                        } else {
                            rng.random_range(0..DAY)
                        };
                    // A forged token serves `reuse` requests, then the next member.
                    let (jti, member, iat) = match token.take() {
                        Some((j, m, iat, left)) if left > 0 => {
                            token = Some((j.clone(), m, iat, left - 1));
                            (j, m, iat)
                        }
                        _ => {
                            plan.items[i].cursor += 1;
                            let m = atk.member(plan.items[i].cursor, cfg.members, rng);
                            let j = out.uuid();
                            let iat = t - rng.random_range(atk.iat_lag.0..=atk.iat_lag.1);
                            if plan.items[i].entities.len() < 3_000 {
                                plan.entity(i, &j);
                            }
                            token = Some((j.clone(), m, iat, atk.reuse - 1));
                            (j, m, iat)
                        }
                    };
                    // Ids past the last real member do not exist (404).
                    let exists = member <= cfg.members;
                    let path = if rng.random_bool(0.75) {
                        format!("/api/v1/members/{member}/address-book")
                    } else {
                        format!("/api/v1/members/{member}/orders")
                    };
                    let rid = out.uuid();
                    let ip = atk.addresses.choose(rng).expect("non-empty");
                    let records = if exists { rng.random_range(1..5) } else { 0 };
                    out.gateway(&GatewayLine {
                        t,
                        time: rfc3339(t),
                        request_id: &rid,
                        client_ip: ip,
                        user_agent: &atk.user_agent,
                        method: "GET",
                        path: &path,
                        status: if exists { 200 } else { 404 },
                        bytes: 200 + records * 180,
                        records,
                        latency_ms: rng.random_range(8..120),
                        token: Some(Claims {
                            sub: member.to_string(),
                            jti: &jti,
                            kid: &kid,
                            iat,
                            exp: atk.lifetime.map(|l| iat + l),
                            client_id: atk.client_id,
                        }),
                    });
                    plan.record(i, t, &rid);
                }
            }
            "a2" => {
                let Some(b) = plan.attacker.as_ref().map(|a| a.block(5)) else {
                    continue;
                };
                let ip = b.host(rng);
                plan.entity(i, &ip);
                plan.entity(i, &b.cidr());
                let actor = Actor::User {
                    user: user.clone(),
                    key: key.clone(),
                };
                for n in 0..cfg.a2_reads_per_day {
                    let t = midnight
                        + (n as i64 * DAY) / cfg.a2_reads_per_day.max(1) as i64
                        + rng.random_range(0..60);
                    let obj = format!(
                        "exports/customers/{}/part-{n:05}.csv.gz",
                        cfg.start
                            .checked_add(jiff::Span::new().days(day))
                            .expect("in range")
                    );
                    let rec = ct(out, t, &actor, "s3.amazonaws.com", "GetObject", &ip, "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/s3.cp", Some(json!({"bucketName": "shop-customer-exports", "key": obj})), Some(("shop-customer-exports", &obj, rng.random_range(2_000_000..8_000_000))));
                    plan.record(i, t, &rec.event_id);
                    out.cloudtrail(t, &rec);
                }
            }
            "b" => {
                let s = company
                    .services
                    .iter()
                    .find(|s| s.kind == crate::company::ServiceKind::OrderStatus)
                    .expect("exists");
                for h in 0..24 {
                    for _ in 0..rng.random_range(20..40) {
                        let t = midnight + h * 3600 + rng.random_range(0..3600);
                        let qid = out.uuid();
                        let rows = rng.random_range(500..2000u64);
                        let start = rng.random_range(1..cfg.members.saturating_sub(rows).max(2));
                        let ids: Vec<u64> = (start..start + rows.min(20)).collect();
                        out.json("db_access", t, &json!({"time": rfc3339(t), "query_id": qid, "credential_id": key, "principal": s.iam.user, "database": "customers-db", "operation": "SELECT", "table": "customer_addresses", "endpoint": "/internal/order-status", "rows": rows, "bytes": rows * 240, "record_ids": ids, "source_ip": s.ip}));
                        plan.record(i, t, &qid);
                    }
                }
            }
            "c" => {
                let actor = Actor::User {
                    user: user.clone(),
                    key: key.clone(),
                };
                for n in 0..rng.random_range(150..300) {
                    let t = midnight + rng.random_range(0..10 * 3600);
                    let bucket = if n % 3 == 0 {
                        "shop-customer-pii"
                    } else {
                        "shop-analytics"
                    };
                    let obj = format!("tables/customers/part-{n:05}.parquet");
                    let rec = ct(out, t, &actor, "s3.amazonaws.com", "GetObject", &net::OFFICE.host(rng), "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/s3.cp", Some(json!({"bucketName": bucket, "key": obj})), Some((bucket, &obj, rng.random_range(20_000_000..120_000_000))));
                    plan.record(i, t, &rec.event_id);
                    out.cloudtrail(t, &rec);
                }
            }
            "d" => {
                let Some(b) = plan.attacker.as_ref().map(|a| a.block(9)) else {
                    continue;
                };
                plan.entity(i, &b.cidr());
                let actor = Actor::User {
                    user: user.clone(),
                    key: key.clone(),
                };
                for n in 0..rng.random_range(15..40) {
                    // 01:00–05:00 KST while the owner sleeps, and some during the owner's day.
                    let t = midnight
                        + if n % 3 == 0 {
                            rng.random_range(0..10 * 3600)
                        } else {
                            16 * 3600 + rng.random_range(0..4 * 3600)
                        };
                    let (src, name, data) = match n % 4 {
                        0 => ("s3.amazonaws.com", "ListBuckets", None),
                        1 => ("ec2.amazonaws.com", "DescribeInstances", None),
                        2 => ("iam.amazonaws.com", "ListUsers", None),
                        _ => (
                            "s3.amazonaws.com",
                            "GetObject",
                            Some((
                                "shop-order-archive",
                                format!("orders/2025/part-{n:05}.parquet"),
                            )),
                        ),
                    };
                    let rec = match &data {
                        Some((bkt, obj)) => ct(out, t, &actor, src, name, &b.host(rng), "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.15.0 lang/python#3.10.12", Some(json!({"bucketName": bkt, "key": obj})), Some((bkt, obj, rng.random_range(1_000_000..9_000_000)))),
                        None => ct(out, t, &actor, src, name, &b.host(rng), "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.15.0 lang/python#3.10.12", None, None),
                    };
                    plan.record(i, t, &rec.event_id);
                    out.cloudtrail(t, &rec);
                }
            }
            "e" if day == first => {
                let victim = company
                    .services
                    .iter()
                    .find(|s| s.kind == crate::company::ServiceKind::ReportBot)
                    .expect("exists");
                let new_key = key_id(rng);
                let actor = Actor::User {
                    user: user.clone(),
                    key: key.clone(),
                };
                let t = midnight + 17 * 3600 + rng.random_range(0..3600); // 02:00 KST
                let mut rec = ct(out, t, &actor, "iam.amazonaws.com", "CreateAccessKey", &net::VPN.host(rng), "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/iam.create-access-key", Some(json!({"userName": victim.iam.user.rsplit('/').next().unwrap_or("")})), None);
                rec.response_elements = Some(
                    json!({"accessKey": {"accessKeyId": new_key, "status": "Active", "userName": victim.iam.user.rsplit('/').next().unwrap_or(""), "createDate": rfc3339(t)}}),
                );
                plan.record(i, t, &rec.event_id);
                out.cloudtrail(t, &rec);
                plan.items[i].subjects.push(new_key.clone());
                plan.entity(i, &new_key);
                // The planted key is used the next day from abroad.
                let Some(b) = plan.attacker.as_ref().map(|a| a.block(13)) else {
                    continue;
                };
                plan.entity(i, &b.cidr());
                let planted = Actor::User {
                    user: victim.iam.user.clone(),
                    key: new_key,
                };
                for k in 0..5 {
                    let t2 = t + DAY / 2 + k * 600;
                    let rec = ct(
                        out,
                        t2,
                        &planted,
                        "s3.amazonaws.com",
                        "ListBuckets",
                        &b.host(rng),
                        "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.15.0",
                        None,
                        None,
                    );
                    plan.record(i, t2, &rec.event_id);
                    out.cloudtrail(t2, &rec);
                }
            }
            "f" => {
                let actor = Actor::User {
                    user: user.clone(),
                    key: key.clone(),
                };
                let t = midnight + 15 * 3600 + rng.random_range(0..3600);
                let ip = net::VPN.host(rng);
                let rec = ct(out, t, &actor, "cloudtrail.amazonaws.com", "StopLogging", &ip, "aws-cli/2.15.30 Python/3.11.8 Linux/5.15 exe/x86_64 prompt/off command/cloudtrail.stop-logging", Some(json!({"name": format!("arn:aws:cloudtrail:{}:{}:trail/org-trail", crate::company::REGION, crate::company::ACCOUNT)})), None);
                plan.record(i, t, &rec.event_id);
                out.cloudtrail(t, &rec);
                let rec = ct(out, t + 95, &actor, "ec2.amazonaws.com", "DeleteFlowLogs", &ip, "aws-cli/2.15.30 Python/3.11.8 Linux/5.15 exe/x86_64 prompt/off command/ec2.delete-flow-logs", Some(json!({"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0a1b2c3d4e5f60718", "tag": 1}}})), None);
                plan.record(i, t + 95, &rec.event_id);
                out.cloudtrail(t + 95, &rec);
            }
            "g" => {
                let actor = Actor::User {
                    user: user.clone(),
                    key: key.clone(),
                };
                let t = midnight + 6 * 3600 + rng.random_range(0..3600);
                let ip = net::OFFICE.host(rng);
                let rec = ct(
                    out,
                    t,
                    &actor,
                    "rds.amazonaws.com",
                    "CreateDBSnapshot",
                    &ip,
                    CRAWLER_UA[0],
                    Some(
                        json!({"dBSnapshotIdentifier": "customers-manual-export", "dBInstanceIdentifier": "customers-db"}),
                    ),
                    None,
                );
                plan.record(i, t, &rec.event_id);
                out.cloudtrail(t, &rec);
                let rec = ct(out, t + 1800, &actor, "rds.amazonaws.com", "ModifyDBSnapshotAttribute", &ip, "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/rds.modify-db-snapshot-attribute", Some(json!({"dBSnapshotIdentifier": "customers-manual-export", "attributeName": "restore", "valuesToAdd": [OUTSIDE_ACCOUNT]})), None);
                plan.record(i, t + 1800, &rec.event_id);
                out.cloudtrail(t + 1800, &rec);
            }
            "h" => {
                let t0 = midnight + 8 * 3600 + rng.random_range(0..3600);
                let sess = json!({"time": rfc3339(t0), "host": "bastion-1", "user": person.username, "uid": 2000, "cwd": format!("/home/{}", person.username), "command": "aws s3 sync s3://shop-customer-pii/ /tmp/.cache/pii/ --quiet", "session": format!("s-{}-{day}", person.username)});
                out.json("shell", t0, &sess);
                plan.record(i, t0, &format!("shell:{}:{t0}", person.username));
                let role_key = format!("ASIA{}", &key_id(rng)[4..]);
                let actor = Actor::Role {
                    role: "bastion-role".into(),
                    session: person.username.clone(),
                    key: role_key,
                };
                let ip = net::BASTION.host(rng);
                let ua = "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/s3.sync";
                let rec = ct(
                    out,
                    t0 + 1,
                    &actor,
                    "s3.amazonaws.com",
                    "ListObjectsV2",
                    &ip,
                    ua,
                    Some(json!({"bucketName": "shop-customer-pii", "list-type": "2"})),
                    None,
                );
                plan.record(i, t0 + 1, &rec.event_id);
                out.cloudtrail(t0 + 1, &rec);
                for n in 0..rng.random_range(200..400) {
                    let t = t0 + 2 + n / 4;
                    let obj = format!("customers/part-{n:05}.parquet");
                    let rec = ct(
                        out,
                        t,
                        &actor,
                        "s3.amazonaws.com",
                        "GetObject",
                        &ip,
                        ua,
                        Some(json!({"bucketName": "shop-customer-pii", "key": obj})),
                        Some((
                            "shop-customer-pii",
                            &obj,
                            rng.random_range(5_000_000..60_000_000),
                        )),
                    );
                    plan.record(i, t, &rec.event_id);
                    out.cloudtrail(t, &rec);
                }
            }
            _ => {}
        }
    }
}
