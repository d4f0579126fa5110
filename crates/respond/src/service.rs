//! Offboarding as a library call, for the command line (`offboard`) and the daemons (`serve`,
//! `offboard --watch-hr`) alike: [`offboard_one`] (connectors from `[respond]`, the playbook, the
//! report back — printing is the caller's), [`Retry`] (work a down system left open, tried again
//! with back-off), the second-person approval policy ([`Approvals`], [`by_bearer`]), and a person
//! closing an item ([`close`]).
//!
//! Who the leaver is — the HR roster joined with the inventories — is the caller's: the service
//! takes a [`Leaver`], or a lookup from identity to leaver where it needs one ([`Retry::run`]).

use crate::approval::{self, Principal, SignedApproval, Signer};
use crate::config::RespondConfig;
use crate::journal::{Entry, Journal, Phase};
use crate::playbook::{self, Report};
use crate::{Action, Leaver};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

/// Who acts on this machine (`user@host`), as journaled.
pub fn actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    format!("{user}@{host}")
}

/// What offboarding one leaver came to.
#[derive(Debug, Clone)]
pub struct Offboarded {
    /// Changes were made (otherwise a dry run).
    pub applied: bool,
    /// The playbook's report.
    pub report: Report,
    /// Actions of the leaver the journal holds open after the run.
    pub open: usize,
}

impl Offboarded {
    /// Does it need a person (exit 1)? Open work after applying, or (dry run too) credentials no
    /// connector handles.
    pub fn needs_attention(&self) -> bool {
        (self.applied && self.open > 0) || self.report.uncovered() > 0
    }
}

/// Offboard `who` through the connectors `cfg` configures (a dry run unless `apply`), journaled.
pub fn offboard_one(
    apply: bool,
    cfg: &RespondConfig,
    who: &Leaver,
    journal: &mut Journal,
) -> Result<Offboarded, String> {
    let mut cs = crate::connectors::build(cfg, who)?;
    let opts = playbook::Options {
        apply,
        ..playbook::Options::default()
    };
    let report = playbook::offboard(who, &mut cs, journal, &opts).map_err(|e| e.to_string())?;
    let open = journal.open_items(Some(&who.identity.id)).len();
    Ok(Offboarded {
        applied: apply,
        report,
        open,
    })
}

/// Work left open by a system that was down, or by a proof that did not come in time, retried by a
/// daemon (`serve`, `--watch-hr`) per identity with back-off (30 s by default, doubling up to an
/// hour) until it is done, and said loudly each time it is not. Refusals (items that need a person,
/// such as a rotation only a secret's owner can do) are not retried: they wait for `--close`.
pub struct Retry {
    base: Duration,
    next: HashMap<String, (Instant, Duration)>,
}

impl Retry {
    /// Retries starting `[respond] retry_seconds` (default 30) apart.
    pub fn new(cfg: &RespondConfig) -> Retry {
        Retry {
            base: Duration::from_secs(cfg.retry_seconds.unwrap_or(30).max(1)),
            next: Default::default(),
        }
    }

    /// How often a daemon should call [`Retry::run`]: the first retry's wait, at most 30 s.
    pub fn tick(cfg: &RespondConfig) -> Duration {
        Duration::from_secs(cfg.retry_seconds.unwrap_or(30).clamp(1, 30))
    }

    fn retryable(journal: &Journal, identity: Option<&str>) -> Vec<Entry> {
        journal
            .open_items(identity)
            .into_iter()
            .filter(|e| matches!(e.phase, Phase::Open | Phase::Applied))
            .collect()
    }

    /// Offboard again (applying) everyone whose open work is due, each found by `lookup` (someone
    /// it no longer finds is retried by id alone), handing each run to `each`. True when any run
    /// needs a person.
    pub fn run(
        &mut self,
        lookup: &dyn Fn(&str) -> Result<Leaver, String>,
        cfg: &RespondConfig,
        journal: &mut Journal,
        each: &mut dyn FnMut(&Leaver, &Offboarded),
    ) -> bool {
        let due: BTreeSet<String> = Self::retryable(journal, None)
            .into_iter()
            .map(|e| e.action.identity)
            .collect();
        self.next.retain(|id, _| due.contains(id));
        let now = Instant::now();
        let mut attention = false;
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
            let leaver = lookup(&id).unwrap_or_else(|_| Leaver {
                identity: credwarden_model::Identity::leaver(
                    id.clone(),
                    credwarden_model::SourceRef::new(journal.path().display().to_string(), 0),
                ),
                credentials: vec![],
                readable: vec![],
            });
            match offboard_one(true, cfg, &leaver, journal) {
                Ok(done) => {
                    each(&leaver, &done);
                    attention |= done.needs_attention();
                }
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
                self.next.insert(id, (Instant::now() + wait, wait));
            }
        }
        attention
    }
}

/// What [`close`] did.
#[derive(Debug, Clone)]
pub enum Closed {
    /// The action was done already (in this phase): nothing recorded.
    AlreadyDone(Phase),
    /// Closed now.
    Closed(Action),
}

/// A person closes the open action `id` with their reason.
pub fn close(journal: &mut Journal, id: &str, why: &str) -> Result<Closed, String> {
    let state = journal.state();
    let e = state
        .get(id)
        .ok_or_else(|| format!("no action {id} in {}", journal.path().display()))?;
    if e.phase.is_done() {
        return Ok(Closed::AlreadyDone(e.phase));
    }
    journal
        .record(
            &e.action,
            Phase::Closed,
            &format!("closed by a person: {why}"),
        )
        .map_err(|e| e.to_string())?;
    Ok(Closed::Closed(e.action.clone()))
}

/// A new Ed25519 approver key: the private half written to `path` (mode 0600, never overwriting a
/// file), the public half (for `[respond.approvers]`) returned.
pub fn keygen(path: &Path) -> Result<String, String> {
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
    Ok(public)
}

/// The approval policy on the command line: a termination HR recorded is offboarded at once; anyone
/// else needs a request and a second person's signed approval, both by keys listed in
/// `[respond.approvers]`.
pub struct Approvals {
    approvers: BTreeMap<String, Vec<u8>>,
}

impl Approvals {
    /// The approvers `cfg` lists, checked.
    pub fn new(cfg: &RespondConfig) -> Result<Approvals, String> {
        Ok(Approvals {
            approvers: approval::parse_approvers(&cfg.approvers)?,
        })
    }

    /// The holder of the private key at `key`, if `[respond.approvers]` lists it.
    pub fn signer(&self, key: &Path) -> Result<Signer, String> {
        Signer::load(key, &self.approvers)
    }

    /// Ask, as the holder of `key`, for the offboarding of `identity`: the requester and the
    /// request action.
    pub fn request(
        &self,
        journal: &mut Journal,
        identity: &str,
        key: &Path,
        reason: &str,
    ) -> Result<(Principal, Action), String> {
        let by = self.signer(key)?.principal();
        let act = approval::request(journal, identity, &by, reason).map_err(|e| e.to_string())?;
        Ok((by, act))
    }

    /// Sign, as the holder of `key`, the approval of the open request for `identity`, written to
    /// `out`: the signer's name.
    pub fn sign(
        &self,
        journal: &Journal,
        identity: &str,
        key: &Path,
        out: &Path,
    ) -> Result<String, String> {
        let s = self.signer(key)?;
        let signed = s.approve(journal, identity)?;
        std::fs::write(
            out,
            serde_json::to_string_pretty(&signed).expect("serializable"),
        )
        .map_err(|e| format!("{}: {e}", out.display()))?;
        Ok(s.name)
    }

    /// Before revoking anything of `who`: someone HR has not recorded as gone needs an open
    /// request and a second person's signed approval (`approval`, a file from [`Approvals::sign`]),
    /// checked against the keys and the journal and then recorded. A termination passes as it is.
    pub fn before_apply(
        &self,
        journal: &mut Journal,
        who: &Leaver,
        approval: Option<&Path>,
    ) -> Result<(), String> {
        let id = &who.identity.id;
        if who.identity.is_departed(jiff::Zoned::now().date()) {
            return Ok(());
        }
        if approval::open_request(journal, id).is_none() {
            return Err(format!("{id} is not recorded as gone by HR: revoking needs an approval request (--request-approval --reason … --signing-key KEY) and a second person's signed approval"));
        }
        let Some(file) = approval else {
            return Err(format!(
                "{id} is not recorded as gone by HR: add --approval FILE (a second person's, from --sign-approval)"
            ));
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
        let signed: SignedApproval =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        if signed.identity != *id {
            return Err(format!(
                "{}: the approval is for {}, not {id}",
                file.display(),
                signed.identity,
            ));
        }
        let by = signed
            .verify(
                journal,
                &self.approvers,
                jiff::SignedDuration::from_hours(24),
            )
            .map_err(|e| format!("{}: {e}", file.display()))?;
        approval::approve(journal, id, &by)
    }
}

/// What a caller authenticated by a bearer token (`serve`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerCall {
    /// Asked for the offboarding: a second principal approves it.
    Requested,
    /// Approved the open request: the offboarding may run.
    Approved,
}

/// A request for the offboarding of `identity` by `principal` (authenticated by a bearer token),
/// with its `reason` — refused while one is open — or, without a reason, their approval of the
/// open request (never their own).
pub fn by_bearer(
    journal: &mut Journal,
    identity: &str,
    principal: &str,
    reason: Option<&str>,
) -> Result<BearerCall, String> {
    let by = Principal {
        name: principal.to_string(),
        how: "bearer token".into(),
        key: None,
    };
    match reason {
        Some(reason) => {
            if approval::open_request(journal, identity).is_some() {
                return Err(format!(
                    "an approval request for {identity} is already open"
                ));
            }
            approval::request(journal, identity, &by, reason).map_err(|e| e.to_string())?;
            Ok(BearerCall::Requested)
        }
        None => {
            approval::approve(journal, identity, &by)?;
            Ok(BearerCall::Approved)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaver(id: &str) -> Leaver {
        Leaver {
            identity: credwarden_model::Identity::leaver(
                id.to_string(),
                credwarden_model::SourceRef::new("hr.csv".to_string(), 1),
            ),
            credentials: vec![],
            readable: vec![],
        }
    }

    #[test]
    fn a_bearer_request_is_approved_only_by_another_principal() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
        assert_eq!(
            by_bearer(&mut j, "E1", "alice", Some("suspicion")).unwrap(),
            BearerCall::Requested
        );
        let e = by_bearer(&mut j, "E1", "bob", Some("again")).unwrap_err();
        assert!(e.contains("already open"), "{e}");
        let e = by_bearer(&mut j, "E1", "alice", None).unwrap_err();
        assert!(e.contains("a second person must approve it"), "{e}");
        assert_eq!(
            by_bearer(&mut j, "E1", "bob", None).unwrap(),
            BearerCall::Approved
        );
    }

    #[test]
    fn a_dry_run_with_nothing_configured_needs_nobody_and_close_records_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
        let done = offboard_one(false, &RespondConfig::default(), &leaver("E1"), &mut j).unwrap();
        assert!(!done.needs_attention() && done.report.lines.is_empty());
        assert!(close(&mut j, "nope", "why").is_err());
        let req = approval::request(
            &mut j,
            "E1",
            &Principal {
                name: "alice".into(),
                how: "test".into(),
                key: None,
            },
            "r",
        )
        .unwrap();
        assert!(
            matches!(close(&mut j, &req.id, "done by hand").unwrap(), Closed::Closed(a) if a.id == req.id)
        );
        assert!(matches!(
            close(&mut j, &req.id, "again").unwrap(),
            Closed::AlreadyDone(Phase::Closed)
        ));
    }

    #[test]
    fn someone_hr_has_not_let_go_needs_a_request_and_an_approval_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
        let approvals = Approvals::new(&RespondConfig::default()).unwrap();
        let who = leaver("E1");
        // `Identity::leaver` is departed (terminated, end date unknown): no approval needed.
        assert!(approvals.before_apply(&mut j, &who, None).is_ok());
        let mut active = who.clone();
        active.identity.status = credwarden_model::IdentityStatus::Active;
        let e = approvals.before_apply(&mut j, &active, None).unwrap_err();
        assert!(e.contains("needs an approval request"), "{e}");
    }
}
