//! `credwarden serve`: our SCIM 2.0 service provider; a departure (`active=false` by PATCH or PUT,
//! or a DELETE) runs the offboarding playbook for that identity, one at a time, journaled like
//! `offboard` (applied only with `--apply`, the automatic policy for terminations). With `--apply`,
//! work a down system left open is retried in the background until it is done.

use crate::args::ServeArgs;
use crate::config::Config;
use crate::estate::EstateFiles;
use credwarden_ingest::Rejects;
use credwarden_respond::connectors::ssf;
use credwarden_respond::journal::Journal;
use credwarden_respond::service::{self, BearerCall, Retry};
use std::io::Read;
use std::sync::{Arc, Mutex};
use tracing::{error, info};

/// `HASH [PRINCIPAL]` lines: the SHA-256 of a token in hex and who holds it (default
/// `token-LINE`), the principal requests and approvals are made as.
fn tokens(path: &std::path::Path) -> Result<Vec<([u8; 32], String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, l) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        let mut parts = l.split_whitespace();
        let l = parts.next().unwrap_or("");
        let principal = parts
            .next()
            .map(str::to_string)
            .unwrap_or_else(|| format!("token-{}", i + 1));
        if !principal
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
            || parts.next().is_some()
        {
            return Err(format!(
                "{}:{}: expected `SHA256_HEX [PRINCIPAL]` (a principal of letters, digits and . _ @ -)",
                path.display(),
                i + 1
            ));
        }
        if l.len() != 64 || !l.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{}:{}: expected a SHA-256 in hex (make it with `credwarden serve --hash-token`)",
                path.display(),
                i + 1
            ));
        }
        let mut h = [0u8; 32];
        for (j, b) in h.iter_mut().enumerate() {
            *b = u8::from_str_radix(&l[2 * j..2 * j + 2], 16).expect("hex checked");
        }
        out.push((h, principal));
    }
    if out.is_empty() {
        return Err(format!(
            "{}: no tokens: every request would be refused",
            path.display()
        ));
    }
    Ok(out)
}

/// The CW-D007 finding for a forged-token campaign refused at the gateway.
fn forged_finding(m: &credwarden_ledger::campaign::Milestone) -> credwarden_model::Finding {
    use credwarden_detect::detectors::TOKEN_NEVER_ISSUED as META;
    let c = &m.campaign;
    let kid = c.kid.clone().unwrap_or_else(|| "?".into());
    let client = c.client.clone().unwrap_or_else(|| "?".into());
    let subject = credwarden_model::Subject {
        credential_id: Some(kid.clone()),
        credential_kind: Some("signing_key".into()),
        system: Some("gateway".into()),
        ..credwarden_model::Subject::default()
    };
    let time = |s: i64| jiff::Timestamp::from_second(s).unwrap_or_else(|_| jiff::Timestamp::now());
    let what = if m.size == 1 {
        format!("token-check refused a token the login service never issued (kid {kid}, client {client}): a forged-token campaign has started")
    } else {
        format!(
            "token-check has refused {} forged tokens of the campaign (kid {kid}, client {client}), naming {} members from {} addresses",
            c.refused, c.members, c.addresses
        )
    };
    let mut f = credwarden_model::Finding::new(&META, subject, what, time(c.last));
    f.first_seen = Some(time(c.first));
    f.last_seen = Some(time(c.last));
    f.discriminator = Some(format!("token-check|{kid}|{client}|{}", m.size));
    f.fact("kid", kid)
        .fact("client", client)
        .fact("forged_requests", c.refused)
        .fact("members", c.members)
        .fact("addresses", c.addresses)
        .fact("refused_at_gateway", true)
        .fact(
            "reasons",
            serde_json::to_value(&c.reasons).unwrap_or_default(),
        )
}

/// With `--apply`, an offboarding rolls the signing keys the leaver could read out of the JWKS: the
/// ledger retires them at the same moment, so a token signed with one is refused by the gateway's
/// check at once, whether or not every verifier has fetched the new key set yet.
fn retire_keys_of(
    ledger: Option<&Arc<credwarden_server::ledger::LedgerHandle>>,
    leaver: &credwarden_respond::Leaver,
) {
    let Some(l) = ledger else { return };
    let at = credwarden_server::ledger::now();
    let changes: Vec<credwarden_ledger::Change> = leaver
        .credentials
        .iter()
        .chain(&leaver.readable)
        .filter(|c| c.kind == credwarden_model::CredentialKind::SigningKey)
        .map(|c| credwarden_ledger::Change::RetireKey {
            kid: c.id.clone(),
            at,
        })
        .collect();
    if changes.is_empty() {
        return;
    }
    match l.record(&changes) {
        Ok(n) => info!(
            "issuance ledger: {} signing key(s) of {} retired, {n} live token(s) now refused",
            changes.len(),
            leaver.identity.id
        ),
        Err(e) => error!(
            "issuance ledger: retiring the keys of {}: {e}",
            leaver.identity.id
        ),
    }
}

/// The issuance ledger (`--ledger`): opened, its findings file, and the issuance-log follower.
fn ledger(
    a: &ServeArgs,
    cfg: &Config,
) -> Result<Option<Arc<credwarden_server::ledger::LedgerHandle>>, String> {
    let Some(dir) = &a.ledger else {
        return Ok(None);
    };
    let (durable, opened) =
        credwarden_ledger::wal::Durable::open(dir, credwarden_server::ledger::now())
            .map_err(|e| e.to_string())?;
    info!(
        "issuance ledger {}: {} live tokens ({} from the snapshot, {} from the change log{})",
        dir.display(),
        durable.ledger.counts().tokens,
        opened.from_snapshot,
        opened.from_log,
        if opened.torn {
            "; a torn last line, never acknowledged, was dropped"
        } else {
            ""
        }
    );
    let findings = a
        .ledger_findings
        .clone()
        .unwrap_or_else(|| dir.join("findings.jsonl"));
    let on_forged: credwarden_server::ledger::OnForged = Arc::new(move |m| {
        let f = forged_finding(&m);
        let write = || -> std::io::Result<()> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&findings)?;
            let mut w = std::io::BufWriter::new(file);
            credwarden_report::write(
                &mut w,
                std::slice::from_ref(&f),
                credwarden_report::Format::Json,
                false,
            )?;
            std::io::Write::flush(&mut w)
        };
        match write() {
            Ok(()) => tracing::warn!("{}: {}", f.rule.id, f.message),
            Err(e) => error!("{}: cannot write a finding: {e}", findings.display()),
        }
    });
    let grace = std::time::Duration::try_from(a.issuance_grace)
        .map_err(|e| format!("--issuance-grace: {e}"))?;
    let handle = Arc::new(credwarden_server::ledger::LedgerHandle::new(
        durable,
        grace,
        Some(on_forged),
    ));
    if !a.issuance_log.is_empty() {
        follow_issuance(a.issuance_log.clone(), cfg, handle.clone());
    }
    Ok(Some(handle))
}

/// Follow issuance logs into the ledger: read what is new every 200 ms with the readers `detect`
/// uses (offsets kept in memory; a restart reads the files again, and the ledger takes each token
/// once).
fn follow_issuance(
    paths: Vec<std::path::PathBuf>,
    cfg: &Config,
    l: Arc<credwarden_server::ledger::LedgerHandle>,
) {
    let opts = credwarden_detect::Options {
        sources_stopped: false,
        reorder_window: jiff::SignedDuration::ZERO,
        read: credwarden_detect::sources::ReadOptions {
            format: None,
            mappings: Arc::new(cfg.log.clone()),
        },
        ..credwarden_detect::Options::default()
    };
    std::thread::spawn(move || {
        let batch: Arc<Mutex<Vec<credwarden_ledger::Change>>> = Arc::default();
        let mut engine = credwarden_detect::Engine::new(Vec::new());
        let sink = batch.clone();
        engine.set_tap(Some(Box::new(move |e| {
            let Some(t) = e.token.as_ref() else { return };
            if e.resource.kind.as_deref() != Some("token_issuance") {
                return;
            }
            let (Some(jti), Some(exp)) = (t.jti.clone(), t.exp) else {
                return;
            };
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(credwarden_ledger::Change::Issued(
                    credwarden_ledger::Issued {
                        jti,
                        sub: t.sub.clone(),
                        kid: t.kid.clone(),
                        iat: t.iat.map(|x| x.as_second()),
                        exp: exp.as_second(),
                        client_id: t.client.clone(),
                    },
                ));
        })));
        let mut warned = std::collections::HashSet::new();
        loop {
            match engine.run(&paths, &opts, &mut |_, _, _| {}) {
                Ok((_, stats)) => {
                    for r in &stats.rejects {
                        if warned.insert(r.to_string()) {
                            tracing::warn!("issuance log: {r}");
                        }
                    }
                }
                Err(e) => {
                    if warned.insert(e.to_string()) {
                        error!("issuance log: {e}");
                    }
                }
            }
            let changes = std::mem::take(&mut *batch.lock().unwrap_or_else(|p| p.into_inner()));
            if !changes.is_empty() {
                if let Err(e) = l.record(&changes) {
                    error!("issuance ledger: {e}");
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
}

/// Run.
pub fn run(a: &ServeArgs) -> Result<u8, String> {
    if a.hash_token {
        let mut t = String::new();
        std::io::stdin()
            .read_to_string(&mut t)
            .map_err(|e| e.to_string())?;
        if t.trim().len() < 20 {
            return Err("a token should be at least 20 characters".into());
        }
        println!(
            "{}",
            credwarden_server::hex(&credwarden_server::hash_token(&t))
        );
        return Ok(0);
    }
    let token_hashes = tokens(
        a.tokens_file
            .as_deref()
            .ok_or("--tokens-file is required")?,
    )?;
    let cfg = Arc::new(Config::load(a.config.as_deref())?);
    let files = Arc::new(EstateFiles {
        hr: a.estate.hr()?.to_path_buf(),
        inventories: a.estate.inventories.clone(),
        groups: a.estate.groups.clone(),
        owners: a.estate.owners.clone(),
        hr_columns: cfg.hr.columns.clone(),
    });
    let (dir, _) = files.estate().load(&mut Rejects::new(false))?;
    let ssf_cfg = cfg.clone();
    let ledger = ledger(a, &cfg)?;
    let jpath = cfg.respond.journal_path(a.journal.as_deref());
    let apply = a.apply;
    // One offboarding at a time: the journal is one chain.
    let lock = Arc::new(Mutex::new(()));
    if apply {
        // Work left open by a system that was down is retried until it is done.
        let (lock, cfg, jpath, files) = (lock.clone(), cfg.clone(), jpath.clone(), files.clone());
        std::thread::spawn(move || {
            let mut retry = Retry::new(&cfg.respond);
            let tick = Retry::tick(&cfg.respond);
            loop {
                std::thread::sleep(tick);
                let _g = lock.lock().unwrap_or_else(|p| p.into_inner());
                let estate = files.estate();
                match Journal::open(&jpath, &format!("serve ({})", service::actor())) {
                    Ok(mut journal) => {
                        crate::offboard_cmd::retry_due(
                            &mut retry,
                            &estate,
                            &cfg.respond,
                            &mut journal,
                        );
                    }
                    Err(e) => error!("{}: {e}", jpath.display()),
                }
            }
        });
    }
    let (ledger_req, ledger_dep) = (ledger.clone(), ledger.clone());
    let on_offboarding: credwarden_server::OnOffboarding = {
        let (lock, cfg, jpath, files) = (lock.clone(), cfg.clone(), jpath.clone(), files.clone());
        Arc::new(move |call: credwarden_server::OffboardingCall| {
            let _g = lock.lock().unwrap_or_else(|p| p.into_inner());
            let estate = files.estate();
            let leaver = crate::offboard_cmd::leaver_named(&estate, &call.identity)?;
            let id = leaver.identity.id.clone();
            let mut journal = Journal::open(&jpath, &format!("serve ({})", call.principal))
                .map_err(|e| e.to_string())?;
            let by = &call.principal;
            match service::by_bearer(&mut journal, &id, by, call.reason.as_deref())? {
                BearerCall::Requested => Ok(format!(
                    "offboarding of {id} requested by {by}: a second person approves it"
                )),
                BearerCall::Approved => {
                    info!("offboarding of {id} approved by {by}");
                    let code = crate::offboard_cmd::offboard_one(
                        apply,
                        &cfg.respond,
                        &leaver,
                        &mut journal,
                    )?;
                    if apply {
                        retire_keys_of(ledger_req.as_ref(), &leaver);
                    }
                    Ok(format!(
                        "offboarding of {id} approved by {by} and run{}",
                        if code == 0 {
                            ""
                        } else {
                            ": some actions are open"
                        }
                    ))
                }
            }
        })
    };
    let on_deactivate: credwarden_server::OnDeactivate = Arc::new(move |d| {
        let credwarden_server::Departure {
            who,
            groups: idp_groups,
        } = d;
        let _g = lock.lock().unwrap_or_else(|p| p.into_inner());
        info!("deactivation of {} received: offboarding", who.id);
        let run = || -> Result<u8, String> {
            let estate = files.estate();
            let leaver = crate::offboard_cmd::leaver_for(&estate, &who, &idp_groups)?;
            let mut journal = Journal::open(&jpath, &format!("serve ({})", service::actor()))
                .map_err(|e| e.to_string())?;
            let code =
                crate::offboard_cmd::offboard_one(apply, &cfg.respond, &leaver, &mut journal)?;
            if apply {
                retire_keys_of(ledger_dep.as_ref(), &leaver);
            }
            Ok(code)
        };
        if let Err(e) = run() {
            error!("offboarding {} failed: {e}", who.id);
        }
    });
    let ssf = match &ssf_cfg.respond.ssf_poll {
        Some(x) => {
            let key_pem = std::fs::read(&x.key_file)
                .map_err(|e| format!("{}: cannot read: {e}", x.key_file.display()))?;
            let (issuer, key_id) = (x.issuer.clone(), x.key_id.clone());
            let signer_for = move |aud: &str| {
                ssf::SsfPush::new(ssf::SsfConfig {
                    issuer: issuer.clone(),
                    endpoint: String::new(),
                    audience: aud.to_string(),
                    key_pem: key_pem.clone(),
                    key_id: key_id.clone(),
                    timeout: std::time::Duration::from_secs(1),
                })
            };
            // Check the key once, now, rather than at the first deactivation.
            signer_for("check").map_err(|e| format!("{}: {e}", x.key_file.display()))?;
            let make: credwarden_server::SetMaker = Arc::new(move |who, aud| {
                let events = [
                    ssf::SESSION_REVOKED,
                    ssf::CREDENTIAL_CHANGE,
                    ssf::ACCOUNT_DISABLED,
                ];
                signer_for(aud)
                    .and_then(|mut s| s.sets_about(who))
                    .map(|v| {
                        v.into_iter()
                            .zip(events)
                            .map(|((jti, set), e)| (e.to_string(), jti, set))
                            .collect()
                    })
                    .unwrap_or_default()
            });
            Some(credwarden_server::SsfServe {
                issuer: x.issuer.clone(),
                make,
            })
        }
        None => None,
    };
    credwarden_server::serve(
        credwarden_server::ServerConfig {
            bind: a.bind,
            token_hashes,
            on_offboarding: Some(on_offboarding),
            request_log: a.request_log.clone(),
            directory: Arc::new(dir),
            scim_state: Some(a.scim_state.clone()),
            public_url: a.public_url.clone(),
            tls: a
                .tls_cert
                .clone()
                .zip(a.tls_key.clone())
                .map(|(cert, key)| credwarden_server::tls::TlsFiles { cert, key }),
            ssf,
            ledger,
        },
        on_deactivate,
    )
    .map_err(|e| format!("{}: {e}", a.bind))?;
    Ok(0)
}
