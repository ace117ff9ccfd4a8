//! Encoding of values for SQLite and decoding of rows into records.

use rusqlite::Row;

use crate::store::{
    AuditRow, BatchState, IntentId, IntentRecord, NewIntent, Status, StoreError, StoreResult,
};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
}

/// Stores a `u64` in an SQLite INTEGER by bit cast (exact round trip).
pub(crate) fn u64_to_sql(v: u64) -> i64 {
    i64::from_ne_bytes(v.to_ne_bytes())
}

/// Inverse of [`u64_to_sql`].
pub(crate) fn u64_from_sql(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

/// Reads a 32-byte BLOB column.
pub(crate) fn blob32(row: &Row<'_>, idx: usize, what: &str) -> StoreResult<[u8; 32]> {
    let v: Vec<u8> = row.get(idx)?;
    let len = v.len();
    v.try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} has {len} bytes, expected 32")))
}

fn opt_blob32(row: &Row<'_>, idx: usize, what: &str) -> StoreResult<Option<[u8; 32]>> {
    let v: Option<Vec<u8>> = row.get(idx)?;
    v.map(|v| {
        let len = v.len();
        v.try_into()
            .map_err(|_| StoreError::Corrupt(format!("{what} has {len} bytes, expected 32")))
    })
    .transpose()
}

/// Parses a status column.
pub(crate) fn status(row: &Row<'_>, idx: usize) -> StoreResult<Status> {
    let s: String = row.get(idx)?;
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("intent status: {e}")))
}

/// Parses a batch state column.
pub(crate) fn batch_state(row: &Row<'_>, idx: usize) -> StoreResult<BatchState> {
    let s: String = row.get(idx)?;
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("batch state: {e}")))
}

/// Columns selected by [`record`], for `FROM intents i JOIN intent_state s`.
pub(crate) const RECORD_COLUMNS: &str = "i.id, i.signed, i.sender, i.nonce_account, \
    i.nonce_value, i.expiry, i.amount, i.fee, i.kind, i.mint, i.received_at_ms, i.source, \
    s.status, s.reason, s.signature, s.slot, s.batch_id, s.attempts, s.updated_at_ms, i.seq";

/// The join every record query uses.
pub(crate) const RECORD_FROM: &str = "intents i JOIN intent_state s ON s.seq = i.seq";

/// Decodes a row selected with [`RECORD_COLUMNS`].
pub(crate) fn record(row: &Row<'_>) -> StoreResult<IntentRecord> {
    let id = blob32(row, 0, "intent id")?;
    let ctx = |e: StoreError| match e {
        StoreError::Corrupt(m) => StoreError::Corrupt(format!("intent {}: {m}", hex::encode(id))),
        other => other,
    };
    decode_record(id, row).map_err(ctx)
}

fn decode_record(id: IntentId, row: &Row<'_>) -> StoreResult<IntentRecord> {
    let kind: i64 = row.get(8)?;
    let attempts: i64 = row.get(17)?;
    let slot: Option<i64> = row.get(15)?;
    Ok(IntentRecord {
        intent: NewIntent {
            id,
            signed: row.get(1)?,
            sender: blob32(row, 2, "sender")?,
            nonce_account: blob32(row, 3, "nonce_account")?,
            nonce_value: blob32(row, 4, "nonce_value")?,
            expiry: row.get(5)?,
            amount: u64_from_sql(row.get(6)?),
            fee: u64_from_sql(row.get(7)?),
            kind: u8::try_from(kind)
                .ok()
                .and_then(crate::store::IntentKind::from_code)
                .ok_or_else(|| StoreError::Corrupt(format!("kind {kind} out of range")))?,
            mint: opt_blob32(row, 9, "mint")?,
            received_at_ms: row.get(10)?,
            source: row.get(11)?,
        },
        status: status(row, 12)?,
        reason: row.get(13)?,
        signature: row.get(14)?,
        slot: slot.map(u64_from_sql),
        batch_id: row.get(16)?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("attempts {attempts} out of range")))?,
        updated_at_ms: row.get(18)?,
        seq: row.get(19)?,
    })
}

/// Columns selected by [`audit`].
pub(crate) const AUDIT_COLUMNS: &str =
    "audit_id, intent_id, from_status, to_status, reason, signature, actor, at_ms";

/// Decodes a row selected with [`AUDIT_COLUMNS`].
pub(crate) fn audit(row: &Row<'_>) -> StoreResult<AuditRow> {
    let from: Option<String> = row.get(2)?;
    let from = from
        .map(|s| s.parse::<Status>())
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("audit from_status: {e}")))?;
    Ok(AuditRow {
        audit_id: row.get(0)?,
        intent_id: blob32(row, 1, "audit intent id")?,
        from,
        to: status(row, 3)?,
        reason: row.get(4)?,
        signature: row.get(5)?,
        actor: row.get(6)?,
        at_ms: row.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_bit_cast_round_trips() {
        for v in [0, 1, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            assert_eq!(u64_from_sql(u64_to_sql(v)), v);
        }
        assert_eq!(u64_to_sql(42), 42);
    }
}
