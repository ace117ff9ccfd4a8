//! The configuration tables, one struct per `[section]`.

use std::path::PathBuf;

use serde::Deserialize;

use super::defaults::*;
use super::types::{Cluster, Commitment, LogFormat, Redacted, StoreKind, Verification};

/// `[server]`: the HTTP intake.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Socket address to listen on (`IP:port`).
    pub listen: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most intents in one bulk request.
    pub max_bulk: usize,
    /// Sustained requests per second allowed from one client IP.
    pub rate_limit_per_ip_per_s: u32,
    /// Burst allowance per client IP.
    pub rate_limit_per_ip_burst: u32,
    /// Sustained intents per second allowed from one sender key.
    pub rate_limit_per_sender_per_s: u32,
    /// Burst allowance per sender key.
    pub rate_limit_per_sender_burst: u32,
    /// Bearer token for admin endpoints; `None` disables them.
    pub admin_token: Option<Redacted<String>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: DEFAULT_LISTEN.to_owned(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_bulk: DEFAULT_MAX_BULK,
            rate_limit_per_ip_per_s: DEFAULT_RATE_LIMIT_PER_IP_PER_S,
            rate_limit_per_ip_burst: DEFAULT_RATE_LIMIT_PER_IP_BURST,
            rate_limit_per_sender_per_s: DEFAULT_RATE_LIMIT_PER_SENDER_PER_S,
            rate_limit_per_sender_burst: DEFAULT_RATE_LIMIT_PER_SENDER_BURST,
            admin_token: None,
        }
    }
}

/// `[cluster]`: which Solana cluster and program, and who pays fees.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Cluster moniker.
    pub cluster: Cluster,
    /// RPC endpoint; derived from `cluster` when absent.
    pub rpc_url: Option<String>,
    /// TOSS program id (base58).
    pub program_id: String,
    /// Path of the fee payer's solana-keygen JSON keypair file. Never the key.
    pub fee_payer: Redacted<PathBuf>,
    /// Commitment level for reads and confirmations.
    pub commitment: Commitment,
}

impl ClusterConfig {
    /// `rpc_url`, or the cluster's public endpoint; `None` for `local-inprocess`.
    pub fn effective_rpc_url(&self) -> Option<String> {
        match self.cluster {
            Cluster::LocalInprocess => None,
            c => self
                .rpc_url
                .clone()
                .or_else(|| c.default_rpc_url().map(str::to_owned)),
        }
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            cluster: DEFAULT_CLUSTER,
            rpc_url: None,
            program_id: DEFAULT_PROGRAM_ID.to_owned(),
            fee_payer: Redacted::new(PathBuf::from(DEFAULT_FEE_PAYER)),
            commitment: DEFAULT_COMMITMENT,
        }
    }
}

/// `[store]`: where intents are kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Backend: `sqlite` (one process, one file; the default) or `postgres` (shared by
    /// several instances).
    pub kind: StoreKind,
    /// SQLite database file.
    pub path: PathBuf,
    /// PostgreSQL connection URL (`postgres://user:password@host:port/db`), for
    /// `kind = "postgres"`; `TOSS_DATABASE_URL` sets it and selects the backend.
    pub url: Option<Redacted<String>>,
    /// This instance's id, unique among the instances sharing a store: it owns the batches
    /// this instance drives and labels its logs and metrics. Default: `toss-` and the first
    /// 8 characters of the fee payer's address (each instance has its own fee payer), stable
    /// across restarts so a restarted instance takes its own batches back at once.
    pub instance_id: Option<String>,
    /// How long a batch's lease holds without renewal (ms). Another instance takes a batch
    /// over only after this long without a word from its owner; the owner renews every
    /// third of it.
    pub lease_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            kind: DEFAULT_STORE_KIND,
            path: PathBuf::from(DEFAULT_STORE_PATH),
            url: None,
            instance_id: None,
            lease_ms: DEFAULT_LEASE_MS,
        }
    }
}

/// `[intake]`: what intents are accepted.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeConfig {
    /// Longest accepted time between receipt and expiry, in seconds.
    pub max_lifetime_seconds: u64,
    /// Smallest accepted amount, in lamports.
    pub dust_lamports: u64,
    /// Largest accepted amount, in lamports.
    pub max_amount_lamports: u64,
    /// Largest accepted relayer fee, in lamports.
    pub max_fee_lamports: u64,
    /// Token mints accepted (base58); empty means SOL only.
    pub allowed_mints: Vec<String>,
    /// How long a fetched nonce value is trusted, in milliseconds.
    pub nonce_cache_ttl_ms: u64,
    /// Expiry given to intents that carry none, in seconds.
    pub default_intent_expiry_seconds: u64,
    /// Refuse intents the sender's funds (vault, or allowance and balance) cannot cover on top
    /// of its other open intents here (`insufficient_funds`); see `crate::funds`.
    pub check_funds: bool,
    /// With `check_funds`: most open intents of one sender on one nonce account (at most one
    /// of them can settle); the next is refused `nonce_busy`.
    pub max_open_per_nonce: usize,
    /// On-chain rejections a sender causes within ten minutes before it is backed off.
    pub failure_backoff_strikes: u32,
    /// First back-off, in seconds (doubling with each further one, at most an hour).
    pub failure_backoff_seconds: u64,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            max_lifetime_seconds: DEFAULT_MAX_LIFETIME_SECONDS,
            dust_lamports: DEFAULT_DUST_LAMPORTS,
            max_amount_lamports: DEFAULT_MAX_AMOUNT_LAMPORTS,
            max_fee_lamports: DEFAULT_MAX_FEE_LAMPORTS,
            allowed_mints: Vec::new(),
            nonce_cache_ttl_ms: DEFAULT_NONCE_CACHE_TTL_MS,
            default_intent_expiry_seconds: DEFAULT_INTENT_EXPIRY_SECONDS,
            check_funds: true,
            max_open_per_nonce: DEFAULT_MAX_OPEN_PER_NONCE,
            failure_backoff_strikes: DEFAULT_FAILURE_BACKOFF_STRIKES,
            failure_backoff_seconds: DEFAULT_FAILURE_BACKOFF_SECONDS,
        }
    }
}

/// `[batch]`: how intents are grouped into transactions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// Longest time the first intent of a batch waits for company, in ms.
    pub max_wait_ms: u64,
    /// Most intents in one transaction.
    pub max_intents: usize,
    /// Use an address lookup table to fit more intents per transaction.
    pub use_lookup_table: bool,
    /// Address of the lookup table (base58).
    pub lookup_table: Option<String>,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_wait_ms: DEFAULT_BATCH_MAX_WAIT_MS,
            max_intents: DEFAULT_BATCH_MAX_INTENTS,
            use_lookup_table: DEFAULT_USE_LOOKUP_TABLE,
            lookup_table: None,
        }
    }
}

/// `[tables]`: the address lookup tables this instance keeps for itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TablesConfig {
    /// Create and extend lookup tables (authority and payer: the fee payer) with the accounts
    /// of the intents waiting here, pack batches against them, and deactivate and close the
    /// ones no open intent needs any more.
    pub manage: bool,
    /// Most lamports of rent this instance's tables may lock at once (a full table of 256
    /// addresses locks ~0.058 SOL).
    pub max_rent_lamports: u64,
    /// A table no open intent needed for this long is deactivated, then closed once the
    /// cluster allows it (~513 slots later), and its rent returns to the fee payer.
    pub idle_close_seconds: u64,
    /// Time between two passes of the table keeper, ms.
    pub interval_ms: u64,
    /// Longest an intent whose accounts are not in a usable table yet waits for the keeper
    /// to add them, ms (0: never waits). Held only while the keeper has rent left to cover
    /// them and the intent's expiry is more than a minute beyond the wait: a burst of new
    /// payers settles in full, covered transactions (8 SOL intents each instead of 3–4)
    /// a few seconds later instead of in small ones at once.
    pub cover_wait_ms: u64,
    /// JSON file listing this instance's tables (so a restart finds them again). Default:
    /// beside the SQLite file, or `toss-tables-<instance id>.json` in the working directory.
    pub state_path: Option<PathBuf>,
}

impl Default for TablesConfig {
    fn default() -> Self {
        TablesConfig {
            manage: DEFAULT_MANAGE_TABLES,
            max_rent_lamports: DEFAULT_TABLES_MAX_RENT_LAMPORTS,
            idle_close_seconds: DEFAULT_TABLES_IDLE_CLOSE_SECONDS,
            interval_ms: DEFAULT_TABLES_INTERVAL_MS,
            cover_wait_ms: DEFAULT_TABLES_COVER_WAIT_MS,
            state_path: None,
        }
    }
}

/// `[submit]`: sending transactions and backing off.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubmitConfig {
    /// Compute unit limit; `None` computes one per batch.
    pub compute_unit_limit: Option<u32>,
    /// Priority fee, in micro-lamports per compute unit.
    pub compute_unit_price_micro_lamports: u64,
    /// Settle form: `auto` (per batch, the cheaper by base fee + priority fee × compute
    /// units), `compact` (the program verifies Ed25519) or `precompile`.
    pub verification: Verification,
    /// Failed cluster requests per submission round; a round that runs out leaves the batch to
    /// the sweeper (its intents stay open until they settle or expire, never rejected for it).
    pub max_retries: u32,
    /// First retry delay, in ms.
    pub backoff_initial_ms: u64,
    /// Largest retry delay, in ms.
    pub backoff_max_ms: u64,
    /// How long to wait for confirmation before resubmitting, in ms.
    pub confirm_timeout_ms: u64,
    /// Most batches in flight at once.
    pub in_flight_max: usize,
    /// Time between two status polls (one `getSignatureStatuses` for every signature in
    /// flight), in ms.
    pub poll_interval_ms: u64,
    /// Failure share (0..=1) over the window that opens the circuit breaker.
    pub breaker_failure_ratio: f64,
    /// Number of recent RPC requests the ratio is computed over.
    pub breaker_window: u32,
    /// How long an open breaker waits before trying again, in ms.
    pub breaker_cooldown_ms: u64,
}

impl Default for SubmitConfig {
    fn default() -> Self {
        SubmitConfig {
            compute_unit_limit: None,
            compute_unit_price_micro_lamports: DEFAULT_COMPUTE_UNIT_PRICE_MICRO_LAMPORTS,
            verification: DEFAULT_VERIFICATION,
            max_retries: DEFAULT_MAX_RETRIES,
            backoff_initial_ms: DEFAULT_BACKOFF_INITIAL_MS,
            backoff_max_ms: DEFAULT_BACKOFF_MAX_MS,
            confirm_timeout_ms: DEFAULT_CONFIRM_TIMEOUT_MS,
            in_flight_max: DEFAULT_IN_FLIGHT_MAX,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            breaker_failure_ratio: DEFAULT_BREAKER_FAILURE_RATIO,
            breaker_window: DEFAULT_BREAKER_WINDOW,
            breaker_cooldown_ms: DEFAULT_BREAKER_COOLDOWN_MS,
        }
    }
}

/// `[reconcile]`: the background sweeper.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconcileConfig {
    /// Time between sweeps (expiry, stuck submissions), in ms.
    pub sweep_interval_ms: u64,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            sweep_interval_ms: DEFAULT_SWEEP_INTERVAL_MS,
        }
    }
}

/// `[log]`: logging output.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// Filter directives (`RUST_LOG` syntax); `RUST_LOG` overrides it.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: DEFAULT_LOG_FORMAT,
            filter: DEFAULT_LOG_FILTER.to_owned(),
        }
    }
}
