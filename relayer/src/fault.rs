//! A fault-injecting [`Cluster`] wrapper for tests and drills: at set rates it fails
//! requests (transport errors), times them out, or silently drops sent transactions (the
//! send "succeeds" but nothing reaches the cluster, as with a lost packet); `set_down(true)`
//! fails everything, to trip the circuit breaker; `set_dropping(true)` loses every send;
//! `set_forgetful(true)` makes `statuses` find nothing (a node whose recent status cache no
//! longer holds the transactions; `statuses_with_history` still finds them). It counts
//! `statuses` requests, to check the RPC load.

use async_trait::async_trait;
use solana_account::Account;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use toss_sdk::cluster::{Cluster, ClusterError, ClusterResult, TxStatus};

/// Fault rates in parts per thousand.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Requests answered with a transport error.
    pub error_per_mille: u64,
    /// Requests that hang for `timeout` then fail with `Timeout`.
    pub timeout_per_mille: u64,
    /// Sends that report success but never reach the cluster.
    pub drop_per_mille: u64,
    /// How long a timed-out request hangs.
    pub timeout: Duration,
}

/// Wraps a cluster and injects [`Faults`] deterministically (from a seed).
pub struct FaultyCluster {
    inner: Arc<dyn Cluster>,
    faults: Faults,
    state: AtomicU64,
    down: AtomicBool,
    dropping: AtomicBool,
    forgetful: AtomicBool,
    logs_hidden: AtomicBool,
    injected: AtomicU64,
    status_calls: AtomicU64,
    widest_status_call: AtomicU64,
}

enum Fault {
    None,
    Error,
    Timeout,
    Drop,
}

impl FaultyCluster {
    /// Wraps `inner` with `faults`, pseudo-random from `seed`.
    pub fn new(inner: Arc<dyn Cluster>, faults: Faults, seed: u64) -> Self {
        Self {
            inner,
            faults,
            state: AtomicU64::new(seed | 1),
            down: AtomicBool::new(false),
            dropping: AtomicBool::new(false),
            forgetful: AtomicBool::new(false),
            logs_hidden: AtomicBool::new(false),
            injected: AtomicU64::new(0),
            status_calls: AtomicU64::new(0),
            widest_status_call: AtomicU64::new(0),
        }
    }

    /// Drops every send while `dropping` (whatever the rates say).
    pub fn set_dropping(&self, dropping: bool) {
        self.dropping.store(dropping, Ordering::SeqCst);
    }

    /// While `forgetful`, `statuses` finds no signature (only the history does).
    pub fn set_forgetful(&self, forgetful: bool) {
        self.forgetful.store(forgetful, Ordering::SeqCst);
    }

    /// While hidden, `logs` finds no transaction (an RPC node that has not indexed it yet).
    pub fn set_logs_hidden(&self, hidden: bool) {
        self.logs_hidden.store(hidden, Ordering::SeqCst);
    }

    /// `statuses` requests made so far.
    pub fn status_calls(&self) -> u64 {
        self.status_calls.load(Ordering::SeqCst)
    }

    /// Most signatures asked for in one `statuses` request so far.
    pub fn widest_status_call(&self) -> u64 {
        self.widest_status_call.load(Ordering::SeqCst)
    }

    /// Fails every request while `down`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    fn roll(&self) -> u64 {
        // xorshift64*: deterministic for a seed, good enough to spread faults.
        let mut x = self.state.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.store(x, Ordering::Relaxed);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % 1000
    }

    fn pick(&self, can_drop: bool) -> Fault {
        if self.down.load(Ordering::SeqCst) {
            return Fault::Error;
        }
        if can_drop && self.dropping.load(Ordering::SeqCst) {
            return Fault::Drop;
        }
        let r = self.roll();
        let f = &self.faults;
        if r < f.error_per_mille {
            Fault::Error
        } else if r < f.error_per_mille + f.timeout_per_mille {
            Fault::Timeout
        } else if can_drop && r < f.error_per_mille + f.timeout_per_mille + f.drop_per_mille {
            Fault::Drop
        } else {
            Fault::None
        }
    }

    async fn gate(&self) -> ClusterResult<()> {
        match self.pick(false) {
            Fault::None | Fault::Drop => Ok(()),
            Fault::Error => {
                self.injected.fetch_add(1, Ordering::SeqCst);
                Err(ClusterError::Transport("injected fault".into()))
            }
            Fault::Timeout => {
                self.injected.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(self.faults.timeout).await;
                Err(ClusterError::Timeout)
            }
        }
    }
}

#[async_trait]
impl Cluster for FaultyCluster {
    async fn latest_blockhash(&self) -> ClusterResult<(Hash, u64)> {
        self.gate().await?;
        self.inner.latest_blockhash().await
    }

    async fn block_height(&self) -> ClusterResult<u64> {
        self.gate().await?;
        self.inner.block_height().await
    }

    async fn send(&self, tx: &VersionedTransaction) -> ClusterResult<Signature> {
        match self.pick(true) {
            Fault::None => self.inner.send(tx).await,
            Fault::Drop => {
                self.injected.fetch_add(1, Ordering::SeqCst);
                tx.signatures
                    .first()
                    .copied()
                    .ok_or(ClusterError::Other("unsigned transaction".into()))
            }
            Fault::Error => {
                self.injected.fetch_add(1, Ordering::SeqCst);
                Err(ClusterError::Transport("injected fault".into()))
            }
            Fault::Timeout => {
                self.injected.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(self.faults.timeout).await;
                Err(ClusterError::Timeout)
            }
        }
    }

    async fn statuses(&self, signatures: &[Signature]) -> ClusterResult<Vec<Option<TxStatus>>> {
        self.status_calls.fetch_add(1, Ordering::SeqCst);
        self.widest_status_call
            .fetch_max(signatures.len() as u64, Ordering::SeqCst);
        self.gate().await?;
        if self.forgetful.load(Ordering::SeqCst) {
            return Ok(vec![None; signatures.len()]);
        }
        self.inner.statuses(signatures).await
    }

    async fn statuses_with_history(
        &self,
        signatures: &[Signature],
    ) -> ClusterResult<Vec<Option<TxStatus>>> {
        self.status_calls.fetch_add(1, Ordering::SeqCst);
        self.gate().await?;
        self.inner.statuses_with_history(signatures).await
    }

    async fn logs(&self, signature: &Signature) -> ClusterResult<Option<Vec<String>>> {
        self.gate().await?;
        if self.logs_hidden.load(Ordering::SeqCst) {
            return Ok(None);
        }
        self.inner.logs(signature).await
    }

    async fn accounts(&self, keys: &[Pubkey]) -> ClusterResult<Vec<Option<Account>>> {
        self.gate().await?;
        self.inner.accounts(keys).await
    }

    async fn minimum_rent(&self, len: usize) -> ClusterResult<u64> {
        self.gate().await?;
        self.inner.minimum_rent(len).await
    }

    async fn slot(&self) -> ClusterResult<u64> {
        self.gate().await?;
        self.inner.slot().await
    }

    async fn next_slot(&self) -> ClusterResult<()> {
        self.gate().await?;
        self.inner.next_slot().await
    }

    async fn unix_time(&self) -> ClusterResult<i64> {
        self.gate().await?;
        self.inner.unix_time().await
    }
}
