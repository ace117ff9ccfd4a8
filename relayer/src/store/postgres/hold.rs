//! The PostgreSQL side of [`crate::store::InstanceHold`]: a session-level advisory lock on a
//! connection of its own (not a pooled one: the pool would hand the locked session to other
//! queries, and keep the lock after the hold is dropped).

use tokio::sync::watch;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::rows;
use crate::store::{InstanceHold, StoreResult};

/// What a connection of its own needs.
#[derive(Clone)]
pub(super) struct Direct {
    pub(super) config: Config,
    pub(super) tls: Option<MakeRustlsConnect>,
}

/// The lock's key: instance ids are per schema (tests and benchmarks share one database
/// through schemas), and advisory locks are per database.
const TRY_LOCK: &str = "SELECT pg_try_advisory_lock(\
     hashtextextended('toss-instance:' || current_schema() || ':' || $1, 0))";

impl Direct {
    /// Opens a connection; its driver task reports through `lost` when it ends.
    async fn connect(&self, lost: watch::Sender<bool>) -> StoreResult<Client> {
        match &self.tls {
            Some(tls) => {
                let (client, connection) = self
                    .config
                    .connect(tls.clone())
                    .await
                    .map_err(rows::pg_err)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                    let _ = lost.send(true);
                });
                Ok(client)
            }
            None => {
                let (client, connection) =
                    self.config.connect(NoTls).await.map_err(rows::pg_err)?;
                tokio::spawn(async move {
                    let _ = connection.await;
                    let _ = lost.send(true);
                });
                Ok(client)
            }
        }
    }

    /// Takes `owner`'s advisory lock on a new connection; `None` while another session holds
    /// it.
    pub(super) async fn hold(&self, owner: &str) -> StoreResult<Option<InstanceHold>> {
        let (lost_tx, lost) = watch::channel(false);
        let client = self.connect(lost_tx).await?;
        let row = client
            .query_one(TRY_LOCK, &[&owner])
            .await
            .map_err(rows::pg_err)?;
        let held: bool = row.try_get(0).map_err(rows::pg_err)?;
        // Not held: dropping the client closes the connection.
        Ok(held.then(|| InstanceHold::new(Box::new(client), lost)))
    }
}
