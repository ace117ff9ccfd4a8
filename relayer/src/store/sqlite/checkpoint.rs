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
//! A passive checkpoint stops at the oldest frame a reader still uses, and the WAL only
//! starts over when the writer finds everything copied and no reader on it; with readers
//! always busy it could grow without bound. Once the WAL holds more than
//! [`WAL_RESTART_FRAMES`] the thread therefore runs a `RESTART` checkpoint, which waits (up
//! to the busy timeout) for those readers and briefly holds the writer back.
//!
//! Durability is unchanged: a commit is durable once its WAL frames are fsynced
//! (`synchronous=FULL`), whether or not they were checkpointed yet. If the process dies
//! between checkpoints, the next open replays the WAL as usual.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, MAIN_DB};

/// Shortest gap between two checkpoints.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(1000);

/// WAL size in frames (pages) above which a checkpoint also restarts the log: 65,536 pages
/// of 4 KiB, 256 MiB.
pub(crate) const WAL_RESTART_FRAMES: i32 = 65_536;

/// Opens the checkpointer's connection on `path`.
pub(crate) fn open(path: &PathBuf) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // The checkpoint fsyncs the WAL before it copies and the database after, as the
    // automatic one did.
    conn.execute_batch("PRAGMA synchronous = FULL;")?;
    Ok(conn)
}

/// Body of the checkpointer thread: runs until the writer drops its end of `nudges`, then
/// makes one last checkpoint.
pub(crate) fn run(conn: Connection, nudges: Receiver<()>) {
    let mut last = Instant::now();
    loop {
        if nudges.recv().is_err() {
            break;
        }
        // Let more commits pile up until the gap has passed (or the writer goes away).
        let wait = CHECKPOINT_EVERY.saturating_sub(last.elapsed());
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
        checkpoint(&conn, CheckpointMode::PASSIVE);
        last = Instant::now();
    }
    checkpoint(&conn, CheckpointMode::PASSIVE);
    tracing::debug!("store checkpointer thread exiting");
}

fn checkpoint(conn: &Connection, mode: CheckpointMode) {
    match conn.wal_checkpoint_v2(Some(MAIN_DB), mode) {
        Ok((log, done)) => {
            tracing::trace!(log, done, "wal checkpoint");
            if matches!(mode, CheckpointMode::PASSIVE) && log > WAL_RESTART_FRAMES {
                tracing::info!(log, done, "wal kept growing behind readers; restarting it");
                checkpoint(conn, CheckpointMode::RESTART);
            }
        }
        // A failed checkpoint loses nothing (the frames stay in the WAL); the next try
        // picks them up.
        Err(e) => tracing::warn!(error = %e, "wal checkpoint failed"),
    }
}
