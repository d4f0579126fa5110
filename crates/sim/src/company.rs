//! The organisation: teams, people (with hires, leavers, contractors, team moves, travel), their AWS IAM
//! users and access keys, service accounts, and the secrets people can read (token-signing keys, shared
//! secrets). Days are relative to the first simulated day (negative = before the simulation).

use crate::config::SimConfig;
use crate::net::{self, Block};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// AWS account of the company.
pub const ACCOUNT: &str = "210987654321";
/// Home region.
pub const REGION: &str = "ap-northeast-2";
/// An outside AWS account (scenario g).
pub const OUTSIDE_ACCOUNT: &str = "999988887777";

/// A team and what it touches.
#[derive(Debug, Clone)]
pub struct Team {
    /// Name (also its reader group name).
    pub name: &'static str,
    /// S3 buckets the team reads.
    pub buckets: &'static [&'static str],
    /// API calls typical of the team.
    pub calls: &'static [(&'static str, &'static str)],
    /// Engineers (have AWS access) or not.
    pub engineers: bool,
}

/// The teams.
pub const TEAMS: [Team; 6] = [
    Team {
        name: "login-platform",
        buckets: &["shop-login-config", "shop-artifacts"],
        calls: &[
            ("kms.amazonaws.com", "Sign"),
            ("secretsmanager.amazonaws.com", "GetSecretValue"),
            ("ec2.amazonaws.com", "DescribeInstances"),
            ("logs.amazonaws.com", "FilterLogEvents"),
        ],
        engineers: true,
    },
    Team {
        name: "orders",
        buckets: &["shop-order-archive", "shop-artifacts"],
        calls: &[
            ("dynamodb.amazonaws.com", "DescribeTable"),
            ("ec2.amazonaws.com", "DescribeInstances"),
            ("logs.amazonaws.com", "FilterLogEvents"),
            ("sqs.amazonaws.com", "GetQueueAttributes"),
        ],
        engineers: true,
    },
    Team {
        name: "data-platform",
        buckets: &[
            "shop-analytics",
            "shop-customer-exports",
            "shop-customer-pii",
        ],
        calls: &[
            ("athena.amazonaws.com", "StartQueryExecution"),
            ("glue.amazonaws.com", "GetTables"),
            ("rds.amazonaws.com", "DescribeDBSnapshots"),
            ("s3.amazonaws.com", "ListBuckets"),
        ],
        engineers: true,
    },
    Team {
        name: "sre",
        buckets: &["shop-artifacts", "shop-logs"],
        calls: &[
            ("ec2.amazonaws.com", "DescribeInstances"),
            ("cloudtrail.amazonaws.com", "DescribeTrails"),
            ("iam.amazonaws.com", "ListUsers"),
            ("cloudwatch.amazonaws.com", "GetMetricData"),
            ("ec2.amazonaws.com", "DescribeFlowLogs"),
        ],
        engineers: true,
    },
    Team {
        name: "support",
        buckets: &[],
        calls: &[],
        engineers: false,
    },
    Team {
        name: "finance",
        buckets: &[],
        calls: &[],
        engineers: false,
    },
];

/// Employee or contractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Employee.
    Employee,
    /// Contractor (has a contract end).
    Contractor,
}

/// An AWS access key.
#[derive(Debug, Clone)]
pub struct Key {
    /// `AKIA…` id.
    pub id: String,
    /// Day created.
    pub created: i64,
    /// Day deactivated, if ever.
    pub deactivated: Option<i64>,
    /// Day deleted, if ever.
    pub deleted: Option<i64>,
}

impl Key {
    /// Usable on `day`.
    pub fn active_on(&self, day: i64) -> bool {
        day >= self.created
            && self.deactivated.is_none_or(|d| day < d)
            && self.deleted.is_none_or(|d| day < d)
    }
}

/// An IAM user.
#[derive(Debug, Clone)]
pub struct Iam {
    /// User name.
    pub user: String,
    /// Day created.
    pub created: i64,
    /// Console password.
    pub password: bool,
    /// MFA on.
    pub mfa: bool,
    /// Access keys over time (rotation adds one, deactivates the old).
    pub keys: Vec<Key>,
    /// Day the user was deleted ("accounts closed").
    pub deleted: Option<i64>,
}

impl Iam {
    /// ARN.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user)
    }
    /// The key in use on `day`.
    pub fn key_on(&self, day: i64) -> Option<&Key> {
        self.keys.iter().rev().find(|k| k.active_on(day))
    }
}

/// A person.
#[derive(Debug, Clone)]
pub struct Person {
    /// HR id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Login.
    pub username: String,
    /// Employee or contractor.
    pub kind: Kind,
    /// Team index at the start.
    pub team: usize,
    /// Team move: (day, new team).
    pub moved: Option<(i64, usize)>,
    /// First day.
    pub start: i64,
    /// Last day, if leaving (or contract end).
    pub end: Option<i64>,
    /// Day HR recorded the departure (≥ end).
    pub hr_recorded: Option<i64>,
    /// Home network.
    pub home: Block,
    /// Trips: (first day, last day, where).
    pub trips: Vec<(i64, i64, Block)>,
    /// AWS access.
    pub iam: Option<Iam>,
    /// Manager's HR id.
    pub manager: String,
}

impl Person {
    /// Team on `day`.
    pub fn team_on(&self, day: i64) -> usize {
        match self.moved {
            Some((d, t)) if day >= d => t,
            _ => self.team,
        }
    }
    /// Employed on `day`.
    pub fn employed_on(&self, day: i64) -> bool {
        day >= self.start && self.end.is_none_or(|e| day <= e)
    }
    /// Email.
    pub fn email(&self) -> String {
        format!("{}@shop.example", self.username)
    }
}

/// What a service does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// Looks up order status (scenario b abuses it).
    OrderStatus,
    /// Month-end reporting batch.
    ReportBot,
    /// Nightly ETL.
    Etl,
    /// CI deploys.
    CiDeployer,
}

/// A service account with an access key and a machine-regular pattern.
#[derive(Debug, Clone)]
pub struct Service {
    /// Kind.
    pub kind: ServiceKind,
    /// IAM user.
    pub iam: Iam,
    /// Owner (person index).
    pub owner: usize,
    /// Seconds between calls.
    pub period: i64,
    /// Source address (NAT).
    pub ip: String,
}

/// A secret people can read.
#[derive(Debug, Clone)]
pub struct Secret {
    /// Id (JWKS `kid`, secret name).
    pub id: String,
    /// `signing_key` or `shared_secret`.
    pub kind: &'static str,
    /// System.
    pub system: &'static str,
    /// Owner (person index).
    pub owner: usize,
    /// Reader group (team name) and individual readers (person indices).
    pub reader_team: &'static str,
    /// Individual readers.
    pub readers: Vec<usize>,
    /// Day created.
    pub created: i64,
    /// Day rotated (benign rotation), if any.
    pub rotated: Option<i64>,
    /// Validity end day.
    pub expires: i64,
}

/// The whole company.
#[derive(Debug, Clone)]
pub struct Company {
    /// People (employees and contractors), including future hires.
    pub people: Vec<Person>,
    /// Service accounts.
    pub services: Vec<Service>,
    /// Secrets.
    pub secrets: Vec<Secret>,
    /// Index of the login service's token-signing key in `secrets`.
    pub login_key: usize,
    /// Benign drift planned (counted again as it happens).
    pub drift: std::collections::BTreeMap<String, u64>,
}

const FIRST: [&str; 24] = [
    "minji", "jaehoon", "sofia", "daniel", "lena", "arjun", "hana", "tom", "grace", "yuna", "omar",
    "jisoo", "seojun", "mei", "lucas", "ana", "ravi", "eun", "kenji", "nora", "ivan", "sara",
    "dong", "mina",
];
const LAST: [&str; 20] = [
    "park", "kim", "reyes", "osei", "vogel", "mehta", "sato", "baker", "liu", "choi", "haddad",
    "lee", "jung", "chen", "silva", "rao", "kang", "tanaka", "novak", "yoon",
];

/// `AKIA` + 16 upper-case alphanumerics.
pub fn key_id(rng: &mut impl Rng) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let tail: String = (0..16)
        .map(|_| A[rng.random_range(0..A.len())] as char)
        .collect();
    format!("AKIA{tail}")
}

impl Company {
    /// Build the organisation for `cfg` (deterministic in the seed).
    pub fn build(cfg: &SimConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let days = cfg.days as i64;
        let mut drift = std::collections::BTreeMap::new();
        let mut bump = |k: &str| *drift.entry(k.to_string()).or_insert(0u64) += 1;
        let mut people = Vec::with_capacity(cfg.identities + cfg.identities / 10);
        let mut used = std::collections::HashSet::new();
        for i in 0..cfg.identities + cfg.identities / 20 {
            let hire_in_period = i >= cfg.identities;
            let team = match i % 10 {
                0 | 1 => 0,
                2 | 3 => 1,
                4 | 5 => 2,
                6 => 3,
                7 | 8 => 4,
                _ => 5,
            };
            let (mut first, mut last) = (
                *FIRST.choose(&mut rng).unwrap(),
                *LAST.choose(&mut rng).unwrap(),
            );
            let mut username = format!("{first}.{last}");
            let mut n = 2;
            while !used.insert(username.clone()) {
                first = FIRST.choose(&mut rng).unwrap();
                last = LAST.choose(&mut rng).unwrap();
                username = format!("{first}.{last}{n}");
                n += 1;
            }
            let kind = if rng.random_bool(0.12) {
                Kind::Contractor
            } else {
                Kind::Employee
            };
            let start = if hire_in_period {
                rng.random_range(1..days - 5)
            } else {
                -rng.random_range(30..3000)
            };
            if hire_in_period {
                bump("new_hires");
            }
            let mut end = None;
            if kind == Kind::Contractor {
                // A contract ends after it starts (hires during the period included).
                end = Some(rng.random_range(days / 3..days * 3).max(start + 1));
            } else if !hire_in_period && rng.random_bool(0.06) {
                end = Some(rng.random_range(3..days - 2));
            }
            let end = end.filter(|&e| e < days);
            let hr_recorded = end.map(|e| {
                let jitter = if rng.random_bool(0.2) {
                    rng.random_range(1..4)
                } else {
                    0
                };
                if jitter > 0 {
                    bump("late_hr_records");
                }
                e + jitter + cfg.hr_lag_days as i64
            });
            if end.is_some() {
                bump("leavers");
            }
            let moved = (TEAMS[team].engineers
                && !hire_in_period
                && end.is_none()
                && rng.random_bool(0.04))
            .then(|| {
                bump("team_moves");
                (rng.random_range(days / 4..days * 3 / 4), (team + 1) % 4)
            });
            let mut trips = Vec::new();
            if rng.random_bool(0.08) {
                let s = rng.random_range(0..days - 10);
                trips.push((
                    s,
                    s + rng.random_range(3..10),
                    *net::TRAVEL.choose(&mut rng).unwrap(),
                ));
                bump("trips");
            }
            let iam = TEAMS[team].engineers.then(|| {
                let created = start.max(-2000) + 1;
                let mut keys = vec![Key {
                    id: key_id(&mut rng),
                    created,
                    deactivated: None,
                    deleted: None,
                }];
                // Quarterly-ish rotation for some: a new key, the old one deactivated a day later.
                if rng.random_bool(0.25) {
                    let d = rng.random_range(2..days - 2);
                    if d > created {
                        keys[0].deactivated = Some(d + 1);
                        keys[0].deleted = Some(d + 8);
                        keys.push(Key {
                            id: key_id(&mut rng),
                            created: d,
                            deactivated: None,
                            deleted: None,
                        });
                        bump("key_rotations");
                    }
                }
                Iam {
                    user: username.clone(),
                    created,
                    password: rng.random_bool(0.6),
                    mfa: rng.random_bool(0.85),
                    keys,
                    deleted: None,
                }
            });
            people.push(Person {
                id: format!("E{}", 1000 + i),
                name: format!("{} {}", capitalise(first), capitalise(last)),
                username,
                kind,
                team,
                moved,
                start,
                end,
                hr_recorded,
                home: *net::HOME_KR.choose(&mut rng).unwrap(),
                trips,
                iam,
                manager: String::new(),
            });
        }
        // Benign drift must be present in every company, however small: at least one team move and
        // one trip (the evaluation's "benign drift stays quiet" needs something to stay quiet about).
        let eligible = |p: &Person| TEAMS[p.team].engineers && p.start < 0 && p.end.is_none();
        if !people.iter().any(|p| p.moved.is_some()) {
            if let Some(p) = people
                .iter_mut()
                .rev()
                .find(|p| eligible(p) && p.trips.is_empty())
            {
                p.moved = Some((days / 2, (p.team + 1) % 4));
                bump("team_moves");
            }
        }
        if !people.iter().any(|p| !p.trips.is_empty()) {
            if let Some(p) = people
                .iter_mut()
                .rev()
                .find(|p| eligible(p) && p.moved.is_none())
            {
                p.trips.push((days / 3, days / 3 + 5, net::TRAVEL[0]));
                bump("trips");
            }
        }
        // Managers: the first person of each team manages it; the CTO (first person) manages them.
        let heads: Vec<String> = (0..TEAMS.len())
            .map(|t| {
                people
                    .iter()
                    .find(|p| p.team == t)
                    .map(|p| p.id.clone())
                    .unwrap_or_default()
            })
            .collect();
        let cto = people.first().map(|p| p.id.clone()).unwrap_or_default();
        for p in people.iter_mut() {
            p.manager = if p.id == cto {
                String::new()
            } else if p.id == heads[p.team] {
                cto.clone()
            } else {
                heads[p.team].clone()
            };
        }
        // Accounts are closed properly for ordinary leavers: IAM user deleted when HR records it.
        for p in people.iter_mut() {
            if let (Some(iam), Some(rec)) = (p.iam.as_mut(), p.hr_recorded) {
                iam.deleted = Some(rec + 1);
                for k in iam.keys.iter_mut() {
                    k.deleted = Some(k.deleted.map_or(rec + 1, |d| d.min(rec + 1)));
                }
            }
        }
        let owner_in = |team: usize| {
            people
                .iter()
                .position(|p| p.team == team && p.end.is_none())
                .unwrap_or(0)
        };
        let mut services = Vec::new();
        for (kind, name, team, period) in [
            (ServiceKind::OrderStatus, "order-status-svc", 1, 300),
            (ServiceKind::ReportBot, "report-bot", 2, 3600),
            (ServiceKind::Etl, "etl-runner", 2, 900),
            (ServiceKind::CiDeployer, "ci-deployer", 3, 1800),
        ] {
            let created = -rng.random_range(200..1500);
            services.push(Service {
                kind,
                iam: Iam {
                    user: format!("svc/{name}"),
                    created,
                    password: false,
                    mfa: false,
                    keys: vec![Key {
                        id: key_id(&mut rng),
                        created,
                        deactivated: None,
                        deleted: None,
                    }],
                    deleted: None,
                },
                owner: owner_in(team),
                period,
                ip: net::NAT.host(&mut rng),
            });
        }
        let login_owner = owner_in(0);
        let secrets = vec![
            Secret {
                id: "login-rs256-2019".into(),
                kind: "signing_key",
                system: "login-service",
                owner: login_owner,
                reader_team: "login-platform",
                readers: vec![],
                created: -2100,
                rotated: None,
                expires: -2100 + 3652,
            },
            Secret {
                id: "orders-hmac".into(),
                kind: "shared_secret",
                system: "orders-api",
                owner: owner_in(1),
                reader_team: "orders",
                readers: vec![],
                created: -400,
                rotated: Some(days / 2),
                expires: days + 400,
            },
            Secret {
                id: "pii-export-kms".into(),
                kind: "kms_key",
                system: "aws:210987654321",
                owner: owner_in(2),
                reader_team: "data-platform",
                readers: vec![],
                created: -300,
                rotated: None,
                expires: days + 700,
            },
        ];
        Company {
            people,
            services,
            secrets,
            login_key: 0,
            drift,
        }
    }

    /// People who are engineers with a live IAM key on `day`.
    pub fn engineers_on(&self, day: i64) -> impl Iterator<Item = (usize, &Person)> {
        self.people.iter().enumerate().filter(move |(_, p)| {
            p.employed_on(day) && p.iam.as_ref().is_some_and(|i| i.key_on(day).is_some())
        })
    }

    /// Credentials that existed over the period.
    pub fn credential_count(&self) -> usize {
        let iam = |i: &Iam| i.keys.len() + usize::from(i.password);
        self.people
            .iter()
            .filter_map(|p| p.iam.as_ref())
            .map(iam)
            .sum::<usize>()
            + self.services.iter().map(|s| iam(&s.iam)).sum::<usize>()
            + self.secrets.len()
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
