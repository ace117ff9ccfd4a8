//! The PostgreSQL side of [`crate::store::InstanceHold`]: a session-level advisory lock on a
//! connection of its own (not a pooled one: the pool would hand the locked session to other
//! queries, and keep the lock after the hold is dropped). Behind a connection pooler it needs
//! session pooling (a transaction pooler cannot keep a session lock).
//!
//! The hold is watched, not trusted: a connection cut silently (a NAT or firewall dropping
//! an idle flow, a partition) would otherwise look alive for hours while the server, having
//! ended the session, let another process take the id. So the connection runs `SELECT 1`
//! every [`PROBE_EVERY`] (within [`PROBE_TIMEOUT`]) and uses short TCP keepalives on both
//! ends (the server's set with `SET tcp_keepalives_*` once connected); the first failure
//! reports the hold lost. The client notices within ~7 s, the server frees the lock of a
//! dead client after ~11 s of keepalives, so a relayer stops signing before another process
//! can take its id.
//!
//! A process whose own earlier session still holds the lock (the server has not noticed it is
//! dead yet) recognizes it by its `application_name`, which carries this store's token, and
//! ends it; while such a session cannot be ended, taking the id fails with a retryable error
//! (never `None`, which would read as "another process holds it").

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::rows;
use crate::store::{InstanceHold, StoreError, StoreResult};

/// How often the hold's connection is probed.
pub(super) const PROBE_EVERY: Duration = Duration::from_secs(2);
/// How long a probe may take before the hold counts as lost.
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The lock's key: instance ids are per schema (tests and benchmarks share one database
/// through schemas), and advisory locks are per database. In `pg_locks` a bigint key shows as
/// `classid` (high 32 bits) and `objid` (low 32 bits), `objsubid` 1.
const KEY: &str = "hashtextextended('toss-instance:' || current_schema() || ':' || $1, 0)";

/// What a connection of its own needs, and the holds this store has.
#[derive(Clone)]
pub(super) struct Direct {
    config: Config,
    tls: Option<MakeRustlsConnect>,
    /// This store's token in its holds' `application_name` (unique per store, so per process).
    token: String,
    /// Ids this store holds now (neither dropped nor lost), each with its hold's generation:
    /// never ended as stale.
    pub(super) live: Arc<Mutex<HashMap<String, u64>>>,
    /// The next hold's generation.
    generation: Arc<AtomicU64>,
}

impl Direct {
    /// A store's direct connections to `config`.
    pub(super) fn new(config: Config, tls: Option<MakeRustlsConnect>) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Self {
            config,
            tls,
            token: format!("{}-{nanos:x}", std::process::id()),
            live: Arc::default(),
            generation: Arc::default(),
        }
    }

    fn is_live(&self, owner: &str) -> bool {
        self.live.lock().map_or(true, |l| l.contains_key(owner))
    }

    /// The hold connection's settings: this store's `application_name` and short client-side
    /// TCP keepalives.
    fn hold_config(&self, application_name: &str) -> Config {
        let mut config = self.config.clone();
        config
            .application_name(application_name)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .keepalives_interval(Duration::from_secs(2))
            .keepalives_retries(3);
        config
    }

    /// Opens a connection; `driver_done` fires when its driver task ends.
    async fn connect(
        &self,
        application_name: &str,
        driver_done: oneshot::Sender<()>,
    ) -> StoreResult<Client> {
        let config = self.hold_config(application_name);
        let client = match &self.tls {
            Some(tls) => {
                let (client, connection) =
                    config.connect(tls.clone()).await.map_err(rows::pg_err)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                    let _ = driver_done.send(());
                });
                client
            }
            None => {
                let (client, connection) = config.connect(NoTls).await.map_err(rows::pg_err)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                    let _ = driver_done.send(());
                });
                client
            }
        };
        // The server's keepalives, per session (settable by any user; no startup parameter,
        // which some poolers refuse).
        client
            .batch_execute(
                "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; \
                 SET tcp_keepalives_count = 3",
            )
            .await
            .map_err(rows::pg_err)?;
        Ok(client)
    }

    /// Takes `owner`'s advisory lock on a new connection; `None` while another process's
    /// session holds it (or a live hold of this store's). A stale session of this store's
    /// (one whose hold was given up for lost) that still holds it is ended first.
    pub(super) async fn hold(&self, owner: &str) -> StoreResult<Option<InstanceHold>> {
        let application_name = format!("toss-relayer hold {}", self.token);
        let (driver_done, driver_ended) = oneshot::channel();
        let client = self.connect(&application_name, driver_done).await?;
        let try_lock = format!("SELECT pg_try_advisory_lock({KEY})");
        let take = || async {
            client
                .query_one(&try_lock, &[&owner])
                .await
                .map_err(rows::pg_err)?
                .try_get::<_, bool>(0)
                .map_err(rows::pg_err)
        };
        let mut held = take().await?;
        if !held && !self.is_live(owner) {
            // Our own earlier session, cut off but not yet noticed by the server?
            let own = |action: &str| {
                format!(
                    "SELECT count(*) FILTER (WHERE k.done) FROM (SELECT {action} AS done \
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                     AND l.database = (SELECT oid FROM pg_database \
                                       WHERE datname = current_database()) \
                     AND l.objid = ({KEY} & 4294967295)::oid \
                     AND l.classid = (({KEY} >> 32) & 4294967295)::oid \
                     AND a.application_name = $2 AND l.pid <> pg_backend_pid()) AS k"
                )
            };
            let count = |sql: String| {
                let client = &client;
                let application_name = &application_name;
                async move {
                    client
                        .query_one(&sql, &[&owner, application_name])
                        .await
                        .map_err(rows::pg_err)?
                        .try_get::<_, i64>(0)
                        .map_err(rows::pg_err)
                }
            };
            let ended = count(own("pg_terminate_backend(l.pid, 5000)")).await?;
            if ended > 0 {
                tracing::warn!(instance = %owner, "ended this process's own stale session holding its instance id");
                held = take().await?;
            }
            if !held && (ended > 0 || count(own("true")).await? > 0) {
                return Err(StoreError::Unavailable(format!(
                    "instance id {owner} is still held by a stale session of this process"
                )));
            }
        }
        if !held {
            // Dropping the client closes the connection.
            return Ok(None);
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut live) = self.live.lock() {
            live.insert(owner.to_owned(), generation);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let (lost_tx, lost) = watch::channel(false);
        let (live, owner) = (self.live.clone(), owner.to_owned());
        tokio::spawn(async move {
            probe(client, stopped, driver_ended).await;
            // No longer live (only this hold's own entry) before anyone hears it is lost.
            if let Ok(mut live) = live.lock() {
                if live.get(&owner) == Some(&generation) {
                    live.remove(&owner);
                }
            }
            let _ = lost_tx.send(true);
        });
        Ok(Some(InstanceHold::new(Box::new(stop), lost)))
    }
}

/// Probes the hold's connection until the hold is dropped (`stopped`), its connection ends
/// (`driver_ended`) or a probe fails; the connection closes when this returns.
async fn probe(
    client: Client,
    mut stopped: oneshot::Receiver<()>,
    mut driver_ended: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = &mut driver_ended => return,
            _ = tokio::time::sleep(PROBE_EVERY) => {}
        }
        let alive = tokio::time::timeout(PROBE_TIMEOUT, client.simple_query("SELECT 1")).await;
        if !matches!(alive, Ok(Ok(_))) {
            return;
        }
    }
}
