//! Read queries. They take any connection: a pooled reader or, inside a
//! write job, the writer's own connection.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Params, Row};

use super::rows::{self, u64_from_sql, AUDIT_COLUMNS, RECORD_COLUMNS, RECORD_FROM};
use crate::store::{AuditRow, BatchRecord, IntentId, IntentRecord, Status, StoreResult};

/// Runs `sql` and decodes every row with `f`.
fn collect<T, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(row)?);
    }
    Ok(out)
}

/// `?,?,?` with `n` placeholders.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// One intent by id.
pub(crate) fn get(conn: &Connection, id: &IntentId) -> StoreResult<Option<IntentRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE i.id = ?1");
    Ok(collect(conn, &sql, [&id[..]], rows::record)?.pop())
}

/// Intents in any of `statuses`, by seq, at most `limit`.
pub(crate) fn load_by_status(
    conn: &Connection,
    statuses: &[Status],
    limit: usize,
) -> StoreResult<Vec<IntentRecord>> {
    if statuses.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE s.status IN ({}) \
         ORDER BY i.seq LIMIT ?",
        placeholders(statuses.len())
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut params: Vec<rusqlite::types::Value> = statuses
        .iter()
        .map(|s| rusqlite::types::Value::Text(s.as_str().to_owned()))
        .collect();
    params.push(rusqlite::types::Value::Integer(limit));
    collect(conn, &sql, rusqlite::params_from_iter(params), rows::record)
}

/// Non-final intents on one nonce account, by seq.
pub(crate) fn pending_on_nonce(
    conn: &Connection,
    nonce_account: &[u8; 32],
) -> StoreResult<Vec<IntentRecord>> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE i.nonce_account = ?1 \
         AND s.status IN ('pending', 'queued', 'submitted') ORDER BY i.seq"
    );
    collect(conn, &sql, [&nonce_account[..]], rows::record)
}

/// Intent count per status, every status present.
pub(crate) fn counts(conn: &Connection) -> StoreResult<BTreeMap<Status, u64>> {
    let mut out: BTreeMap<Status, u64> = Status::ALL.into_iter().map(|s| (s, 0)).collect();
    let found = collect(
        conn,
        "SELECT status, COUNT(*) FROM intent_state GROUP BY status",
        [],
        |row| {
            let n: i64 = row.get(1)?;
            Ok((rows::status(row, 0)?, u64::try_from(n).unwrap_or(0)))
        },
    )?;
    out.extend(found);
    Ok(out)
}

/// Audit trail of one intent, oldest first.
pub(crate) fn audit(conn: &Connection, id: &IntentId) -> StoreResult<Vec<AuditRow>> {
    let sql = format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log \
         WHERE intent_seq = (SELECT seq FROM intents WHERE id = ?1) ORDER BY audit_id"
    );
    collect(conn, &sql, [&id[..]], rows::audit)
}

/// Every signature recorded for a batch, oldest first.
pub(crate) fn batch_signatures(conn: &Connection, batch_id: i64) -> StoreResult<Vec<String>> {
    collect(
        conn,
        "SELECT signature FROM batch_signatures WHERE batch_id = ?1 ORDER BY rowid",
        [batch_id],
        |row| Ok(row.get(0)?),
    )
}

pub(crate) const BATCH_COLUMNS: &str = "batch_id, signature, blockhash, \
    last_valid_block_height, state, created_at_ms, updated_at_ms, error, owner, lease_until_ms, \
    takeovers";

pub(crate) fn batch_row(row: &Row<'_>) -> StoreResult<BatchRecord> {
    let lvbh: Option<i64> = row.get(3)?;
    let takeovers: i64 = row.get(10)?;
    Ok(BatchRecord {
        batch_id: row.get(0)?,
        signature: row.get(1)?,
        intent_ids: Vec::new(),
        blockhash: row.get(2)?,
        last_valid_block_height: lvbh.map(u64_from_sql),
        state: rows::batch_state(row, 4)?,
        created_at_ms: row.get(5)?,
        updated_at_ms: row.get(6)?,
        error: row.get(7)?,
        owner: row.get(8)?,
        lease_until_ms: row.get(9)?,
        takeovers: u32::try_from(takeovers).unwrap_or(u32::MAX),
    })
}

pub(crate) fn fill_intents(conn: &Connection, batch: &mut BatchRecord) -> StoreResult<()> {
    batch.intent_ids = collect(
        conn,
        "SELECT intent_id FROM batch_intents WHERE batch_id = ?1 ORDER BY position",
        [batch.batch_id],
        |row| rows::blob32(row, 0, "batch intent id"),
    )?;
    Ok(())
}

/// One batch with its intents.
pub(crate) fn get_batch(conn: &Connection, batch_id: i64) -> StoreResult<Option<BatchRecord>> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM batches WHERE batch_id = ?1");
    let mut batch = collect(conn, &sql, [batch_id], batch_row)?.pop();
    if let Some(b) = batch.as_mut() {
        fill_intents(conn, b)?;
    }
    Ok(batch)
}

/// Batches still open or sent, oldest first.
pub(crate) fn unfinished_batches(conn: &Connection) -> StoreResult<Vec<BatchRecord>> {
    let sql = format!(
        "SELECT {BATCH_COLUMNS} FROM batches WHERE state IN ('open', 'sent') ORDER BY batch_id"
    );
    let mut batches = collect(conn, &sql, [], batch_row)?;
    for b in &mut batches {
        fill_intents(conn, b)?;
    }
    Ok(batches)
}

/// Arrival order (`seq`) and current status of one intent, if it exists.
pub(crate) fn current_status(
    conn: &Connection,
    id: &IntentId,
) -> StoreResult<Option<(i64, Status)>> {
    let found: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT s.seq, s.status FROM intents i JOIN intent_state s ON s.seq = i.seq \
             WHERE i.id = ?1",
        )?
        .query_row([&id[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    found
        .map(|(seq, s)| {
            s.parse()
                .map(|status| (seq, status))
                .map_err(|e| crate::store::StoreError::Corrupt(format!("intent status: {e}")))
        })
        .transpose()
}
