//! The WAL checkpointer thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that pushes the WAL past 1,000 pages,
//! on the committing connection: here that is the group-commit writer, so every few groups
//! one of them copied megabytes of pages into the database file and fsynced it before its
//! callers were answered (the acknowledgement latency tail). The writer turns the automatic
//! checkpoint off and nudges this thread after each commit; the thread, on its own
//! connection, runs a `PASSIVE` checkpoint (it never blocks the writer or a reader) at most
//! once per [`CHECKPOINT_EVERY`] while commits keep coming. Fewer, larger checkpoints copy a
//! page rewritten by many groups once, and keep their fsyncs away from the writer's: at 100 ms
//! the half-load p99 of `toss-bench ingest` was 9.7–11.8 ms, at 1 s 5.7–6.5 ms.
//!
//! The WAL only starts over when the writer begins a transaction with every frame copied
//! and no reader on the WAL. Under steady load that never happens: the writer commits new
//! frames while each passive checkpoint runs, so the WAL grew by ~17,000 pages a second at
//! half load (`toss-bench ingest`). Once it holds more than [`WAL_RESTART_FRAMES`] the thread
//! therefore restarts it: it takes the writer's gate (waiting at most for the group being
//! committed), runs a `RESTART` checkpoint, which copies only the frames the passive one
//! left and waits for readers still on the WAL (polled every [`READER_POLL`]), and releases
//! the gate; the writer's next transaction writes from the start of the WAL again. The
//! writer is held back for that one checkpoint and resumes the moment the gate opens. (A
//! `RESTART` without the gate takes SQLite's write lock itself: the writer, finding it
//! busy, sleeps through SQLite's back-off steps of 1, 2, 5, 10, 15, 20 ms…)
//!
//! That hold is what remains of the acknowledgement tail: measured in `toss-bench ingest`,
//! a restart takes 7–21 ms, and one that falls inside the 2-second half-load window delays
//! ~250 acknowledgements past 10 ms (up to ~40 ms, the queue built meanwhile draining),
//! which is that window's p99.
//!
//! Durability is unchanged: a commit is durable once its WAL frames are fsynced
//! (`synchronous=FULL`), whether or not they were checkpointed yet. If the process dies
//! between checkpoints, the next open replays the WAL as usual.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, MAIN_DB};

use super::writer::Counters;

/// Shortest gap between two checkpoints.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(1000);

/// WAL size in frames (pages) above which the log is restarted: 65,536 pages of 4 KiB,
/// 256 MiB, every ~4 s at half load in `toss-bench ingest`. A restart holds the writer for
/// one checkpoint of the frames the passive one left (7–21 ms measured there); a limit of
/// 1 GiB made them four times rarer but did not bring the half-load p99 under 10 ms in
/// every run either (7.5–11.5 ms: the passive checkpoints' fsyncs remain), for a WAL file
/// of that size on disk.
pub(crate) const WAL_RESTART_FRAMES: i32 = 65_536;

/// When the checkpointer runs and when it restarts the WAL.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WalPolicy {
    /// Shortest gap between two checkpoints.
    pub every: Duration,
    /// WAL size in frames above which the log is restarted.
    pub restart_frames: i32,
}

impl Default for WalPolicy {
    fn default() -> Self {
        WalPolicy {
            every: CHECKPOINT_EVERY,
            restart_frames: WAL_RESTART_FRAMES,
        }
    }
}

/// How often a restarting checkpoint looks again for readers still on the WAL.
pub(crate) const READER_POLL: Duration = Duration::from_micros(200);

/// Longest a restarting checkpoint waits for readers, holding the writer's gate, before
/// it gives up (the next one tries again). Readers take microseconds; one slower than
/// this (an operator's `sqlite3` shell inside a transaction, a backup) then costs the
/// writer this much once per checkpoint instead of stalling it for as long as it reads.
const READER_WAIT: Duration = Duration::from_millis(100);

/// Opens the checkpointer's connection on `path`.
pub(crate) fn open(path: &PathBuf) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    // Only a restarting checkpoint waits (for readers, which take microseconds): poll
    // finely instead of SQLite's millisecond back-off.
    conn.busy_handler(Some(|tries: i32| {
        std::thread::sleep(READER_POLL);
        READER_POLL.saturating_mul(tries.max(0).unsigned_abs()) < READER_WAIT
    }))?;
    // The checkpoint fsyncs the WAL before it copies and the database after, as the
    // automatic one did.
    conn.execute_batch("PRAGMA synchronous = FULL;")?;
    Ok(conn)
}

/// Body of the checkpointer thread: runs until the writer drops its end of `nudges`, then
/// makes one last checkpoint. `gate` is the writer's: held, no group is being written.
pub(crate) fn run(
    conn: Connection,
    nudges: Receiver<()>,
    gate: Arc<Mutex<()>>,
    policy: WalPolicy,
    counters: Arc<Counters>,
) {
    let counted = |mode| {
        let log = checkpoint(&conn, mode)?;
        counters.checkpoints.fetch_add(1, Ordering::Relaxed);
        Some(log)
    };
    let mut last = Instant::now();
    loop {
        if nudges.recv().is_err() {
            break;
        }
        // Let more commits pile up until the gap has passed (or the writer goes away).
        let wait = policy.every.saturating_sub(last.elapsed());
        if !wait.is_zero() {
            let until = Instant::now() + wait;
            loop {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match nudges.recv_timeout(left) {
                    Ok(()) => continue,
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        if let Some(log) = counted(CheckpointMode::PASSIVE) {
            if log > policy.restart_frames {
                // A poisoned gate only means the writer panicked; the data is `()`.
                let held = gate.lock().unwrap_or_else(|p| p.into_inner());
                let restarted = counted(CheckpointMode::RESTART).is_some();
                drop(held);
                if restarted {
                    counters.wal_restarts.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        last = Instant::now();
    }
    counted(CheckpointMode::PASSIVE);
    tracing::debug!("store checkpointer thread exiting");
}

/// Runs one checkpoint; returns the WAL's size in frames when it succeeded.
fn checkpoint(conn: &Connection, mode: CheckpointMode) -> Option<i32> {
    let kind = match mode {
        CheckpointMode::RESTART => "restart",
        _ => "passive",
    };
    let started = Instant::now();
    match conn.wal_checkpoint_v2(Some(MAIN_DB), mode) {
        Ok((log, done)) => {
            let ms = started.elapsed().as_secs_f64() * 1e3;
            tracing::debug!(kind, log, done, ms, "wal checkpoint");
            Some(log)
        }
        // A failed checkpoint loses nothing (the frames stay in the WAL); the next try
        // picks them up.
        Err(e) => {
            tracing::warn!(error = %e, kind, "wal checkpoint failed");
            None
        }
    }
}
