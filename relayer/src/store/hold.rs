//! One live process per instance id ([`Store::hold_instance`](super::Store::hold_instance)).
//!
//! Leases fence a batch by its owner's instance id, so two live processes under one id would
//! pass each other's fences: a restarted instance takes its own batches back at once, and
//! the old process, were it still running, could sign a batch the new one has just resumed.
//! Each backend therefore lets one process at a time hold an id:
//!
//! * SQLite (one process per file by design): an exclusive `flock` on `<database>.lock`
//!   beside the file (its canonical path: a symlink names the same lock), whatever the id (a sidecar file, because closing any descriptor of the
//!   database file itself would drop SQLite's own POSIX locks). The kernel releases it when
//!   the process dies.
//! * PostgreSQL: a session-level advisory lock on a connection of its own, keyed by the
//!   schema and the id. The server releases it when that connection ends, which is when the
//!   process dies (or the connection is cut: [`InstanceHold::lost`] then fires, and the
//!   relayer must take the id again or stop). The connection is probed every 2 s and has
//!   short TCP keepalives, so a silently cut one is noticed in seconds, not hours.

use std::any::Any;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use tokio::sync::watch;

use super::{StoreError, StoreResult};

/// This process's hold on an instance id; released when dropped.
pub struct InstanceHold {
    /// Whatever keeps the hold (a locked file, a connection), dropped with it.
    _keep: Box<dyn Any + Send + Sync>,
    /// Becomes `true` once the hold is gone without being dropped (a lost connection).
    lost: watch::Receiver<bool>,
}

impl std::fmt::Debug for InstanceHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceHold")
            .field("lost", &*self.lost.borrow())
            .finish()
    }
}

impl InstanceHold {
    /// A hold kept by `keep`, reported lost through `lost`.
    pub(crate) fn new(keep: Box<dyn Any + Send + Sync>, lost: watch::Receiver<bool>) -> Self {
        Self { _keep: keep, lost }
    }

    /// A hold nothing can take away (an in-memory database: no other process can open it).
    pub(crate) fn unconditional() -> Self {
        let (keep, lost) = watch::channel(false);
        Self::new(Box::new(keep), lost)
    }

    /// Whether the hold is gone.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Resolves once the hold is gone (never, for a hold that cannot be lost).
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        if lost.wait_for(|l| *l).await.is_err() {
            // The sender lives as long as the hold: this is a hold that cannot be lost.
            std::future::pending::<()>().await;
        }
    }
}

/// Locks `<database>.lock` exclusively; `None` while another process holds it.
pub(crate) fn lock_file_beside(database: &Path) -> StoreResult<Option<InstanceHold>> {
    // The file's real path: a symlink or another spelling of the path names the same lock.
    let database = std::fs::canonicalize(database)
        .map_err(|e| StoreError::Io(format!("resolving {}: {e}", database.display())))?;
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = Path::new(&name);
    let file: File = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::Io(format!("opening {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => {
            let (keep, lost) = watch::channel(false);
            Ok(Some(InstanceHold::new(Box::new((file, keep)), lost)))
        }
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => {
            Err(StoreError::Io(format!("locking {}: {e}", path.display())))
        }
    }
}
