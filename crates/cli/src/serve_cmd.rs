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
            crate::offboard_cmd::offboard_one(apply, &cfg.respond, &leaver, &mut journal)
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
        },
        on_deactivate,
    )
    .map_err(|e| format!("{}: {e}", a.bind))?;
    Ok(0)
}
