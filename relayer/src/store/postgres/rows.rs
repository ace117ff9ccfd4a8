//! Encoding of values for PostgreSQL, decoding of rows into records, and error mapping.

use tokio_postgres::error::SqlState;
use tokio_postgres::Row;

use crate::store::{
    AuditRow, BatchRecord, IntentRecord, NewIntent, Status, StoreError, StoreResult,
};

/// Maps a driver error: a lost or refused connection is `Unavailable` (intake answers `503`),
/// a deadlock or serialization failure is `Conflict` (the call is retried), a constraint
/// violation is `InvalidInput`.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let msg = format!("{} ({})", db.message(), code.code());
        if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
        {
            return StoreError::Conflict(msg);
        }
        if code.code().starts_with("23") {
            return StoreError::InvalidInput(msg);
        }
        // Admin shutdown, crash shutdown, cannot connect now, too many connections.
        if code.code().starts_with("57P") || code.code().starts_with("08") || code.code() == "53300"
        {
            return StoreError::Unavailable(msg);
        }
        return StoreError::Postgres(msg);
    }
    // The driver's own text is terse ("error performing TLS handshake"): the causes say why.
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        msg.push_str(": ");
        msg.push_str(&c.to_string());
        cause = c.source();
    }
    if e.is_closed() || msg.contains("connection") {
        return StoreError::Unavailable(msg);
    }
    StoreError::Postgres(msg)
}

/// Maps a pool error: no connection could be had.
pub(crate) fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => match pg_err(e) {
            StoreError::Postgres(m) => StoreError::Unavailable(m),
            other => other,
        },
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Stores a `u64` in a BIGINT by bit cast (exact round trip).
pub(crate) fn u64_to_sql(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

/// Inverse of [`u64_to_sql`].
pub(crate) fn u64_from_sql(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, idx: usize) -> StoreResult<T> {
    row.try_get(idx)
        .map_err(|e| StoreError::Corrupt(format!("column {idx}: {e}")))
}

fn bytes32(v: Vec<u8>, what: &str) -> StoreResult<[u8; 32]> {
    let len = v.len();
    v.try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} has {len} bytes, expected 32")))
}

/// Reads a 32-byte BYTEA column.
pub(crate) fn blob32(row: &Row, idx: usize, what: &str) -> StoreResult<[u8; 32]> {
    bytes32(get(row, idx)?, what)
}

fn status_of(s: String, what: &str) -> StoreResult<Status> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Columns selected by [`record`], for `FROM intents i JOIN intent_state s`.
pub(crate) const RECORD_COLUMNS: &str = "i.id, i.signed, i.sender, i.nonce_account, \
    i.nonce_value, i.expiry, i.amount, i.fee, i.kind, i.mint, i.received_at_ms, i.source, \
    s.status, s.reason, s.signature, s.slot, s.batch_id, s.attempts, s.updated_at_ms, i.seq";

/// The join every record query uses.
pub(crate) const RECORD_FROM: &str = "intents i JOIN intent_state s ON s.seq = i.seq";

/// Decodes a row selected with [`RECORD_COLUMNS`].
pub(crate) fn record(row: &Row) -> StoreResult<IntentRecord> {
    let id = blob32(row, 0, "intent id")?;
    let kind: i16 = get(row, 8)?;
    let attempts: i64 = get(row, 17)?;
    let slot: Option<i64> = get(row, 15)?;
    let mint: Option<Vec<u8>> = get(row, 9)?;
    let corrupt = |e: StoreError| match e {
        StoreError::Corrupt(m) => StoreError::Corrupt(format!("intent {}: {m}", hex::encode(id))),
        other => other,
    };
    Ok(IntentRecord {
        intent: NewIntent {
            id,
            signed: get(row, 1)?,
            sender: blob32(row, 2, "sender").map_err(corrupt)?,
            nonce_account: blob32(row, 3, "nonce_account").map_err(corrupt)?,
            nonce_value: blob32(row, 4, "nonce_value").map_err(corrupt)?,
            expiry: get(row, 5)?,
            amount: u64_from_sql(get(row, 6)?),
            fee: u64_from_sql(get(row, 7)?),
            kind: u8::try_from(kind)
                .ok()
                .and_then(crate::store::IntentKind::from_code)
                .ok_or_else(|| StoreError::Corrupt(format!("kind {kind} out of range")))?,
            mint: mint
                .map(|m| bytes32(m, "mint"))
                .transpose()
                .map_err(corrupt)?,
            received_at_ms: get(row, 10)?,
            source: get(row, 11)?,
        },
        status: status_of(get(row, 12)?, "intent status").map_err(corrupt)?,
        reason: get(row, 13)?,
        signature: get(row, 14)?,
        slot: slot.map(u64_from_sql),
        batch_id: get(row, 16)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("attempts {attempts} out of range")))?,
        updated_at_ms: get(row, 18)?,
        seq: get(row, 19)?,
    })
}

/// Columns selected by [`audit`].
pub(crate) const AUDIT_COLUMNS: &str =
    "audit_id, intent_id, from_status, to_status, reason, signature, actor, at_ms";

/// Decodes a row selected with [`AUDIT_COLUMNS`].
pub(crate) fn audit(row: &Row) -> StoreResult<AuditRow> {
    let from: Option<String> = get(row, 2)?;
    Ok(AuditRow {
        audit_id: get(row, 0)?,
        intent_id: blob32(row, 1, "audit intent id")?,
        from: from
            .map(|s| status_of(s, "audit from_status"))
            .transpose()?,
        to: status_of(get(row, 3)?, "audit to_status")?,
        reason: get(row, 4)?,
        signature: get(row, 5)?,
        actor: get(row, 6)?,
        at_ms: get(row, 7)?,
    })
}

/// Columns selected by [`batch`].
pub(crate) const BATCH_COLUMNS: &str = "batch_id, signature, blockhash, \
    last_valid_block_height, state, created_at_ms, updated_at_ms, error, owner, lease_until_ms, \
    takeovers";

/// Decodes a row selected with [`BATCH_COLUMNS`] (intent ids left empty).
pub(crate) fn batch(row: &Row) -> StoreResult<BatchRecord> {
    let lvbh: Option<i64> = get(row, 3)?;
    let state: String = get(row, 4)?;
    let takeovers: i32 = get(row, 10)?;
    Ok(BatchRecord {
        batch_id: get(row, 0)?,
        signature: get(row, 1)?,
        intent_ids: Vec::new(),
        blockhash: get(row, 2)?,
        last_valid_block_height: lvbh.map(u64_from_sql),
        state: state
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("batch state: {e}")))?,
        created_at_ms: get(row, 5)?,
        updated_at_ms: get(row, 6)?,
        error: get(row, 7)?,
        owner: get(row, 8)?,
        lease_until_ms: get(row, 9)?,
        takeovers: u32::try_from(takeovers).unwrap_or(0),
    })
}
