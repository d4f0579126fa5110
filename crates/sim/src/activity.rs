//! Benign behaviour, day by day: engineers during Seoul office hours (with weekends, travel, VPN, on-call
//! nights and team moves), services on machine-regular schedules (with month-end batches), customers
//! logging in and using the shop through the API gateway. Scenario events are injected by
//! [`crate::scenarios`] into the same day buffers.

use crate::company::{Company, Person, ServiceKind, ACCOUNT, REGION, TEAMS};
use crate::config::SimConfig;
use crate::net::{self, Block};
use crate::out::{CtRecord, Outputs};
use crate::scenarios::{self, Plan};
use crate::time::{self, rfc3339, DAY};
use crate::SimError;
use jiff::civil::Weekday;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// Who makes an AWS call.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An IAM user with an access key.
    User {
        /// User name (may include a path such as `svc/`).
        user: String,
        /// Access key id.
        key: String,
    },
    /// An assumed role session.
    Role {
        /// Role name.
        role: String,
        /// Session name.
        session: String,
        /// Temporary key id (`ASIA…`).
        key: String,
    },
}

impl Actor {
    fn identity(&self) -> serde_json::Value {
        match self {
            Actor::User { user, key } => {
                let name = user.rsplit('/').next().unwrap_or(user);
                json!({"type": "IAMUser", "principalId": format!("AIDA{}", &key[4..]), "arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "accountId": ACCOUNT, "accessKeyId": key, "userName": name})
            }
            Actor::Role { role, session, key } => json!({
                "type": "AssumedRole",
                "principalId": format!("AROA{}:{session}", &key[4..]),
                "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"),
                "accountId": ACCOUNT,
                "accessKeyId": key,
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "accountId": ACCOUNT, "userName": role}}
            }),
        }
    }
}

/// Build a CloudTrail record. `data` marks S3 object-level (data) events.
#[allow(clippy::too_many_arguments)]
pub fn ct(
    out: &mut Outputs,
    t: i64,
    actor: &Actor,
    source: &str,
    name: &str,
    ip: &str,
    ua: &str,
    params: Option<serde_json::Value>,
    data: Option<(&str, &str, u64)>,
) -> CtRecord {
    let event_id = out.uuid();
    let request_id = out.uuid();
    let (resources, extra, category) = match data {
        Some((bucket, key, bytes)) => (
            Some(
                json!([{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")}, {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]),
            ),
            Some(json!({"bytesTransferredIn": 0, "bytesTransferredOut": bytes})),
            "Data",
        ),
        None => (None, None, "Management"),
    };
    let read_only = ["Get", "List", "Describe", "Filter", "Lookup", "Head"]
        .iter()
        .any(|p| name.starts_with(p));
    CtRecord {
        event_version: "1.08",
        user_identity: actor.identity(),
        event_time: rfc3339(t),
        event_source: source.to_string(),
        event_name: name.to_string(),
        aws_region: REGION,
        source_ip_address: ip.to_string(),
        user_agent: ua.to_string(),
        error_code: None,
        error_message: None,
        request_parameters: params,
        response_elements: None,
        additional_event_data: extra,
        request_id,
        event_id,
        read_only,
        resources,
        event_type: "AwsApiCall",
        management_event: category == "Management",
        recipient_account_id: ACCOUNT,
        event_category: category,
    }
}

const CLI_UA: [&str; 3] = [
    "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off command/{}",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8",
    "console.amazonaws.com",
];

/// A seconds-into-day in Seoul office hours (09:00–19:00 KST = 00:00–10:00 UTC), peaking late morning.
fn office_second(rng: &mut impl Rng) -> i64 {
    let h = (rng.random_range(0.0..1.0f64) + rng.random_range(0.0..1.0f64)) / 2.0 * 10.0;
    (h * 3600.0) as i64
}

fn where_from(p: &Person, day: i64, rng: &mut impl Rng) -> Block {
    if let Some((_, _, b)) = p.trips.iter().find(|(s, e, _)| (*s..=*e).contains(&day)) {
        return *b;
    }
    match rng.random_range(0..10) {
        0..=6 => net::OFFICE,
        7 | 8 => net::VPN,
        _ => p.home,
    }
}

/// Korean public holidays: the fixed-date ones every year, plus the lunar and substitute holidays of
/// 2025–2026. The office behaves as on a weekend.
pub fn holiday(d: jiff::civil::Date) -> bool {
    const FIXED: [(i8, i8); 8] = [
        (1, 1),
        (3, 1),
        (5, 5),
        (6, 6),
        (8, 15),
        (10, 3),
        (10, 9),
        (12, 25),
    ];
    const LUNAR: [(i16, i8, i8); 16] = [
        (2025, 1, 28),
        (2025, 1, 29),
        (2025, 1, 30),
        (2025, 3, 3),
        (2025, 5, 6),
        (2025, 10, 5),
        (2025, 10, 6),
        (2025, 10, 7),
        (2025, 10, 8),
        (2026, 2, 16),
        (2026, 2, 17),
        (2026, 2, 18),
        (2026, 5, 25),
        (2026, 9, 24),
        (2026, 9, 25),
        (2026, 9, 26),
    ];
    FIXED.contains(&(d.month(), d.day())) || LUNAR.contains(&(d.year(), d.month(), d.day()))
}

/// Generate the whole period.
pub fn run(
    cfg: &SimConfig,
    company: &Company,
    plan: &mut Plan,
    out: &mut Outputs,
) -> Result<(), SimError> {
    let days = cfg.days as i64;
    let customers = crate::customers::Customers::new(cfg);
    for day in 0..days {
        let mut rng =
            ChaCha8Rng::seed_from_u64(cfg.seed ^ (day as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let date = cfg
            .start
            .checked_add(jiff::Span::new().days(day))
            .expect("in range");
        let midnight = time::midnight(date);
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) || {
            let h = holiday(date);
            if h {
                out.drift("public_holidays");
            }
            h
        };
        engineers(company, day, midnight, weekend, &mut rng, out);
        services(company, day, date, midnight, weekend, &mut rng, out);
        customers.day(
            cfg,
            &company.secrets[company.login_key].id,
            day,
            midnight,
            !weekend,
            &mut rng,
            out,
        );
        network_and_shell(company, day, midnight, weekend, &mut rng, out);
        scenarios::inject(cfg, company, plan, day, midnight, &mut rng, out);
        out.end_day(cfg, day)?;
        if day % 7 == 6 || day == days - 1 {
            out.snapshot(cfg, company, day)?;
        }
    }
    Ok(())
}

fn engineers(
    company: &Company,
    day: i64,
    midnight: i64,
    weekend: bool,
    rng: &mut ChaCha8Rng,
    out: &mut Outputs,
) {
    let sre: Vec<usize> = company
        .engineers_on(day)
        .filter(|(_, p)| p.team_on(day) == 3)
        .map(|(i, _)| i)
        .collect();
    let on_call = (!sre.is_empty()).then(|| sre[(day as usize / 7) % sre.len()]);
    for (i, p) in company.engineers_on(day) {
        let iam = p.iam.as_ref().expect("engineer");
        let key = iam.key_on(day).expect("engineer");
        let actor = Actor::User {
            user: iam.user.clone(),
            key: key.id.clone(),
        };
        let team = &TEAMS[p.team_on(day)];
        if p.moved.is_some_and(|(d, _)| d == day) {
            out.drift("team_moves_happened");
        }
        let travelling = p.trips.iter().any(|(s, e, _)| (*s..=*e).contains(&day));
        if travelling {
            out.drift("travel_days");
        }
        let calls = if weekend {
            rng.random_range(0..3)
        } else {
            rng.random_range(4..30)
        };
        let second = |rng: &mut ChaCha8Rng| midnight + office_second(rng);
        if iam.password && !weekend && rng.random_bool(0.3) {
            let t = second(rng);
            let ip = where_from(p, day, rng).host(rng);
            let mut r = ct(
                out,
                t,
                &actor,
                "signin.amazonaws.com",
                "ConsoleLogin",
                &ip,
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
                None,
                None,
            );
            r.user_identity = json!({"type": "IAMUser", "principalId": format!("AIDA{}", &key.id[4..]), "arn": iam.arn(), "accountId": ACCOUNT, "userName": iam.user});
            r.event_type = "AwsConsoleSignIn";
            r.response_elements = Some(json!({"ConsoleLogin": "Success"}));
            r.additional_event_data =
                Some(json!({"MFAUsed": if iam.mfa { "Yes" } else { "No" }, "MobileVersion": "No"}));
            out.cloudtrail(t, &r);
        }
        for _ in 0..calls {
            let t = second(rng);
            let ip = where_from(p, day, rng).host(rng);
            let ua = CLI_UA
                .choose(rng)
                .expect("non-empty")
                .replace("{}", "s3.ls");
            if !team.buckets.is_empty() && rng.random_bool(0.35) {
                let bucket = team.buckets.choose(rng).expect("non-empty");
                let key_name = format!(
                    "{}/{:04}/part-{:05}.parquet",
                    team.name,
                    rng.random_range(2023..2026),
                    rng.random_range(0..5000)
                );
                let bytes = rng.random_range(1_000..5_000_000);
                let rec = ct(
                    out,
                    t,
                    &actor,
                    "s3.amazonaws.com",
                    "GetObject",
                    &ip,
                    &ua,
                    Some(json!({"bucketName": bucket, "key": key_name})),
                    Some((bucket, &key_name, bytes)),
                );
                out.cloudtrail(t, &rec);
            } else if let Some((src, name)) = team.calls.choose(rng) {
                let mut rec = ct(out, t, &actor, src, name, &ip, &ua, None, None);
                if rng.random_bool(0.02) {
                    rec.error_code = Some("AccessDenied");
                    rec.error_message = Some(format!(
                        "User: arn:aws:iam::{ACCOUNT}:user/{} is not authorized to perform: {name}",
                        iam.user
                    ));
                }
                out.cloudtrail(t, &rec);
            }
        }
        if on_call == Some(i) && rng.random_bool(0.5) {
            out.drift("on_call_nights");
            for _ in 0..rng.random_range(3..10) {
                // 23:00–05:00 KST = 14:00–20:00 UTC, from home.
                let t = midnight + 14 * 3600 + rng.random_range(0..6 * 3600);
                let ip = p.home.host(rng);
                let (src, name) = team
                    .calls
                    .choose(rng)
                    .copied()
                    .unwrap_or(("ec2.amazonaws.com", "DescribeInstances"));
                let rec = ct(out, t, &actor, src, name, &ip, CLI_UA[0], None, None);
                out.cloudtrail(t, &rec);
            }
        }
    }
}

fn services(
    company: &Company,
    day: i64,
    date: jiff::civil::Date,
    midnight: i64,
    weekend: bool,
    rng: &mut ChaCha8Rng,
    out: &mut Outputs,
) {
    let month_end = date.day() >= date.days_in_month() - 1;
    for s in &company.services {
        let Some(key) = s.iam.key_on(day) else {
            continue;
        };
        let actor = Actor::User {
            user: s.iam.user.clone(),
            key: key.id.clone(),
        };
        let ua = "aws-sdk-java/2.25.10 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10 Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy";
        let mut t = midnight + (s.period / 7) % s.period;
        while t < midnight + DAY {
            let jitter = rng.random_range(0..3);
            match s.kind {
                ServiceKind::OrderStatus => {
                    let order = rng.random_range(1_000_000..9_000_000u64);
                    let qid = out.uuid();
                    out.json("db_access", t + jitter, &json!({"time": rfc3339(t + jitter), "query_id": qid, "credential_id": key.id, "principal": s.iam.user, "database": "orders-db", "operation": "SELECT", "table": "orders", "endpoint": "/internal/order-status", "rows": 1, "bytes": 412, "record_ids": [order], "source_ip": s.ip}));
                }
                ServiceKind::Etl => {
                    let rec = ct(
                        out,
                        t + jitter,
                        &actor,
                        "glue.amazonaws.com",
                        "GetTables",
                        &s.ip,
                        ua,
                        Some(json!({"databaseName": "analytics"})),
                        None,
                    );
                    out.cloudtrail(t + jitter, &rec);
                    let qid = out.uuid();
                    out.json("db_access", t + jitter, &json!({"time": rfc3339(t + jitter), "query_id": qid, "credential_id": key.id, "principal": s.iam.user, "database": "orders-db", "operation": "SELECT", "table": "orders", "endpoint": "etl/daily-orders", "rows": rng.random_range(200..800), "bytes": rng.random_range(50_000..200_000), "source_ip": s.ip}));
                }
                ServiceKind::ReportBot => {
                    let n = if month_end { 12 } else { 1 };
                    for k in 0..n {
                        let key_name =
                            format!("reports/{}/summary-{k:03}.csv", date.strftime("%Y-%m"));
                        let rec = ct(
                            out,
                            t + jitter + k,
                            &actor,
                            "s3.amazonaws.com",
                            "GetObject",
                            &s.ip,
                            ua,
                            Some(json!({"bucketName": "shop-analytics", "key": key_name})),
                            Some((
                                "shop-analytics",
                                &key_name,
                                rng.random_range(100_000..20_000_000),
                            )),
                        );
                        out.cloudtrail(t + jitter + k, &rec);
                    }
                }
                ServiceKind::CiDeployer => {
                    if !weekend && (1..10).contains(&((t - midnight) / 3600)) {
                        let rec = ct(
                            out,
                            t + jitter,
                            &actor,
                            "ecr.amazonaws.com",
                            "GetAuthorizationToken",
                            &s.ip,
                            ua,
                            None,
                            None,
                        );
                        out.cloudtrail(t + jitter, &rec);
                    }
                }
            }
            t += s.period;
        }
        if month_end && s.kind == ServiceKind::ReportBot {
            out.drift("month_end_batch_days");
        }
    }
}

fn network_and_shell(
    company: &Company,
    day: i64,
    midnight: i64,
    weekend: bool,
    rng: &mut ChaCha8Rng,
    out: &mut Outputs,
) {
    let flows = if weekend { 60 } else { 300 };
    for _ in 0..flows {
        let t = midnight + rng.random_range(0..DAY);
        let (src, dst, sport, dport, bytes) = match rng.random_range(0..3) {
            0 => (
                net::OFFICE.host(rng),
                "10.0.1.10".to_string(),
                rng.random_range(40000..65000),
                22,
                rng.random_range(2_000..400_000),
            ),
            1 => (
                "10.0.2.21".to_string(),
                "10.0.3.40".to_string(),
                rng.random_range(40000..65000),
                5432,
                rng.random_range(10_000..2_000_000),
            ),
            _ => (
                "10.0.2.21".to_string(),
                "52.95.110.1".to_string(),
                rng.random_range(40000..65000),
                443,
                rng.random_range(1_000..200_000),
            ),
        };
        let packets = bytes / 900 + 1;
        out.flow(t, format!("2 {ACCOUNT} eni-0a1b2c3d4e5f60718 {src} {dst} {sport} {dport} 6 {packets} {bytes} {t} {} ACCEPT OK", t + rng.random_range(1..60)));
    }
    let cmds = [
        "kubectl get pods -n orders",
        "aws s3 ls s3://shop-logs/",
        "df -h",
        "journalctl -u nginx --since today",
        "psql -h orders-db.internal -c 'select count(*) from orders'",
        "aws sts get-caller-identity",
    ];
    for (_, p) in company
        .engineers_on(day)
        .filter(|(_, p)| matches!(p.team_on(day), 2 | 3))
    {
        if weekend || !rng.random_bool(0.3) {
            continue;
        }
        let t0 = midnight + office_second(rng);
        for k in 0..rng.random_range(1..5) {
            let t = t0 + k * rng.random_range(5..120);
            out.json("shell", t, &json!({"time": rfc3339(t), "host": "bastion-1", "user": p.username, "uid": 2000 + p.id[1..].parse::<u32>().unwrap_or(0), "cwd": format!("/home/{}", p.username), "command": cmds.choose(rng).expect("non-empty"), "session": format!("s-{}-{day}", p.username)}));
        }
    }
}
