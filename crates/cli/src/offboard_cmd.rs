//! `credwarden offboard`: find the leaver (HR + inventories, joined here), hand them to
//! `credwarden_respond::service` (connectors from `[respond]`, the playbook — a dry run unless
//! `--apply` —, approvals, retries), print the plan or the report with time-to-dead, and exit 1
//! while anything stays open.

use crate::args::OffboardArgs;
use crate::config::Config;
use crate::estate::Estate;
use credwarden_ingest::Rejects;
use credwarden_model::Resolution;
use credwarden_respond::config::RespondConfig;
use credwarden_respond::journal::Journal;
use credwarden_respond::playbook::Outcome;
use credwarden_respond::service::{self, Approvals, Closed, Offboarded, Retry};
use credwarden_respond::{Leaver, Strength};
use std::path::Path;
use std::time::Duration;

fn estate<'a>(
    a: &'a OffboardArgs,
    cols: &'a std::collections::BTreeMap<String, String>,
) -> Result<Estate<'a>, String> {
    Ok(Estate {
        hr: a.estate.hr()?,
        owners: a.estate.owners.as_deref(),
        groups: a.estate.groups.as_deref(),
        inventories: &a.estate.inventories,
        hr_columns: cols,
    })
}

/// Read the estate and find `who` in it.
pub fn leaver_named(estate: &Estate, who: &str) -> Result<Leaver, String> {
    let (dir, credentials) = estate.load(&mut Rejects::new(false))?;
    leaver_from(&dir, &credentials, who, estate.hr)
}

/// The leaver a SCIM departure names: the roster identity it matches by HR id or by any alias
/// (login, address, external id), else the SCIM user itself, whose credentials are then found by
/// its aliases. `groups` (the IdP's, the leaver in every group they were ever in) count besides
/// the groups file for what they could read.
pub fn leaver_for(
    estate: &Estate,
    who: &credwarden_model::Identity,
    groups: &[(String, Vec<String>)],
) -> Result<Leaver, String> {
    let (dir, credentials) = estate.load_plus(&mut Rejects::new(false), &[], groups)?;
    for name in std::iter::once(who.id.clone()).chain(who.aliases()) {
        if let Resolution::Found(..) = dir.resolve(&name) {
            return leaver_from(&dir, &credentials, &name, estate.hr);
        }
    }
    let (dir, credentials) =
        estate.load_plus(&mut Rejects::new(false), std::slice::from_ref(who), groups)?;
    leaver_from(&dir, &credentials, &who.id, estate.hr)
}

/// `who`, what they own and what they could read, from an estate already read (`roster` names the
/// HR file in errors).
fn leaver_from(
    dir: &credwarden_model::Directory,
    credentials: &[credwarden_model::Credential],
    who: &str,
    roster: &Path,
) -> Result<Leaver, String> {
    let idx = match dir.resolve(who) {
        Resolution::Found(i, _) => i,
        Resolution::Ambiguous(ids) => {
            return Err(format!(
                "`{who}` matches several identities: {}",
                ids.join(", ")
            ))
        }
        Resolution::NotFound => return Err(format!("`{who}` is not in {}", roster.display())),
    };
    let identity = dir.get(idx).clone();
    let policy = credwarden_audit::Policy::default();
    let today = jiff::Zoned::now().date();
    let ctx = credwarden_audit::Context::new(dir, credentials, today, &policy);
    let owned: Vec<credwarden_model::Credential> = ctx
        .creds
        .iter()
        .filter(|r| r.identity().is_some_and(|i| i.id == identity.id))
        .map(|r| r.cred.clone())
        .collect();
    // A secret's owner can read it: owned secrets are rotated like the ones read through a group
    // (no connector revokes a shared secret; left out, it would outlive its owner silently).
    let readable = credentials
        .iter()
        .filter(|c| credwarden_model::exposure::is_readable_secret(c.kind))
        .filter(|c| {
            credwarden_model::exposure::readers(dir, c)
                .found
                .contains(&idx)
        })
        .cloned()
        .collect();
    Ok(Leaver {
        identity,
        credentials: owned,
        readable,
    })
}

/// Run.
pub fn run(a: &OffboardArgs) -> Result<u8, String> {
    let cfg = Config::load(a.config.as_deref())?;
    let jpath = cfg.respond.journal_path(a.journal.as_deref());
    let mut journal = Journal::open(&jpath, &service::actor()).map_err(|e| e.to_string())?;
    if let Some(path) = &a.keygen {
        return keygen(path);
    }
    if a.list_open {
        let open = journal.open_items(None);
        for e in &open {
            println!(
                "{}  {:10} {:28} {:40} {:?}: {}",
                e.action.id,
                e.action.identity,
                e.action.connector,
                e.action.target,
                e.phase,
                e.detail
            );
        }
        println!("{} open action(s) in {}", open.len(), jpath.display());
        return Ok(if open.is_empty() {
            0
        } else {
            crate::EXIT_FINDINGS
        });
    }
    if let Some(id) = &a.close {
        let why = a.reason.clone().unwrap_or_default();
        match service::close(&mut journal, id, &why)? {
            Closed::AlreadyDone(phase) => println!("{id} is already {phase:?}"),
            Closed::Closed(action) => {
                println!("closed {id} ({} {})", action.kind.label(), action.target)
            }
        }
        return Ok(0);
    }
    if a.watch_hr {
        return watch(a, &cfg.respond, &cfg.hr.columns, &mut journal);
    }
    let who = leaver_named(
        &estate(a, &cfg.hr.columns)?,
        a.identity.as_deref().ok_or("--identity is required")?,
    )?;
    let approvals = Approvals::new(&cfg.respond)?;
    if a.approved_by.is_some() {
        return Err("--approved-by is no longer accepted (a typed name proves nothing): the second person signs with `--sign-approval FILE --signing-key KEY`, and --apply takes `--approval FILE`".into());
    }
    let signing_key = |what: &str| -> Result<&Path, String> {
        a.signing_key
            .as_deref()
            .ok_or_else(|| format!("{what} needs --signing-key (your key in [respond.approvers])"))
    };
    if a.request_approval {
        let key = signing_key("--request-approval")?;
        let why = a.reason.clone().unwrap_or_default();
        let (by, act) = approvals.request(&mut journal, &who.identity.id, key, &why)?;
        println!("approval requested for {} by {} [{}]: a second person runs `credwarden offboard --identity {} --sign-approval FILE --signing-key THEIR_KEY`, then `--apply --approval FILE`", who.identity.id, by.name, act.id, who.identity.id);
        return Ok(0);
    }
    if let Some(out) = &a.sign_approval {
        let key = signing_key("--sign-approval")?;
        let name = approvals.sign(&journal, &who.identity.id, key, out)?;
        println!(
            "approval of the offboarding of {} signed by {}: {}",
            who.identity.id,
            name,
            out.display()
        );
        return Ok(0);
    }
    // The policy: a termination HR recorded is offboarded at once; anyone else needs a second person.
    if a.apply {
        approvals.before_apply(&mut journal, &who, a.approval.as_deref())?;
    }
    offboard_one(a.apply, &cfg.respond, &who, &mut journal)
}

/// `--keygen FILE`: a new Ed25519 key, private half to FILE (0600, never overwritten).
fn keygen(path: &Path) -> Result<u8, String> {
    let public = service::keygen(path)?;
    println!(
        "private key written to {} (keep it to yourself)",
        path.display()
    );
    println!("add to the config under [respond.approvers]:\nYOUR_NAME = \"{public}\"");
    Ok(0)
}

/// Identities HR records as departed today.
fn departed(dir: &credwarden_model::Directory) -> Vec<String> {
    let today = jiff::Zoned::now().date();
    dir.identities()
        .iter()
        .filter(|i| i.is_departed(today))
        .map(|i| i.id.clone())
        .collect()
}

/// Watch the roster: offboard each identity that becomes departed. The identities already handled
/// are kept next to the journal (`<journal>.watch.json`), so a restart neither repeats nor misses one.
fn watch(
    a: &OffboardArgs,
    cfg: &RespondConfig,
    cols: &std::collections::BTreeMap<String, String>,
    journal: &mut Journal,
) -> Result<u8, String> {
    let seen_path = std::path::PathBuf::from(format!("{}.watch.json", journal.path().display()));
    let mut seen: std::collections::BTreeSet<String> = match std::fs::read_to_string(&seen_path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| format!("{}: {e}", seen_path.display()))?,
        Err(_) => {
            let (dir, _) = estate(a, cols)?.load(&mut Rejects::new(false))?;
            let now = departed(&dir);
            let start: std::collections::BTreeSet<String> = if a.include_existing {
                Default::default()
            } else {
                now.into_iter().collect()
            };
            println!(
                "watching {}: {} identities already departed are remembered, not offboarded",
                a.estate
                    .hr
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                start.len()
            );
            start
        }
    };
    let mut exit = 0;
    let mut retry = Retry::new(cfg);
    loop {
        // One read of the estate per look, for the roster and for every new leaver's credentials.
        let est = estate(a, cols)?;
        let (dir, credentials) = est.load(&mut Rejects::new(false))?;
        for id in departed(&dir) {
            if seen.contains(&id) {
                continue;
            }
            println!("termination seen: {id}");
            let who = leaver_from(&dir, &credentials, &id, est.hr)?;
            exit = exit.max(offboard_one(a.apply, cfg, &who, journal)?);
            seen.insert(id);
        }
        std::fs::write(
            &seen_path,
            serde_json::to_string(&seen).expect("serializable"),
        )
        .map_err(|e| format!("{}: {e}", seen_path.display()))?;
        if a.once {
            return Ok(exit);
        }
        if a.apply {
            exit = exit.max(retry_due(&mut retry, &est, cfg, journal));
        }
        std::thread::sleep(Duration::from_secs(a.poll_seconds.max(1)));
    }
}

/// One round of retries (see [`Retry`]), leavers found in `estate`, each run printed; the worst
/// exit code.
pub fn retry_due(
    retry: &mut Retry,
    estate: &Estate,
    cfg: &RespondConfig,
    journal: &mut Journal,
) -> u8 {
    let jpath = journal.path().to_path_buf();
    let attention = retry.run(
        &|id: &str| leaver_named(estate, id),
        cfg,
        journal,
        &mut |who: &Leaver, done: &Offboarded| print_offboarded(who, done, &jpath),
    );
    exit_code(attention)
}

/// Exit 1 when a run needs a person.
fn exit_code(attention: bool) -> u8 {
    if attention {
        crate::EXIT_FINDINGS
    } else {
        0
    }
}

/// Offboard `who` (see [`service::offboard_one`]) and print the plan or the report; the exit code.
pub fn offboard_one(
    apply: bool,
    cfg: &RespondConfig,
    who: &Leaver,
    journal: &mut Journal,
) -> Result<u8, String> {
    let done = service::offboard_one(apply, cfg, who, journal)?;
    print_offboarded(who, &done, journal.path());
    Ok(exit_code(done.needs_attention()))
}

/// The plan (dry run) or the report with time-to-dead, as people read it.
fn print_offboarded(who: &Leaver, done: &Offboarded, jpath: &Path) {
    let (apply, report) = (done.applied, &done.report);
    let name = who.identity.display_name.clone().unwrap_or_default();
    println!(
        "{} {} ({name}): {} credential(s) owned, {} secret(s) readable{}",
        if apply { "Offboarding" } else { "Plan for" },
        who.identity.id,
        who.credentials.len(),
        who.readable.len(),
        if apply {
            ""
        } else {
            " — dry run, nothing changed (add --apply to revoke)"
        }
    );
    for l in &report.lines {
        let what = match &l.outcome {
            Outcome::Planned => "would".to_string(),
            Outcome::Done {
                after,
                how,
                strength,
            } => {
                let word = match strength {
                    Strength::Refused => "DEAD (refused)",
                    Strength::Gone => "GONE (listing)",
                    Strength::Notified => "NOTIFIED",
                };
                format!("{word} after {:.1} s ({how}):", after.as_secs_f64())
            }
            Outcome::AlreadyDone(Some(s)) => format!("already done ({}):", s.label()),
            Outcome::AlreadyDone(None) => "already closed:".to_string(),
            Outcome::Open(why) => format!("OPEN ({why}):"),
        };
        println!(
            "  [{}] {what} {} — {} ({})",
            l.action.id,
            l.action.kind.label(),
            l.action.note,
            l.action.connector
        );
    }
    for u in &report.unreachable {
        println!("  OPEN: {u}");
    }
    println!("{}: {}", who.identity.id, report.summary());
    if done.open > 0 {
        println!("{} action(s) open for {} (see `credwarden offboard --list-open`; close one with --close ID --reason TEXT)", done.open, who.identity.id);
    }
    println!("journal: {}", jpath.display());
}
