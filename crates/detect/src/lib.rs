//! Detection over activity logs: sources are read into normalized [`Event`]s, put in event-time order,
//! and every [`Detector`] sees every event. One file per detector under [`detectors`], each with its
//! metadata and positive and negative sample events in its tests.
//!
//! The [`Engine`] merges files in event-time order with bounded memory and keeps a [`State`] (files
//! read, detector state, findings reported) that the caller persists to resume without double
//! counting.

/// `save` / `restore` for a detector whose whole value is its state (serde on the type).
macro_rules! whole_state {
    () => {
        fn save(&self) -> Option<serde_json::Value> {
            crate::save_json(self)
        }
        fn restore(&mut self, state: serde_json::Value) -> Result<(), String> {
            *self = crate::restore_json(state)?;
            Ok(())
        }
    };
}
pub(crate) use whole_state;

pub mod baseline;
pub mod detectors;
mod engine;
pub mod enrich;
pub mod incidents;
pub mod sources;

pub use engine::{run, Engine, FileMark, Options, RunStats, State, Tap, STATE_FORMAT};

use credwarden_model::{Event, Finding, RuleMeta, Subject};

/// A detector: sees events in time order, appends findings.
pub trait Detector {
    /// Metadata (id, severity, ATT&CK, D3FEND, false positives, recommendation).
    fn meta(&self) -> &'static RuleMeta;
    /// Look at one event.
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>);
    /// What this detector has learnt, to be saved between runs (`None`: it keeps nothing).
    fn save(&self) -> Option<serde_json::Value> {
        None
    }
    /// Take up what [`Detector::save`] gave in an earlier run.
    fn restore(&mut self, _state: serde_json::Value) -> Result<(), String> {
        Ok(())
    }
    /// The end of a run's input. With `sources_stopped` (a one-shot run: every source has been
    /// read to its end), a decision that waits for another source to catch up is taken now;
    /// otherwise (following, or resuming from a state later) it waits on, kept in the state.
    fn finish(&mut self, _sources_stopped: bool, _out: &mut Vec<Finding>) {}
}

/// A finding about the actor of `ev`, stamped at the event's time, with the event as evidence.
pub fn finding_for(meta: &'static RuleMeta, ev: &Event, message: String) -> Finding {
    let account = ev.detail.get("recipientAccountId").and_then(|v| v.as_str());
    let subject = Subject {
        credential_id: ev.credential_id.clone(),
        principal: ev.principal.clone(),
        system: account
            .map(|a| format!("aws:{a}"))
            .or_else(|| ev.resource.kind.clone()),
        ..Subject::default()
    };
    let mut f = Finding::new(meta, subject, message, ev.time);
    f.first_seen = Some(ev.time);
    f.last_seen = Some(ev.time);
    f.evidence = vec![ev.raw.clone()];
    if let Some(ip) = &ev.src.ip {
        f.observe("src_endpoint.ip", ip.clone());
    }
    if let Some(id) = &ev.event_id {
        f = f.fact("event_id", id.clone());
    }
    f
}

/// A detector's state as JSON, for [`Detector::save`].
pub(crate) fn save_json<T: serde::Serialize>(state: &T) -> Option<serde_json::Value> {
    serde_json::to_value(state).ok()
}

/// A detector's state back from JSON, for [`Detector::restore`].
pub(crate) fn restore_json<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// Every built-in detector that needs no HR data, fresh.
pub fn all() -> Vec<Box<dyn Detector>> {
    detectors::all()
}

/// Every built-in detector, with the identity-aware ones joining actors to `dir` and signing keys to
/// their readers through the inventory's `credentials`.
pub fn all_with_identities(
    dir: std::sync::Arc<credwarden_model::Directory>,
    credentials: &[credwarden_model::Credential],
) -> Vec<Box<dyn Detector>> {
    let mut v = detectors::all();
    v.extend(detectors::with_identities(dir, credentials));
    v
}
