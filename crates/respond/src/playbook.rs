//! The offboarding playbook: plan from every connector's live listing plus the journal's open items;
//! print; with `apply`, do each action (retrying what waiting may fix), then verify it by trying the
//! old credential (retrying while changes propagate), and report time-to-dead per credential. Whatever
//! cannot complete — a system down, a refusal, a secret only its owner can rotate — stays open in the
//! journal, and the next run picks it up. Running twice changes nothing the second time: the live
//! listings no longer show what was revoked, and verified actions are not redone.

use crate::journal::{Journal, Phase};
use crate::{Action, Connector, Leaver, RespondError};
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
    /// Done and shown to hold, this long after the run started.
    Dead {
        /// Time from the start of the run to the proof.
        after: Duration,
        /// The proof.
        how: String,
    },
    /// Verified in an earlier run.
    AlreadyDone,
    /// Open: not done (why).
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

/// Offboard `who` through `connectors`, journaling everything.
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
                    crate::ActionKind::Notify,
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
            crate::ActionKind::Notify,
            "(listing)",
            &id,
            "the system could not be listed",
        );
        if state.get(&listing.id).is_some_and(|e| !e.phase.is_done()) {
            journal.record(&listing, Phase::Closed, "the system answers again")?;
        }
        for a in plan {
            if state.get(&a.id).is_some_and(|e| e.phase.is_done()) {
                if matches!(
                    a.kind,
                    crate::ActionKind::RotateSecret
                        | crate::ActionKind::Notify
                        | crate::ActionKind::Signal
                        | crate::ActionKind::RevokeSubject
                ) {
                    report.lines.push(Line {
                        action: a,
                        outcome: Outcome::AlreadyDone,
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
    Ok(report)
}

fn run_one(
    c: &mut dyn Connector,
    a: &Action,
    journal: &mut Journal,
    opts: &Options,
    start: Instant,
) -> Result<Outcome, RespondError> {
    // Maybe it is already dead (applied earlier, verification pending): prove before redoing.
    if let Ok(p) = c.verify(a) {
        if p.dead {
            journal.record(a, Phase::Verified, &p.how)?;
            return Ok(Outcome::Dead {
                after: start.elapsed(),
                how: p.how,
            });
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
        match c.verify(a) {
            Ok(p) if p.dead => {
                journal.record(a, Phase::Verified, &p.how)?;
                return Ok(Outcome::Dead {
                    after: start.elapsed(),
                    how: p.how,
                });
            }
            Ok(p) if Instant::now() >= until => {
                let why = format!("applied, but still alive: {}", p.how);
                journal.record(a, Phase::Open, &why)?;
                return Ok(Outcome::Open(why));
            }
            Err(e) if Instant::now() >= until => {
                let why = format!("applied, not verified: {e}");
                journal.record(a, Phase::Open, &why)?;
                return Ok(Outcome::Open(why));
            }
            _ => {
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}
