//! Numbered schema migrations and the runner that applies them.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction together with
//! the row recording it in `schema_migrations`, so a crash never leaves a
//! half-applied migration behind and two processes cannot apply one twice.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::StoreError;

/// One schema migration, embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version number; applied in increasing order.
    pub version: i64,
    /// Name, matching the file name without `.sql`.
    pub name: &'static str,
    /// The SQL script.
    pub sql: &'static str,
}

/// Every migration, in the order it must be applied.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_open_expiry",
        sql: include_str!("../../migrations/0002_open_expiry.sql"),
    },
    Migration {
        version: 3,
        name: "0003_seq_keys",
        sql: include_str!("../../migrations/0003_seq_keys.sql"),
    },
    Migration {
        version: 4,
        name: "0004_leases",
        sql: include_str!("../../migrations/0004_leases.sql"),
    },
];

fn mig_err(version: i64, e: rusqlite::Error) -> StoreError {
    StoreError::Migration(format!("version {version}: {e}"))
}

/// Applies every migration not yet recorded, returning the versions applied now.
///
/// Fails if the database records a version this binary does not know
/// (it was written by a newer relayer).
pub(crate) fn migrate(conn: &mut Connection) -> Result<Vec<i64>, StoreError> {
    migrate_with(conn, MIGRATIONS)
}

pub(crate) fn migrate_with(
    conn: &mut Connection,
    migrations: &[Migration],
) -> Result<Vec<i64>, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version        INTEGER PRIMARY KEY,
             name           TEXT    NOT NULL,
             applied_at_ms  INTEGER NOT NULL
         )",
    )
    .map_err(|e| mig_err(0, e))?;

    let known_max = migrations.iter().map(|m| m.version).max().unwrap_or(0);
    let db_max: Option<i64> = conn
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .map_err(|e| mig_err(0, e))?;
    if let Some(v) = db_max.filter(|v| *v > known_max) {
        return Err(StoreError::Migration(format!(
            "database is at schema version {v}, newer than the {known_max} this binary knows"
        )));
    }

    let mut applied = Vec::new();
    let mut last = 0;
    for m in migrations {
        if m.version <= last {
            return Err(StoreError::Migration(format!(
                "migration {} is out of order",
                m.name
            )));
        }
        last = m.version;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| mig_err(m.version, e))?;
        let done = tx
            .query_row(
                "SELECT 1 FROM schema_migrations WHERE version = ?1",
                [m.version],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| mig_err(m.version, e))?
            .is_some();
        if done {
            continue;
        }
        tx.execute_batch(m.sql).map_err(|e| mig_err(m.version, e))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.name, crate::now_ms()],
        )
        .map_err(|e| mig_err(m.version, e))?;
        tx.commit().map_err(|e| mig_err(m.version, e))?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied schema migration"
        );
        applied.push(m.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_once_in_order() -> Result<(), StoreError> {
        let mut conn = Connection::open_in_memory().map_err(|e| mig_err(0, e))?;
        assert_eq!(migrate(&mut conn)?, vec![1, 2, 3, 4]);
        assert_eq!(migrate(&mut conn)?, Vec::<i64>::new());
        let extra = [
            MIGRATIONS[0],
            MIGRATIONS[1],
            MIGRATIONS[2],
            MIGRATIONS[3],
            Migration {
                version: 5,
                name: "0005_test",
                sql: "CREATE TABLE t5 (x INTEGER);",
            },
        ];
        assert_eq!(migrate_with(&mut conn, &extra)?, vec![5]);
        // A binary that only knows versions 1 to 4 refuses the newer database.
        assert!(matches!(migrate(&mut conn), Err(StoreError::Migration(_))));
        Ok(())
    }

    #[test]
    fn open_expiry_is_backfilled_from_the_intent_log() -> Result<(), StoreError> {
        let mut conn = Connection::open_in_memory().map_err(|e| mig_err(0, e))?;
        migrate_with(&mut conn, &MIGRATIONS[..1])?;
        conn.execute_batch(
            "INSERT INTO intents (id, seq, signed, sender, nonce_account, nonce_value, expiry, \
             amount, fee, kind, received_at_ms, source) VALUES \
             (zeroblob(32), 1, x'00', zeroblob(32), zeroblob(32), zeroblob(32), 1234, 1, 0, 0, \
             0, 'test'); \
             INSERT INTO intent_state (id, status, updated_at_ms) VALUES (zeroblob(32), \
             'pending', 0);",
        )
        .map_err(|e| mig_err(1, e))?;
        assert_eq!(migrate_with(&mut conn, &MIGRATIONS[..2])?, vec![2]);
        let expiry: i64 = conn
            .query_row("SELECT expiry FROM intent_state", [], |r| r.get(0))
            .map_err(|e| mig_err(2, e))?;
        assert_eq!(expiry, 1234);
        Ok(())
    }

    /// `(seq, id, status, signature, attempts, expiry)` of an `intent_state` row.
    type StateRow = (i64, Vec<u8>, String, Option<String>, i64, i64);

    #[test]
    fn seq_keys_carry_state_and_audit_over() -> Result<(), StoreError> {
        let mut conn = Connection::open_in_memory().map_err(|e| mig_err(0, e))?;
        migrate_with(&mut conn, &MIGRATIONS[..2])?;
        conn.execute_batch(
            "INSERT INTO intents (id, seq, signed, sender, nonce_account, nonce_value, expiry, \
             amount, fee, kind, received_at_ms, source) VALUES \
             (x'0100000000000000000000000000000000000000000000000000000000000000', 7, x'00', zeroblob(32), zeroblob(32), zeroblob(32), 50, \
             1, 0, 0, 0, 'a'), \
             (x'0200000000000000000000000000000000000000000000000000000000000000', 9, x'00', zeroblob(32), zeroblob(32), zeroblob(32), 60, \
             1, 0, 0, 0, 'b'); \
             INSERT INTO intent_state (id, status, signature, attempts, updated_at_ms, expiry) \
             VALUES (x'0100000000000000000000000000000000000000000000000000000000000000', 'submitted', 'sig', 2, 5, 50), \
             (x'0200000000000000000000000000000000000000000000000000000000000000', 'pending', NULL, 0, 6, 60); \
             INSERT INTO audit_log (intent_id, from_status, to_status, actor, at_ms) VALUES \
             (x'0100000000000000000000000000000000000000000000000000000000000000', NULL, 'pending', 'http', 1), \
             (x'0200000000000000000000000000000000000000000000000000000000000000', NULL, 'pending', 'http', 2), \
             (x'0100000000000000000000000000000000000000000000000000000000000000', 'pending', 'submitted', 'submitter', 3);",
        )
        .map_err(|e| mig_err(2, e))?;
        assert_eq!(migrate(&mut conn)?, vec![3, 4]);
        let state: Vec<StateRow> = {
            let mut stmt = conn
                .prepare(
                    "SELECT seq, id, status, signature, attempts, expiry FROM intent_state \
                     ORDER BY seq",
                )
                .map_err(|e| mig_err(3, e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })
                .map_err(|e| mig_err(3, e))?;
            rows.collect::<Result<_, _>>().map_err(|e| mig_err(3, e))?
        };
        let mut one = vec![1u8];
        one.resize(32, 0);
        let mut two = vec![2u8];
        two.resize(32, 0);
        assert_eq!(
            state,
            vec![
                (7, one, "submitted".into(), Some("sig".into()), 2, 50),
                (9, two, "pending".into(), None, 0, 60),
            ]
        );
        let audit: Vec<(i64, i64, String)> = {
            let mut stmt = conn
                .prepare("SELECT audit_id, intent_seq, to_status FROM audit_log ORDER BY audit_id")
                .map_err(|e| mig_err(3, e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| mig_err(3, e))?;
            rows.collect::<Result<_, _>>().map_err(|e| mig_err(3, e))?
        };
        assert_eq!(
            audit,
            vec![
                (1, 7, "pending".into()),
                (2, 9, "pending".into()),
                (3, 7, "submitted".into()),
            ]
        );
        // The audit ids go on after the carried-over rows.
        conn.execute(
            "INSERT INTO audit_log (intent_seq, intent_id, to_status, actor, at_ms) \
             VALUES (9, x'0200000000000000000000000000000000000000000000000000000000000000', 'queued', 'batcher', 4)",
            [],
        )
        .map_err(|e| mig_err(3, e))?;
        assert_eq!(conn.last_insert_rowid(), 4);
        Ok(())
    }

    #[test]
    fn failed_migration_leaves_nothing() -> Result<(), StoreError> {
        let mut conn = Connection::open_in_memory().map_err(|e| mig_err(0, e))?;
        let bad = [Migration {
            version: 1,
            name: "0001_bad",
            sql: "CREATE TABLE ok (x INTEGER); THIS IS NOT SQL;",
        }];
        assert!(migrate_with(&mut conn, &bad).is_err());
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('ok')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| mig_err(0, e))?;
        assert_eq!(tables, 0);
        Ok(())
    }
}
