//! `credwarden detect`: run the detectors over activity logs, once or following them, with state kept
//! between runs, incidents grouped, and findings sent to the output and any sinks.

use crate::args::{DetectArgs, Global};
use crate::config::Config;
use crate::estate::Estate;
use crate::output;
use credwarden_detect::sources::{Format, ReadOptions};
use credwarden_detect::{incidents, Engine, Options, RunStats};
use credwarden_ingest::Rejects;
use credwarden_model::{Finding, Severity};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing::{info, warn};

/// The estate read once: the roster and the inventories' credentials.
type Loaded = (
    Arc<credwarden_model::Directory>,
    Vec<credwarden_model::Credential>,
);

fn load(estate: Option<&Estate>) -> Result<Option<Loaded>, String> {
    estate
        .map(|e| {
            e.load(&mut Rejects::new(false))
                .map(|(d, c)| (Arc::new(d), c))
        })
        .transpose()
}

fn detectors(loaded: Option<&Loaded>) -> Vec<Box<dyn credwarden_detect::Detector>> {
    match loaded {
        Some((dir, credentials)) => {
            credwarden_detect::all_with_identities(dir.clone(), credentials)
        }
        None => {
            info!("no --hr: the identity-aware detectors (terminated identities, leaver-readable keys) are skipped; the others run");
            credwarden_detect::all()
        }
    }
}

/// Name the person on every finding the estate can tie to one: the owner of the credential or
/// principal it is about, by the same owner join the audit uses.
fn name_owners(findings: &mut [Finding], idx: Option<&credwarden_audit::OwnerIndex>) {
    let Some(idx) = idx else {
        return;
    };
    for f in findings
        .iter_mut()
        .filter(|f| f.subject.identity_id.is_none())
    {
        if let Some(who) = idx.identity_of(
            f.subject.credential_id.as_deref(),
            f.subject.principal.as_deref(),
        ) {
            f.subject.identity_id = Some(who.id.clone());
            f.subject.identity_label = Some(who.label());
        }
    }
}

/// The owner join of the estate, built once per run (not once per pass).
fn owner_index<'a>(
    loaded: Option<&'a Loaded>,
    policy: &'a credwarden_audit::Policy,
) -> Option<credwarden_audit::OwnerIndex<'a>> {
    let (dir, credentials) = loaded?;
    let ctx = credwarden_audit::Context::new(dir, credentials, jiff::Zoned::now().date(), policy);
    Some(credwarden_audit::OwnerIndex::new(&ctx))
}

/// The one line every run says on stderr: files read, skipped and unchanged, events per source,
/// late records, findings by severity, time.
fn summary_line(stats: &RunStats, findings: &[Finding], took: std::time::Duration) -> String {
    let skipped = stats.rejects.iter().filter(|e| e.line().is_none()).count();
    let events: u64 = stats.events.values().sum();
    let per_kind: Vec<String> = stats
        .events
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let mut by_sev: Vec<(credwarden_model::Severity, usize)> = Vec::new();
    for f in findings {
        match by_sev.iter_mut().find(|(s, _)| *s == f.severity) {
            Some((_, n)) => *n += 1,
            None => by_sev.push((f.severity, 1)),
        }
    }
    by_sev.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let sev: Vec<String> = by_sev.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let bad = stats.rejects.len() - skipped;
    format!(
        "detect: {} file(s) read ({} unchanged, {skipped} skipped), {events} events{}{}{}; {} finding(s){} in {:.2} s",
        stats.files,
        stats.unchanged,
        if per_kind.is_empty() {
            String::new()
        } else {
            format!(" ({})", per_kind.join(", "))
        },
        if stats.late > 0 {
            format!(", {} late", stats.late)
        } else {
            String::new()
        },
        if bad > 0 {
            format!(", {bad} bad record(s)")
        } else {
            String::new()
        },
        findings.len(),
        if sev.is_empty() {
            String::new()
        } else {
            format!(" ({})", sev.join(", "))
        },
        took.as_secs_f64()
    )
}

/// What kind of problem a reject is, for grouping: the field, or the reason without the values.
fn cause_of(e: &credwarden_ingest::IngestError) -> String {
    use credwarden_ingest::IngestError as E;
    match e {
        E::Field { field, .. } => format!("field {field}"),
        E::Syntax { reason, .. } => reason
            .split([':', '"'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string(),
        E::Incomplete { .. } => "incomplete".into(),
        other => other.to_string(),
    }
}

/// `3h 5m`, `40s`.
fn humantime(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m"),
        _ => format!("{h}h{m}m"),
    }
}

/// Report a run's counts and bad input on stderr; bad input also goes to the quarantine file.
fn report_stats(stats: &RunStats, quarantine: Option<&mut std::fs::File>) {
    let per_kind: Vec<String> = stats
        .events
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    info!(
        "{} files read ({} unchanged since the last run), events: {}{}",
        stats.files,
        stats.unchanged,
        if per_kind.is_empty() {
            "none".into()
        } else {
            per_kind.join(", ")
        },
        if stats.late > 0 {
            format!(
                "; {} arrived later than the reorder window and were processed out of order",
                stats.late
            )
        } else {
            String::new()
        }
    );
    // Late records are a source with its own clock (several writers, an unsorted export, a lag):
    // say which, and the fix.
    for (source, (n, secs)) in &stats.late_by_source {
        warn!(
            "{n} {source} record(s) arrived after the reorder window, up to {} behind: they were processed out of order; raise --reorder-window to at least {}",
            humantime(*secs),
            humantime(*secs + 60)
        );
    }
    if stats.resumed_records > 0 {
        info!(
            "{} records already read by an earlier run were skipped",
            stats.resumed_records
        );
    }
    if stats.suppressed > 0 {
        info!(
            "{} findings already reported by an earlier run were not repeated",
            stats.suppressed
        );
    }
    if !stats.rejects.is_empty() {
        warn!(
            "{} bad input record(s) or file(s) skipped{}:",
            stats.rejects.len(),
            if quarantine.is_some() {
                " (each in the quarantine file)"
            } else {
                " (use --quarantine FILE to keep each)"
            }
        );
        // Grouped by file and cause: one line for a file's thousand identical errors.
        let mut groups: Vec<(String, String, Vec<u64>, String)> = Vec::new();
        for r in &stats.rejects {
            let file = r.file().to_string();
            let cause = cause_of(r);
            match groups.iter_mut().find(|g| g.0 == file && g.1 == cause) {
                Some(g) => g.2.extend(r.line()),
                None => groups.push((file, cause, r.line().into_iter().collect(), r.to_string())),
            }
        }
        for (file, _, lines, first) in groups.iter().take(20) {
            if lines.len() <= 1 {
                warn!("  {first}");
            } else {
                let shown: Vec<String> = lines.iter().take(5).map(u64::to_string).collect();
                warn!(
                    "  {file}: {} lines ({}{}): {}",
                    lines.len(),
                    shown.join(", "),
                    if lines.len() > 5 { ", …" } else { "" },
                    first
                        .split_once(": ")
                        .map_or(first.as_str(), |(_, why)| why)
                );
            }
        }
        if groups.len() > 20 {
            warn!("  … and {} more file(s) or cause(s)", groups.len() - 20);
        }
    }
    if let Some(q) = quarantine {
        // One write per batch, not per formatted piece.
        let mut buf = String::new();
        for r in &stats.rejects {
            buf.push_str(
                &serde_json::json!({"file": r.file(), "line": r.line(), "error": r.to_string()})
                    .to_string(),
            );
            buf.push('\n');
        }
        let _ = q.write_all(buf.as_bytes());
    }
}

/// Detect over `paths` once, without state; with the estate (HR and inventories) the identity-aware
/// detectors run too. Used by `demo`.
pub fn detect(
    paths: &[PathBuf],
    ids: Option<Estate>,
    networks: Option<&Path>,
    min: Severity,
) -> Result<Vec<Finding>, String> {
    let loaded = load(ids.as_ref())?;
    let policy = credwarden_audit::Policy::default();
    let owners = owner_index(loaded.as_ref(), &policy);
    let mut engine = Engine::new(detectors(loaded.as_ref()));
    engine.set_networks(load_networks(
        &networks
            .map(Path::to_path_buf)
            .into_iter()
            .collect::<Vec<_>>(),
    )?);
    let (mut findings, stats) = engine
        .run(paths, &Options::default(), &mut |_, _, _| {})
        .map_err(|e| e.to_string())?;
    name_owners(&mut findings, owners.as_ref());
    report_stats(&stats, None);
    Ok(findings.into_iter().filter(|f| f.severity >= min).collect())
}

fn load_networks(
    paths: &[PathBuf],
) -> Result<Option<Arc<credwarden_detect::enrich::Networks>>, String> {
    if paths.is_empty() {
        info!("no --networks: source addresses are not enriched, the network baselines judge only events whose log names an ASN");
        return Ok(None);
    }
    let n = credwarden_detect::enrich::Networks::from_files(paths)?;
    info!(
        "{} network prefixes and ranges from {} file(s)",
        n.len(),
        paths.len()
    );
    Ok(Some(Arc::new(n)))
}

struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(show: bool) -> Progress {
        Progress(show.then(|| {
            let pb = indicatif::ProgressBar::new(0);
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos}/{len} files  {msg}  [{elapsed}]",
                )
                .expect("valid template"),
            );
            pb
        }))
    }
    fn update(&self, done: usize, total: usize, events: u64) {
        if let Some(pb) = &self.0 {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
            pb.set_message(format!("{events} events"));
        }
    }
    fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

fn write_incidents(path: &Path, list: &[incidents::Incident], append: bool) -> Result<(), String> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(path)
        .map_err(|e| format!("{}: cannot write incidents: {e}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    for i in list {
        serde_json::to_writer(&mut w, i).map_err(|e| e.to_string())?;
        writeln!(w).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| format!("{}: {e}", path.display()))
}

fn incidents_table(list: &[incidents::Incident]) -> String {
    let mut s = format!("\n{} incident(s), highest risk first:\n", list.len());
    for i in list.iter().take(50) {
        let rules: Vec<String> = i
            .rules
            .iter()
            .map(|(r, n)| {
                if *n > 1 {
                    format!("{r}×{n}")
                } else {
                    r.to_string()
                }
            })
            .collect();
        s += &format!(
            "  {:>6.1} {:<8} {} {}: {} finding(s) {} .. {} [{}]\n",
            i.risk_score,
            i.severity.caption(),
            i.key_kind,
            i.key,
            i.findings,
            i.first_seen.strftime("%Y-%m-%d %H:%M"),
            i.last_seen.strftime("%Y-%m-%d %H:%M"),
            rules.join(", ")
        );
    }
    s
}

/// What `--state` keeps: the engine's state and the archive manifest lines sealed with it (listed
/// right after it is saved; a run killed in between lists them at its next start).
#[derive(serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    #[serde(flatten)]
    engine: credwarden_detect::State,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    archive_pending: Vec<credwarden_store::archive::ManifestEntry>,
}

/// The end of a pass for the archive (first phase): its events appended, the pass's findings kept
/// beside them (what scope lists on a subject), open parts sealed; the manifest lines to commit.
pub(crate) fn seal_archive_pass(
    spool: &mut credwarden_store::archive::Spool,
    findings: &[Finding],
) -> Result<Vec<credwarden_store::archive::ManifestEntry>, String> {
    let mut jsonl = Vec::new();
    credwarden_report::write_json(&mut jsonl, findings).map_err(|e| e.to_string())?;
    spool
        .seal_pass(&jsonl, findings.len() as u64)
        .map_err(|e| e.to_string())
}

/// Run.
pub fn run(g: &Global, a: &DetectArgs) -> Result<u8, String> {
    let cfg = Config::load(a.config.as_deref())?;
    a.estate.check_needs_hr()?;
    let estate = a.estate.hr.as_deref().map(|hr| Estate {
        hr,
        owners: a.estate.owners.as_deref(),
        groups: a.estate.groups.as_deref(),
        inventories: &a.estate.inventories,
        hr_columns: &cfg.hr.columns,
    });
    let opts = Options {
        // A one-shot run without a state has read every source to its end: joins that wait for a
        // lagging source (gateway × issuance) are decided at the end. Following, or with a state,
        // they wait on (in the state) until the lagging source has passed them.
        sources_stopped: !a.follow && a.state.is_none(),
        reorder_window: a.reorder_window,
        read: ReadOptions {
            format: a.source_format.as_deref().and_then(Format::from_name),
            mappings: Arc::new(cfg.log.clone()),
        },
        ..Options::default()
    };
    let loaded = load(estate.as_ref())?;
    let policy = credwarden_audit::Policy::default();
    let owners = owner_index(loaded.as_ref(), &policy);
    let mut all = detectors(loaded.as_ref());
    for f in &a.rule_files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("{}: cannot read rules: {e}", f.display()))?;
        let rules = credwarden_detect::detectors::api_rules::load(&text, &f.display().to_string())?;
        if let Some(dup) = rules
            .iter()
            .find(|r| all.iter().any(|d| d.meta().id == r.meta().id))
        {
            return Err(format!(
                "{}: rule id {} is already taken",
                f.display(),
                dup.meta().id
            ));
        }
        info!("{} rules from {}", rules.len(), f.display());
        all.extend(rules);
    }
    let mut engine = Engine::new(all);
    engine.set_networks(load_networks(&a.networks)?);
    let mut archive_pending = Vec::new();
    let _lock = match &a.state {
        Some(p) => {
            let lock = credwarden_store::Lock::acquire(p).map_err(|e| e.to_string())?;
            if let Some(cp) =
                credwarden_store::load::<Checkpoint>(p, credwarden_detect::STATE_FORMAT)
                    .map_err(|e| e.to_string())?
            {
                for f in engine.restore(cp.engine) {
                    warn!("saved state of {f}: that detector starts afresh");
                }
                archive_pending = cp.archive_pending;
                info!("resuming from {}", p.display());
            }
            Some(lock)
        }
        None => None,
    };
    // A run killed while delivering findings left this marker: the first pass then appends to the
    // output and file sinks only what they lack (the findings come again, the state not having
    // recorded them).
    let marker = a
        .state
        .as_ref()
        .map(|p| PathBuf::from(format!("{}.delivering", p.display())));
    let mut recovering = marker.as_ref().is_some_and(|m| m.exists());
    if recovering {
        warn!("the last run stopped while delivering findings: delivering again what the outputs lack");
    }
    let mut quarantine = match &a.quarantine {
        Some(p) => Some(
            std::fs::File::create(p).map_err(|e| format!("{}: cannot create: {e}", p.display()))?,
        ),
        None => None,
    };
    let mut paths = a.paths.clone();
    // Following stdin: spool it to a file next to the state (or in a temporary folder) and follow that.
    let _spool_dir;
    if a.follow && paths.iter().any(|p| p.as_os_str() == "-") {
        let spool = match &a.state {
            Some(s) => PathBuf::from(format!("{}.stdin.jsonl", s.display())),
            None => {
                let d = tempfile::tempdir().map_err(|e| e.to_string())?;
                let p = d.path().join("stdin.jsonl");
                _spool_dir = d;
                p
            }
        };
        spool_stdin(&spool)?;
        for p in paths.iter_mut().filter(|p| p.as_os_str() == "-") {
            *p = spool.clone();
        }
    }
    // The archive sees every event the detectors see; a write error is kept and stops the run after
    // this pass (evidence that cannot be kept must not be silently lost).
    let archive = match &a.archive {
        Some(dir) => {
            let (ar, rec) = credwarden_store::archive::Archive::open_with(dir, &archive_pending)
                .map_err(|e| e.to_string())?;
            if rec.rolled_forward > 0 {
                info!(
                    "{}: listed {} part(s) sealed by the last run before it stopped",
                    dir.display(),
                    rec.rolled_forward
                );
            }
            for m in &rec.moved_aside {
                warn!(
                    "{}: {m} was left by an interrupted run (its events are read again): moved to interrupted/",
                    dir.display()
                );
            }
            let mut ar = ar;
            if let Some(k) = &a.archive_key {
                ar.set_signer(credwarden_respond::approval::load_key_file(k)?);
            }
            // Written on a thread of its own: encoding Parquet never stalls the detectors.
            let (spool, tap) = credwarden_store::archive::spool::shared(ar);
            engine.set_tap(Some(Box::new(tap)));
            Some(spool)
        }
        None => None,
    };
    let mut sinks = Vec::new();
    for spec in &a.sinks {
        let sink = credwarden_sink::open(spec, &credwarden_sink::Options::default())
            .map_err(|e| e.to_string())?;
        sinks.push((sink, Vec::<Finding>::new()));
    }
    let show = !a.no_progress && !g.quiet && std::io::stderr().is_terminal();
    let mut exit = 0;
    let mut first = true;
    loop {
        let started = std::time::Instant::now();
        let progress = Progress::new(show && first);
        let (mut findings, stats) = engine
            .run(&paths, &opts, &mut |d, t, e| progress.update(d, t, e))
            .map_err(|e| e.to_string())?;
        progress.finish();
        name_owners(&mut findings, owners.as_ref());
        // Nothing readable at all is an error, not "no findings" (a one-shot run; following, a
        // folder may fill later).
        if first && !a.follow {
            let events: u64 = stats.events.values().sum();
            let skipped = stats.rejects.iter().filter(|e| e.line().is_none()).count();
            if events == 0
                && stats.unchanged == 0
                && (stats.files <= skipped || !stats.rejects.is_empty())
            {
                report_stats(&stats, quarantine.as_mut());
                let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                return Err(if stats.files == 0 {
                    format!("no log files under {}", paths.join(", "))
                } else {
                    format!(
                        "none of the {} file(s) under {} is a log credwarden reads (CloudTrail, GCP audit, VPC flow, gateway, token issuance, shell, DB access, or a [[log]] mapping): see the warnings above",
                        stats.files,
                        paths.join(", ")
                    )
                });
            }
        }
        report_stats(&stats, quarantine.as_mut());
        // Exactly once: parts sealed (unlisted) and findings delivered — output and file sinks on
        // disk — before the state that records them is saved; the archive's parts are listed after.
        let mut sealed = Vec::new();
        if let Some(spool) = &archive {
            sealed = seal_archive_pass(&mut spool.lock().expect("not poisoned"), &findings)?;
        }
        findings.retain(|f| f.severity >= a.out.min_severity);
        let list = incidents::group(&mut findings);
        if let Some(m) = &marker {
            std::fs::write(m, b"delivering\n")
                .and_then(|_| std::fs::File::open(m).and_then(|f| f.sync_all()))
                .map_err(|e| format!("{}: {e}", m.display()))?;
        }
        let append = a.state.is_some() || !first;
        if !findings.is_empty() || first {
            let fresh: Vec<Finding> = match (&a.out.output, recovering) {
                (Some(p), true) => {
                    let have = output::fingerprints_in(p);
                    findings
                        .iter()
                        .filter(|f| !have.contains(&f.fingerprint()))
                        .cloned()
                        .collect()
                }
                _ => findings.clone(),
            };
            // A person reading the table sees the incidents first, then the findings.
            if !list.is_empty()
                && output::format(a.out.format, a.out.output.is_some())
                    == credwarden_report::Format::Table
                && a.out.output.is_none()
            {
                println!("{}", incidents_table(&list).trim_start());
            }
            output::write_findings_to(g, &a.out, &fresh, append)?;
        }
        if let Some(p) = &a.incidents {
            write_incidents(p, &list, !first)?;
        }
        for (spec, (sink, pending)) in a.sinks.iter().zip(&mut sinks) {
            let have = match spec {
                credwarden_sink::SinkSpec::File(path) if recovering => {
                    output::fingerprints_in(path)
                }
                _ => Default::default(),
            };
            pending.extend(
                findings
                    .iter()
                    .filter(|f| !have.contains(&f.fingerprint()))
                    .cloned(),
            );
            match sink.send(pending) {
                Ok(d) => {
                    if d.sent > 0 {
                        info!(
                            "{}: {} findings delivered ({} attempts)",
                            sink.name(),
                            d.sent,
                            d.attempts
                        );
                    }
                    pending.clear();
                }
                // Following: say so loudly and try again with the next look; once: fail the run
                // (the state is not saved, so the next run finds them again).
                Err(e) if a.follow => warn!("{e}; {} findings kept to send again", pending.len()),
                Err(e) => return Err(e.to_string()),
            }
        }
        if let Some(p) = &a.state {
            let cp = Checkpoint {
                engine: engine.state(),
                archive_pending: sealed.clone(),
            };
            credwarden_store::save(p, credwarden_detect::STATE_FORMAT, &cp)
                .map_err(|e| e.to_string())?;
        }
        if let Some(spool) = &archive {
            spool
                .lock()
                .expect("not poisoned")
                .archive()
                .commit(&sealed)
                .map_err(|e| e.to_string())?;
            let events: u64 = sealed.iter().map(|e| e.events).sum();
            if events > 0 {
                info!(
                    "archived {events} events in {} part(s); manifest head {}",
                    sealed.len(),
                    sealed.last().map_or("", |e| e.hash.as_str())
                );
            }
        }
        if let Some(m) = &marker {
            let _ = std::fs::remove_file(m);
        }
        recovering = false;
        if let Some(min) = a.request_offboarding {
            request_offboarding(&findings, min, &a.offboard_journal)?;
        }
        if !g.quiet && (first || !findings.is_empty()) {
            eprintln!("{}", summary_line(&stats, &findings, started.elapsed()));
        }
        exit = exit.max(output::exit_code(&a.out, &findings));
        first = false;
        if !a.follow {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(a.poll_seconds.max(1)));
    }
    Ok(exit)
}

/// A severe finding about an identity asks for its offboarding: an open approval request in the
/// offboarding journal (once per identity), which a person approves with a signed approval
/// (`offboard --sign-approval`): the finding is the first party, so anyone in `[respond.approvers]`
/// may approve it.
fn request_offboarding(findings: &[Finding], min: Severity, journal: &Path) -> Result<(), String> {
    use credwarden_respond::approval;
    use credwarden_respond::journal::Journal;
    let mut j = Journal::open(journal, "detect").map_err(|e| e.to_string())?;
    for f in findings.iter().filter(|f| f.severity >= min) {
        let Some(id) = &f.subject.identity_id else {
            continue;
        };
        if approval::open_request(&j, id).is_some() {
            continue;
        }
        let by = approval::Principal {
            name: "detect".into(),
            how: format!("finding {}", f.rule.id),
            key: None,
        };
        approval::request(&mut j, id, &by, &f.message).map_err(|e| e.to_string())?;
        warn!(
            "offboarding of {id} requested ({}): awaiting a second person's approval",
            f.rule.id
        );
    }
    Ok(())
}

/// Copy standard input, line by line, to `spool` on a background thread.
fn spool_stdin(spool: &Path) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(spool)
        .map_err(|e| format!("{}: cannot create the stdin spool: {e}", spool.display()))?;
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if writeln!(f, "{line}").and_then(|_| f.flush()).is_err() {
                break;
            }
        }
    });
    Ok(())
}
