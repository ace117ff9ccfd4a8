//! PostgreSQL schema migrations (`relayer/migrations/postgres/`) and their runner.
//!
//! The same contract as the SQLite runner: numbered scripts, each applied in its own
//! transaction together with the row recording it in `schema_migrations`, refusing a database
//! newer than this binary. Several instances may start at once against one database: the
//! runner holds a transaction-scoped advisory lock, so exactly one applies each migration and
//! the others see it applied.

use tokio_postgres::Client;

use super::rows::pg_err;
use crate::store::{Migration, StoreError};

/// Every PostgreSQL migration, in the order it must be applied.
pub const PG_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_init",
    sql: include_str!("../../../migrations/postgres/0001_init.sql"),
}];

/// Advisory lock key serializing migration runners ("TOSSMIGR").
const MIGRATION_LOCK: i64 = 0x544F_5353_4D49_4752;

fn mig_err(version: i64, e: impl std::fmt::Display) -> StoreError {
    StoreError::Migration(format!("version {version}: {e}"))
}

/// Applies every migration not yet recorded; returns the versions applied now.
pub(crate) async fn migrate(client: &mut Client) -> Result<Vec<i64>, StoreError> {
    migrate_with(client, PG_MIGRATIONS).await
}

pub(crate) async fn migrate_with(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<Vec<i64>, StoreError> {
    let mut applied = Vec::new();
    let mut tx = client.transaction().await.map_err(pg_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version        BIGINT PRIMARY KEY,
             name           TEXT   NOT NULL,
             applied_at_ms  BIGINT NOT NULL
         )",
    )
    .await
    .map_err(|e| mig_err(0, e))?;
    let known_max = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    let db_max: Option<i64> = tx
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])
        .await
        .map_err(|e| mig_err(0, e))?
        .get(0);
    if let Some(v) = db_max.filter(|v| *v > known_max) {
        return Err(StoreError::Migration(format!(
            "database is at schema version {v}, newer than the {known_max} this binary knows"
        )));
    }
    let mut last = 0;
    for m in migrations {
        if m.version <= last {
            return Err(StoreError::Migration(format!(
                "migration {} is out of order",
                m.name
            )));
        }
        last = m.version;
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&m.version],
            )
            .await
            .map_err(|e| mig_err(m.version, e))?
            .is_some();
        if done {
            continue;
        }
        // One savepoint per script: a failing script leaves nothing of itself behind.
        let sp = tx.savepoint("migration").await.map_err(pg_err)?;
        sp.batch_execute(m.sql)
            .await
            .map_err(|e| mig_err(m.version, e))?;
        sp.execute(
            "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &crate::now_ms()],
        )
        .await
        .map_err(|e| mig_err(m.version, e))?;
        sp.commit().await.map_err(|e| mig_err(m.version, e))?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied postgres schema migration"
        );
        applied.push(m.version);
    }
    tx.commit().await.map_err(pg_err)?;
    Ok(applied)
}
