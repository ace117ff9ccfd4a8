//! The PostgreSQL side of [`crate::store::InstanceHold`]: a session-level advisory lock on a
//! connection of its own (not a pooled one: the pool would hand the locked session to other
//! queries, and keep the lock after the hold is dropped).
//!
//! The hold is watched, not trusted: a connection cut silently (a NAT or firewall dropping
//! an idle flow, a partition) would otherwise look alive for hours while the server, having
//! ended the session, let another process take the id. So the connection runs `SELECT 1`
//! every [`PROBE_EVERY`] (within [`PROBE_TIMEOUT`]) and uses short TCP keepalives on both
//! ends; the first failure reports the hold lost. A process whose own earlier session still
//! holds the lock (the server has not noticed it is dead yet) recognizes it by its
//! `application_name`, which carries this process's token, and ends it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::rows;
use crate::store::{InstanceHold, StoreResult};

/// How often the hold's connection is probed.
pub(super) const PROBE_EVERY: Duration = Duration::from_secs(2);
/// How long a probe may take before the hold counts as lost.
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a connection of its own needs, and the holds this store has.
#[derive(Clone)]
pub(super) struct Direct {
    pub(super) config: Config,
    pub(super) tls: Option<MakeRustlsConnect>,
    /// This store's token in its holds' `application_name` (unique per store, so per process).
    pub(super) token: String,
    /// Ids this store holds now (neither dropped nor lost): never ended as stale.
    pub(super) live: Arc<Mutex<HashSet<String>>>,
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
        }
    }

    fn is_live(&self, owner: &str) -> bool {
        self.live.lock().map_or(true, |l| l.contains(owner))
    }
}

/// The lock's key: instance ids are per schema (tests and benchmarks share one database
/// through schemas), and advisory locks are per database.
const KEY: &str = "hashtextextended('toss-instance:' || current_schema() || ':' || $1, 0)";

impl Direct {
    /// The hold connection's settings: this process's `application_name`, and TCP keepalives
    /// short on both ends (the client's through libpq's settings, the server's through
    /// `tcp_keepalives_*`).
    fn hold_config(&self, application_name: &str) -> Config {
        let mut config = self.config.clone();
        let options = config
            .get_options()
            .map(|o| format!("{o} "))
            .unwrap_or_default();
        config
            .options(format!(
                "{options}-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 \
                 -c tcp_keepalives_count=3"
            ))
            .application_name(application_name)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .keepalives_interval(Duration::from_secs(2))
            .keepalives_retries(3);
        config
    }

    /// Opens a connection; its driver task reports through `lost` when it ends.
    async fn connect(
        &self,
        application_name: &str,
        lost: watch::Sender<bool>,
    ) -> StoreResult<Client> {
        let config = self.hold_config(application_name);
        match &self.tls {
            Some(tls) => {
                let (client, connection) =
                    config.connect(tls.clone()).await.map_err(rows::pg_err)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                    let _ = lost.send(true);
                });
                Ok(client)
            }
            None => {
                let (client, connection) = config.connect(NoTls).await.map_err(rows::pg_err)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                    let _ = lost.send(true);
                });
                Ok(client)
            }
        }
    }

    /// Takes `owner`'s advisory lock on a new connection; `None` while another session holds
    /// it. A stale session of this store's (one whose hold was lost) that still holds it is
    /// ended first.
    pub(super) async fn hold(&self, owner: &str) -> StoreResult<Option<InstanceHold>> {
        let application_name = format!("toss-relayer hold {}", self.token);
        let (lost_tx, lost) = watch::channel(false);
        let client = self.connect(&application_name, lost_tx.clone()).await?;
        let try_lock = format!("SELECT pg_try_advisory_lock({KEY})");
        let mut held: bool = client
            .query_one(&try_lock, &[&owner])
            .await
            .map_err(rows::pg_err)?
            .try_get(0)
            .map_err(rows::pg_err)?;
        if !held && !self.is_live(owner) {
            // Our own earlier session, cut off but not yet noticed by the server?
            let ended: i64 = client
                .query_one(
                    &format!(
                        "SELECT count(*) FROM (SELECT pg_terminate_backend(l.pid, 5000) \
                         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                         WHERE l.locktype = 'advisory' AND l.granted \
                         AND l.objid = ({KEY} & 4294967295)::oid \
                         AND l.classid = (({KEY} >> 32) & 4294967295)::oid \
                         AND a.application_name = $2 AND l.pid <> pg_backend_pid()) AS k"
                    ),
                    &[&owner, &application_name],
                )
                .await
                .map_err(rows::pg_err)?
                .try_get(0)
                .map_err(rows::pg_err)?;
            if ended > 0 {
                tracing::warn!(instance = %owner, "ended this process's own stale session holding its instance id");
                held = client
                    .query_one(&try_lock, &[&owner])
                    .await
                    .map_err(rows::pg_err)?
                    .try_get(0)
                    .map_err(rows::pg_err)?;
            }
        }
        if !held {
            // Dropping the client closes the connection.
            return Ok(None);
        }
        if let Ok(mut live) = self.live.lock() {
            live.insert(owner.to_owned());
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let (live, owner) = (self.live.clone(), owner.to_owned());
        tokio::spawn(async move {
            probe(client, stopped, lost_tx).await;
            if let Ok(mut live) = live.lock() {
                live.remove(&owner);
            }
        });
        Ok(Some(InstanceHold::new(Box::new(stop), lost)))
    }
}

/// Probes the hold's connection until the hold is dropped (`stopped`) or a probe fails (then
/// the hold is reported lost); the connection closes when this returns.
async fn probe(client: Client, mut stopped: oneshot::Receiver<()>, lost: watch::Sender<bool>) {
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = tokio::time::sleep(PROBE_EVERY) => {}
        }
        let alive = tokio::time::timeout(PROBE_TIMEOUT, client.simple_query("SELECT 1")).await;
        if !matches!(alive, Ok(Ok(_))) {
            let _ = lost.send(true);
            return;
        }
    }
}
