//! The state every stage shares, split by concern. One `Ctx` per relayer instance (no
//! globals); the wiring (`crate::service`) builds it, stages only read and update it.

use crate::addresses::AddressCache;
use crate::arcium::Confidential;
use crate::breaker::Breaker;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::{IntentId, IntentRecord, Lease, Store};
use crate::validate::Validator;
use crate::watcher::Watcher;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_pubkey::Pubkey;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};
use toss_sdk::cluster::Cluster;

/// State shared by every stage.
pub struct Ctx {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Where transactions go.
    pub cluster: Arc<dyn Cluster>,
    /// Where intents live.
    pub store: Arc<dyn Store>,
    /// Signs and pays for settle transactions, receives relayer fees.
    pub fee_payer: Arc<Keypair>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// This instance's id and lease length: it owns the batches it drives (`crate::claims`).
    pub lease: Lease,
    /// Intake checks (signatures, rules, the program's config, the payer's funds).
    pub validator: Arc<Validator>,
    /// Confidential mode (`[arcium] enabled`).
    pub arcium: Option<Confidential>,
    /// When work may flow: pause, hold, breaker, in-flight slots, wake-ups.
    pub flow: Flow,
    /// What live tasks of this instance hold.
    pub claims: Claims,
    /// What packing reuses between batches.
    pub packing: Packing,
    /// Every signature in flight, polled by one task (`crate::watcher::run`).
    pub watcher: Arc<Watcher>,
}

/// Flow control.
pub struct Flow {
    /// Admin pause: intake continues, submission stops.
    pub paused: AtomicBool,
    /// False once shutdown began: intake answers 503.
    pub accepting: AtomicBool,
    /// Holds sends while the cluster keeps failing.
    pub breaker: Arc<Breaker>,
    /// No new batches before this instant (the program reported itself paused).
    pub hold_until: Mutex<Option<Instant>>,
    /// Woken when new intents are stored or a batch ends.
    pub wake: Notify,
    /// Bounds batches in flight (`submit.in_flight_max`).
    pub in_flight: Arc<Semaphore>,
    /// Whether this process holds its instance id (`crate::store::InstanceHold`). While it
    /// does not (its hold was lost and is being taken again), nothing is signed: another
    /// process might hold the id and pass the same lease fences.
    pub instance_held: AtomicBool,
}

/// In-memory claims of this instance's live tasks (the store's leases are the shared ones).
#[derive(Default)]
pub struct Claims {
    /// Batches a live task is handling.
    pub active_batches: Mutex<HashSet<i64>>,
    /// Nonce accounts with an intent in a live batch (the next one waits).
    pub busy_nonces: Mutex<HashSet<Pubkey>>,
    /// Intents whose batch failed as a whole: they are retried alone to isolate the culprit.
    pub solo: Mutex<HashSet<IntentId>>,
}

/// Packing caches.
pub struct Packing {
    /// Most intents a settle transaction held in the last packing that filled one (sizes the
    /// batcher's window; starts at `batch.max_intents`).
    pub fit_hint: AtomicUsize,
    /// Payers' vault, nonce-authority, delegate and token-account addresses, derived once.
    pub addresses: AddressCache,
    /// Token program owning each mint seen so far.
    pub token_programs: Mutex<HashMap<Pubkey, Pubkey>>,
    /// Lookup tables for v0 transactions (empty: legacy transactions): the operator's
    /// (`batch.lookup_table`) followed by this instance's own (`crate::tables`), each cut to
    /// the addresses a transaction may use now.
    pub lookup_tables: Mutex<Vec<AddressLookupTableAccount>>,
    /// The operator's tables alone.
    pub operator_tables: Mutex<Vec<AddressLookupTableAccount>>,
    /// The lookup-table keeper runs and its last pass found room (rent) for every account
    /// the open intents name: an uncovered intent is worth holding for `tables.cover_wait_ms`.
    /// False when the keeper is off, failed its last pass, or is at its rent limit.
    pub keeper_has_room: AtomicBool,
}

impl Packing {
    /// The lookup tables transactions are packed and compiled against now.
    pub fn tables(&self) -> Vec<AddressLookupTableAccount> {
        self.lookup_tables
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }
}

impl Flow {
    /// Open, not paused, `in_flight_max` slots.
    pub fn new(breaker: Breaker, in_flight_max: usize) -> Self {
        Flow {
            paused: AtomicBool::new(false),
            accepting: AtomicBool::new(true),
            breaker: Arc::new(breaker),
            hold_until: Mutex::new(None),
            wake: Notify::new(),
            in_flight: Arc::new(Semaphore::new(in_flight_max.max(1))),
            instance_held: AtomicBool::new(true),
        }
    }
}

impl Claims {
    /// Marks a batch and its nonces as taken by a live task.
    pub fn claim(&self, batch_id: i64, records: &[IntentRecord]) {
        self.claim_batch(batch_id);
        self.claim_nonces(records);
    }

    /// Marks a batch as held by a live task; false if one already holds it.
    pub fn claim_batch(&self, batch_id: i64) -> bool {
        self.active_batches
            .lock()
            .map(|mut active| active.insert(batch_id))
            .unwrap_or(false)
    }

    /// Gives up a claim taken with [`Claims::claim_batch`] that no task took over.
    pub fn unclaim_batch(&self, batch_id: i64) {
        if let Ok(mut active) = self.active_batches.lock() {
            active.remove(&batch_id);
        }
    }

    /// Marks the nonces of `records` as in flight.
    pub fn claim_nonces(&self, records: &[IntentRecord]) {
        if let Ok(mut busy) = self.busy_nonces.lock() {
            busy.extend(
                records
                    .iter()
                    .map(|r| Pubkey::new_from_array(r.nonce_account)),
            );
        }
    }

    /// Ends a task's claims on its batch and nonces.
    pub fn release(&self, batch_id: i64, records: &[IntentRecord]) {
        self.unclaim_batch(batch_id);
        if let Ok(mut busy) = self.busy_nonces.lock() {
            for r in records {
                busy.remove(&Pubkey::new_from_array(r.nonce_account));
            }
        }
    }

    /// The batches live tasks hold now.
    pub fn active(&self) -> Vec<i64> {
        self.active_batches
            .lock()
            .map(|a| a.iter().copied().collect())
            .unwrap_or_default()
    }
}

impl Packing {
    /// Empty caches; the fit hint starts at `max_intents`.
    pub fn new(max_intents: usize) -> Self {
        Packing {
            fit_hint: AtomicUsize::new(max_intents.max(1)),
            addresses: AddressCache::default(),
            token_programs: Mutex::new(HashMap::new()),
            lookup_tables: Mutex::new(Vec::new()),
            operator_tables: Mutex::new(Vec::new()),
            keeper_has_room: AtomicBool::new(false),
        }
    }

    /// Sets the operator's tables (and packs against them from now on).
    pub fn set_operator_tables(&self, tables: Vec<AddressLookupTableAccount>) {
        if let Ok(mut t) = self.operator_tables.lock() {
            t.clone_from(&tables);
        }
        if let Ok(mut t) = self.lookup_tables.lock() {
            *t = tables;
        }
    }

    /// Packs against the operator's tables and `managed` from now on.
    pub fn publish(&self, managed: Vec<AddressLookupTableAccount>) {
        let mut all = self
            .operator_tables
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default();
        all.extend(managed.into_iter().filter(|t| !t.addresses.is_empty()));
        if let Ok(mut t) = self.lookup_tables.lock() {
            *t = all;
        }
    }
}

impl Ctx {
    /// True when the admin paused submission.
    pub fn is_paused(&self) -> bool {
        self.flow.paused.load(Ordering::SeqCst)
    }

    /// Holds new batches for `duration` (a paused program: sending would only burn fees).
    pub fn hold_for(&self, duration: Duration) {
        if let Ok(mut h) = self.flow.hold_until.lock() {
            *h = Some(Instant::now() + duration);
        }
    }

    /// True while a hold is in force.
    pub fn is_held(&self) -> bool {
        self.flow
            .hold_until
            .lock()
            .ok()
            .and_then(|h| *h)
            .is_some_and(|until| Instant::now() < until)
    }

    /// Pauses or resumes submission.
    pub fn set_paused(&self, paused: bool) {
        self.flow.paused.store(paused, Ordering::SeqCst);
        self.metrics.paused.set(i64::from(paused));
        if !paused {
            self.flow.wake.notify_one();
        }
    }

    /// Why new batches may not be sent now, if anything stops them: a lost hold on the
    /// instance id, the admin pause, a hold (the program reported itself paused), or the
    /// circuit breaker. One place for the
    /// batcher to ask.
    pub fn sending_stopped(&self) -> Option<&'static str> {
        if !self.flow.instance_held.load(Ordering::SeqCst) {
            Some("the hold on this instance id was lost; taking it again")
        } else if self.is_paused() {
            Some("paused by the admin")
        } else if self.is_held() {
            Some("held: the program is paused")
        } else if self.flow.breaker.wait() > Duration::ZERO {
            Some("circuit breaker open")
        } else {
            None
        }
    }

    /// True while intake accepts new intents (false once shutdown began).
    pub fn is_accepting(&self) -> bool {
        self.flow.accepting.load(Ordering::SeqCst)
    }
}
