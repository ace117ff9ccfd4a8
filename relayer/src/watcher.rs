//! The status watcher: one task polls the cluster for every signature in flight, so the RPC
//! load does not grow with the number of batches in flight. Each tick is one
//! `getSignatureStatuses` call per 256 signatures plus one `getBlockHeight`, every
//! `submit.poll_interval_ms` while anything is watched (the submitter itself reads a status
//! once right after each first send, which is all a cluster that executes at send time needs).
//!
//! Invariants:
//! * a signature is reported `Expired` only when the block height has passed its blockhash's
//!   last valid height **and** a status read made after that height was seen still finds
//!   nothing (a transaction landing between the two reads is reported `Landed`);
//! * every registration is answered at most once and then forgotten; a batch task that gives
//!   up (deadline, refusal) removes its own registration with [`Watcher::forget`].

use crate::breaker::Breaker;
use crate::metrics::Metrics;
use solana_signature::Signature;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch, Notify};
use toss_sdk::cluster::{Cluster, ClusterError, TxStatus};

/// What became of a watched signature.
#[derive(Debug)]
pub enum Seen {
    /// It landed (confirmed, or failed: a failed transaction is final too).
    Landed(TxStatus),
    /// Its blockhash expired and it did not land.
    Expired,
}

struct Waiter {
    last_valid: u64,
    reply: oneshot::Sender<Seen>,
}

/// Signatures being watched, and the signal that wakes an idle polling task.
#[derive(Default)]
pub struct Watcher {
    waiting: Mutex<HashMap<Signature, Waiter>>,
    added: Notify,
}

impl Watcher {
    /// Watches `signature` (valid until block height `last_valid`); the answer arrives on the
    /// returned channel. Registering the same signature again replaces the earlier waiter.
    pub fn register(&self, signature: Signature, last_valid: u64) -> oneshot::Receiver<Seen> {
        let (reply, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiting.lock() {
            w.insert(signature, Waiter { last_valid, reply });
        }
        self.added.notify_one();
        rx
    }

    /// Stops watching `signature`.
    pub fn forget(&self, signature: &Signature) {
        if let Ok(mut w) = self.waiting.lock() {
            w.remove(signature);
        }
    }

    /// Signatures being watched.
    pub fn len(&self) -> usize {
        self.waiting.lock().map(|w| w.len()).unwrap_or(0)
    }

    /// True when nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn snapshot(&self) -> Vec<(Signature, u64)> {
        self.waiting
            .lock()
            .map(|w| w.iter().map(|(s, w)| (*s, w.last_valid)).collect())
            .unwrap_or_default()
    }

    fn answer(&self, signature: &Signature, seen: Seen) {
        let waiter = self
            .waiting
            .lock()
            .ok()
            .and_then(|mut w| w.remove(signature));
        if let Some(waiter) = waiter {
            let _ = waiter.reply.send(seen);
        }
    }
}

/// What the polling task works with.
pub struct Poller {
    /// The signatures in flight.
    pub watcher: Arc<Watcher>,
    /// Where to ask.
    pub cluster: Arc<dyn Cluster>,
    /// Told of every request's success or failure.
    pub breaker: Arc<Breaker>,
    /// Counts failed requests.
    pub metrics: Arc<Metrics>,
    /// `submit.poll_interval_ms`.
    pub interval: Duration,
}

impl Poller {
    fn failed(&self, e: &ClusterError) {
        self.breaker.record(false);
        self.metrics.rpc_errors.inc();
        tracing::debug!(error = %e, "cluster request failed");
    }
}

/// Runs until `stop`: every `interval` polls every signature in flight; idle (nothing
/// watched) until something is registered.
pub async fn run(p: Poller, mut stop: watch::Receiver<bool>) {
    let interval = p.interval.max(Duration::from_millis(1));
    loop {
        if *stop.borrow() {
            return;
        }
        if p.watcher.is_empty() {
            tokio::select! {
                _ = p.watcher.added.notified() => {}
                _ = stop.changed() => return,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        tick(&p).await;
    }
}

/// One poll of everything watched.
async fn tick(p: &Poller) {
    let watched = p.watcher.snapshot();
    if watched.is_empty() {
        return;
    }
    let signatures: Vec<Signature> = watched.iter().map(|(s, _)| *s).collect();
    let statuses = match p.cluster.statuses(&signatures).await {
        Ok(s) => s,
        Err(e) => return p.failed(&e),
    };
    let mut open = Vec::new();
    for ((signature, last_valid), status) in watched.into_iter().zip(statuses) {
        match status {
            Some(st) if st.confirmed || st.err.is_some() => {
                p.watcher.answer(&signature, Seen::Landed(st))
            }
            _ => open.push((signature, last_valid)),
        }
    }
    if open.is_empty() {
        return;
    }
    let height = match p.cluster.block_height().await {
        Ok(h) => {
            p.breaker.record(true);
            h
        }
        Err(e) => return p.failed(&e),
    };
    let due: Vec<Signature> = open
        .iter()
        .filter(|(_, last_valid)| height > *last_valid)
        .map(|(s, _)| *s)
        .collect();
    if due.is_empty() {
        return;
    }
    // Read again after seeing the height, through the node's history (the recent status
    // cache may have forgotten a transaction that landed while this poll was stalled):
    // whatever is still missing can never land.
    match p.cluster.statuses_with_history(&due).await {
        Ok(statuses) => {
            for (signature, status) in due.iter().zip(statuses) {
                let seen = match status {
                    Some(st) => Seen::Landed(st),
                    None => Seen::Expired,
                };
                p.watcher.answer(signature, seen);
            }
        }
        Err(e) => p.failed(&e),
    }
}
