//! Default values and hard limits of every setting.

use super::types::{Cluster, Commitment, LogFormat, StoreKind, Verification};

/// `[server] listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// `[server] max_body_bytes`: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// `[server] max_bulk`: most intents in one bulk request.
pub const DEFAULT_MAX_BULK: usize = 256;
/// `[server] rate_limit_per_ip_per_s`.
pub const DEFAULT_RATE_LIMIT_PER_IP_PER_S: u32 = 2_000;
/// `[server] rate_limit_per_ip_burst`.
pub const DEFAULT_RATE_LIMIT_PER_IP_BURST: u32 = 4_000;
/// `[server] rate_limit_per_sender_per_s`.
pub const DEFAULT_RATE_LIMIT_PER_SENDER_PER_S: u32 = 200;
/// `[server] rate_limit_per_sender_burst`.
pub const DEFAULT_RATE_LIMIT_PER_SENDER_BURST: u32 = 400;

/// `[cluster] cluster`.
pub const DEFAULT_CLUSTER: Cluster = Cluster::Localnet;
/// `[cluster] program_id`: the TOSS program.
pub const DEFAULT_PROGRAM_ID: &str = "97HzxHhFMbtTUx3tdtfDkvZmUgZjHKnZhmy9CcqbZuHP";
/// `[cluster] fee_payer`: a solana-keygen JSON keypair file (`~` = `$HOME`).
pub const DEFAULT_FEE_PAYER: &str = "~/.config/solana/id.json";
/// `[cluster] commitment`.
pub const DEFAULT_COMMITMENT: Commitment = Commitment::Confirmed;

/// `[store] kind`.
pub const DEFAULT_STORE_KIND: StoreKind = StoreKind::Sqlite;
/// `[store] lease_ms`: 15 s, many times a renewal round trip, short enough that a dead
/// instance's batches move on quickly.
pub const DEFAULT_LEASE_MS: u64 = 15_000;
/// `[store] path`.
pub const DEFAULT_STORE_PATH: &str = "toss-relayer.sqlite";

/// `[intake] max_lifetime_seconds`: 7 days.
pub const DEFAULT_MAX_LIFETIME_SECONDS: u64 = 7 * 24 * 60 * 60;
/// `[intake] dust_lamports`: smallest amount accepted.
pub const DEFAULT_DUST_LAMPORTS: u64 = 1_000;
/// `[intake] max_amount_lamports`: largest amount accepted (1000 SOL).
pub const DEFAULT_MAX_AMOUNT_LAMPORTS: u64 = 1_000_000_000_000;
/// `[intake] max_fee_lamports`.
pub const DEFAULT_MAX_FEE_LAMPORTS: u64 = 50_000;
/// `[intake] nonce_cache_ttl_ms`.
pub const DEFAULT_NONCE_CACHE_TTL_MS: u64 = 2_000;
/// `[intake] max_open_per_nonce`: open intents one sender may have on one nonce account.
pub const DEFAULT_MAX_OPEN_PER_NONCE: usize = 4;
/// `[intake] failure_backoff_strikes`.
pub const DEFAULT_FAILURE_BACKOFF_STRIKES: u32 = 3;
/// `[intake] failure_backoff_seconds`.
pub const DEFAULT_FAILURE_BACKOFF_SECONDS: u64 = 60;
/// `[intake] default_intent_expiry_seconds`.
pub const DEFAULT_INTENT_EXPIRY_SECONDS: u64 = 3_600;

/// `[batch] max_wait_ms`.
pub const DEFAULT_BATCH_MAX_WAIT_MS: u64 = 200;
/// `[batch] max_intents`.
pub const DEFAULT_BATCH_MAX_INTENTS: usize = 16;
/// `[batch] use_lookup_table`.
pub const DEFAULT_USE_LOOKUP_TABLE: bool = false;

/// `[tables] manage`.
pub const DEFAULT_MANAGE_TABLES: bool = true;
/// `[tables] max_rent_lamports` (1 SOL: ~17 full tables, ~4,400 addresses).
pub const DEFAULT_TABLES_MAX_RENT_LAMPORTS: u64 = 1_000_000_000;
/// `[tables] idle_close_seconds` (one day).
pub const DEFAULT_TABLES_IDLE_CLOSE_SECONDS: u64 = 86_400;
/// `[tables] interval_ms`.
pub const DEFAULT_TABLES_INTERVAL_MS: u64 = 500;
/// `[tables] cover_wait_ms`: an extension lands and activates within ~3 slots on a cluster.
pub const DEFAULT_TABLES_COVER_WAIT_MS: u64 = 3_000;
/// Largest `[tables] cover_wait_ms`.
pub const MAX_TABLES_COVER_WAIT_MS: u64 = 60_000;

/// `[submit] compute_unit_price_micro_lamports`.
pub const DEFAULT_COMPUTE_UNIT_PRICE_MICRO_LAMPORTS: u64 = 0;
/// `[submit] verification`.
pub const DEFAULT_VERIFICATION: Verification = Verification::Auto;
/// `[submit] max_retries`.
pub const DEFAULT_MAX_RETRIES: u32 = 5;
/// `[submit] backoff_initial_ms`.
pub const DEFAULT_BACKOFF_INITIAL_MS: u64 = 200;
/// `[submit] backoff_max_ms`.
pub const DEFAULT_BACKOFF_MAX_MS: u64 = 5_000;
/// `[submit] confirm_timeout_ms`.
pub const DEFAULT_CONFIRM_TIMEOUT_MS: u64 = 30_000;
/// `[submit] in_flight_max`: batches sent but not yet confirmed. Throughput on a real cluster
/// is about `in_flight_max × intents per transaction ÷ confirmation time` (64 × 3 ÷ ~1.5 s ≈
/// 128 intents/s); the RPC load does not grow with it (one status poll covers them all).
pub const DEFAULT_IN_FLIGHT_MAX: usize = 64;
/// `[submit] poll_interval_ms`: time between two status polls of everything in flight.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 250;
/// `[submit] breaker_failure_ratio`: failure share that opens the breaker.
pub const DEFAULT_BREAKER_FAILURE_RATIO: f64 = 0.5;
/// `[submit] breaker_window`: requests the ratio is computed over.
pub const DEFAULT_BREAKER_WINDOW: u32 = 20;
/// `[submit] breaker_cooldown_ms`.
pub const DEFAULT_BREAKER_COOLDOWN_MS: u64 = 5_000;

/// `[reconcile] sweep_interval_ms`.
pub const DEFAULT_SWEEP_INTERVAL_MS: u64 = 5_000;

/// `[log] format`.
pub const DEFAULT_LOG_FORMAT: LogFormat = LogFormat::Text;
/// `[log] filter` (`RUST_LOG` overrides it at run time).
pub const DEFAULT_LOG_FILTER: &str = "toss_relayer=info,warn,tarpc=error";

/// Highest accepted `[submit] max_retries`.
pub const MAX_RETRIES_LIMIT: u32 = 20;
/// Shortest accepted `[server] admin_token`, in characters.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;
/// Highest accepted `[batch] max_intents`.
pub const MAX_BATCH_INTENTS_LIMIT: usize = 64;
/// Highest accepted `[submit] compute_unit_limit` (Solana's per-transaction cap).
pub const MAX_COMPUTE_UNIT_LIMIT: u32 = 1_400_000;
