//! `credwarden offboard`: build the leaver (HR + inventories), the connectors (config `[respond]`,
//! secrets from files or the environment), run the playbook (dry run unless `--apply`), print the plan
//! or the report with time-to-dead, and exit 1 while anything stays open.

use crate::args::OffboardArgs;
use crate::config::Config;
use crate::estate::Estate;
use credwarden_ingest::Rejects;
use credwarden_model::Resolution;
use credwarden_respond::journal::{Journal, Phase};
use credwarden_respond::playbook::{self, Outcome};
use credwarden_respond::{approval, manual, scim, webhook, Connector, Leaver, Strength};
use std::path::Path;
use std::time::Duration;

fn secret_file(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("{}: cannot read: {e}", p.display()))
}

/// `KEY_ID SECRET` lines (blank lines and `#` comments skipped).
fn key_pairs(p: &Path) -> Result<Vec<(String, String)>, String> {
    let text = secret_file(p)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            let mut it = l.split_whitespace();
            match (it.next(), it.next()) {
                (Some(k), Some(s)) => Ok((k.to_string(), s.to_string())),
                _ => Err(format!(
                    "{}:{}: expected `KEY_ID SECRET`",
                    p.display(),
                    i + 1
                )),
            }
        })
        .collect()
}

pub fn actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    format!("{user}@{host}")
}

fn estate(a: &OffboardArgs) -> Result<Estate<'_>, String> {
    Ok(Estate {
        hr: a.hr.as_deref().ok_or("--hr is required")?,
        owners: a.owners.as_deref(),
        groups: a.groups.as_deref(),
        inventories: &a.inventories,
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
        .filter(|c| credwarden_audit::is_readable_secret(c.kind))
        .filter(|c| {
            owned.iter().any(|o| o.id == c.id && o.system == c.system)
                || c.readers.iter().any(|entry| {
                    dir.expand_reader(entry)
                        .iter()
                        .any(|n| matches!(dir.resolve(n), Resolution::Found(i, _) if i == idx))
                })
        })
        .cloned()
        .collect();
    Ok(Leaver {
        identity,
        credentials: owned,
        readable,
    })
}

fn connectors(cfg: &Config, who: &Leaver) -> Result<Vec<Box<dyn Connector>>, String> {
    let r = &cfg.respond;
    let mut out: Vec<Box<dyn Connector>> = Vec::new();
    if let Some(aws) = &r.aws {
        let credentials = match &aws.credentials_file {
            Some(p) => key_pairs(p)?.into_iter().next(),
            None => None,
        };
        let verify_secrets = match &aws.verify_secrets_file {
            Some(p) => key_pairs(p)?.into_iter().collect(),
            None => Default::default(),
        };
        let c = credwarden_respond::aws_iam::AwsIam::new(credwarden_respond::aws_iam::AwsConfig {
            endpoint: aws.endpoint.clone(),
            region: aws.region.clone(),
            verify_secrets,
            credentials,
            account_id: aws.account_id.clone(),
        })
        .map_err(|e| e.to_string())?;
        out.push(Box::new(c));
    }
    // Secrets this connector rotates are not left as items for their owners.
    let mut rotated_here = Vec::new();
    if let Some(sm) = &r.secrets_manager {
        use credwarden_respond::secrets_manager::{Probe, SecretsManager, SecretsManagerConfig};
        let credentials = match &sm.credentials_file {
            Some(p) => key_pairs(p)?.into_iter().next(),
            None => None,
        };
        let c = SecretsManager::new(SecretsManagerConfig {
            endpoint: sm.endpoint.clone(),
            region: sm.region.clone(),
            credentials,
            systems: sm.systems.clone(),
            probe: sm.probe_url.as_ref().map(|u| Probe {
                url: u.clone(),
                header: sm
                    .probe_header
                    .clone()
                    .unwrap_or_else(|| "Authorization".into()),
                prefix: sm.probe_prefix.clone().unwrap_or_else(|| "Bearer ".into()),
            }),
        })
        .map_err(|e| e.to_string())?;
        rotated_here.extend(
            who.readable
                .iter()
                .filter(|s| c.manages(s))
                .map(|s| s.id.clone()),
        );
        out.push(Box::new(c));
    }
    for x in &r.postgres {
        if x.system.is_empty() || x.connection.is_empty() {
            return Err("[[respond.postgres]]: `system` and `connection` are required".into());
        }
        let password = match &x.password_file {
            Some(p) => Some(secret_file(p)?),
            None => std::env::var("PGPASSWORD").ok(),
        };
        let verify_passwords = match &x.verify_passwords_file {
            Some(p) => key_pairs(p)?.into_iter().collect(),
            None => Default::default(),
        };
        out.push(Box::new(credwarden_respond::postgres::Postgres::new(
            credwarden_respond::postgres::PgConfig {
                connection: x.connection.clone(),
                password,
                system: x.system.clone(),
                verify_passwords,
            },
        )));
    }
    if let Some(x) = &r.ssh {
        if x.krl.as_os_str().is_empty() {
            return Err(
                "[respond.ssh]: `krl` (the file sshd reads as RevokedKeys) is required".into(),
            );
        }
        out.push(Box::new(credwarden_respond::ssh::Ssh::new(
            credwarden_respond::ssh::SshConfig {
                krl: x.krl.clone(),
                ca_public_key: x.ca_public_key.clone(),
                keys_dir: x.keys_dir.clone(),
                ssh_keygen: x.ssh_keygen.clone().unwrap_or_else(|| "ssh-keygen".into()),
            },
        )));
    }
    if let Some(s) = &r.scim {
        let token = match &s.token_file {
            Some(p) => Some(secret_file(p)?),
            None => std::env::var("CREDWARDEN_SCIM_TOKEN").ok(),
        };
        out.push(Box::new(scim::Scim::new(scim::ScimConfig {
            url: s.url.clone(),
            token,
            delete_after_days: s.delete_after_days,
            timeout: Duration::from_secs(10),
        })));
    }
    for w in &r.webhook {
        let url = std::env::var(&w.url_env).map_err(|_| {
            format!(
                "[[respond.webhook]]: environment variable {} is not set",
                w.url_env
            )
        })?;
        out.push(Box::new(webhook::Notify::new(
            &url,
            Duration::from_secs(10),
        )));
    }
    for o in &r.oauth {
        out.push(Box::new(credwarden_respond::oauth::OAuth::new(
            credwarden_respond::oauth::OAuthConfig {
                issuer: o.issuer.clone(),
                client_id: o.client_id.clone(),
                client_secret: secret_file(&o.client_secret_file)?,
                tokens: key_pairs(&o.tokens_file)?.into_iter().collect(),
                global_endpoint: o.global_revocation_endpoint.clone(),
                timeout: Duration::from_secs(10),
            },
        )));
    }
    for x in &r.ssf {
        let key_pem = std::fs::read(&x.key_file)
            .map_err(|e| format!("{}: cannot read: {e}", x.key_file.display()))?;
        let c = credwarden_respond::ssf::SsfPush::new(credwarden_respond::ssf::SsfConfig {
            issuer: x.issuer.clone(),
            endpoint: x.endpoint.clone(),
            audience: x.audience.clone(),
            key_pem,
            key_id: x.key_id.clone(),
            timeout: Duration::from_secs(10),
        })
        .map_err(|e| format!("{}: {e}", x.key_file.display()))?;
        out.push(Box::new(c));
    }
    let mut rolled = Vec::new();
    if let Some(jw) = &r.jwks {
        let mut old_keys = std::collections::HashMap::new();
        if let Some(dir) = &jw.old_keys_dir {
            for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
                let p = e.map_err(|e| e.to_string())?.path();
                if p.extension().is_some_and(|x| x == "pem") {
                    let kid = p
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    old_keys.insert(
                        kid,
                        std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?,
                    );
                }
            }
        }
        let c = credwarden_respond::jwks::Jwks::new(credwarden_respond::jwks::JwksConfig {
            jwks_file: jw.file.clone(),
            successor_dir: jw.successor_dir.clone(),
            probe_url: jw.probe_url.clone(),
            old_keys,
            probe_claims: credwarden_respond::jwks::ProbeClaims {
                issuer: jw.probe_issuer.clone(),
                audience: jw.probe_audience.clone(),
                subject: jw.probe_subject.clone(),
            },
            timeout: Duration::from_secs(10),
        });
        // Signing keys in the managed JWKS are rolled there, not left as manual rotations.
        rolled = c.kids().map_err(|e| e.to_string())?;
        out.push(Box::new(c));
    }
    rolled.extend(rotated_here);
    out.push(Box::new(manual::Rotations::new(who).excluding(&rolled)));
    Ok(out)
}

/// Run.
pub fn run(a: &OffboardArgs) -> Result<u8, String> {
    let cfg = Config::load(a.config.as_deref())?;
    let jpath = a
        .journal
        .clone()
        .or(cfg.respond.journal.clone())
        .unwrap_or_else(|| "credwarden-journal.jsonl".into());
    let mut journal = Journal::open(&jpath, &actor()).map_err(|e| e.to_string())?;
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
        let state = journal.state();
        let e = state
            .get(id)
            .ok_or_else(|| format!("no action {id} in {}", jpath.display()))?;
        if e.phase.is_done() {
            println!("{id} is already {:?}", e.phase);
            return Ok(0);
        }
        let why = a.reason.clone().unwrap_or_default();
        journal
            .record(
                &e.action,
                Phase::Closed,
                &format!("closed by a person: {why}"),
            )
            .map_err(|e| e.to_string())?;
        println!(
            "closed {id} ({} {})",
            e.action.kind.label(),
            e.action.target
        );
        return Ok(0);
    }
    if a.watch_hr {
        return watch(a, &cfg, &mut journal, &jpath);
    }
    let who = leaver_named(
        &estate(a)?,
        a.identity.as_deref().ok_or("--identity is required")?,
    )?;
    let approvers = approval::parse_approvers(&cfg.respond.approvers)?;
    if a.approved_by.is_some() {
        return Err("--approved-by is no longer accepted (a typed name proves nothing): the second person signs with `--sign-approval FILE --signing-key KEY`, and --apply takes `--approval FILE`".into());
    }
    let signer = |what: &str| -> Result<approval::Signer, String> {
        let path = a.signing_key.as_deref().ok_or_else(|| {
            format!("{what} needs --signing-key (your key in [respond.approvers])")
        })?;
        approval::Signer::load(path, &approvers)
    };
    if a.request_approval {
        let by = signer("--request-approval")?.principal();
        let why = a.reason.clone().unwrap_or_default();
        let act = approval::request(&mut journal, &who.identity.id, &by, &why)
            .map_err(|e| e.to_string())?;
        println!("approval requested for {} by {} [{}]: a second person runs `credwarden offboard --identity {} --sign-approval FILE --signing-key THEIR_KEY`, then `--apply --approval FILE`", who.identity.id, by.name, act.id, who.identity.id);
        return Ok(0);
    }
    if let Some(out) = &a.sign_approval {
        let s = signer("--sign-approval")?;
        let signed = s.approve(&journal, &who.identity.id)?;
        std::fs::write(
            out,
            serde_json::to_string_pretty(&signed).expect("serializable"),
        )
        .map_err(|e| format!("{}: {e}", out.display()))?;
        println!(
            "approval of the offboarding of {} signed by {}: {}",
            who.identity.id,
            s.name,
            out.display()
        );
        return Ok(0);
    }
    // The policy: a termination HR recorded is offboarded at once; anyone else needs a second person.
    let terminated = who.identity.is_departed(jiff::Zoned::now().date());
    if a.apply && !terminated {
        if approval::open_request(&journal, &who.identity.id).is_none() {
            return Err(format!("{} is not recorded as gone by HR: revoking needs an approval request (--request-approval --reason … --signing-key KEY) and a second person's signed approval", who.identity.id));
        }
        let Some(file) = &a.approval else {
            return Err(format!(
                "{} is not recorded as gone by HR: add --approval FILE (a second person's, from --sign-approval)",
                who.identity.id
            ));
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        let signed: approval::SignedApproval =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        if signed.identity != who.identity.id {
            return Err(format!(
                "{}: the approval is for {}, not {}",
                file.display(),
                signed.identity,
                who.identity.id
            ));
        }
        let by = signed
            .verify(&journal, &approvers, jiff::SignedDuration::from_hours(24))
            .map_err(|e| format!("{}: {e}", file.display()))?;
        approval::approve(&mut journal, &who.identity.id, &by)?;
    }
    offboard_one(a.apply, &cfg, &who, &mut journal, &jpath)
}

/// `--keygen FILE`: a new Ed25519 key, private half to FILE (0600, never overwritten).
fn keygen(path: &Path) -> Result<u8, String> {
    let (private, public) = approval::keygen()?;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    use std::io::Write;
    o.open(path)
        .and_then(|mut f| f.write_all(private.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))?;
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
    cfg: &Config,
    journal: &mut Journal,
    jpath: &Path,
) -> Result<u8, String> {
    let seen_path = std::path::PathBuf::from(format!("{}.watch.json", jpath.display()));
    let mut seen: std::collections::BTreeSet<String> = match std::fs::read_to_string(&seen_path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| format!("{}: {e}", seen_path.display()))?,
        Err(_) => {
            let (dir, _) = estate(a)?.load(&mut Rejects::new(false))?;
            let now = departed(&dir);
            let start: std::collections::BTreeSet<String> = if a.include_existing {
                Default::default()
            } else {
                now.into_iter().collect()
            };
            println!(
                "watching {}: {} identities already departed are remembered, not offboarded",
                a.hr.as_deref()
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
        let est = estate(a)?;
        let (dir, credentials) = est.load(&mut Rejects::new(false))?;
        for id in departed(&dir) {
            if seen.contains(&id) {
                continue;
            }
            println!("termination seen: {id}");
            let who = leaver_from(&dir, &credentials, &id, est.hr)?;
            exit = exit.max(offboard_one(a.apply, cfg, &who, journal, jpath)?);
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
            exit = exit.max(retry.run(&est, cfg, journal, jpath));
        }
        std::thread::sleep(Duration::from_secs(a.poll_seconds.max(1)));
    }
}

/// Work left open by a system that was down, or by a proof that did not come in time, retried by a
/// daemon (`serve`, `--watch-hr`) per identity with back-off (30 s by default, doubling up to an
/// hour) until it is done, and said loudly each time it is not. Refusals (items that need a person,
/// such as a rotation only a secret's owner can do) are not retried: they wait for `--close`.
pub struct Retry {
    base: Duration,
    next: std::collections::HashMap<String, (std::time::Instant, Duration)>,
}

impl Retry {
    /// Retries starting `base` apart.
    pub fn new(cfg: &Config) -> Retry {
        Retry {
            base: Duration::from_secs(cfg.respond.retry_seconds.unwrap_or(30).max(1)),
            next: Default::default(),
        }
    }

    fn retryable(
        journal: &Journal,
        identity: Option<&str>,
    ) -> Vec<credwarden_respond::journal::Entry> {
        journal
            .open_items(identity)
            .into_iter()
            .filter(|e| matches!(e.phase, Phase::Open | Phase::Applied))
            .collect()
    }

    /// Offboard again everyone whose open work is due; the worst exit code.
    pub fn run(
        &mut self,
        estate: &Estate,
        cfg: &Config,
        journal: &mut Journal,
        jpath: &Path,
    ) -> u8 {
        let due: std::collections::BTreeSet<String> = Self::retryable(journal, None)
            .into_iter()
            .map(|e| e.action.identity)
            .collect();
        self.next.retain(|id, _| due.contains(id));
        let now = std::time::Instant::now();
        let mut exit = 0;
        for id in due {
            let (at, wait) = *self
                .next
                .entry(id.clone())
                .or_insert((now + self.base, self.base));
            if now < at {
                continue;
            }
            tracing::warn!(
                "{id}: {} action(s) still open; trying again",
                Self::retryable(journal, Some(&id)).len()
            );
            // Someone the roster no longer resolves (a user known only to the IdP) is retried by
            // their id: the journal's open items are planned again for each connector.
            let leaver = leaver_named(estate, &id).unwrap_or_else(|_| Leaver {
                identity: credwarden_model::Identity::leaver(
                    id.clone(),
                    credwarden_model::SourceRef::new(jpath.display().to_string(), 0),
                ),
                credentials: vec![],
                readable: vec![],
            });
            match offboard_one(true, cfg, &leaver, journal, jpath) {
                Ok(code) => exit = exit.max(code),
                Err(e) => tracing::error!("{id}: retry failed: {e}"),
            }
            let left = Self::retryable(journal, Some(&id)).len();
            if left == 0 {
                tracing::info!("{id}: every open action is done");
                self.next.remove(&id);
            } else {
                let wait = (wait * 2).min(Duration::from_secs(3600));
                tracing::warn!(
                    "{id}: {left} action(s) still open; next try in {} s",
                    wait.as_secs()
                );
                self.next
                    .insert(id, (std::time::Instant::now() + wait, wait));
            }
        }
        exit
    }
}

pub fn offboard_one(
    apply: bool,
    cfg: &Config,
    who: &Leaver,
    journal: &mut Journal,
    jpath: &Path,
) -> Result<u8, String> {
    let mut cs = connectors(cfg, who)?;
    let opts = playbook::Options {
        apply,
        ..playbook::Options::default()
    };
    let report = playbook::offboard(who, &mut cs, journal, &opts).map_err(|e| e.to_string())?;
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
    let open = journal.open_items(Some(&who.identity.id));
    if !open.is_empty() {
        println!("{} action(s) open for {} (see `credwarden offboard --list-open`; close one with --close ID --reason TEXT)", open.len(), who.identity.id);
    }
    println!("journal: {}", jpath.display());
    // Open work (or, in a dry run, credentials no connector handles) is a non-zero exit.
    Ok(if (apply && !open.is_empty()) || report.uncovered() > 0 {
        crate::EXIT_FINDINGS
    } else {
        0
    })
}
