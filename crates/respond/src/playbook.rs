//! The offboarding playbook: plan from every connector's live listing plus the journal's open items,
//! and account for every credential and readable secret of the leaver (one no connector covers is an
//! open item); print; with `apply`, always do each action (retrying what waiting may fix) — a
//! pre-check skips it only on the system's own authoritative word — then verify it by trying the old
//! credential (retrying while changes propagate), classify the answer (refused, gone, notified;
//! alive or ambiguous stay open) and report time-to-dead per credential. Whatever
//! cannot complete — a system down, a refusal, a secret only its owner can rotate — stays open in the
//! journal, and the next run picks it up. Running twice changes nothing the second time: the live
//! listings no longer show what was revoked, and verified actions are not redone.

use crate::journal::{Journal, Phase};
use crate::{Action, ActionKind, Connector, Leaver, Proof, RespondError, Strength, Verdict};
use credwarden_model::Credential;
use std::time::{Duration, Instant};

/// How hard to try.
#[derive(Debug, Clone)]
pub struct Options {
    /// Change things (otherwise plan only).
    pub apply: bool,
    /// Attempts for an apply that fails in a way waiting may fix.
    pub retries: u32,
    /// First wait between attempts (doubles).
    pub backoff: Duration,
    /// How long to keep verifying while a revocation propagates.
    pub verify_for: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            apply: false,
            retries: 3,
            backoff: Duration::from_millis(200),
            verify_for: Duration::from_secs(10),
        }
    }
}

/// What happened to one action.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Dry run: would be done.
    Planned,
    /// Done and shown to hold with this strength, this long after the run started.
    Done {
        /// Time from the start of the run to the proof.
        after: Duration,
        /// The proof.
        how: String,
        /// How strong it is.
        strength: Strength,
    },
    /// Done in an earlier run (verified with this strength, or closed by a person: `None`).
    AlreadyDone(Option<Strength>),
    /// Open: not done, or not proven (why).
    Open(String),
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Line {
    /// The action.
    pub action: Action,
    /// What happened.
    pub outcome: Outcome,
}

/// The run's report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per action.
    pub lines: Vec<Line>,
    /// Connectors that could not even list (their work is unknown: open).
    pub unreachable: Vec<String>,
}

impl Report {
    /// Anything left open?
    pub fn open(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.outcome, Outcome::Open(_)))
            .count()
            + self.unreachable.len()
    }

    /// Actions done with this strength of proof (this run or an earlier one).
    pub fn count(&self, s: Strength) -> usize {
        self.lines
            .iter()
            .filter(|l| match &l.outcome {
                Outcome::Done { strength, .. } => *strength == s,
                Outcome::AlreadyDone(Some(x)) => *x == s,
                _ => false,
            })
            .count()
    }

    /// Credentials or secrets of the leaver no connector handles.
    pub fn uncovered(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| {
                l.action.kind == ActionKind::Uncovered
                    && !matches!(l.outcome, Outcome::AlreadyDone(_))
            })
            .count()
    }

    /// One line: "8 refused, 1 gone, 2 notified, 0 open".
    pub fn summary(&self) -> String {
        let planned = self
            .lines
            .iter()
            .filter(|l| l.outcome == Outcome::Planned)
            .count();
        let closed = self
            .lines
            .iter()
            .filter(|l| l.outcome == Outcome::AlreadyDone(None))
            .count();
        let mut s = format!(
            "{} refused, {} gone, {} notified, {} open",
            self.count(Strength::Refused),
            self.count(Strength::Gone),
            self.count(Strength::Notified),
            self.open()
        );
        if closed > 0 {
            s.push_str(&format!(", {closed} closed by a person"));
        }
        if planned > 0 {
            s.push_str(&format!(", {planned} planned"));
        }
        s
    }
}

fn with_retries<T>(
    opts: &Options,
    mut f: impl FnMut() -> Result<T, RespondError>,
) -> Result<T, RespondError> {
    let mut wait = opts.backoff;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match f() {
            Err(RespondError::Unavailable { .. }) if attempt <= opts.retries => {
                std::thread::sleep(wait);
                wait *= 2;
            }
            other => return other,
        }
    }
}

/// The open item for a credential or secret of the leaver that no connector handles.
fn uncovered(c: &Credential, identity: &str) -> Action {
    Action::new(
        "coverage",
        ActionKind::Uncovered,
        &format!("{}/{}", c.system, c.id),
        identity,
        format!("no connector for {} on {} ({})", c.kind, c.system, c.id),
    )
}

/// Offboard `who` through `connectors`, journaling everything. Every credential and readable secret
/// of the leaver is accounted for: handled by a connector that covers it, or an open item naming
/// what is missing.
pub fn offboard(
    who: &Leaver,
    connectors: &mut [Box<dyn Connector>],
    journal: &mut Journal,
    opts: &Options,
) -> Result<Report, RespondError> {
    let start = Instant::now();
    let id = who.identity.id.clone();
    let mut report = Report::default();
    let state = journal.state();
    for c in connectors.iter_mut() {
        let name = c.name();
        let mut plan = match with_retries(opts, || c.plan(who)) {
            Ok(p) => p,
            Err(e) => {
                // Cannot list: the open items of this connector stay open; the system itself is one.
                let a = Action::new(
                    &name,
                    ActionKind::Notify,
                    "(listing)",
                    &id,
                    "the system could not be listed",
                );
                journal.record(&a, Phase::Open, &e.to_string())?;
                report.unreachable.push(e.to_string());
                continue;
            }
        };
        // Open items from earlier runs that the live listing no longer shows still need their proof.
        for e in journal.open_items(Some(&id)) {
            if e.action.connector == name
                && !plan.iter().any(|a| a.id == e.action.id)
                && e.action.target != "(listing)"
            {
                plan.push(e.action.clone());
            }
        }
        // The system answered: a listing failure recorded earlier is over.
        let listing = Action::new(
            &name,
            ActionKind::Notify,
            "(listing)",
            &id,
            "the system could not be listed",
        );
        if state.get(&listing.id).is_some_and(|e| !e.phase.is_done()) {
            journal.record(&listing, Phase::Closed, "the system answers again")?;
        }
        for a in plan {
            if let Some(done) = state.get(&a.id).filter(|e| e.phase.is_done()) {
                if matches!(
                    a.kind,
                    ActionKind::RotateSecret
                        | ActionKind::Notify
                        | ActionKind::Signal
                        | ActionKind::RevokeSubject
                        | ActionKind::RevokeToken
                ) {
                    report.lines.push(Line {
                        action: a,
                        outcome: Outcome::AlreadyDone(done.strength),
                    });
                    continue;
                }
                // A credential listed again although verified dead before: it came back (or was
                // recreated). Redo it.
                journal.record(
                    &a,
                    Phase::Planned,
                    "listed again after an earlier verification",
                )?;
            }
            if !opts.apply {
                journal.record(&a, Phase::Planned, "dry run")?;
                report.lines.push(Line {
                    action: a,
                    outcome: Outcome::Planned,
                });
                continue;
            }
            let outcome = run_one(c.as_mut(), &a, journal, opts, start)?;
            report.lines.push(Line { action: a, outcome });
        }
    }
    // Coverage: what the estate ties to the leaver and no connector takes charge of.
    let mut seen = std::collections::HashSet::new();
    for cred in who.credentials.iter().chain(&who.readable) {
        if !seen.insert((cred.system.as_str(), cred.id.as_str())) {
            continue;
        }
        if connectors.iter().any(|c| c.covers(cred)) {
            continue;
        }
        let a = uncovered(cred, &id);
        if let Some(done) = state.get(&a.id).filter(|e| e.phase.is_done()) {
            report.lines.push(Line {
                action: a,
                outcome: Outcome::AlreadyDone(done.strength),
            });
            continue;
        }
        let why = format!(
            "{}: configure a connector for it or close it with a reason",
            a.note
        );
        if opts.apply {
            journal.record(&a, Phase::Open, &why)?;
        } else {
            journal.record(&a, Phase::Planned, "dry run: no connector")?;
        }
        report.lines.push(Line {
            action: a,
            outcome: Outcome::Open(why),
        });
    }
    Ok(report)
}

/// When `p` proves `a` done: journaled with its strength, as the outcome.
fn proven(
    journal: &mut Journal,
    a: &Action,
    p: &Proof,
    start: Instant,
) -> Result<Option<Outcome>, RespondError> {
    let Some(strength) = p.strength() else {
        return Ok(None);
    };
    journal.record_proof(a, strength, &p.how)?;
    Ok(Some(Outcome::Done {
        after: start.elapsed(),
        how: p.how.clone(),
        strength,
    }))
}

fn run_one(
    c: &mut dyn Connector,
    a: &Action,
    journal: &mut Journal,
    opts: &Options,
    start: Instant,
) -> Result<Outcome, RespondError> {
    // Skip the change only on the system's own authoritative word that it is already done; an
    // ambiguous answer never skips it (the revocation is always applied otherwise).
    if let Some(p) = c.already_done(a) {
        if let Some(done) = proven(journal, a, &p, start)? {
            return Ok(done);
        }
    }
    match with_retries(opts, || c.apply(a)) {
        Ok(detail) => journal.record(a, Phase::Applied, &detail)?,
        Err(e) => {
            let phase = if matches!(e, RespondError::Refused { .. }) {
                Phase::Failed
            } else {
                Phase::Open
            };
            journal.record(a, phase, &e.to_string())?;
            return Ok(Outcome::Open(e.to_string()));
        }
    }
    let until = Instant::now() + opts.verify_for;
    let mut wait = opts.backoff;
    loop {
        let p = c
            .verify(a)
            .unwrap_or_else(|e| Proof::ambiguous(format!("no answer to the proof: {e}")));
        if let Some(done) = proven(journal, a, &p, start)? {
            return Ok(done);
        }
        if Instant::now() >= until {
            let why = match p.verdict {
                Verdict::Alive => format!("applied, but still alive: {}", p.how),
                _ => format!("applied, not proven (ambiguous answer): {}", p.how),
            };
            journal.record(a, Phase::Open, &why)?;
            return Ok(Outcome::Open(why));
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}
