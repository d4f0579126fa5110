//! Writers for the real formats, buffered one simulated day at a time: each day's events are sorted by
//! time and written as gzip files (fast level) in the layout the real producers use, then dropped.
//!
//! ```text
//! hr/roster.csv, hr/snapshots/roster-YYYY-MM-DD.csv      HR roster (what HR knew that day)
//! iam/credential-report-YYYY-MM-DD.csv                   IAM credential report snapshots (weekly)
//! inventory/secrets.csv, inventory/groups.csv            who can read which secret
//! cloudtrail/AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<ts>_<id>.json.gz
//! gateway/access-YYYY-MM-DD.jsonl.gz                     customer API gateway, with token claims
//! login/token-issuance-YYYY-MM-DD.jsonl.gz               login service's issuance log (optional)
//! app/db-access-YYYY-MM-DD.jsonl.gz                      application database access log
//! vpc/flow-YYYY-MM-DD.log.gz                             VPC flow logs, version 2
//! bastion/shell-YYYY-MM-DD.jsonl.gz                      bastion shell history
//! networks.csv, labels.csv, summary.json
//! ```

use crate::company::{Company, Iam, Kind, ACCOUNT, REGION, TEAMS};
use crate::config::SimConfig;
use crate::scenarios::Plan;
use crate::time::{self, iam_time, rfc3339, DAY};
use crate::{SimError, Summary};
use flate2::Compression;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Everything a simulation writes at the top of its folder.
const OWNED: [&str; 12] = [
    "hr",
    "iam",
    "inventory",
    "cloudtrail",
    "gateway",
    "login",
    "app",
    "vpc",
    "bastion",
    "labels.csv",
    "summary.json",
    "networks.csv",
];

/// Streams, in the order they are reported.
pub const STREAMS: [&str; 6] = [
    "cloudtrail",
    "gateway",
    "token_issuance",
    "db_access",
    "vpc_flow",
    "shell",
];

/// One CloudTrail record (the fields credwarden and common tools read).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CtRecord {
    /// "1.08".
    pub event_version: &'static str,
    /// Who.
    pub user_identity: serde_json::Value,
    /// RFC 3339.
    pub event_time: String,
    /// Service.
    pub event_source: String,
    /// API.
    pub event_name: String,
    /// Region.
    pub aws_region: &'static str,
    /// Caller address.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// User agent.
    pub user_agent: String,
    /// Error, if refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    /// Error text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Parameters.
    pub request_parameters: Option<serde_json::Value>,
    /// Response.
    pub response_elements: Option<serde_json::Value>,
    /// Extra data (bytesTransferredOut for S3, MFAUsed for console logins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<serde_json::Value>,
    /// Request id.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// Event id (labels refer to it).
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Read-only call.
    pub read_only: bool,
    /// Resources (data events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<serde_json::Value>,
    /// "AwsApiCall" / "AwsConsoleSignIn".
    pub event_type: &'static str,
    /// Management or data event.
    pub management_event: bool,
    /// Account.
    pub recipient_account_id: &'static str,
    /// "Management" / "Data".
    pub event_category: &'static str,
}

/// One API gateway access-log line, with the token claims the gateway saw (never the token itself).
#[derive(Debug, Serialize)]
pub struct GatewayLine<'a> {
    /// Epoch seconds (not written).
    #[serde(skip)]
    pub t: i64,
    /// RFC 3339.
    pub time: String,
    /// Request id (labels refer to it).
    pub request_id: &'a str,
    /// Caller address.
    pub client_ip: &'a str,
    /// User agent.
    pub user_agent: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Path.
    pub path: &'a str,
    /// HTTP status.
    pub status: u16,
    /// Response bytes.
    pub bytes: u64,
    /// Customer records returned.
    pub records: u64,
    /// Latency.
    pub latency_ms: u32,
    /// Token claims (absent on logins and public pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Claims<'a>>,
}

/// Token claims as the gateway logs them.
#[derive(Debug, Serialize)]
pub struct Claims<'a> {
    /// Member id.
    pub sub: String,
    /// Token id.
    pub jti: &'a str,
    /// Signing key id.
    pub kid: &'a str,
    /// Issued at (epoch seconds).
    pub iat: i64,
    /// Expiry (epoch seconds), when the token has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Client application.
    pub client_id: &'a str,
}

/// One token-issuance record of the login service.
#[derive(Debug, Serialize)]
pub struct IssuanceLine<'a> {
    /// RFC 3339.
    pub time: String,
    /// Always `token_issued`.
    pub event: &'a str,
    /// Member id.
    pub sub: String,
    /// Token id.
    pub jti: &'a str,
    /// Signing key id.
    pub kid: &'a str,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Client application.
    pub client_id: &'a str,
    /// Where the member logged in from.
    pub ip: &'a str,
    /// How they authenticated.
    pub auth_method: &'a str,
    /// Which login server wrote the record (filled in by [`Outputs::issuance`]).
    pub server: &'a str,
}

/// Login servers writing the issuance log, each into its own daily files, with its own clock.
pub const LOGIN_SERVERS: [&str; 3] = ["login-1", "login-2", "login-3"];

struct DayBuf {
    lines: Vec<(i64, String)>,
}

impl DayBuf {
    fn new() -> Self {
        Self { lines: Vec::new() }
    }
}

/// Tracks last use of IAM credentials for the credential-report snapshots.
#[derive(Debug, Default)]
pub struct Usage {
    /// key id → (time, region, service).
    pub keys: HashMap<String, (i64, String)>,
    /// user → last console sign-in.
    pub passwords: HashMap<String, i64>,
}

/// All writers.
pub struct Outputs {
    root: PathBuf,
    bufs: BTreeMap<&'static str, DayBuf>,
    /// Events written per stream.
    pub counts: BTreeMap<String, u64>,
    /// Drift that happened.
    pub drift: BTreeMap<String, u64>,
    /// Last use, for credential reports.
    pub usage: Usage,
    id_counter: u64,
    seed: u64,
    gzip: Gzip,
    /// Clock offset of each login server against the gateway's, in seconds.
    skew: [i64; 3],
    /// Issuance records a server had not flushed at midnight: they land in the next day's file.
    carry: [Vec<(i64, String)>; 3],
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Gzip files written with one reused deflate state: building a fresh compressor per file zeroes
/// hundreds of kilobytes, which dominated generation time with many small files.
struct Gzip {
    deflate: flate2::Compress,
    out: Vec<u8>,
}

impl Gzip {
    fn new() -> Self {
        Self {
            deflate: flate2::Compress::new(Compression::fast(), false),
            out: Vec::new(),
        }
    }

    /// Compress `body` into `path` as a single-member gzip file (RFC 1952, mtime 0: deterministic).
    fn write(&mut self, path: &Path, body: &[u8]) -> Result<(), SimError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        self.deflate.reset();
        self.out.clear();
        self.out
            .extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let zerr = |e: flate2::CompressError| SimError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        };
        let mut consumed = 0;
        loop {
            self.out.reserve(body.len() / 4 + 64 * 1024);
            let before = self.deflate.total_in();
            let flush = if consumed < body.len() {
                flate2::FlushCompress::None
            } else {
                flate2::FlushCompress::Finish
            };
            let status = self
                .deflate
                .compress_vec(&body[consumed..], &mut self.out, flush)
                .map_err(zerr)?;
            consumed += (self.deflate.total_in() - before) as usize;
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(body);
        self.out.extend_from_slice(&crc.sum().to_le_bytes());
        self.out
            .extend_from_slice(&(body.len() as u32).to_le_bytes());
        fs::write(path, &self.out).map_err(io(path))
    }
}

impl Outputs {
    /// Create the output folder. A previous simulation's files there are an error unless `overwrite`,
    /// which removes exactly those (mixing two runs would corrupt the answer key).
    pub fn create(root: &Path, cfg: &SimConfig, overwrite: bool) -> Result<Self, SimError> {
        fs::create_dir_all(root).map_err(io(root))?;
        let previous: Vec<PathBuf> = OWNED
            .iter()
            .map(|n| root.join(n))
            .filter(|p| p.exists())
            .collect();
        if !previous.is_empty() {
            if !overwrite {
                return Err(SimError::Exists(root.display().to_string()));
            }
            for p in previous {
                let r = if p.is_dir() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
                r.map_err(io(&p))?;
            }
        }
        let mut bufs = BTreeMap::new();
        for s in STREAMS {
            bufs.insert(s, DayBuf::new());
        }
        Ok(Self {
            root: root.to_path_buf(),
            bufs,
            counts: BTreeMap::new(),
            drift: BTreeMap::new(),
            usage: Usage::default(),
            id_counter: 0,
            seed: cfg.seed,
            gzip: Gzip::new(),
            // One server in step, one a little off, one well off (NTP broken), per seed.
            skew: [
                0,
                (cfg.seed % 7) as i64 - 3,
                (cfg.seed.wrapping_mul(2_654_435_761) % 91) as i64 - 45,
            ],
            carry: Default::default(),
        })
    }

    /// A fresh, deterministic, UUID-shaped id.
    pub fn uuid(&mut self) -> String {
        self.id_counter += 1;
        let mut x = self.id_counter ^ self.seed.rotate_left(32) ^ 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let (a, b) = (next(), next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// Count a drift occurrence.
    pub fn drift(&mut self, what: &str) {
        *self.drift.entry(what.to_string()).or_insert(0) += 1;
    }

    fn push(&mut self, stream: &'static str, t: i64, line: String) {
        self.bufs
            .get_mut(stream)
            .expect("known stream")
            .lines
            .push((t, line));
    }

    /// Add a CloudTrail record; tracks last use of the access key.
    pub fn cloudtrail(&mut self, t: i64, rec: &CtRecord) {
        if let Some(k) = rec
            .user_identity
            .get("accessKeyId")
            .and_then(|v| v.as_str())
        {
            if rec.error_code.is_none() {
                let svc = rec
                    .event_source
                    .trim_end_matches(".amazonaws.com")
                    .to_string();
                let e = self
                    .usage
                    .keys
                    .entry(k.to_string())
                    .or_insert((t, svc.clone()));
                if t >= e.0 {
                    *e = (t, svc);
                }
            }
        }
        if rec.event_name == "ConsoleLogin" && rec.error_code.is_none() {
            if let Some(u) = rec.user_identity.get("userName").and_then(|v| v.as_str()) {
                self.usage.passwords.insert(u.to_string(), t);
            }
        }
        self.push(
            "cloudtrail",
            t,
            serde_json::to_string(rec).expect("serializable"),
        );
    }

    /// Add a JSON-lines event to `stream`.
    pub fn json(&mut self, stream: &'static str, t: i64, v: &serde_json::Value) {
        self.push(stream, t, v.to_string());
    }

    /// Add a login-service token-issuance record: a login server is picked, and its clock offset
    /// applied to the record's times.
    pub fn issuance(&mut self, line: &IssuanceLine) {
        let server = (self.id_counter % 3) as usize;
        let skew = self.skew[server];
        let rec = IssuanceLine {
            time: rfc3339(line.iat + skew),
            iat: line.iat + skew,
            exp: line.exp + skew,
            server: LOGIN_SERVERS[server],
            sub: line.sub.clone(),
            ..*line
        };
        // Sort key: the true time; the server is told apart by the line's text.
        self.push(
            "token_issuance",
            line.iat * 4 + server as i64,
            serde_json::to_string(&rec).expect("serializable"),
        );
    }

    /// Add a customer API gateway access-log line (the hot stream: typed, no intermediate map).
    pub fn gateway(&mut self, line: &GatewayLine) {
        self.push(
            "gateway",
            line.t,
            serde_json::to_string(line).expect("serializable"),
        );
    }

    /// Add a VPC flow log line (version 2).
    pub fn flow(&mut self, t: i64, line: String) {
        self.push("vpc_flow", t, line);
    }

    /// Write and drop day `day`'s events.
    pub fn end_day(&mut self, cfg: &SimConfig, day: i64) -> Result<(), SimError> {
        let date = cfg
            .start
            .checked_add(jiff::Span::new().days(day))
            .expect("in range");
        let ymd = date.strftime("%Y-%m-%d").to_string();
        for stream in STREAMS {
            let mut lines = std::mem::take(&mut self.bufs.get_mut(stream).expect("known").lines);
            lines.sort_by_key(|(t, _)| *t);
            *self.counts.entry(stream.to_string()).or_insert(0) += lines.len() as u64;
            match stream {
                "cloudtrail" => self.write_cloudtrail(date, &lines)?,
                "token_issuance" if !cfg.issuance_log => {}
                "token_issuance" => self.write_issuance(&ymd, lines, day + 1 == cfg.days as i64)?,
                _ => {
                    let (dir, name) = match stream {
                        "gateway" => ("gateway", format!("access-{ymd}.jsonl.gz")),
                        "token_issuance" => ("login", format!("token-issuance-{ymd}.jsonl.gz")),
                        "db_access" => ("app", format!("db-access-{ymd}.jsonl.gz")),
                        "vpc_flow" => ("vpc", format!("flow-{ymd}.log.gz")),
                        _ => ("bastion", format!("shell-{ymd}.jsonl.gz")),
                    };
                    let path = self.root.join(dir).join(name);
                    let mut body = String::with_capacity(
                        lines.iter().map(|(_, l)| l.len() + 1).sum::<usize>() + 128,
                    );
                    if stream == "vpc_flow" {
                        body.push_str("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
                    }
                    for (_, l) in &lines {
                        body.push_str(l);
                        body.push('\n');
                    }
                    self.gzip.write(&path, body.as_bytes())?;
                }
            }
        }
        Ok(())
    }

    /// Each login server writes its own daily file, as its worker threads flush: records out of
    /// order within a few minutes, and the last minutes of the day in the next day's file.
    fn write_issuance(
        &mut self,
        ymd: &str,
        lines: Vec<(i64, String)>,
        last_day: bool,
    ) -> Result<(), SimError> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed ^ lines.len() as u64);
        let mut per: [Vec<(i64, String)>; 3] = std::mem::take(&mut self.carry);
        for (key, l) in lines {
            per[(key.rem_euclid(4)) as usize % 3].push((key / 4, l));
        }
        for (s, recs) in per.iter_mut().enumerate() {
            let end = recs.iter().map(|(t, _)| *t).max().unwrap_or(0);
            let cut = end - rng.random_range(60..400);
            let (now, later): (Vec<_>, Vec<_>) = std::mem::take(recs)
                .into_iter()
                .partition(|(t, _)| *t <= cut || last_day);
            self.carry[s] = later;
            // Worker threads flush a little out of order: up to two minutes of disorder.
            let mut now: Vec<(i64, String)> = now
                .into_iter()
                .map(|(t, l)| (t + rng.random_range(0..120), l))
                .collect();
            now.sort_by_key(|(t, _)| *t);
            let mut body = String::new();
            for (_, l) in &now {
                body.push_str(l);
                body.push('\n');
            }
            let path = self
                .root
                .join("login")
                .join(LOGIN_SERVERS[s])
                .join(format!("token-issuance-{ymd}.jsonl.gz"));
            self.gzip.write(&path, body.as_bytes())?;
        }
        Ok(())
    }

    /// CloudTrail delivers a file per account/region every few minutes; we write one per hour.
    fn write_cloudtrail(
        &mut self,
        date: jiff::civil::Date,
        lines: &[(i64, String)],
    ) -> Result<(), SimError> {
        let dir = self.root.join(format!(
            "cloudtrail/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{}",
            date.strftime("%Y/%m/%d")
        ));
        let mut i = 0;
        while i < lines.len() {
            let hour = lines[i].0 / 3600;
            let j = lines[i..]
                .iter()
                .position(|(t, _)| t / 3600 != hour)
                .map_or(lines.len(), |p| i + p);
            let stamp = jiff::Timestamp::from_second(hour * 3600)
                .expect("in range")
                .strftime("%Y%m%dT%H%MZ")
                .to_string();
            let uniq = self.uuid().replace('-', "")[..16].to_string();
            let path = dir.join(format!(
                "{ACCOUNT}_CloudTrail_{REGION}_{stamp}_{uniq}.json.gz"
            ));
            let mut body = String::with_capacity(
                lines[i..j].iter().map(|(_, l)| l.len() + 1).sum::<usize>() + 16,
            );
            body.push_str("{\"Records\":[");
            for (n, (_, l)) in lines[i..j].iter().enumerate() {
                if n > 0 {
                    body.push(',');
                }
                body.push_str(l);
            }
            body.push_str("]}\n");
            self.gzip.write(&path, body.as_bytes())?;
            i = j;
        }
        Ok(())
    }

    /// Write HR and IAM snapshots as known at the end of `day`.
    pub fn snapshot(
        &mut self,
        cfg: &SimConfig,
        company: &Company,
        day: i64,
    ) -> Result<(), SimError> {
        let date = cfg
            .start
            .checked_add(jiff::Span::new().days(day))
            .expect("in range");
        let ymd = date.strftime("%Y-%m-%d").to_string();
        self.write_roster(
            cfg,
            company,
            day,
            &self.root.join(format!("hr/snapshots/roster-{ymd}.csv")),
        )?;
        self.write_credential_report(
            cfg,
            company,
            day,
            &self.root.join(format!("iam/credential-report-{ymd}.csv")),
        )
    }

    fn write_roster(
        &self,
        cfg: &SimConfig,
        company: &Company,
        day: i64,
        path: &Path,
    ) -> Result<(), SimError> {
        fs::create_dir_all(path.parent().expect("has parent")).map_err(io(path))?;
        let mut w = csv::Writer::from_path(path).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            source: e.into(),
        })?;
        let mut rows = vec![vec![
            "id",
            "emails",
            "usernames",
            "display_name",
            "kind",
            "status",
            "start_date",
            "end_date",
            "manager",
            "department",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()];
        let d = |rel: i64| {
            cfg.start
                .checked_add(jiff::Span::new().days(rel))
                .expect("in range")
                .to_string()
        };
        for p in company.people.iter().filter(|p| p.start <= day) {
            let recorded = p.hr_recorded.is_some_and(|r| r <= day);
            // Contract ends are known in advance; an employee's last day only once HR records it.
            let end = match (p.kind, recorded) {
                (_, true) => p.end.map(d).unwrap_or_default(),
                (Kind::Contractor, false) => {
                    p.end.map(d).unwrap_or_else(|| d(cfg.days as i64 + 180))
                }
                _ => String::new(),
            };
            rows.push(vec![
                p.id.clone(),
                p.email(),
                p.username.clone(),
                p.name.clone(),
                if p.kind == Kind::Contractor {
                    "contractor"
                } else {
                    "employee"
                }
                .into(),
                if recorded { "terminated" } else { "active" }.into(),
                d(p.start),
                end,
                p.manager.clone(),
                TEAMS[p.team_on(day)].name.into(),
            ]);
        }
        for r in rows {
            w.write_record(r).map_err(|e| SimError::Io {
                path: path.display().to_string(),
                source: e.into(),
            })?;
        }
        w.flush().map_err(io(path))
    }

    fn write_credential_report(
        &self,
        cfg: &SimConfig,
        company: &Company,
        day: i64,
        path: &Path,
    ) -> Result<(), SimError> {
        fs::create_dir_all(path.parent().expect("has parent")).map_err(io(path))?;
        let f = fs::File::create(path).map_err(io(path))?;
        let mut w = BufWriter::new(f);
        let header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
        writeln!(w, "{header}").map_err(io(path))?;
        let at = |rel: i64| time::midnight(cfg.start) + rel * DAY + 3600;
        writeln!(w, "<root_account>,arn:aws:iam::{ACCOUNT}:root,{},not_supported,{},not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A", iam_time(at(-2500)), iam_time(at(-40))).map_err(io(path))?;
        let users = company
            .people
            .iter()
            .filter_map(|p| p.iam.as_ref())
            .chain(company.services.iter().map(|s| &s.iam));
        for iam in users {
            if iam.created > day || iam.deleted.is_some_and(|d| d <= day) {
                continue;
            }
            let line = self.report_row(iam, day, &at);
            writeln!(w, "{line}").map_err(io(path))?;
        }
        w.flush().map_err(io(path))
    }

    fn report_row(&self, iam: &Iam, day: i64, at: &dyn Fn(i64) -> i64) -> String {
        let pw_used = self
            .usage
            .passwords
            .get(&iam.user)
            .map_or("no_information".to_string(), |t| iam_time(*t));
        let mut cols = vec![
            iam.user.rsplit('/').next().unwrap_or(&iam.user).to_string(),
            iam.arn(),
            iam_time(at(iam.created)),
            if iam.password { "true" } else { "false" }.to_string(),
            if iam.password { pw_used } else { "N/A".into() },
            if iam.password {
                iam_time(at(iam.created))
            } else {
                "N/A".into()
            },
            "N/A".into(),
            if iam.mfa { "true" } else { "false" }.into(),
        ];
        let existing: Vec<_> = iam
            .keys
            .iter()
            .filter(|k| k.created <= day && k.deleted.is_none_or(|d| d > day))
            .take(2)
            .collect();
        for slot in 0..2 {
            match existing.get(slot) {
                Some(k) => {
                    let used = self.usage.keys.get(&k.id);
                    cols.push(if k.active_on(day) { "true" } else { "false" }.into());
                    cols.push(iam_time(at(k.created)));
                    cols.push(used.map_or("N/A".into(), |(t, _)| iam_time(*t)));
                    cols.push(used.map_or("N/A".into(), |_| REGION.to_string()));
                    cols.push(used.map_or("N/A".into(), |(_, s)| s.clone()));
                }
                None => cols.extend(["false", "N/A", "N/A", "N/A", "N/A"].map(String::from)),
            }
        }
        cols.extend(["false", "N/A", "false", "N/A"].map(String::from));
        cols.join(",")
    }

    /// Write the final files and return the summary.
    pub fn finish(
        self,
        cfg: &SimConfig,
        company: &Company,
        plan: &Plan,
    ) -> Result<Summary, SimError> {
        let last = cfg.days as i64 - 1;
        self.write_roster(cfg, company, last, &self.root.join("hr/roster.csv"))?;
        self.write_credential_report(
            cfg,
            company,
            last,
            &self.root.join("iam/credential-report.csv"),
        )?;
        let d = |rel: i64| {
            cfg.start
                .checked_add(jiff::Span::new().days(rel))
                .expect("in range")
                .to_string()
        };
        // Secrets inventory and reader groups.
        let inv = self.root.join("inventory/secrets.csv");
        fs::create_dir_all(inv.parent().expect("parent")).map_err(io(&inv))?;
        let mut w = BufWriter::new(fs::File::create(&inv).map_err(io(&inv))?);
        writeln!(
            w,
            "id,kind,system,owner,created,last_rotated,last_used,expires,status,scopes,readers"
        )
        .map_err(io(&inv))?;
        for s in &company.secrets {
            let mut readers = vec![s.reader_team.to_string()];
            readers.extend(s.readers.iter().map(|&i| company.people[i].id.clone()));
            writeln!(
                w,
                "{},{},{},{},{},{},,{},active,,{}",
                s.id,
                s.kind,
                s.system,
                company.people[s.owner].email(),
                d(s.created),
                s.rotated.filter(|&r| r <= last).map(d).unwrap_or_default(),
                d(s.expires),
                readers.join(";")
            )
            .map_err(io(&inv))?;
        }
        w.flush().map_err(io(&inv))?;
        let groups = self.root.join("inventory/groups.csv");
        let mut w = BufWriter::new(fs::File::create(&groups).map_err(io(&groups))?);
        writeln!(w, "group,member").map_err(io(&groups))?;
        // Group membership as the directory kept it: leavers stay listed (nobody cleans groups).
        for p in &company.people {
            writeln!(w, "{},{}", TEAMS[p.team].name, p.id).map_err(io(&groups))?;
        }
        w.flush().map_err(io(&groups))?;
        let owners = self.root.join("inventory/owners.csv");
        let mut w = BufWriter::new(fs::File::create(&owners).map_err(io(&owners))?);
        writeln!(w, "principal,owner").map_err(io(&owners))?;
        for s in &company.services {
            writeln!(
                w,
                "{},{}",
                s.iam.user.rsplit('/').next().unwrap_or(&s.iam.user),
                company.people[s.owner].id
            )
            .map_err(io(&owners))?;
        }
        w.flush().map_err(io(&owners))?;
        // Networks (the simulated GeoIP/ASN table).
        let nets = self.root.join("networks.csv");
        let mut w = BufWriter::new(fs::File::create(&nets).map_err(io(&nets))?);
        writeln!(w, "prefix,asn,country,name").map_err(io(&nets))?;
        let mut blocks = crate::net::benign_blocks();
        if let Some(a) = &plan.attacker {
            blocks.extend(a.blocks.iter().copied());
            blocks.extend([5, 9, 13].map(|i| a.block(i)));
        }
        for b in blocks {
            writeln!(
                w,
                "{}.{}.{}.0/24,{},{},{}",
                b.prefix[0], b.prefix[1], b.prefix[2], b.asn, b.country, b.name
            )
            .map_err(io(&nets))?;
        }
        w.flush().map_err(io(&nets))?;
        plan.write_labels(&self.root.join("labels.csv"))
            .map_err(io(&self.root))?;
        let mut drift = company.drift.clone();
        for (k, v) in &self.drift {
            *drift.entry(k.clone()).or_insert(0) += v;
        }
        let mut files = BTreeMap::new();
        for (k, v) in [
            ("hr", "hr/roster.csv"),
            ("hr_snapshots", "hr/snapshots/"),
            ("iam_credential_report", "iam/credential-report.csv"),
            ("secrets_inventory", "inventory/secrets.csv"),
            ("groups", "inventory/groups.csv"),
            ("owners", "inventory/owners.csv"),
            ("cloudtrail", "cloudtrail/"),
            ("gateway", "gateway/"),
            (
                "token_issuance",
                if cfg.issuance_log {
                    "login/"
                } else {
                    "(not written: --no-issuance-log)"
                },
            ),
            ("db_access", "app/"),
            ("vpc_flow", "vpc/"),
            ("shell", "bastion/"),
            ("labels", "labels.csv"),
            ("networks", "networks.csv"),
        ] {
            files.insert(k.to_string(), v.to_string());
        }
        let summary = Summary {
            start: rfc3339(time::midnight(cfg.start)),
            end: rfc3339(time::midnight(cfg.start) + cfg.days as i64 * DAY),
            days: cfg.days,
            identities: company.people.len(),
            credentials: company.credential_count(),
            events: self.counts.clone(),
            drift,
            scenarios: plan.items.iter().map(|p| p.id.to_string()).collect(),
            files,
        };
        let path = self.root.join("summary.json");
        fs::write(
            &path,
            serde_json::to_string_pretty(&summary).expect("serializable"),
        )
        .map_err(io(&path))?;
        Ok(summary)
    }
}
