//! Durable storage of intents, their lifecycle and the batches that carry them.
//!
//! The [`Store`] trait is backend-neutral: [`SqliteStore`] is the embedded default (one
//! process, one file), [`PgStore`] the scale-out backend that several relayer instances share.
//!
//! Several instances share the work through the store alone:
//! * an intent is claimed into a batch only while it is `pending`, is the lowest-`seq`
//!   non-final intent on its nonce account, and no intent on that nonce is in flight
//!   ([`Store::open_batches`]); the claim is a compare-and-set, so two instances never claim
//!   one intent;
//! * every unfinished batch carries a [`Lease`]: its owner renews it while it drives the
//!   batch ([`Store::renew_leases`]); a lapsed lease may be taken over by another instance
//!   ([`Store::take_lapsed_batches`]), and a signature is recorded only by the lease's current
//!   owner ([`Store::mark_batch_sent`]), so an instance that lost its lease can no longer put
//!   a new transaction for the batch on the wire.

use std::collections::BTreeMap;

use async_trait::async_trait;

mod hold;
mod postgres;
mod schema;
mod sqlite;
mod status;

#[cfg(test)]
mod tests;

pub use hold::InstanceHold;
pub use postgres::{PgStore, SslMode, PG_MIGRATIONS};
pub use schema::{Migration, MIGRATIONS};
pub use sqlite::{SqliteStore, StoreStats, MAX_GROUP_COMMIT};
pub use status::{BatchState, Status, UnknownState};

/// Identifier of an intent: the SHA-256 of its intent bytes.
pub type IntentId = [u8; 32];

/// Result type of every store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Errors returned by a [`Store`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// File-system or operating-system failure (opening, creating folders).
    #[error("store i/o error: {0}")]
    Io(String),
    /// The database engine reported an error.
    #[error("database error: {0}")]
    Sqlite(String),
    /// PostgreSQL reported an error.
    #[error("postgres error: {0}")]
    Postgres(String),
    /// The database server cannot be reached (connection refused, closed, timed out).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The database aborted the transaction to resolve a conflict (deadlock, serialization
    /// failure); the call may be retried as a whole.
    #[error("transaction conflict: {0}")]
    Conflict(String),
    /// Applying schema migrations failed, or the database is newer than this binary.
    #[error("schema migration failed: {0}")]
    Migration(String),
    /// The writer thread is gone; no further writes are possible.
    #[error("store is closed (writer thread gone)")]
    Closed,
    /// A row could not be decoded into a record.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The caller passed an argument the store cannot act on.
    #[error("invalid argument: {0}")]
    InvalidInput(String),
    /// An internal task failed (for example a panicked blocking read).
    #[error("internal store error: {0}")]
    Internal(String),
}

/// A validated intent about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntent {
    /// SHA-256 of the intent bytes.
    pub id: IntentId,
    /// The 64-byte ed25519 signature followed by the intent bytes.
    pub signed: Vec<u8>,
    /// The sender's public key.
    pub sender: [u8; 32],
    /// The durable nonce account the intent is bound to.
    pub nonce_account: [u8; 32],
    /// The nonce value the intent was signed against.
    pub nonce_value: [u8; 32],
    /// Unix time (seconds) after which the intent may no longer settle.
    pub expiry: i64,
    /// Amount in lamports (or token base units).
    pub amount: u64,
    /// Fee offered to the relayer, in lamports.
    pub fee: u64,
    /// What it moves.
    pub kind: IntentKind,
    /// Token mint for `kind == 1`.
    pub mint: Option<[u8; 32]>,
    /// When the relayer received it (unix milliseconds).
    pub received_at_ms: i64,
    /// Where it came from, e.g. `"http 127.0.0.1"` or `"noise"`.
    pub source: String,
}

/// What an intent moves (stored as its [`IntentKind::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntentKind {
    /// Lamports from the payer's vault.
    Sol,
    /// SPL tokens (Token or Token-2022) under the payer's allowance.
    Token,
}

impl IntentKind {
    /// The stored code: 0 SOL, 1 token.
    pub fn code(self) -> u8 {
        match self {
            IntentKind::Sol => 0,
            IntentKind::Token => 1,
        }
    }

    /// The kind of a stored code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(IntentKind::Sol),
            1 => Some(IntentKind::Token),
            _ => None,
        }
    }
}

/// Who changed an intent's state (recorded in its audit trail; the insertion row records the
/// intent's source instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// Claimed it into a batch.
    Batcher,
    /// Sent its transaction.
    Submitter,
    /// Applied its transaction's outcome.
    Reconciler,
    /// Expired it, or took its batch over.
    Sweeper,
    /// Put it back to `pending` at start.
    Recovery,
    /// A person, through tooling or by hand.
    Operator,
}

impl Actor {
    /// The name written to the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Batcher => "batcher",
            Actor::Submitter => "submitter",
            Actor::Reconciler => "reconciler",
            Actor::Sweeper => "sweeper",
            Actor::Recovery => "recovery",
            Actor::Operator => "operator",
        }
    }
}

/// A stored intent together with its current lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentRecord {
    /// The intent as it was received.
    pub intent: NewIntent,
    /// Current lifecycle state.
    pub status: Status,
    /// Why it is in its current state (set by the last transition).
    pub reason: Option<String>,
    /// Last known base58 transaction signature carrying it.
    pub signature: Option<String>,
    /// Slot at which it was observed (settled or failed), if known.
    pub slot: Option<u64>,
    /// Last batch it was placed in, if any.
    pub batch_id: Option<i64>,
    /// Number of transitions that asked to bump the attempt counter.
    pub attempts: u32,
    /// Time of the last state change (unix milliseconds).
    pub updated_at_ms: i64,
    /// Monotonic insertion order; the lower `seq` wins a nonce conflict.
    pub seq: i64,
}

impl std::ops::Deref for IntentRecord {
    type Target = NewIntent;

    /// Gives direct access to the intent's fields (`record.sender`, ...).
    fn deref(&self) -> &NewIntent {
        &self.intent
    }
}

/// Result of inserting one intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Newly stored, now `pending`.
    Inserted(IntentRecord),
    /// An intent with the same id was already stored; nothing was written.
    Existing(IntentRecord),
}

impl InsertOutcome {
    /// The record, whichever way it came.
    pub fn record(&self) -> &IntentRecord {
        match self {
            InsertOutcome::Inserted(r) | InsertOutcome::Existing(r) => r,
        }
    }

    /// True when this call stored the intent.
    pub fn is_inserted(&self) -> bool {
        matches!(self, InsertOutcome::Inserted(_))
    }
}

/// A requested state change of one intent, applied only if the rules allow it.
///
/// `reason` replaces the stored reason (`None` clears it); `signature`,
/// `slot` and `batch_id` overwrite the stored value when `Some` and keep it
/// when `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Intent to move.
    pub id: IntentId,
    /// Target state.
    pub to: Status,
    /// Why, recorded on the intent and in the audit log.
    pub reason: Option<String>,
    /// Transaction signature involved, if any.
    pub signature: Option<String>,
    /// Slot observed, if any.
    pub slot: Option<u64>,
    /// Batch involved, if any.
    pub batch_id: Option<i64>,
    /// Component making the change.
    pub actor: Actor,
    /// Increment the intent's attempt counter when applied.
    pub bump_attempts: bool,
}

impl Transition {
    /// A transition with no reason, signature, slot or batch.
    pub fn new(id: IntentId, to: Status, actor: Actor) -> Self {
        Transition {
            id,
            to,
            reason: None,
            signature: None,
            slot: None,
            batch_id: None,
            actor,
            bump_attempts: false,
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the transaction signature.
    pub fn signature(mut self, signature: impl Into<String>) -> Self {
        self.signature = Some(signature.into());
        self
    }

    /// Sets the slot.
    pub fn slot(mut self, slot: u64) -> Self {
        self.slot = Some(slot);
        self
    }

    /// Sets the batch id.
    pub fn batch(mut self, batch_id: i64) -> Self {
        self.batch_id = Some(batch_id);
        self
    }

    /// Asks for the attempt counter to be incremented.
    pub fn bump_attempts(mut self) -> Self {
        self.bump_attempts = true;
        self
    }
}

/// One entry of an intent's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Position in the global audit log (monotonic).
    pub audit_id: i64,
    /// Intent concerned.
    pub intent_id: IntentId,
    /// Previous state; `None` for the insertion row.
    pub from: Option<Status>,
    /// New state.
    pub to: Status,
    /// Reason given with the transition.
    pub reason: Option<String>,
    /// Signature given with the transition.
    pub signature: Option<String>,
    /// Who made the change (the intent's source for the insertion row).
    pub actor: String,
    /// When (unix milliseconds).
    pub at_ms: i64,
}

/// A batch: the intents of one logical transaction and its sending history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    /// Id assigned by the store.
    pub batch_id: i64,
    /// Latest signature sent (all of them: [`Store::batch_signatures`]).
    pub signature: Option<String>,
    /// Intents in the batch, in transaction order.
    pub intent_ids: Vec<IntentId>,
    /// Blockhash (or durable nonce value) of the latest signature.
    pub blockhash: Option<String>,
    /// Last block height at which the latest signature can land.
    pub last_valid_block_height: Option<u64>,
    /// Current state.
    pub state: BatchState,
    /// Creation time (unix milliseconds).
    pub created_at_ms: i64,
    /// Last change (unix milliseconds).
    pub updated_at_ms: i64,
    /// Error recorded when finished, if any.
    pub error: Option<String>,
    /// Relayer instance whose lease covers the batch, if any.
    pub owner: Option<String>,
    /// When that lease lapses (unix milliseconds, the store's clock).
    pub lease_until_ms: Option<i64>,
    /// How many times another instance took the batch over after its lease lapsed.
    pub takeovers: u32,
}

/// A relayer instance's claim on the batches it drives.
///
/// Invariant: at any time at most one instance holds an unlapsed lease on a batch, and only
/// that instance may record a new signature for it. The lease is measured on the store's
/// clock (PostgreSQL's `clock_timestamp()`), so instances' clocks may drift apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The instance id (`[relayer] instance_id`).
    pub owner: String,
    /// How long a claim holds without renewal, in milliseconds.
    pub ttl_ms: i64,
}

impl Lease {
    /// A lease for `owner` lasting `ttl_ms` per renewal.
    pub fn new(owner: impl Into<String>, ttl_ms: i64) -> Self {
        Lease {
            owner: owner.into(),
            ttl_ms: ttl_ms.max(1),
        }
    }
}

/// Durable intent storage shared by every relayer component.
///
/// Every write method returns only after its data is durably committed.
/// Implementations must be usable as `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync {
    /// Stores new intents as `pending`, idempotently on id.
    ///
    /// Each new intent also gets an audit row (from `None` to `pending`,
    /// actor = its source). Outcomes are in input order.
    async fn insert_intents(&self, intents: Vec<NewIntent>) -> StoreResult<Vec<InsertOutcome>>;

    /// Loads one intent.
    async fn get(&self, id: IntentId) -> StoreResult<Option<IntentRecord>>;

    /// Loads several intents (in input order), in one round trip where the backend can.
    async fn get_many(&self, ids: Vec<IntentId>) -> StoreResult<Vec<Option<IntentRecord>>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.get(id).await?);
        }
        Ok(out)
    }

    /// Applies transitions in order in one database transaction.
    ///
    /// Each entry of the result says whether that transition was allowed
    /// (and so applied and audited); unknown ids give `false`.
    async fn apply(&self, transitions: Vec<Transition>) -> StoreResult<Vec<bool>>;

    /// Intents in any of `statuses`, lowest `seq` first, at most `limit`.
    async fn load_by_status(
        &self,
        statuses: &[Status],
        limit: usize,
    ) -> StoreResult<Vec<IntentRecord>>;

    /// Every non-final intent, lowest `seq` first (restart resume).
    async fn nonfinal(&self) -> StoreResult<Vec<IntentRecord>>;

    /// Non-final intents on one nonce account, lowest `seq` first.
    async fn pending_on_nonce(&self, nonce_account: [u8; 32]) -> StoreResult<Vec<IntentRecord>>;

    /// [`Store::pending_on_nonce`] for several nonce accounts, in one round trip where the
    /// backend can.
    async fn pending_on_nonces(
        &self,
        nonce_accounts: Vec<[u8; 32]>,
    ) -> StoreResult<Vec<Vec<IntentRecord>>> {
        let mut out = Vec::with_capacity(nonce_accounts.len());
        for n in nonce_accounts {
            out.push(self.pending_on_nonce(n).await?);
        }
        Ok(out)
    }

    /// Number of intents in each status (every status present, zero included).
    async fn counts(&self) -> StoreResult<BTreeMap<Status, u64>>;

    /// Audit trail of one intent, oldest first.
    async fn audit(&self, id: IntentId) -> StoreResult<Vec<AuditRow>>;

    /// Moves every `pending` intent whose expiry is before `now_unix` to `expired`, returning
    /// their ids.
    ///
    /// `queued` and `submitted` intents are left to their batch's driver: it checks expiry
    /// before each signature and the chain's own clock decides what lands. Expiring them here,
    /// on a local clock, could mark `expired` an intent whose transaction is about to be sent
    /// (or already was) and may still settle.
    async fn expire_due(&self, now_unix: i64, actor: Actor) -> StoreResult<Vec<IntentId>>;

    /// Creates an `open` batch of existing intents and returns its id.
    async fn create_batch(&self, intent_ids: Vec<IntentId>) -> StoreResult<i64>;

    /// Claims each group of intents into a new `open` batch leased to `lease.owner`, moving
    /// the intents to `queued` (audit actor `actor`), in one durable commit; returns each
    /// group's batch id in order, or `None` for a group that could not be claimed whole.
    ///
    /// A group is claimed only if every intent in it is `pending`, is the lowest-`seq`
    /// non-final intent on its nonce account, and no intent on that nonce account is `queued`
    /// or `submitted` (one intent per nonce in flight, first by `seq`, across instances); a
    /// group failing that writes nothing (another instance got there first, or an earlier
    /// intent on the nonce is still open). Unknown ids are an error that undoes the whole call.
    async fn open_batches(
        &self,
        groups: Vec<Vec<IntentId>>,
        actor: Actor,
        lease: &Lease,
    ) -> StoreResult<Vec<Option<i64>>>;

    /// Records that the batch is (about to be) sent with `signature`, if `owner` holds its
    /// lease now (an unlapsed one, or a lapsed one nobody took over), renewing it.
    ///
    /// Call it *before* broadcasting so that no sent signature can be lost in a crash. Every
    /// signature is kept in the batch's history. Returns `false` if the batch is unknown,
    /// already finished, or leased to another instance: then nothing may be sent.
    async fn mark_batch_sent(
        &self,
        batch_id: i64,
        signature: String,
        blockhash: String,
        last_valid_block_height: u64,
        lease: &Lease,
    ) -> StoreResult<bool>;

    /// Extends `lease` on those of `batch_ids` it still holds (unfinished, owned by
    /// `lease.owner`); returns the ids renewed. A batch missing from the answer was finished
    /// or taken over: its task must stop sending.
    async fn renew_leases(&self, lease: &Lease, batch_ids: Vec<i64>) -> StoreResult<Vec<i64>>;

    /// Lets go of `owner`'s leases on `batch_ids` at once (a task ended without finishing its
    /// batch), so the next sweep, of any instance, takes them over without waiting for them to
    /// lapse.
    async fn release_leases(&self, owner: &str, batch_ids: Vec<i64>) -> StoreResult<()>;

    /// Takes over up to `limit` unfinished batches whose lease lapsed (or that have none),
    /// leasing them to `lease.owner`, oldest first; batches another instance is taking over
    /// at the same moment are skipped, not waited for. Taking over a batch owned by someone
    /// else counts in its `takeovers`.
    async fn take_lapsed_batches(
        &self,
        lease: &Lease,
        limit: usize,
    ) -> StoreResult<Vec<BatchRecord>>;

    /// Moves a batch to a final state (`landed`, `failed` or `dropped`).
    ///
    /// Returns `false` if the batch is unknown or already finished.
    async fn finish_batch(
        &self,
        batch_id: i64,
        state: BatchState,
        error: Option<String>,
    ) -> StoreResult<bool>;

    /// [`Store::mark_batch_sent`], then (if the batch was open or sent) `transitions`, in one
    /// durable commit. Returns `None` when the batch is unknown or finished (nothing applied),
    /// else each transition's outcome.
    async fn mark_batch_sent_with(
        &self,
        batch_id: i64,
        signature: String,
        blockhash: String,
        last_valid_block_height: u64,
        lease: &Lease,
        transitions: Vec<Transition>,
    ) -> StoreResult<Option<Vec<bool>>>;

    /// Ends a batch its driver still holds: moves it to a final state (`landed`, `failed` or
    /// `dropped`) and applies `transitions` (its intents' outcomes) in one durable commit.
    ///
    /// Fenced: only while the batch is unfinished and owned by `lease.owner` (a lease that
    /// lapsed but nobody took over still counts). Otherwise nothing is applied and the
    /// answer is `None`: the batch was finished already, or another instance took it over
    /// and its outcome stands. `Some` holds each transition's outcome.
    async fn apply_and_finish_batch(
        &self,
        transitions: Vec<Transition>,
        batch_id: i64,
        lease: &Lease,
        state: BatchState,
        error: Option<String>,
    ) -> StoreResult<Option<Vec<bool>>>;

    /// Every signature ever recorded for the batch, oldest first.
    async fn batch_signatures(&self, batch_id: i64) -> StoreResult<Vec<String>>;

    /// Loads one batch.
    async fn get_batch(&self, batch_id: i64) -> StoreResult<Option<BatchRecord>>;

    /// Batches still `open` or `sent`, oldest first (crash recovery).
    async fn unfinished_batches(&self) -> StoreResult<Vec<BatchRecord>>;

    /// Waits until every write queued before this call is committed.
    async fn flush(&self) -> StoreResult<()>;

    /// Answers whether the database can be reached and written to right now (`/healthz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Makes this process the one live holder of instance `owner` (SQLite: of the database
    /// file, whatever the id), until the hold is dropped or, PostgreSQL, its connection is
    /// lost ([`InstanceHold::lost`]). `None` while another live process holds it. Two
    /// processes under one id would pass each other's lease fences (see `hold`).
    async fn hold_instance(&self, owner: &str) -> StoreResult<Option<InstanceHold>>;

    /// Backend name for logs and `/healthz`: `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
}
