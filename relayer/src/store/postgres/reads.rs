//! Read queries. They take any client: a pooled connection or, inside a write, its
//! transaction.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::rows::{self, pg_err, AUDIT_COLUMNS, BATCH_COLUMNS, RECORD_COLUMNS, RECORD_FROM};
use crate::store::{AuditRow, BatchRecord, IntentId, IntentRecord, Status, StoreResult};

/// Runs `sql` (a cached prepared statement) and returns its rows.
pub(crate) async fn rows<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(pg_err)?;
    c.query(&stmt, params).await.map_err(pg_err)
}

/// Runs `sql` (a cached prepared statement) and returns the rows it changed.
pub(crate) async fn exec<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<u64> {
    let stmt = c.prepare_cached(sql).await.map_err(pg_err)?;
    c.execute(&stmt, params).await.map_err(pg_err)
}

/// The lookup behind [`get_many`] (intake's idempotency check: one call per intake group).
pub(crate) fn get_many_sql() -> String {
    format!("SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE i.id = ANY($1)")
}

/// Several intents by id, in input order.
pub(crate) async fn get_many<C: GenericClient>(
    c: &C,
    ids: &[IntentId],
) -> StoreResult<Vec<Option<IntentRecord>>> {
    let keys: Vec<&[u8]> = ids.iter().map(|id| &id[..]).collect();
    let sql = get_many_sql();
    let mut found: std::collections::HashMap<IntentId, IntentRecord> = rows(c, &sql, &[&keys])
        .await?
        .iter()
        .map(|r| rows::record(r).map(|rec| (rec.id, rec)))
        .collect::<StoreResult<_>>()?;
    // An id listed twice gets the record twice (the last copy moves it out).
    let mut left: std::collections::HashMap<IntentId, usize> =
        std::collections::HashMap::with_capacity(ids.len());
    for id in ids {
        *left.entry(*id).or_default() += 1;
    }
    Ok(ids
        .iter()
        .map(|id| {
            let n = left.entry(*id).or_default();
            *n = n.saturating_sub(1);
            if *n > 0 {
                found.get(id).cloned()
            } else {
                found.remove(id)
            }
        })
        .collect())
}

/// Intents in any of `statuses`, by seq, at most `limit`.
pub(crate) async fn load_by_status<C: GenericClient>(
    c: &C,
    statuses: &[Status],
    limit: usize,
) -> StoreResult<Vec<IntentRecord>> {
    if statuses.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE s.status = ANY($1) \
         ORDER BY s.seq LIMIT $2"
    );
    rows(c, &sql, &[&names, &limit])
        .await?
        .iter()
        .map(rows::record)
        .collect()
}

/// Non-final intents on each nonce account, by seq.
pub(crate) async fn pending_on_nonces<C: GenericClient>(
    c: &C,
    nonce_accounts: &[[u8; 32]],
) -> StoreResult<Vec<Vec<IntentRecord>>> {
    let keys: Vec<&[u8]> = nonce_accounts.iter().map(|n| &n[..]).collect();
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE s.nonce_account = ANY($1) \
         AND s.status IN ('pending', 'queued', 'submitted') ORDER BY s.seq"
    );
    let found: Vec<IntentRecord> = rows(c, &sql, &[&keys])
        .await?
        .iter()
        .map(rows::record)
        .collect::<StoreResult<_>>()?;
    Ok(nonce_accounts
        .iter()
        .map(|n| {
            found
                .iter()
                .filter(|r| r.nonce_account == *n)
                .cloned()
                .collect()
        })
        .collect())
}

/// Intent count per status, every status present.
pub(crate) async fn counts<C: GenericClient>(c: &C) -> StoreResult<BTreeMap<Status, u64>> {
    let mut out: BTreeMap<Status, u64> = Status::ALL.into_iter().map(|s| (s, 0)).collect();
    for row in rows(
        c,
        "SELECT status, COUNT(*) FROM intent_state GROUP BY status",
        &[],
    )
    .await?
    {
        let status: String = row.try_get(0).map_err(pg_err)?;
        let n: i64 = row.try_get(1).map_err(pg_err)?;
        let status = status
            .parse::<Status>()
            .map_err(|e| crate::store::StoreError::Corrupt(format!("intent status: {e}")))?;
        out.insert(status, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}

/// The audit trail of one intent, oldest first.
pub(crate) async fn audit<C: GenericClient>(c: &C, id: &IntentId) -> StoreResult<Vec<AuditRow>> {
    let sql = format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log \
         WHERE intent_seq = (SELECT seq FROM intents WHERE id = $1) ORDER BY audit_id"
    );
    rows(c, &sql, &[&&id[..]])
        .await?
        .iter()
        .map(rows::audit)
        .collect()
}

/// Every signature of a batch, in sending order.
pub(crate) async fn batch_signatures<C: GenericClient>(
    c: &C,
    batch_id: i64,
) -> StoreResult<Vec<String>> {
    rows(
        c,
        "SELECT signature FROM batch_signatures WHERE batch_id = $1 ORDER BY sent_order",
        &[&batch_id],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0).map_err(pg_err))
    .collect()
}

/// Fills each batch's intent ids, in transaction order.
pub(crate) async fn fill_intents<C: GenericClient>(
    c: &C,
    batches: &mut [BatchRecord],
) -> StoreResult<()> {
    if batches.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = batches.iter().map(|b| b.batch_id).collect();
    let found = rows(
        c,
        "SELECT batch_id, intent_id FROM batch_intents WHERE batch_id = ANY($1) \
         ORDER BY batch_id, position",
        &[&ids],
    )
    .await?;
    for row in &found {
        let batch_id: i64 = row.try_get(0).map_err(pg_err)?;
        let id = rows::blob32(row, 1, "batch intent id")?;
        if let Some(b) = batches.iter_mut().find(|b| b.batch_id == batch_id) {
            b.intent_ids.push(id);
        }
    }
    Ok(())
}

/// Batches matching `filter` (an SQL condition on `batches` with `params`), with intents.
pub(crate) async fn batches_where<C: GenericClient>(
    c: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<BatchRecord>> {
    let sql = format!("SELECT {BATCH_COLUMNS} FROM batches WHERE {filter} ORDER BY batch_id");
    let mut batches: Vec<BatchRecord> = rows(c, &sql, params)
        .await?
        .iter()
        .map(rows::batch)
        .collect::<StoreResult<_>>()?;
    fill_intents(c, &mut batches).await?;
    Ok(batches)
}
