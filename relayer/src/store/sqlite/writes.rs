//! Write operations. Each runs on the writer thread inside the group's
//! transaction (and its own savepoint), so it sees a consistent database and
//! is the only writer.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_ms;
use super::reads;
use super::rows::u64_to_sql;
use crate::store::{
    BatchState, InsertOutcome, IntentId, IntentRecord, NewIntent, Status, StoreError, StoreResult,
    Transition,
};

/// Stores new intents as pending; existing ids are returned unchanged.
pub(crate) fn insert_intents(
    conn: &Connection,
    intents: Vec<NewIntent>,
) -> StoreResult<Vec<InsertOutcome>> {
    let now = now_ms();
    let mut out = Vec::with_capacity(intents.len());
    // The writer is the only writer, so the next sequence number is read once per job.
    let mut seq: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM intents")?
        .query_row([], |r| r.get(0))?;
    for intent in intents {
        // Insert first and read back only on a conflict: almost every intent here is new
        // (intake answered the known ones from a read connection), so this saves a lookup
        // per intent while still settling a race between two requests for the same id.
        let inserted = conn
            .prepare_cached(
                "INSERT INTO intents (id, seq, signed, sender, nonce_account, nonce_value, \
                 expiry, amount, fee, kind, mint, received_at_ms, source) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                &intent.id[..],
                seq,
                &intent.signed,
                &intent.sender[..],
                &intent.nonce_account[..],
                &intent.nonce_value[..],
                intent.expiry,
                u64_to_sql(intent.amount),
                u64_to_sql(intent.fee),
                intent.kind,
                intent.mint.as_ref().map(|m| &m[..]),
                intent.received_at_ms,
                &intent.source,
            ])?;
        if inserted == 0 {
            let existing = reads::get(conn, &intent.id)?.ok_or_else(|| {
                StoreError::Internal("intent id conflicts but no record reads back".into())
            })?;
            out.push(InsertOutcome::Existing(existing));
            continue;
        }
        conn.prepare_cached(
            "INSERT INTO intent_state (seq, id, status, attempts, updated_at_ms, expiry) \
             VALUES (?1, ?2, ?3, 0, ?4, ?5)",
        )?
        .execute(params![
            seq,
            &intent.id[..],
            Status::Pending.as_str(),
            now,
            intent.expiry
        ])?;
        audit(
            conn,
            seq,
            &intent.id,
            None,
            Status::Pending,
            None,
            None,
            &intent.source,
            now,
        )?;
        out.push(InsertOutcome::Inserted(IntentRecord {
            intent,
            status: Status::Pending,
            reason: None,
            signature: None,
            slot: None,
            batch_id: None,
            attempts: 0,
            updated_at_ms: now,
            seq,
        }));
        seq += 1;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn audit(
    conn: &Connection,
    seq: i64,
    id: &IntentId,
    from: Option<Status>,
    to: Status,
    reason: Option<&str>,
    signature: Option<&str>,
    actor: &str,
    at_ms: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (intent_seq, intent_id, from_status, to_status, reason, \
         signature, actor, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        seq,
        &id[..],
        from.map(Status::as_str),
        to.as_str(),
        reason,
        signature,
        actor,
        at_ms
    ])?;
    Ok(())
}

/// Applies one transition if the rules allow it; returns whether it applied.
fn apply_one(conn: &Connection, t: &Transition, now: i64) -> StoreResult<bool> {
    let Some((seq, from)) = reads::current_status(conn, &t.id)? else {
        return Ok(false);
    };
    if !from.can_transition_to(t.to) {
        return Ok(false);
    }
    // Compare-and-set on the status read above.
    let changed = conn
        .prepare_cached(
            "UPDATE intent_state SET status = ?1, reason = ?2, \
             signature = COALESCE(?3, signature), slot = COALESCE(?4, slot), \
             batch_id = COALESCE(?5, batch_id), attempts = MIN(attempts + ?6, 4294967295), \
             updated_at_ms = ?7 WHERE seq = ?8 AND status = ?9",
        )?
        .execute(params![
            t.to.as_str(),
            t.reason,
            t.signature,
            t.slot.map(u64_to_sql),
            t.batch_id,
            i64::from(t.bump_attempts),
            now,
            seq,
            from.as_str(),
        ])?;
    if changed != 1 {
        return Ok(false);
    }
    audit(
        conn,
        seq,
        &t.id,
        Some(from),
        t.to,
        t.reason.as_deref(),
        t.signature.as_deref(),
        &t.actor,
        now,
    )?;
    Ok(true)
}

/// Applies transitions in order.
pub(crate) fn apply(conn: &Connection, transitions: &[Transition]) -> StoreResult<Vec<bool>> {
    let now = now_ms();
    transitions
        .iter()
        .map(|t| apply_one(conn, t, now))
        .collect()
}

/// Expires every pending or queued intent whose expiry is before `now_unix`.
pub(crate) fn expire_due(
    conn: &Connection,
    now_unix: i64,
    actor: &str,
) -> StoreResult<Vec<IntentId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id FROM intent_state s INDEXED BY intent_state_open_expiry \
         JOIN intents i ON i.seq = s.seq \
         WHERE s.status IN ('pending', 'queued') AND s.expiry < ?1 ORDER BY s.expiry",
    )?;
    let mut rows = stmt.query([now_unix])?;
    let mut due = Vec::new();
    while let Some(row) = rows.next()? {
        due.push(super::rows::blob32(row, 0, "intent id")?);
    }
    drop(rows);
    let now = now_ms();
    let mut expired = Vec::with_capacity(due.len());
    for id in due {
        let t = Transition::new(id, Status::Expired, actor.to_owned()).reason("expiry passed");
        if apply_one(conn, &t, now)? {
            expired.push(id);
        }
    }
    Ok(expired)
}

/// Creates an open batch of existing intents.
pub(crate) fn create_batch(conn: &Connection, intent_ids: &[IntentId]) -> StoreResult<i64> {
    if intent_ids.is_empty() {
        return Err(StoreError::InvalidInput(
            "a batch needs at least one intent".into(),
        ));
    }
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO batches (state, created_at_ms, updated_at_ms) VALUES ('open', ?1, ?1)",
    )?
    .execute([now])?;
    let batch_id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO batch_intents (batch_id, position, intent_id) VALUES (?1, ?2, ?3)",
    )?;
    for (pos, id) in intent_ids.iter().enumerate() {
        let pos =
            i64::try_from(pos).map_err(|_| StoreError::InvalidInput("batch too large".into()))?;
        stmt.execute(params![batch_id, pos, &id[..]])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::InvalidInput(format!(
                        "batch intent {} is unknown or listed twice",
                        hex::encode(id)
                    ))
                }
                other => other.into(),
            })?;
    }
    Ok(batch_id)
}

/// Creates one batch per group and queues its intents in it; the caller's job savepoint
/// makes the whole call atomic.
pub(crate) fn open_batches(
    conn: &Connection,
    groups: &[Vec<IntentId>],
    actor: &'static str,
) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(groups.len());
    for group in groups {
        let batch_id = create_batch(conn, group)?;
        let queued: Vec<Transition> = group
            .iter()
            .map(|id| Transition::new(*id, Status::Queued, actor).batch(batch_id))
            .collect();
        apply(conn, &queued)?;
        ids.push(batch_id);
    }
    Ok(ids)
}

/// Records a (re-)send of a batch and keeps the signature in its history.
pub(crate) fn mark_batch_sent(
    conn: &Connection,
    batch_id: i64,
    signature: &str,
    blockhash: &str,
    last_valid_block_height: u64,
) -> StoreResult<bool> {
    let owner: Option<i64> = conn
        .prepare_cached("SELECT batch_id FROM batch_signatures WHERE signature = ?1")?
        .query_row([signature], |r| r.get(0))
        .optional()?;
    if owner.is_some_and(|b| b != batch_id) {
        return Err(StoreError::InvalidInput(format!(
            "signature {signature} already belongs to another batch"
        )));
    }
    let now = now_ms();
    let lvbh = u64_to_sql(last_valid_block_height);
    let changed = conn
        .prepare_cached(
            "UPDATE batches SET state = 'sent', signature = ?1, blockhash = ?2, \
             last_valid_block_height = ?3, updated_at_ms = ?4 \
             WHERE batch_id = ?5 AND state IN ('open', 'sent')",
        )?
        .execute(params![signature, blockhash, lvbh, now, batch_id])?;
    if changed != 1 {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO batch_signatures (signature, batch_id, blockhash, last_valid_block_height, \
         sent_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (signature) DO NOTHING",
    )?
    .execute(params![signature, batch_id, blockhash, lvbh, now])?;
    Ok(true)
}

/// Moves an unfinished batch to a final state.
pub(crate) fn finish_batch(
    conn: &Connection,
    batch_id: i64,
    state: BatchState,
    error: Option<&str>,
) -> StoreResult<bool> {
    if !state.is_final() {
        return Err(StoreError::InvalidInput(format!(
            "finish_batch needs a final state, got {state}"
        )));
    }
    let changed = conn
        .prepare_cached(
            "UPDATE batches SET state = ?1, error = ?2, updated_at_ms = ?3 \
             WHERE batch_id = ?4 AND state IN ('open', 'sent')",
        )?
        .execute(params![state.as_str(), error, now_ms(), batch_id])?;
    Ok(changed == 1)
}
