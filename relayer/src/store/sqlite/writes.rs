//! Write operations. Each runs on the writer thread inside the group's
//! transaction (and its own savepoint), so it sees a consistent database and
//! is the only writer.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_ms;
use super::reads;
use super::rows::u64_to_sql;
use crate::store::{
    Actor, BatchRecord, BatchState, InsertOutcome, IntentId, IntentRecord, Lease, NewIntent,
    Status, StoreError, StoreResult, Transition,
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
                intent.kind.code(),
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
        t.actor.as_str(),
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

/// Expires every pending intent whose expiry is before `now_unix` (the partial index covers
/// `pending` and `queued`; a `queued` intent belongs to its batch's driver).
pub(crate) fn expire_due(
    conn: &Connection,
    now_unix: i64,
    actor: Actor,
) -> StoreResult<Vec<IntentId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id FROM intent_state s INDEXED BY intent_state_open_expiry \
         JOIN intents i ON i.seq = s.seq \
         WHERE s.status IN ('pending', 'queued') AND s.status = 'pending' AND s.expiry < ?1 \
         ORDER BY s.expiry",
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
        let t = Transition::new(id, Status::Expired, actor).reason("expiry passed");
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

/// Whether `id` may be claimed now: it is pending, the lowest-`seq` non-final intent on its
/// nonce account, and nothing on that nonce is in flight.
fn claimable(conn: &Connection, id: &IntentId) -> StoreResult<bool> {
    let Some((seq, status)) = reads::current_status(conn, id)? else {
        return Err(StoreError::InvalidInput(format!(
            "batch intent {} is unknown",
            hex::encode(id)
        )));
    };
    if status != Status::Pending {
        return Ok(false);
    }
    let blocked: Option<i64> = conn
        .prepare_cached(
            "SELECT o.seq FROM intents i JOIN intents o ON o.nonce_account = i.nonce_account \
             JOIN intent_state s ON s.seq = o.seq \
             WHERE i.seq = ?1 AND o.seq <> ?1 AND s.status IN ('pending', 'queued', 'submitted') \
             AND (s.status <> 'pending' OR o.seq < ?1) LIMIT 1",
        )?
        .query_row([seq], |r| r.get(0))
        .optional()?;
    Ok(blocked.is_none())
}

/// Claims each whole group into a batch leased to `lease.owner`; the caller's job savepoint
/// makes the whole call atomic.
pub(crate) fn open_batches(
    conn: &Connection,
    groups: &[Vec<IntentId>],
    actor: Actor,
    lease: &Lease,
) -> StoreResult<Vec<Option<i64>>> {
    let mut ids = Vec::with_capacity(groups.len());
    for group in groups {
        let mut ok = !group.is_empty();
        for id in group {
            // Every id is checked (unknown ids are an error even in a group already refused).
            ok &= claimable(conn, id)?;
        }
        if !ok {
            ids.push(None);
            continue;
        }
        let batch_id = create_batch(conn, group)?;
        conn.prepare_cached(
            "UPDATE batches SET owner = ?1, lease_until_ms = ?2 WHERE batch_id = ?3",
        )?
        .execute(params![
            lease.owner,
            now_ms().saturating_add(lease.ttl_ms),
            batch_id
        ])?;
        let queued: Vec<Transition> = group
            .iter()
            .map(|id| Transition::new(*id, Status::Queued, actor).batch(batch_id))
            .collect();
        apply(conn, &queued)?;
        ids.push(Some(batch_id));
    }
    Ok(ids)
}

/// Extends `lease` on the listed batches it holds; returns those renewed.
pub(crate) fn renew_leases(
    conn: &Connection,
    lease: &Lease,
    batch_ids: &[i64],
) -> StoreResult<Vec<i64>> {
    let until = now_ms().saturating_add(lease.ttl_ms);
    let mut stmt = conn.prepare_cached(
        "UPDATE batches SET lease_until_ms = ?1 \
         WHERE batch_id = ?2 AND owner = ?3 AND state IN ('open', 'sent')",
    )?;
    let mut renewed = Vec::with_capacity(batch_ids.len());
    for id in batch_ids {
        if stmt.execute(params![until, id, lease.owner])? == 1 {
            renewed.push(*id);
        }
    }
    Ok(renewed)
}

/// Ends `owner`'s leases on the listed batches now.
pub(crate) fn release_leases(conn: &Connection, owner: &str, batch_ids: &[i64]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE batches SET lease_until_ms = 0 WHERE batch_id = ?1 AND owner = ?2 \
         AND state IN ('open', 'sent')",
    )?;
    for id in batch_ids {
        stmt.execute(params![id, owner])?;
    }
    Ok(())
}

/// Takes over up to `limit` unfinished batches whose lease lapsed.
pub(crate) fn take_lapsed_batches(
    conn: &Connection,
    lease: &Lease,
    limit: usize,
) -> StoreResult<Vec<BatchRecord>> {
    let now = now_ms();
    let sql = format!(
        "SELECT {} FROM batches WHERE state IN ('open', 'sent') \
         AND (lease_until_ms IS NULL OR lease_until_ms < ?1) ORDER BY batch_id LIMIT ?2",
        reads::BATCH_COLUMNS
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut batches = Vec::new();
    {
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![now, limit])?;
        while let Some(row) = rows.next()? {
            batches.push(reads::batch_row(row)?);
        }
    }
    let until = now.saturating_add(lease.ttl_ms);
    for b in &mut batches {
        let other = b.owner.as_deref().is_some_and(|o| o != lease.owner);
        conn.prepare_cached(
            "UPDATE batches SET owner = ?1, lease_until_ms = ?2, takeovers = takeovers + ?3 \
             WHERE batch_id = ?4",
        )?
        .execute(params![lease.owner, until, i64::from(other), b.batch_id])?;
        b.owner = Some(lease.owner.clone());
        b.lease_until_ms = Some(until);
        b.takeovers = b.takeovers.saturating_add(u32::from(other));
        reads::fill_intents(conn, b)?;
    }
    Ok(batches)
}

/// Records a (re-)send of a batch and keeps the signature in its history.
pub(crate) fn mark_batch_sent(
    conn: &Connection,
    batch_id: i64,
    signature: &str,
    blockhash: &str,
    last_valid_block_height: u64,
    lease: &Lease,
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
    // Fenced by the lease: only its owner records (and so sends) a new signature.
    let changed = conn
        .prepare_cached(
            "UPDATE batches SET state = 'sent', signature = ?1, blockhash = ?2, \
             last_valid_block_height = ?3, updated_at_ms = ?4, lease_until_ms = ?5, owner = ?7 \
             WHERE batch_id = ?6 AND state IN ('open', 'sent') AND (owner = ?7 OR owner IS NULL)",
        )?
        .execute(params![
            signature,
            blockhash,
            lvbh,
            now,
            now.saturating_add(lease.ttl_ms),
            batch_id,
            lease.owner
        ])?;
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

/// Moves an unfinished batch to a final state; with `owner`, only a batch that instance owns.
pub(crate) fn finish_batch(
    conn: &Connection,
    batch_id: i64,
    state: BatchState,
    error: Option<&str>,
    owner: Option<&str>,
) -> StoreResult<bool> {
    if !state.is_final() {
        return Err(StoreError::InvalidInput(format!(
            "finish_batch needs a final state, got {state}"
        )));
    }
    let changed = conn
        .prepare_cached(
            "UPDATE batches SET state = ?1, error = ?2, updated_at_ms = ?3 \
             WHERE batch_id = ?4 AND state IN ('open', 'sent') AND (?5 IS NULL OR owner = ?5)",
        )?
        .execute(params![state.as_str(), error, now_ms(), batch_id, owner])?;
    Ok(changed == 1)
}
