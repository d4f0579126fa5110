//! [`Spool`]: appends events to an [`Archive`] on a thread of its own, so turning them into rows and
//! encoding Parquet never stalls the thread that runs the detectors. Events arrive by value (the
//! detectors are done with them), travel in batches through a bounded channel (memory stays
//! bounded: a full channel makes the producer wait), and [`Spool::drain`] is the barrier before a
//! seal: every event pushed so far is in the archive, or the first error is returned.

use super::Archive;
use crate::StoreError;
use credwarden_model::Event;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Events per batch sent to the writer thread.
const BATCH: usize = 1024;
/// Batches in flight before the producer waits.
const IN_FLIGHT: usize = 8;

// Boxes as the engine hands them over: moving a pointer, not the event.
#[allow(clippy::vec_box)]
enum Msg {
    Events(Vec<Box<Event>>),
    Barrier(SyncSender<()>),
}

/// An archive written on a background thread. Drop it (or call [`Spool::drain`]) to finish writing.
#[allow(clippy::vec_box)]
pub struct Spool {
    batch: Vec<Box<Event>>,
    tx: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<()>>,
    archive: Arc<Mutex<Archive>>,
    error: Arc<Mutex<Option<StoreError>>>,
}

impl Spool {
    /// Start the writer thread for `archive`.
    pub fn new(archive: Archive) -> Spool {
        let archive = Arc::new(Mutex::new(archive));
        let error: Arc<Mutex<Option<StoreError>>> = Arc::default();
        let (tx, rx) = sync_channel::<Msg>(IN_FLIGHT);
        let (ar, err) = (archive.clone(), error.clone());
        let thread = std::thread::Builder::new()
            .name("archive".into())
            .spawn(move || write(rx, &ar, &err))
            .expect("a thread starts");
        Spool {
            batch: Vec::with_capacity(BATCH),
            tx: Some(tx),
            thread: Some(thread),
            archive,
            error,
        }
    }

    /// Queue one event (written in the background, in the order pushed).
    pub fn push(&mut self, e: Box<Event>) {
        self.batch.push(e);
        if self.batch.len() >= BATCH {
            self.send_batch();
        }
    }

    fn send_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(tx) = &self.tx {
            // The writer only hangs up when it panicked: `drain` reports that.
            let _ = tx.send(Msg::Events(full));
        }
    }

    /// Wait until every event pushed so far is appended; the first append error since the last
    /// drain, if any (events after a failed append are not archived).
    pub fn drain(&mut self) -> Result<(), StoreError> {
        self.send_batch();
        let (ack_tx, ack_rx) = sync_channel(1);
        let alive = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Msg::Barrier(ack_tx)).is_ok());
        if !alive || ack_rx.recv().is_err() {
            return Err(StoreError::Archive {
                file: self.archive().dir().display().to_string(),
                reason: "the archive writer thread stopped".into(),
            });
        }
        match self.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The end of a detect pass, first phase: every event pushed so far appended, the pass's
    /// findings (OCSF JSON lines, `count` of them) kept, every open part sealed; returns the
    /// manifest lines for [`Archive::commit`] (see [`Archive::seal_parts`]).
    pub fn seal_pass(
        &mut self,
        findings_jsonl: &[u8],
        count: u64,
    ) -> Result<Vec<super::ManifestEntry>, StoreError> {
        self.drain()?;
        let mut ar = self.archive();
        ar.add_findings(findings_jsonl, count)?;
        ar.seal_parts()
    }

    /// The archive, to seal or commit it (call [`Spool::drain`] first, or rows still in flight
    /// land in the next part).
    pub fn archive(&self) -> MutexGuard<'_, Archive> {
        self.archive.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A spool shared between the detect loop (which seals it after each pass) and a tap that pushes
/// every event it is handed (an engine's `Tap`).
pub fn shared(archive: Archive) -> (Arc<Mutex<Spool>>, impl FnMut(Box<Event>) + 'static) {
    let spool = Arc::new(Mutex::new(Spool::new(archive)));
    let tap = spool.clone();
    (spool, move |e| {
        tap.lock().unwrap_or_else(|p| p.into_inner()).push(e)
    })
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.send_batch();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write(rx: Receiver<Msg>, archive: &Mutex<Archive>, error: &Mutex<Option<StoreError>>) {
    for msg in rx {
        match msg {
            Msg::Events(events) => {
                let mut err = error.lock().unwrap_or_else(|p| p.into_inner());
                if err.is_some() {
                    continue;
                }
                let mut ar = archive.lock().unwrap_or_else(|p| p.into_inner());
                for e in &events {
                    if let Err(x) = ar.append(e) {
                        *err = Some(x);
                        break;
                    }
                }
                drop(ar);
                drop(err);
                // Free the events here, off the producer's thread.
                drop(events);
            }
            Msg::Barrier(ack) => {
                let _ = ack.send(());
            }
        }
    }
}
