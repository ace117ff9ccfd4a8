//! PostgreSQL implementation of [`Store`]: the store several relayer instances share.
//!
//! * Every write is one database transaction, committed with `synchronous_commit = on` (the
//!   connection forces it whatever the server's default): a caller is answered only after
//!   the commit is flushed to the server's WAL, and to a synchronous standby if the operator
//!   configured one.
//! * A transaction the server aborts to resolve a deadlock or serialization failure is
//!   retried as a whole, a few times; a lost connection surfaces as
//!   [`StoreError::Unavailable`] (intake answers `503 store_unavailable`) and the pool opens
//!   a new one on the next call.
//! * Leases are measured on the database's clock.
//! * Sequential scans are disabled on the relayer's connections (`enable_seqscan = off`):
//!   every query is keyed and has an index, and a plan cached while a table was tiny must
//!   not turn into a scan once it is big.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use self::tls::DbTarget;

use super::{
    Actor, AuditRow, BatchRecord, BatchState, InsertOutcome, InstanceHold, IntentId, IntentRecord,
    Lease, NewIntent, Status, Store, StoreError, StoreResult, Transition,
};

mod hold;
pub(crate) mod reads;
mod rows;
mod schema;
pub(crate) mod tls;
mod writes;

pub use schema::PG_MIGRATIONS;
pub use tls::SslMode;

/// Connections per relayer instance.
const POOL_SIZE: usize = 16;
/// How long a call waits for a connection (or for one to open) before `Unavailable`.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of a transaction the server aborted to resolve a conflict.
const CONFLICT_ATTEMPTS: u32 = 5;

/// [`Store`] backed by a PostgreSQL database, shareable by several relayer instances.
pub struct PgStore {
    pool: Pool,
    /// `host:port/dbname`, for logs (never the password).
    target: String,
    /// The URL's `sslmode`.
    ssl_mode: SslMode,
    /// Whether the server's certificate is verified (`verify-ca`, `verify-full`, or
    /// `require` with a root certificate).
    server_authenticated: bool,
    /// Whether every host is this machine (loopback or a Unix socket).
    local: bool,
    /// How to open a connection outside the pool (the instance hold's).
    direct: hold::Direct,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish()
    }
}

/// Runs `$body` (which uses the transaction `$tx`) and commits, retrying the whole
/// transaction when the server aborted it to resolve a conflict.
macro_rules! in_tx {
    ($self:ident, $tx:ident => $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut client = $self.client().await?;
            let $tx = client.transaction().await.map_err(rows::pg_err)?;
            let result = async { $body }.await;
            let result = match result {
                Ok(v) => $tx.commit().await.map(|()| v).map_err(rows::pg_err),
                Err(e) => Err(e),
            };
            match result {
                Err(StoreError::Conflict(m)) if attempt < CONFLICT_ATTEMPTS => {
                    tracing::debug!(attempt, error = %m, "postgres transaction conflict; retrying");
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 5)).await;
                }
                other => break other,
            }
        }
    }};
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`, libpq key/value also accepted)
    /// and applies pending migrations (serialized across instances starting at once).
    /// `sslmode` and `sslrootcert` mean what they mean to libpq (see [`SslMode`]): for a
    /// database on another machine use `sslmode=verify-full&sslrootcert=<CA file>`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let parsed = DbTarget::parse(url)?;
        let connector = parsed.connector()?;
        let (ssl_mode, server_authenticated) = (parsed.mode, parsed.authenticates_server());
        let mut config = parsed.config;
        let options = config
            .get_options()
            .map(|o| format!("{o} "))
            .unwrap_or_default();
        // Every query the relayer runs is keyed (an id, a seq, a status, a nonce account, a
        // lease): a sequential scan is never the right plan. A plan cached while a table was
        // new and tiny (a fresh deployment, or a fresh schema) had chosen one for the
        // idempotency lookup and kept it as the table grew: 140-180 ms per call at 37,000
        // intents instead of ~4 ms, ~90 % of the server's time during ingest.
        config.options(format!(
            "{options}-c synchronous_commit=on -c enable_seqscan=off"
        ));
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        config.application_name("toss-relayer");
        let target = format!(
            "{:?}/{}",
            config.get_hosts().first(),
            config.get_dbname().unwrap_or("")
        );
        let local = config.get_hosts().iter().all(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => true,
        }) && config.get_hostaddrs().iter().all(|ip| ip.is_loopback());
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let direct = hold::Direct::new(config.clone(), connector.clone());
        let mgr = match connector {
            Some(connector) => Manager::from_config(config, connector, manager_config),
            None => Manager::from_config(config, NoTls, manager_config),
        };
        let pool = Pool::builder(mgr)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Internal(format!("postgres pool: {e}")))?;
        let store = PgStore {
            pool,
            target,
            ssl_mode,
            server_authenticated,
            local,
            direct,
        };
        let mut client = store.client().await?;
        let applied = schema::migrate(&mut client).await?;
        tracing::debug!(target = %store.target, ?applied, "postgres store ready");
        Ok(store)
    }

    /// Checks `url` without connecting: its syntax, its `sslmode`/`sslrootcert` (the root
    /// file must hold a CA certificate). Errors name the setting, never the URL.
    pub fn check_url(url: &str) -> StoreResult<()> {
        DbTarget::parse(url)?.connector().map(|_| ())
    }

    /// Creates the schema `name` in the database at `url` (if missing) and returns a URL whose
    /// connections work inside it: tests and benchmarks isolate each run this way on one
    /// server. `name` must be a plain identifier (`[a-z0-9_]`).
    pub async fn schema_url(url: &str, name: &str) -> StoreResult<String> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(StoreError::InvalidInput(format!(
                "schema name {name:?} is not a plain identifier"
            )));
        }
        let target = DbTarget::parse(url)?;
        let client = match target.connector()? {
            Some(tls) => {
                let (client, connection) =
                    target.config.connect(tls).await.map_err(rows::pg_err)?;
                tokio::spawn(connection);
                client
            }
            None => {
                let (client, connection) =
                    target.config.connect(NoTls).await.map_err(rows::pg_err)?;
                tokio::spawn(connection);
                client
            }
        };
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {name}"))
            .await
            .map_err(rows::pg_err)?;
        drop(client);
        let sep = if url.contains('?') { '&' } else { '?' };
        Ok(format!("{url}{sep}options=-csearch_path%3D{name}"))
    }

    /// The URL's `sslmode`.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// Whether the server's certificate is verified before the password is sent.
    pub fn server_authenticated(&self) -> bool {
        self.server_authenticated
    }

    /// Whether the database is on this machine (every host loopback or a Unix socket).
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// The TLS version of a pooled connection as the server reports it (`pg_stat_ssl`), or
    /// `None` when the connection is plain TCP.
    pub async fn tls_version(&self) -> StoreResult<Option<String>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl",
                &[],
            )
            .await
            .map_err(rows::pg_err)?;
        row.map(|r| r.try_get::<_, String>(0).map_err(rows::pg_err))
            .transpose()
    }

    /// Forgets which ids this store holds, as when its holds' connections were found dead
    /// (tests: its sessions then count as stale ones of its own).
    #[cfg(test)]
    pub(crate) fn forget_live_holds(&self) {
        if let Ok(mut live) = self.direct.live.lock() {
            live.clear();
        }
    }

    /// A pooled connection, as the store's own queries get it.
    #[cfg(test)]
    pub(crate) async fn test_client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.client().await
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(rows::pool_err)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn insert_intents(&self, intents: Vec<NewIntent>) -> StoreResult<Vec<InsertOutcome>> {
        if intents.is_empty() {
            return Ok(Vec::new());
        }
        in_tx!(self, tx => writes::insert_intents(&tx, intents.clone()).await)
    }

    async fn get(&self, id: IntentId) -> StoreResult<Option<IntentRecord>> {
        let c = self.client().await?;
        Ok(reads::get_many(&c, &[id]).await?.pop().flatten())
    }

    async fn get_many(&self, ids: Vec<IntentId>) -> StoreResult<Vec<Option<IntentRecord>>> {
        let c = self.client().await?;
        reads::get_many(&c, &ids).await
    }

    async fn apply(&self, transitions: Vec<Transition>) -> StoreResult<Vec<bool>> {
        if transitions.is_empty() {
            return Ok(Vec::new());
        }
        in_tx!(self, tx => writes::apply(&tx, &transitions).await)
    }

    async fn load_by_status(
        &self,
        statuses: &[Status],
        limit: usize,
    ) -> StoreResult<Vec<IntentRecord>> {
        let c = self.client().await?;
        reads::load_by_status(&c, statuses, limit).await
    }

    async fn nonfinal(&self) -> StoreResult<Vec<IntentRecord>> {
        let c = self.client().await?;
        reads::load_by_status(&c, &Status::NON_FINAL, usize::MAX).await
    }

    async fn pending_on_nonce(&self, nonce_account: [u8; 32]) -> StoreResult<Vec<IntentRecord>> {
        let c = self.client().await?;
        Ok(reads::pending_on_nonces(&c, &[nonce_account])
            .await?
            .pop()
            .unwrap_or_default())
    }

    async fn pending_on_nonces(
        &self,
        nonce_accounts: Vec<[u8; 32]>,
    ) -> StoreResult<Vec<Vec<IntentRecord>>> {
        let c = self.client().await?;
        reads::pending_on_nonces(&c, &nonce_accounts).await
    }

    async fn counts(&self) -> StoreResult<BTreeMap<Status, u64>> {
        let c = self.client().await?;
        reads::counts(&c).await
    }

    async fn audit(&self, id: IntentId) -> StoreResult<Vec<AuditRow>> {
        let c = self.client().await?;
        reads::audit(&c, &id).await
    }

    async fn expire_due(&self, now_unix: i64, actor: Actor) -> StoreResult<Vec<IntentId>> {
        in_tx!(self, tx => writes::expire_due(&tx, now_unix, actor).await)
    }

    async fn create_batch(&self, intent_ids: Vec<IntentId>) -> StoreResult<i64> {
        in_tx!(self, tx => writes::create_batch(&tx, &intent_ids, None).await)
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
        in_tx!(self, tx => writes::open_batches(&tx, &groups, actor, lease).await)
    }

    async fn mark_batch_sent(
        &self,
        batch_id: i64,
        signature: String,
        blockhash: String,
        last_valid_block_height: u64,
        lease: &Lease,
    ) -> StoreResult<bool> {
        in_tx!(self, tx => writes::mark_batch_sent(
            &tx, batch_id, &signature, &blockhash, last_valid_block_height, lease,
        )
        .await)
    }

    async fn renew_leases(&self, lease: &Lease, batch_ids: Vec<i64>) -> StoreResult<Vec<i64>> {
        if batch_ids.is_empty() {
            return Ok(Vec::new());
        }
        in_tx!(self, tx => writes::renew_leases(&tx, lease, &batch_ids).await)
    }

    async fn release_leases(&self, owner: &str, batch_ids: Vec<i64>) -> StoreResult<()> {
        if batch_ids.is_empty() {
            return Ok(());
        }
        in_tx!(self, tx => writes::release_leases(&tx, owner, &batch_ids).await)
    }

    async fn take_lapsed_batches(
        &self,
        lease: &Lease,
        limit: usize,
    ) -> StoreResult<Vec<BatchRecord>> {
        in_tx!(self, tx => writes::take_lapsed_batches(&tx, lease, limit).await)
    }

    async fn finish_batch(
        &self,
        batch_id: i64,
        state: BatchState,
        error: Option<String>,
    ) -> StoreResult<bool> {
        in_tx!(self, tx => writes::finish_batch(&tx, batch_id, state, error.as_deref(), None).await)
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
        in_tx!(self, tx => {
            if writes::mark_batch_sent(
                &tx, batch_id, &signature, &blockhash, last_valid_block_height, lease,
            )
            .await?
            {
                writes::apply(&tx, &transitions).await.map(Some)
            } else {
                Ok(None)
            }
        })
    }

    async fn apply_and_finish_batch(
        &self,
        transitions: Vec<Transition>,
        batch_id: i64,
        lease: &Lease,
        state: BatchState,
        error: Option<String>,
    ) -> StoreResult<Option<Vec<bool>>> {
        in_tx!(self, tx => {
            // The batch row first (the order every batch write takes), fenced by its owner.
            let owner = Some(lease.owner.as_str());
            if !writes::finish_batch(&tx, batch_id, state, error.as_deref(), owner).await? {
                return Ok(None);
            }
            writes::apply(&tx, &transitions).await.map(Some)
        })
    }

    async fn batch_signatures(&self, batch_id: i64) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        reads::batch_signatures(&c, batch_id).await
    }

    async fn get_batch(&self, batch_id: i64) -> StoreResult<Option<BatchRecord>> {
        let c = self.client().await?;
        Ok(reads::batches_where(&c, "batch_id = $1", &[&batch_id])
            .await?
            .pop())
    }

    async fn unfinished_batches(&self) -> StoreResult<Vec<BatchRecord>> {
        let c = self.client().await?;
        reads::batches_where(&c, "state IN ('open', 'sent')", &[]).await
    }

    async fn flush(&self) -> StoreResult<()> {
        // Every write is committed before it returns: nothing is queued.
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        let c = self.client().await?;
        c.simple_query("SELECT 1").await.map_err(rows::pg_err)?;
        Ok(())
    }

    async fn hold_instance(&self, owner: &str) -> StoreResult<Option<InstanceHold>> {
        self.direct.hold(owner).await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
