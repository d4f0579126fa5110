//! Command-line definitions. Every option is declared once here, with its help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// credwarden: no credential outlives its owner's employment.
#[derive(Debug, Parser)]
#[command(name = "credwarden", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// When to colour output: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// More log detail on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// When to colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned table for people (default on a terminal).
    Table,
    /// OCSF 1.3.0 Detection Finding (class 2004), one JSON object per line (default otherwise).
    Json,
    /// CSV with a header row.
    Csv,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Join the HR roster with credential inventories and report what should not be (no logs needed).
    ///
    /// Examples:
    ///   credwarden audit --hr hr.csv --inventory iam-credential-report.csv secrets.csv --groups groups.csv
    ///   credwarden audit --hr hr.csv --inventory report.csv --as-of 2025-11-17 --fail-on high --format json -o findings.jsonl
    #[command(verbatim_doc_comment)]
    Audit(AuditArgs),
    /// List the built-in rules with their severity, ATT&CK and D3FEND references.
    ///
    /// Examples:
    ///   credwarden rules
    ///   credwarden rules CW-D007 CW-B --format csv
    #[command(verbatim_doc_comment)]
    Rules(RulesArgs),
    /// Run the detectors over activity logs (CloudTrail, GCP audit, VPC flow, gateway, token
    /// issuance, shell, DB access).
    ///
    /// Examples:
    ///   credwarden detect logs/
    ///   credwarden detect logs/ --hr hr.csv --inventory report.csv secrets.csv --networks asn-ipv4.csv country-ipv4.csv
    ///   credwarden detect logs/ --state state.json --archive evidence/ -o findings.jsonl --sink hec:https://splunk:8088/services/collector/event --follow
    ///
    /// Options taking several files (--inventory, --networks) take every word after them: put the
    /// log paths first, or repeat the option per file.
    #[command(verbatim_doc_comment)]
    Detect(DetectArgs),
    /// Simulate a company (HR, credentials, activity logs in real formats) with labelled attacks.
    ///
    /// Example:
    ///   credwarden simulate --identities 200 --days 30 --seed 7 --out sim/
    #[command(verbatim_doc_comment)]
    Simulate(SimulateArgs),
    /// Score findings against a simulation's answer key (labels.csv).
    ///
    /// Example:
    ///   credwarden eval --labels sim/labels.csv --findings findings.jsonl
    #[command(verbatim_doc_comment)]
    Eval(EvalArgs),
    /// Simulate a small company, audit it as it goes, and print the evaluation table.
    ///
    /// Example:
    ///   credwarden demo --out credwarden-demo/
    #[command(verbatim_doc_comment)]
    Demo(DemoArgs),
    /// Measure the hot path (parse → normalize → detect) end to end on synthetic CloudTrail, as JSON
    /// lines and as gzipped Records files, and the memory each tracked key costs.
    ///
    /// Example:
    ///   cargo run --release -- bench --size-mb 1000
    #[command(verbatim_doc_comment)]
    Bench(BenchArgs),
    /// Revoke everything of a leaver across systems and prove it: plan by default, change only with
    /// --apply; every action journaled; what cannot complete stays open.
    ///
    /// Examples:
    ///   credwarden offboard --identity E1002 --hr hr.csv --inventory report.csv secrets.csv --config credwarden.toml
    ///   credwarden offboard --identity E1002 --hr hr.csv --inventory report.csv --config credwarden.toml --apply
    ///   credwarden offboard --list-open
    #[command(verbatim_doc_comment)]
    Offboard(OffboardArgs),
    /// Serve our SCIM 2.0 service provider (Users, Groups): an HR system or identity provider that
    /// deactivates or deletes a user starts their offboarding. Every request needs a bearer token;
    /// TLS with --tls-cert/--tls-key. See docs/scim.md.
    ///
    /// Examples:
    ///   echo -n "$TOKEN" | credwarden serve --hash-token >> tokens   # then append the holder's name
    ///   credwarden serve --hr hr.csv --inventory report.csv secrets.csv --tokens-file tokens --config credwarden.toml --apply
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// Check an evidence archive written by `detect --archive`: every part present and unaltered,
    /// the manifest's hash chain unbroken, its signature valid, no unlisted files.
    ///
    /// Example:
    ///   credwarden archive verify evidence/ --public-key 3b6a27bc…
    #[command(verbatim_doc_comment)]
    Archive(ArchiveArgs),
    /// What a credential, identity, signing key, client or network touched, from the evidence
    /// archive: timeline, actions, objects by sensitivity, members whose data came back, bytes out,
    /// addresses and networks, findings; for a signing key, the requests with tokens the login
    /// service never issued.
    ///
    /// Examples:
    ///   credwarden scope --archive evidence/ --credential AKIAEXAMPLE
    ///   credwarden scope --archive evidence/ --signing-key login-rs256-2019 --format json
    ///   credwarden scope --archive evidence/ --network AS14061 --from 2025-06-01 --format html -o scope.html
    #[command(verbatim_doc_comment)]
    Scope(ScopeArgs),
    /// Copy the raw records behind a scope into a signed bundle (SHA-256 manifest, Merkle root,
    /// Ed25519 signature); `evidence verify DIR` checks one.
    ///
    /// Examples:
    ///   credwarden offboard --keygen evidence.key
    ///   credwarden evidence --archive evidence/ --credential AKIAEXAMPLE --key evidence.key --out case-4711/
    ///   credwarden evidence verify case-4711/ --public-key 3b6a27bc…
    #[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
    Evidence(EvidenceArgs),
    /// The configuration: which file is used (`--config`, `CREDWARDEN_CONFIG`,
    /// `./credwarden.toml`, then `$XDG_CONFIG_HOME/credwarden/credwarden.toml`) and whether it is
    /// valid.
    ///
    /// Example: `credwarden config check`
    #[command(verbatim_doc_comment)]
    Config(ConfigArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    ///
    /// Example: `credwarden completions bash > /etc/bash_completion.d/credwarden`
    #[command(verbatim_doc_comment)]
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout.
    ///
    /// Example: `credwarden man > /usr/local/share/man/man1/credwarden.1`
    #[command(verbatim_doc_comment)]
    Man,
}

/// `credwarden config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ConfigAction,
}

/// `credwarden config` actions.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Say which configuration file is used and check it (exit 2 when invalid).
    Check {
        /// The file (default: discovered).
        #[arg(long, value_name = "FILE", env = "CREDWARDEN_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// `credwarden completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Simulation settings shared by `simulate` and `demo`.
#[derive(Debug, Args)]
pub struct SimOptions {
    /// Employees and contractors at the start.
    #[arg(long, default_value_t = 200)]
    pub identities: usize,
    /// Simulated days.
    #[arg(long, default_value_t = 60)]
    pub days: u32,
    /// Seed: the same seed and version give the same company.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First simulated day (YYYY-MM-DD).
    #[arg(long, default_value = "2025-03-03")]
    pub start: String,
    /// Customer members (sequential ids).
    #[arg(long, default_value_t = 20_000)]
    pub members: u64,
    /// Customer logins per day.
    #[arg(long, default_value_t = 2_000)]
    pub logins_per_day: u64,
    /// Scenarios to inject: comma-separated ids (a,a2,b,c,d,e,f,g,h), `all` or `none`.
    #[arg(long, default_value = "all")]
    pub scenarios: String,
    /// Do not write the login service's token-issuance log (as at Coupang).
    #[arg(long)]
    pub no_issuance_log: bool,
    /// Days HR takes to record a departure.
    #[arg(long, default_value_t = 0)]
    pub hr_lag_days: u32,
    /// Scenario a: forged-token requests per day [default: drawn per seed, 400–3,000].
    #[arg(long)]
    pub forged_requests_per_day: Option<u64>,
    /// Scenario a: distinct overseas source addresses [default: drawn per seed, 40–600].
    #[arg(long)]
    pub attacker_addresses: Option<usize>,
    /// Scenarios a/a2/d: when misuse starts, as a fraction of the period [default: drawn per
    /// seed, 0.45–0.7].
    #[arg(long)]
    pub attack_start: Option<f64>,
    /// Scenarios a/a2/d: one ASN for all the attacker's networks [default: providers (hosting or
    /// residential proxies) and countries drawn per seed].
    #[arg(long)]
    pub attacker_asn: Option<u32>,
}

impl SimOptions {
    /// The demo's company for `seed` (150 people, 60 days, 20,000 members, every scenario, the
    /// attacker drawn per seed): what `demo` and `eval --seeds` start from.
    pub fn demo(seed: u64) -> Self {
        Self {
            identities: 150,
            days: 60,
            seed,
            start: "2025-03-03".into(),
            members: 20_000,
            logins_per_day: 1_500,
            scenarios: "all".into(),
            no_issuance_log: false,
            hr_lag_days: 0,
            forged_requests_per_day: None,
            attacker_addresses: None,
            attack_start: None,
            attacker_asn: None,
        }
    }
}

/// `credwarden simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Settings.
    #[command(flatten)]
    pub sim: SimOptions,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace a previous simulation in the output folder (only the files a simulation writes).
    #[arg(long)]
    pub overwrite: bool,
}

/// `credwarden eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The simulation's labels.csv (with --findings: score existing findings).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "seeds",
        requires = "findings"
    )]
    pub labels: Option<PathBuf>,
    /// Findings as OCSF JSON lines (repeatable; runs are de-duplicated by fingerprint).
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "seeds")]
    pub findings: Vec<PathBuf>,
    /// Simulate, audit, detect and score this many seeds (from --first-seed) and report the
    /// spread: recall, precision, false findings per 1,000 credential-days, time to detect p50/p90
    /// and exposure lead time per scenario.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: Option<u64>,
    /// First seed of --seeds.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// With --seeds: simulated days per seed.
    #[arg(long, default_value_t = 60)]
    pub days: u32,
    /// With --seeds: employees and contractors per seed.
    #[arg(long, default_value_t = 150)]
    pub identities: usize,
    /// With --seeds: customer members per seed.
    #[arg(long, default_value_t = 20_000)]
    pub members: u64,
    /// With --seeds: customer logins per day.
    #[arg(long, default_value_t = 1_500)]
    pub logins_per_day: u64,
    /// With --seeds: do not write the token-issuance log (as at Coupang).
    #[arg(long)]
    pub no_issuance_log: bool,
    /// With --seeds: keep the simulations under this folder (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --seeds: compare with this saved report (from --write-baseline); exit 1 when a metric
    /// is worse than the baseline by more than its spread.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --seeds: save the report as a baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// The simulation's summary.json (enables rates per credential-day).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Findings an analyst reviews per day, for precision and recall at budget.
    #[arg(long, default_value_t = 10)]
    pub budget: usize,
    /// Output: markdown (default) or json.
    #[arg(long, value_enum, default_value_t = EvalFormat::Markdown)]
    pub format: EvalFormat,
}

/// Evaluation output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// Markdown tables.
    Markdown,
    /// JSON.
    Json,
}

/// `credwarden demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to put the simulated company and the findings.
    #[arg(long, value_name = "DIR", default_value = "credwarden-demo")]
    pub out: PathBuf,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Employees and contractors.
    #[arg(long, default_value_t = 150)]
    pub identities: usize,
    /// Simulated days.
    #[arg(long, default_value_t = 60)]
    pub days: u32,
    /// Days HR takes to record a departure (the variant where HR is late).
    #[arg(long, default_value_t = 0)]
    pub hr_lag_days: u32,
    /// Do not write the login service's token-issuance log (as at Coupang).
    #[arg(long)]
    pub no_issuance_log: bool,
    /// Seeds to run (from --seed on): the first in full, the rest for the spread. `--seeds 1`
    /// is the quick look.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: u64,
}

/// Options of every command that emits findings.
#[derive(Debug, Args)]
pub struct FindingsOutput {
    /// Output format. Default: table on a terminal, json otherwise.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write findings to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with code 1 when any finding is at least this severe (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<credwarden_model::Severity>,
    /// Report only findings at least this severe.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity, default_value = "info")]
    pub min_severity: credwarden_model::Severity,
}

/// The estate every command that joins people and credentials reads, declared once.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Estate")]
pub struct EstateArgs {
    /// HR roster: CSV or JSON in the documented schema (common HRIS spellings; `[hr.columns]` maps
    /// others), or a SCIM 2.0 ListResponse of Users.
    #[arg(long, value_name = "FILE")]
    pub hr: Option<PathBuf>,
    /// Credential inventories (repeatable, or several after one flag): AWS IAM credential report
    /// CSV, gcloud key listing JSON, or generic inventory CSV/JSON (signing keys, secrets and their
    /// readers). Sniffed; force with a prefix: iam-report:F, gcp-keys:F, inventory:F.
    #[arg(long = "inventory", value_name = "FILE", num_args = 1..)]
    pub inventories: Vec<String>,
    /// Group membership file (group,member) used to expand secret readers.
    #[arg(long, value_name = "FILE")]
    pub groups: Option<PathBuf>,
    /// Owner mapping file (principal,owner): IAM users, service accounts or credential ids to
    /// identities.
    #[arg(long, value_name = "FILE")]
    pub owners: Option<PathBuf>,
}

impl EstateArgs {
    /// The roster, or an error saying it is needed.
    pub fn hr(&self) -> Result<&std::path::Path, String> {
        self.hr
            .as_deref()
            .ok_or_else(|| "--hr is required".to_string())
    }

    /// Without a roster, the files that are read with it make no sense: say so.
    pub fn check_needs_hr(&self) -> Result<(), String> {
        if self.hr.is_none()
            && (!self.inventories.is_empty() || self.groups.is_some() || self.owners.is_some())
        {
            return Err("--inventory, --groups and --owners are read with --hr".into());
        }
        Ok(())
    }
}

/// `credwarden audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The estate: roster, inventories, groups, owners.
    #[command(flatten)]
    pub estate: EstateArgs,
    /// TOML config file with an [audit] table of thresholds.
    #[arg(long, value_name = "FILE", env = "CREDWARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Evaluate as of this date (YYYY-MM-DD, UTC). Default: today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Where and how findings go.
    #[command(flatten)]
    pub out: FindingsOutput,
    /// Skip bad rows (counted and reported on stderr) instead of stopping at the first one.
    #[arg(long)]
    pub keep_going: bool,
    /// With --keep-going, write each rejected row with its error to this file as JSON lines.
    #[arg(long, value_name = "FILE", requires = "keep_going")]
    pub quarantine: Option<PathBuf>,
}

/// `credwarden detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Files and directories of activity logs: CloudTrail (Records files, arrays, JSON lines, S3-layout
    /// trees), gateway, token-issuance, shell and DB-access JSON lines, gzip or not; `-` is stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// The estate (with --hr the identity-aware detectors run; --inventory, --groups and --owners
    /// need --hr).
    #[command(flatten)]
    pub estate: EstateArgs,
    /// Network tables (repeatable) to enrich source addresses with ASN and country for the network
    /// baselines (CW-B001, CW-B004): a `prefix,asn,country,name` CSV, the public ip-location-db
    /// range CSVs as they come (`start,end,asn,name` and `start,end,country`, IPv4 and IPv6), or
    /// MaxMind DB files (GeoLite2 ASN/Country, ip-location-db MMDB); give ASN and country sources
    /// together.
    #[arg(long = "networks", value_name = "FILE", num_args = 1..)]
    pub networks: Vec<PathBuf>,
    /// TOML config: `[[log]]` field mappings for other JSON-lines logs (see docs/formats.md).
    #[arg(long, value_name = "FILE", env = "CREDWARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// More detections as data (repeatable): TOML files of `[[rule]]` in the rule-pack schema
    /// (docs/formats.md, "Rules as data"), run beside the built-in ones.
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,
    /// Read every file as this format instead of sniffing it.
    #[arg(long, value_name = "FORMAT", value_parser = clap::builder::PossibleValuesParser::new(credwarden_detect::sources::Format::NAMES))]
    pub source_format: Option<String>,
    /// Keep read positions, detector state and reported findings in this file: the next run with
    /// the same file reads only what is new and reports only what is new.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Event time held back to put out-of-order records in order (e.g. 30s, 10m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub reorder_window: jiff::SignedDuration,
    /// Also write incidents (findings grouped per identity, signing key or credential, with a risk
    /// score) to this file as JSON lines; a table output lists them after the findings.
    #[arg(long, value_name = "FILE")]
    pub incidents: Option<PathBuf>,
    /// Write each bad record's location and error to this file as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub quarantine: Option<PathBuf>,
    /// Keep every normalized event in this evidence archive (Parquet parts per log kind and day,
    /// a copy of every raw input, the findings, a hash-chained manifest; check it with
    /// `credwarden archive verify DIR`, query it with `credwarden scope`).
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// Sign the archive manifest's head after every pass with this Ed25519 key (PKCS#8 PEM, as
    /// `credwarden offboard --keygen` writes it): removing the newest parts is then detected too.
    #[arg(long, value_name = "FILE", requires = "archive")]
    pub archive_key: Option<PathBuf>,
    /// Also send findings to a sink (repeatable): `file:PATH` (OCSF JSON lines appended),
    /// `webhook:URL` (generic JSON batches), `slack:URL` (Slack incoming webhook), `hec:URL` (Splunk
    /// HTTP Event Collector; token in CREDWARDEN_HEC_TOKEN), `elasticsearch:URL/INDEX` or
    /// `opensearch:URL/INDEX` (bulk, one document per finding; API key in CREDWARDEN_ES_API_KEY),
    /// `syslog:udp://HOST:PORT`, `syslog:tcp://HOST:PORT` or `syslog:tls://HOST:PORT` (RFC 5424;
    /// TLS checks the collector against the CA in CREDWARDEN_SYSLOG_CA); deliveries retry with
    /// backoff and a failed delivery is an error (exit 2).
    #[arg(long = "sink", value_name = "SPEC", value_parser = parse_sink)]
    pub sinks: Vec<credwarden_sink::SinkSpec>,
    /// Ask for the offboarding of every identity a finding at least this severe names (an approval
    /// request in the offboarding journal, for a second person to approve with `offboard --sign-approval`).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub request_offboarding: Option<credwarden_model::Severity>,
    /// Offboarding journal for --request-offboarding (the same `--journal` as `offboard` and
    /// `serve`; `--offboard-journal` is accepted too).
    #[arg(
        long = "journal",
        alias = "offboard-journal",
        value_name = "FILE",
        default_value = "credwarden-journal.jsonl"
    )]
    pub offboard_journal: PathBuf,
    /// Keep watching PATH (new files, lines appended, stdin) and report new findings as they come;
    /// stop with Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Seconds between looks for new data with --follow.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, requires = "follow")]
    pub poll_seconds: u64,
    /// No progress bar (it is shown only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Where and how findings go.
    #[command(flatten)]
    pub out: FindingsOutput,
}

fn parse_sink(s: &str) -> Result<credwarden_sink::SinkSpec, String> {
    s.parse()
        .map_err(|e: credwarden_sink::SinkError| e.to_string())
}

fn parse_duration(s: &str) -> Result<jiff::SignedDuration, String> {
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("`{s}` is not a duration like 30s, 10m or 1h: {e}"))?;
    if d.is_negative() {
        return Err(format!("`{s}`: must not be negative"));
    }
    Ok(d)
}

/// `credwarden bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Size of the CloudTrail JSON-lines input to generate, in MB (the gzipped Records files hold
    /// the same records).
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    pub size_mb: u64,
    /// Folder for the generated input (kept, so DuckDB and others can read the same bytes).
    #[arg(long, value_name = "DIR", default_value = "credwarden-bench")]
    pub dir: PathBuf,
    /// Distinct IAM users (each with one access key) in the generated records.
    #[arg(long, default_value_t = 20_000)]
    pub users: usize,
    /// Distinct keys fed to the detectors to measure memory per tracked key.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub tracked_keys: usize,
    /// Use the input already in --dir if it is there (same size), instead of generating it again.
    #[arg(long)]
    pub reuse: bool,
    /// Instead of the detector figures: write an evidence archive of N synthetic CloudTrail events
    /// (spread over --archive-days) into DIR/archive, then time `scope` for one credential over it
    /// (compare with `scripts/bench-scope.py DIR/archive CREDENTIAL`, DuckDB on the same files).
    #[arg(long, value_name = "N")]
    pub archive_events: Option<u64>,
    /// Instead of the detector figures: N token checks over loopback against `serve --ledger`'s
    /// endpoint (90 % issued, 5 % forged, 5 % expired tokens), answers verified; prints checks/s,
    /// latency percentiles and memory per live token.
    #[arg(long, value_name = "N", conflicts_with = "archive_events")]
    pub token_checks: Option<u64>,
    /// Live tokens in the ledger for --token-checks.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub live_tokens: usize,
    /// Keep-alive connections the --token-checks load generator keeps busy.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub connections: usize,
    /// Days of event time the --archive-events are spread over.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 30,
        requires = "archive_events"
    )]
    pub archive_days: u64,
    /// Internal: measure one input in this (fresh) process and print the figures as JSON.
    #[arg(long, value_name = "PATH", hide = true)]
    pub measure: Option<PathBuf>,
    /// Internal: with --measure, also write the evidence archive into DIR.
    #[arg(long, value_name = "DIR", hide = true, requires = "measure")]
    pub measure_archive: Option<PathBuf>,
}

/// `credwarden offboard`.
#[derive(Debug, Args)]
pub struct OffboardArgs {
    /// The leaver: HR id, username or e-mail.
    #[arg(long, value_name = "ID", required_unless_present_any = ["list_open", "watch_hr", "close", "keygen"])]
    pub identity: Option<String>,
    /// The estate: who the leaver is and what they hold or could read.
    #[command(flatten)]
    pub estate: EstateArgs,
    /// TOML config with the `[respond]` connectors.
    #[arg(long, value_name = "FILE", env = "CREDWARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Journal file (overrides the config; default credwarden-journal.jsonl).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// DANGER: revoke for real. Without it nothing is changed; the plan is printed and journaled.
    #[arg(long)]
    pub apply: bool,
    /// Close an open action by id (a person's decision, with --reason), instead of offboarding.
    #[arg(long, value_name = "ACTION", requires = "reason")]
    pub close: Option<String>,
    /// Why the action is closed.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// List every open action in the journal and exit (1 when any).
    #[arg(long)]
    pub list_open: bool,
    /// Ask for the offboarding of someone HR has not recorded as gone (a suspicion, a finding),
    /// signed with --signing-key (a key listed in `[respond.approvers]`): it waits, open, for a
    /// second person's signed approval.
    #[arg(long, requires = "reason", requires = "identity")]
    pub request_approval: bool,
    /// Your Ed25519 private key (PKCS#8 PEM, made with --keygen), for --request-approval and
    /// --sign-approval; its public key must be in `[respond.approvers]`.
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// As the second person: sign an approval of the open request for --identity with
    /// --signing-key, written to FILE (hand it to whoever runs --apply --approval FILE).
    #[arg(
        long,
        value_name = "FILE",
        requires = "signing_key",
        requires = "identity"
    )]
    pub sign_approval: Option<PathBuf>,
    /// With --apply, for someone HR has not recorded as gone: the second person's signed approval
    /// (from --sign-approval), checked against `[respond.approvers]`; it must not be the requester's.
    #[arg(long, value_name = "FILE", requires = "apply")]
    pub approval: Option<PathBuf>,
    /// Replaced by --approval FILE: a typed name proves nothing.
    #[arg(long, value_name = "NAME", hide = true)]
    pub approved_by: Option<String>,
    /// Write a new Ed25519 private key to FILE (mode 0600) and print its public key for
    /// `[respond.approvers]`, then exit.
    #[arg(long, value_name = "FILE", exclusive = true)]
    pub keygen: Option<PathBuf>,
    /// Watch the HR roster (--hr) and offboard every identity that becomes terminated (with --apply:
    /// automatically, the policy for terminations). Leavers already gone when watching starts are
    /// remembered, not offboarded, unless --include-existing.
    #[arg(long, requires = "hr", conflicts_with = "identity")]
    pub watch_hr: bool,
    /// With --watch-hr: seconds between looks at the roster.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub poll_seconds: u64,
    /// With --watch-hr: look once and exit (for cron and tests).
    #[arg(long, requires = "watch_hr")]
    pub once: bool,
    /// With --watch-hr: also offboard identities already terminated when watching starts.
    #[arg(long, requires = "watch_hr")]
    pub include_existing: bool,
}

/// `credwarden serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub bind: std::net::SocketAddr,
    /// The estate: the roster is the users the endpoint knows.
    #[command(flatten)]
    pub estate: EstateArgs,
    /// TOML config with the `[respond]` connectors.
    #[arg(long, value_name = "FILE", env = "CREDWARDEN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Offboarding journal.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// File of accepted bearer tokens: `SHA256_HEX [PRINCIPAL]` lines (the hash from
    /// --hash-token; the principal is who holds the token, journaled with every request and the
    /// one who requests or approves an offboarding; default `token-LINE`).
    #[arg(long, value_name = "FILE", required_unless_present = "hash_token")]
    pub tokens_file: Option<PathBuf>,
    /// Request journal (every request, accepted or refused; never the token).
    #[arg(long, value_name = "FILE", default_value = "credwarden-requests.jsonl")]
    pub request_log: PathBuf,
    /// Where the SCIM endpoint keeps what identity providers write (users and groups created,
    /// changed, deleted, group history, and who was already offboarded), so a restart forgets
    /// nothing.
    #[arg(long, value_name = "FILE", default_value = "credwarden-scim.json")]
    pub scim_state: PathBuf,
    /// Serve over TLS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The URL clients reach the SCIM service at, ending in `/scim/v2` (for `meta.location`
    /// behind a proxy or TLS terminator). Default: `http://` (`https://` with --tls-cert) and the
    /// request's Host.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// DANGER: revoke for real when a deactivation arrives (the policy for terminations). Without it
    /// the offboarding is planned and journaled only.
    #[arg(long)]
    pub apply: bool,
    /// Read a token on standard input, print its SHA-256 for the tokens file, and exit.
    #[arg(long)]
    pub hash_token: bool,
    /// Keep an issuance ledger in DIR and offer its endpoints: the login service reports what it
    /// issued (`POST /v1/issued`), a gateway asks before it forwards a request whether the token
    /// was issued (`POST /v1/token-check`, or `/v1/token-check/http/…` for Envoy ext_authz and
    /// NGINX auth_request), responders revoke (`POST /v1/revocations`). Survives restarts.
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Follow the login service's issuance log (files or folders, read as `detect` reads them,
    /// `[[log]]` mappings from --config included) into the ledger.
    #[arg(long, value_name = "PATH", requires = "ledger", num_args = 1..)]
    pub issuance_log: Vec<PathBuf>,
    /// How long a check waits for the issuance of a token whose `iat` is this recent (the login
    /// service or its log may lag); `0s` refuses at once. A forged token claiming to be that
    /// fresh is refused when the wait ends.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub issuance_grace: jiff::SignedDuration,
    /// Where CW-D007 findings of refused forged tokens go (OCSF JSON lines, appended; one per
    /// campaign at its first refusal and at 100, 10,000, 1,000,000). Default: DIR/findings.jsonl.
    #[arg(long, value_name = "FILE", requires = "ledger")]
    pub ledger_findings: Option<PathBuf>,
}

/// `credwarden archive`.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ArchiveAction,
}

/// `credwarden archive` actions.
#[derive(Debug, Subcommand)]
pub enum ArchiveAction {
    /// Verify the archive; exit 1 when anything is missing or altered.
    Verify {
        /// The archive folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Require `manifest.sig` made by this Ed25519 public key (64 hex digits).
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

/// The subject of a scope or evidence bundle: exactly one.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct SubjectArgs {
    /// A credential (access key id, credential id as logged).
    #[arg(long, value_name = "ID")]
    pub credential: Option<String>,
    /// A person or principal: the acting user name (or the last part of its ARN).
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// A token-signing key id (`kid`).
    #[arg(long, value_name = "KID")]
    pub signing_key: Option<String>,
    /// A client: token client id or exact user agent.
    #[arg(long, value_name = "FP")]
    pub client: Option<String>,
    /// A network: CIDR, address, or ASN (AS64500).
    #[arg(long, value_name = "CIDR|ASN")]
    pub network: Option<String>,
}

/// Where and when a scope looks.
#[derive(Debug, Args)]
pub struct ScopeBounds {
    /// The evidence archive (`detect --archive DIR`); required.
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Earliest event time (RFC 3339 or a date), inclusive.
    #[arg(long, value_name = "T")]
    pub from: Option<String>,
    /// Latest event time (RFC 3339 or a date), exclusive.
    #[arg(long, value_name = "T")]
    pub to: Option<String>,
    /// Also look for findings on the subject in these findings files (detect's OCSF JSON lines).
    #[arg(long, value_name = "FILE")]
    pub findings: Vec<PathBuf>,
}

/// `credwarden scope`.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    #[command(flatten)]
    pub bounds: ScopeBounds,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ScopeFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Scope output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScopeFormat {
    /// Text for a terminal.
    Table,
    /// JSON (stable top-level keys).
    Json,
    /// One self-contained HTML page with charts.
    Html,
}

/// `credwarden evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// `verify DIR` checks a bundle.
    #[command(subcommand)]
    pub action: Option<EvidenceAction>,
    #[command(flatten)]
    pub bounds: ScopeBounds,
    /// Ed25519 private key to sign with (PKCS#8 PEM; `credwarden offboard --keygen FILE` makes one).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The bundle folder to create (new or empty).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `credwarden evidence` actions.
#[derive(Debug, Subcommand)]
pub enum EvidenceAction {
    /// Check a bundle: signature, every file's hash, Merkle root, nothing added or removed; exit 1
    /// naming each problem.
    Verify {
        /// The bundle folder.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Require the signature to be made by this Ed25519 public key (64 hex digits).
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

/// `credwarden rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Only these rules: ids (`CW-D007`) or prefixes (`CW-B`, `CW-A00`), case-insensitive.
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// Output format: table (default on a terminal), json (rule metadata, one object per line),
    /// csv.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

fn parse_severity(s: &str) -> Result<credwarden_model::Severity, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_estate_is_parsed_once_for_every_command() {
        // Requiredness is checked when the command runs (`audit` needs both, `detect` neither).
        let c = Cli::try_parse_from(["credwarden", "detect", "logs", "--inventory", "a"]).unwrap();
        let Command::Detect(d) = c.command else {
            panic!()
        };
        assert!(d.estate.check_needs_hr().unwrap_err().contains("--hr"));
        assert!(d.estate.hr().is_err());
        let c = Cli::try_parse_from([
            "credwarden",
            "audit",
            "--hr",
            "h",
            "--inventory",
            "a",
            "b",
            "--fail-on",
            "high",
        ])
        .unwrap();
        let Command::Audit(a) = c.command else {
            panic!()
        };
        assert_eq!(a.estate.inventories, ["a", "b"]);
        assert!(a.estate.check_needs_hr().is_ok());
        assert_eq!(a.out.fail_on, Some(credwarden_model::Severity::High));
        assert!(Cli::try_parse_from([
            "credwarden",
            "audit",
            "--hr",
            "h",
            "--inventory",
            "a",
            "--fail-on",
            "severe"
        ])
        .is_err());
        assert!(Cli::try_parse_from([
            "credwarden",
            "audit",
            "--hr",
            "h",
            "--inventory",
            "a",
            "--quarantine",
            "q"
        ])
        .is_err());
    }
}
