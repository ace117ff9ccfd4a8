//! SQLite implementation of [`Store`].
//!
//! * WAL journal, `synchronous=FULL` (a commit is on disk, even across power
//!   loss, before any caller is answered), `busy_timeout`, foreign keys on.
//! * Writes go to one writer thread that group-commits (see `writer`).
//! * WAL checkpoints run on their own thread, never inside a commit (see `checkpoint`).
//! * Reads use a small pool of separate connections on tokio's blocking
//!   threads, so they never wait for the writer and never block the runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::{
    Actor, AuditRow, BatchRecord, BatchState, InsertOutcome, InstanceHold, IntentId, IntentRecord,
    Lease, NewIntent, Status, Store, StoreError, StoreResult, Transition,
};

mod checkpoint;
mod reads;
mod rows;
mod writer;
mod writes;

#[cfg(test)]
pub(crate) use checkpoint::WalPolicy;
pub use writer::MAX_GROUP_COMMIT;

/// How long a connection waits on a lock before reporting `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle read connections kept open for reuse. Reads run on tokio's blocking pool, so bursts
/// (status queries, intake, batcher, sweeper) use many at once; opening one costs a file
/// open, its pragmas and a memory map, so enough are kept for a busy relayer.
const MAX_IDLE_READERS: usize = 32;

/// Current unix time in milliseconds (0 if the clock is before 1970).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Write-path counters, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    /// Transactions committed by the writer thread.
    pub commits: u64,
    /// Write requests answered (each one belongs to exactly one commit attempt).
    pub write_jobs: u64,
    /// Write requests waiting for the writer right now.
    pub queued: usize,
    /// WAL checkpoints completed (a file database's checkpointer thread).
    pub wal_checkpoints: u64,
    /// Checkpoints that restarted the WAL from its start (see `checkpoint`).
    pub wal_restarts: u64,
}

/// Where connections are opened.
#[derive(Debug, Clone)]
enum Target {
    /// A database file (WAL mode).
    File(PathBuf),
    /// A named in-memory database shared by this store's connections.
    Memory(String),
}

/// Page cache (64 MiB) and memory-mapped reads (256 MiB) per connection: intent ids are
/// random, so index lookups touch pages all over the file; without these every miss is a
/// `pread` into SQLite's default 2 MiB cache.
const CACHE_PRAGMAS: &str = "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;";

/// Turns on SQLite's query planner stability guarantee: a cached statement keeps its plan
/// whatever is bound to it. Without it, this build (STAT4 enabled) marks statements with
/// bound key parameters for re-preparation on every bind, and the profile of a bulk intake
/// showed 37 % of all CPU in `sqlite3Reprepare` under the idempotency lookup.
fn stable_plans(conn: &Connection) -> StoreResult<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Pool of read-only connections.
struct ReadPool {
    target: Target,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    fn open_reader(&self) -> StoreResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match &self.target {
            Target::File(p) => Connection::open_with_flags(p, flags)?,
            Target::Memory(uri) => Connection::open_with_flags(uri, flags)?,
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        stable_plans(&conn)?;
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA query_only = ON; {CACHE_PRAGMAS}"
        ))?;
        Ok(conn)
    }

    /// Runs `f` on an idle (or new) reader and returns the reader to the pool.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let out = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}

/// [`Store`] backed by SQLite with a group-committing writer thread.
///
/// Dropping it stops the writer after it has answered every queued write.
pub struct SqliteStore {
    tx: Option<Sender<Box<dyn writer::Job>>>,
    writer: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<()>>,
    readers: Arc<ReadPool>,
    counters: Arc<writer::Counters>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("target", &self.readers.target)
            .field("stats", &self.stats())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed, with parent folders) the database at `path`
    /// and applies pending migrations.
    ///
    /// Blocking: call it before serving or inside `spawn_blocking`.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_with(path, checkpoint::WalPolicy::default())
    }

    /// [`SqliteStore::open`] with its own checkpoint policy (tests).
    pub(crate) fn open_with(
        path: impl AsRef<Path>,
        policy: checkpoint::WalPolicy,
    ) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Io(format!("creating {}: {e}", parent.display())))?;
        }
        let conn = Connection::open(&path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite(format!(
                "could not enable WAL journal mode on {} (got {mode})",
                path.display()
            )));
        }
        Self::start(conn, Target::File(path), policy)
    }

    /// Opens a fresh in-memory database (for tests and local experiments).
    ///
    /// Nothing survives dropping the store.
    pub fn open_in_memory() -> StoreResult<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let uri = format!("file:/toss-store-{}-{n}?vfs=memdb", std::process::id());
        let conn = Connection::open_with_flags(&uri, OpenFlags::default())?;
        Self::start(conn, Target::Memory(uri), checkpoint::WalPolicy::default())
    }

    fn start(
        mut conn: Connection,
        target: Target,
        policy: checkpoint::WalPolicy,
    ) -> StoreResult<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        stable_plans(&conn)?;
        conn.execute_batch(&format!(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; {CACHE_PRAGMAS}"
        ))?;
        super::schema::migrate(&mut conn)?;
        // A file database checkpoints on its own thread, not inside the writer's commits
        // (see `checkpoint`); an in-memory one has no WAL.
        let gate = Arc::new(Mutex::new(()));
        let counters = Arc::new(writer::Counters::default());
        let (nudge, checkpointer) = match &target {
            Target::File(path) => {
                conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
                let ckpt_conn = checkpoint::open(path)?;
                let (nudge, nudges) = mpsc::sync_channel(1);
                let (ckpt_gate, ckpt_counters) = (Arc::clone(&gate), Arc::clone(&counters));
                let handle = std::thread::Builder::new()
                    .name("toss-store-checkpoint".into())
                    .spawn(move || {
                        checkpoint::run(ckpt_conn, nudges, ckpt_gate, policy, ckpt_counters)
                    })
                    .map_err(|e| {
                        StoreError::Io(format!("spawning store checkpoint thread: {e}"))
                    })?;
                (Some(nudge), Some(handle))
            }
            Target::Memory(_) => (None, None),
        };
        let (tx, rx) = mpsc::channel();
        let thread_counters = Arc::clone(&counters);
        let handle = std::thread::Builder::new()
            .name("toss-store-writer".into())
            .spawn(move || writer::run(conn, rx, thread_counters, nudge, gate))
            .map_err(|e| StoreError::Io(format!("spawning store writer thread: {e}")))?;
        Ok(SqliteStore {
            tx: Some(tx),
            writer: Some(handle),
            checkpointer,
            readers: Arc::new(ReadPool {
                target,
                idle: Mutex::new(Vec::new()),
            }),
            counters,
        })
    }

    /// Write-path counters (commits, answered writes, queue depth).
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            write_jobs: self.counters.jobs.load(Ordering::Relaxed),
            queued: self.counters.queued.load(Ordering::Relaxed),
            wal_checkpoints: self.counters.checkpoints.load(Ordering::Relaxed),
            wal_restarts: self.counters.wal_restarts.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` on the writer thread inside the next group commit and
    /// returns its result once that group is durably committed.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let tx = self.tx.as_ref().ok_or(StoreError::Closed)?;
        let (reply, rx) = oneshot::channel();
        writer::submit(tx, &self.counters, writer::FnJob::boxed(f, reply))?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a pooled read connection on a blocking thread.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || pool.with(f))
            .await
            .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the channel lets the writer finish what is queued and exit.
        drop(self.tx.take());
        if let Some(handle) = self.writer.take() {
            if handle.join().is_err() {
                tracing::error!("store writer thread panicked");
            }
        }
        // The writer held the only nudge sender: the checkpointer makes a last checkpoint
        // and exits.
        if let Some(handle) = self.checkpointer.take() {
            if handle.join().is_err() {
                tracing::error!("store checkpoint thread panicked");
            }
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_intents(&self, intents: Vec<NewIntent>) -> StoreResult<Vec<InsertOutcome>> {
        if intents.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |c| writes::insert_intents(c, intents))
            .await
    }

    async fn get(&self, id: IntentId) -> StoreResult<Option<IntentRecord>> {
        self.read(move |c| reads::get(c, &id)).await
    }

    async fn get_many(&self, ids: Vec<IntentId>) -> StoreResult<Vec<Option<IntentRecord>>> {
        self.read(move |c| ids.iter().map(|id| reads::get(c, id)).collect())
            .await
    }

    async fn apply(&self, transitions: Vec<Transition>) -> StoreResult<Vec<bool>> {
        if transitions.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |c| writes::apply(c, &transitions)).await
    }

    async fn load_by_status(
        &self,
        statuses: &[Status],
        limit: usize,
    ) -> StoreResult<Vec<IntentRecord>> {
        let statuses = statuses.to_vec();
        self.read(move |c| reads::load_by_status(c, &statuses, limit))
            .await
    }

    async fn nonfinal(&self) -> StoreResult<Vec<IntentRecord>> {
        self.read(|c| reads::load_by_status(c, &Status::NON_FINAL, usize::MAX))
            .await
    }

    async fn pending_on_nonce(&self, nonce_account: [u8; 32]) -> StoreResult<Vec<IntentRecord>> {
        self.read(move |c| reads::pending_on_nonce(c, &nonce_account))
            .await
    }

    async fn pending_on_nonces(
        &self,
        nonce_accounts: Vec<[u8; 32]>,
    ) -> StoreResult<Vec<Vec<IntentRecord>>> {
        self.read(move |c| {
            nonce_accounts
                .iter()
                .map(|n| reads::pending_on_nonce(c, n))
                .collect()
        })
        .await
    }

    async fn counts(&self) -> StoreResult<BTreeMap<Status, u64>> {
        self.read(reads::counts).await
    }

    async fn audit(&self, id: IntentId) -> StoreResult<Vec<AuditRow>> {
        self.read(move |c| reads::audit(c, &id)).await
    }

    async fn expire_due(&self, now_unix: i64, actor: Actor) -> StoreResult<Vec<IntentId>> {
        self.write(move |c| writes::expire_due(c, now_unix, actor))
            .await
    }

    async fn create_batch(&self, intent_ids: Vec<IntentId>) -> StoreResult<i64> {
        self.write(move |c| writes::create_batch(c, &intent_ids))
            .await
    }

    async fn open_batches(
        &self,
        groups: Vec<Vec<IntentId>>,
        actor: Actor,
        lease: &Lease,
    ) -> StoreResult<Vec<Option<i64>>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let lease = lease.clone();
        self.write(move |c| writes::open_batches(c, &groups, actor, &lease))
            .await
    }

    async fn mark_batch_sent(
        &self,
        batch_id: i64,
        signature: String,
        blockhash: String,
        last_valid_block_height: u64,
        lease: &Lease,
    ) -> StoreResult<bool> {
        let lease = lease.clone();
        self.write(move |c| {
            writes::mark_batch_sent(
                c,
                batch_id,
                &signature,
                &blockhash,
                last_valid_block_height,
                &lease,
            )
        })
        .await
    }

    async fn renew_leases(&self, lease: &Lease, batch_ids: Vec<i64>) -> StoreResult<Vec<i64>> {
        if batch_ids.is_empty() {
            return Ok(Vec::new());
        }
        let lease = lease.clone();
        self.write(move |c| writes::renew_leases(c, &lease, &batch_ids))
            .await
    }

    async fn release_leases(&self, owner: &str, batch_ids: Vec<i64>) -> StoreResult<()> {
        if batch_ids.is_empty() {
            return Ok(());
        }
        let owner = owner.to_owned();
        self.write(move |c| writes::release_leases(c, &owner, &batch_ids))
            .await
    }

    async fn take_lapsed_batches(
        &self,
        lease: &Lease,
        limit: usize,
    ) -> StoreResult<Vec<BatchRecord>> {
        let lease = lease.clone();
        self.write(move |c| writes::take_lapsed_batches(c, &lease, limit))
            .await
    }

    async fn finish_batch(
        &self,
        batch_id: i64,
        state: BatchState,
        error: Option<String>,
    ) -> StoreResult<bool> {
        self.write(move |c| writes::finish_batch(c, batch_id, state, error.as_deref(), None))
            .await
    }

    async fn mark_batch_sent_with(
        &self,
        batch_id: i64,
        signature: String,
        blockhash: String,
        last_valid_block_height: u64,
        lease: &Lease,
        transitions: Vec<Transition>,
    ) -> StoreResult<Option<Vec<bool>>> {
        let lease = lease.clone();
        self.write(move |c| {
            if !writes::mark_batch_sent(
                c,
                batch_id,
                &signature,
                &blockhash,
                last_valid_block_height,
                &lease,
            )? {
                return Ok(None);
            }
            writes::apply(c, &transitions).map(Some)
        })
        .await
    }

    async fn apply_and_finish_batch(
        &self,
        transitions: Vec<Transition>,
        batch_id: i64,
        lease: &Lease,
        state: BatchState,
        error: Option<String>,
    ) -> StoreResult<Option<Vec<bool>>> {
        let owner = lease.owner.clone();
        self.write(move |c| {
            if !writes::finish_batch(c, batch_id, state, error.as_deref(), Some(&owner))? {
                return Ok(None);
            }
            writes::apply(c, &transitions).map(Some)
        })
        .await
    }

    async fn batch_signatures(&self, batch_id: i64) -> StoreResult<Vec<String>> {
        self.read(move |c| reads::batch_signatures(c, batch_id))
            .await
    }

    async fn get_batch(&self, batch_id: i64) -> StoreResult<Option<BatchRecord>> {
        self.read(move |c| reads::get_batch(c, batch_id)).await
    }

    async fn unfinished_batches(&self) -> StoreResult<Vec<BatchRecord>> {
        self.read(reads::unfinished_batches).await
    }

    async fn flush(&self) -> StoreResult<()> {
        self.write(|_| Ok(())).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await?;
        self.flush().await
    }

    async fn hold_instance(&self, _owner: &str) -> StoreResult<Option<InstanceHold>> {
        match &self.readers.target {
            Target::File(path) => super::hold::lock_file_beside(path),
            Target::Memory(_) => Ok(Some(InstanceHold::unconditional())),
        }
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
