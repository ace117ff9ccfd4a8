//! The group-commit writer thread.
//!
//! One dedicated OS thread owns the only write connection. It blocks for a
//! job, then keeps taking whatever else is already waiting (up to
//! [`MAX_GROUP_COMMIT`] jobs), runs each inside its own SAVEPOINT of a single
//! `BEGIN IMMEDIATE` transaction, commits once (one fsync for the whole
//! group) and only then answers every job. A job that fails is rolled back
//! to its savepoint alone; the others still commit.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{StoreError, StoreResult};

/// Most jobs committed in one transaction.
pub const MAX_GROUP_COMMIT: usize = 1024;

/// Counters shared between the writer thread and the store handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Transactions committed by the writer.
    pub commits: AtomicU64,
    /// Jobs run by the writer (answered after commit).
    pub jobs: AtomicU64,
    /// Jobs sent but not yet taken by the writer.
    pub queued: AtomicUsize,
    /// Checkpoints that completed (file databases only).
    pub checkpoints: AtomicU64,
    /// Checkpoints that restarted the WAL from its start.
    pub wal_restarts: AtomicU64,
}

/// A unit of work for the writer thread.
pub(crate) trait Job: Send {
    /// Runs the job's statements; returns whether they succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller once the group's commit outcome is known.
    fn finish(self: Box<Self>, commit: Result<(), &StoreError>);
}

/// A job built from a closure, answering through a oneshot channel.
pub(crate) struct FnJob<T, F> {
    f: Option<F>,
    out: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> FnJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    /// Wraps `f`; its result is sent on `reply` after commit.
    pub(crate) fn boxed(f: F, reply: oneshot::Sender<StoreResult<T>>) -> Box<dyn Job> {
        Box::new(FnJob {
            f: Some(f),
            out: None,
            reply,
        })
    }
}

impl<T, F> Job for FnJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let out = match self.f.take() {
            Some(f) => f(conn),
            None => Err(StoreError::Internal("job run twice".into())),
        };
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), &StoreError>) {
        let out = match (commit, self.out) {
            (Err(e), Some(Ok(_))) => Err(e.clone()),
            (_, Some(out)) => out,
            (Err(e), None) => Err(e.clone()),
            (Ok(()), None) => Err(StoreError::Internal("job never ran".into())),
        };
        // The caller may have gone away (cancelled future); nothing to do then.
        let _ = self.reply.send(out);
    }
}

fn sql_err(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

/// Body of the writer thread: runs until every sender is dropped. After each commit it
/// nudges the checkpointer (`checkpoint`), if there is one, without ever waiting for it.
///
/// Each group runs holding `gate`, which the checkpointer takes only to restart the WAL
/// between two groups (see `checkpoint`); jobs arriving meanwhile wait in the queue and
/// join the next group.
pub(crate) fn run(
    conn: Connection,
    rx: Receiver<Box<dyn Job>>,
    counters: Arc<Counters>,
    checkpoint: Option<SyncSender<()>>,
    gate: Arc<Mutex<()>>,
) {
    while let Ok(first) = rx.recv() {
        counters.queued.fetch_sub(1, Ordering::Relaxed);
        let mut group: Vec<Box<dyn Job>> = Vec::new();
        // A poisoned gate only means the checkpointer panicked; the data is `()`.
        let held = gate.lock().unwrap_or_else(|p| p.into_inner());
        let outcome = run_group(&conn, first, &rx, &counters, &mut group);
        drop(held);
        if outcome.is_ok() {
            counters.commits.fetch_add(1, Ordering::Relaxed);
            if let Some(nudge) = &checkpoint {
                // Full means a nudge is already waiting; that one covers this commit too.
                let _ = nudge.try_send(());
            }
        } else {
            // Best effort: the transaction may already be gone.
            let _ = conn.execute_batch("ROLLBACK");
        }
        counters
            .jobs
            .fetch_add(group.len() as u64, Ordering::Relaxed);
        if let Err(e) = &outcome {
            tracing::error!(error = %e, jobs = group.len(), "store group commit failed");
        }
        for job in group {
            job.finish(outcome.as_ref().map(|_| ()));
        }
    }
    tracing::debug!("store writer thread exiting");
}

/// Runs `first` and every job already waiting in one transaction and commits.
fn run_group(
    conn: &Connection,
    first: Box<dyn Job>,
    rx: &Receiver<Box<dyn Job>>,
    counters: &Counters,
    group: &mut Vec<Box<dyn Job>>,
) -> StoreResult<()> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_err) {
        group.push(first);
        return Err(e);
    }
    let mut next = Some(first);
    while let Some(mut job) = next.take() {
        let ran = run_one(conn, job.as_mut());
        group.push(job);
        ran?;
        if group.len() < MAX_GROUP_COMMIT {
            if let Ok(job) = rx.try_recv() {
                counters.queued.fetch_sub(1, Ordering::Relaxed);
                next = Some(job);
            }
        }
    }
    conn.execute_batch("COMMIT").map_err(sql_err)
}

/// Runs one job inside a savepoint, undoing only its work if it fails.
///
/// Errors only when the savepoint machinery itself fails, which aborts the group.
fn run_one(conn: &Connection, job: &mut dyn Job) -> StoreResult<()> {
    conn.execute_batch("SAVEPOINT job").map_err(sql_err)?;
    if job.run(conn) {
        conn.execute_batch("RELEASE job").map_err(sql_err)
    } else {
        conn.execute_batch("ROLLBACK TO job; RELEASE job")
            .map_err(sql_err)
    }
}

/// Sends a job to the writer, counting it as queued.
pub(crate) fn submit(
    tx: &Sender<Box<dyn Job>>,
    counters: &Counters,
    job: Box<dyn Job>,
) -> StoreResult<()> {
    counters.queued.fetch_add(1, Ordering::Relaxed);
    tx.send(job).map_err(|_| {
        counters.queued.fetch_sub(1, Ordering::Relaxed);
        StoreError::Closed
    })
}
