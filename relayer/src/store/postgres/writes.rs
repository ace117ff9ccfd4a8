//! Write operations. Each runs inside the caller's transaction; rows are locked in `seq`
//! order (or skipped when locked) so concurrent instances rarely deadlock, and a deadlock
//! that does happen aborts one transaction, which the caller retries as a whole.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;

use super::reads::{self, exec, rows};
use super::rows::{pg_err, u64_to_sql};
use crate::now_ms;
use crate::store::{
    Actor, BatchRecord, BatchState, InsertOutcome, IntentId, IntentRecord, Lease, NewIntent,
    Status, StoreError, StoreResult, Transition,
};

/// The database's clock in unix milliseconds: leases are measured on it, so instances whose
/// clocks disagree still agree on when a lease lapses.
const DB_NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// Stores new intents as pending in one statement; existing ids are returned unchanged.
pub(crate) async fn insert_intents<C: GenericClient>(
    c: &C,
    intents: Vec<NewIntent>,
) -> StoreResult<Vec<InsertOutcome>> {
    let now = now_ms();
    let ids: Vec<&[u8]> = intents.iter().map(|i| &i.id[..]).collect();
    let signed: Vec<&[u8]> = intents.iter().map(|i| &i.signed[..]).collect();
    let senders: Vec<&[u8]> = intents.iter().map(|i| &i.sender[..]).collect();
    let nonces: Vec<&[u8]> = intents.iter().map(|i| &i.nonce_account[..]).collect();
    let values: Vec<&[u8]> = intents.iter().map(|i| &i.nonce_value[..]).collect();
    let expiry: Vec<i64> = intents.iter().map(|i| i.expiry).collect();
    let amount: Vec<i64> = intents.iter().map(|i| u64_to_sql(i.amount)).collect();
    let fee: Vec<i64> = intents.iter().map(|i| u64_to_sql(i.fee)).collect();
    let kind: Vec<i16> = intents.iter().map(|i| i16::from(i.kind.code())).collect();
    let mint: Vec<Option<&[u8]>> = intents
        .iter()
        .map(|i| i.mint.as_ref().map(|m| &m[..]))
        .collect();
    let received: Vec<i64> = intents.iter().map(|i| i.received_at_ms).collect();
    let source: Vec<&str> = intents.iter().map(|i| i.source.as_str()).collect();
    // The log row, the state row and the audit row of every new intent in one statement; a
    // known id (stored before, or listed twice here) inserts nothing.
    let inserted = rows(
        c,
        "WITH input AS ( \
           SELECT * FROM UNNEST($1::bytea[], $2::bytea[], $3::bytea[], $4::bytea[], \
             $5::bytea[], $6::int8[], $7::int8[], $8::int8[], $9::int2[], $10::bytea[], \
             $11::int8[], $12::text[]) WITH ORDINALITY AS t(id, signed, sender, nonce_account, \
             nonce_value, expiry, amount, fee, kind, mint, received_at_ms, source, ord)), \
         ins AS ( \
           INSERT INTO intents (id, signed, sender, nonce_account, nonce_value, expiry, amount, \
             fee, kind, mint, received_at_ms, source) \
           SELECT id, signed, sender, nonce_account, nonce_value, expiry, amount, fee, kind, \
             mint, received_at_ms, source FROM input ORDER BY ord \
           ON CONFLICT (id) DO NOTHING \
           RETURNING seq, id, nonce_account, expiry, source), \
         st AS ( \
           INSERT INTO intent_state (seq, id, status, attempts, updated_at_ms, expiry, \
             nonce_account) \
           SELECT seq, id, 'pending', 0, $13, expiry, nonce_account FROM ins), \
         au AS ( \
           INSERT INTO audit_log (intent_seq, intent_id, from_status, to_status, actor, at_ms) \
           SELECT seq, id, NULL, 'pending', source, $13 FROM ins) \
         SELECT seq, id FROM ins",
        &[
            &ids, &signed, &senders, &nonces, &values, &expiry, &amount, &fee, &kind, &mint,
            &received, &source, &now,
        ],
    )
    .await?;
    let mut new: HashMap<IntentId, i64> = HashMap::with_capacity(inserted.len());
    for row in &inserted {
        let seq: i64 = row.try_get(0).map_err(pg_err)?;
        new.insert(super::rows::blob32(row, 1, "intent id")?, seq);
    }
    let known: Vec<IntentId> = intents
        .iter()
        .filter(|i| !new.contains_key(&i.id))
        .map(|i| i.id)
        .collect();
    let mut existing: HashMap<IntentId, IntentRecord> = HashMap::new();
    if !known.is_empty() {
        for rec in reads::get_many(c, &known).await?.into_iter().flatten() {
            existing.insert(rec.id, rec);
        }
    }
    let mut out = Vec::with_capacity(intents.len());
    for intent in intents {
        if let Some(seq) = new.remove(&intent.id) {
            let record = IntentRecord {
                intent,
                status: Status::Pending,
                reason: None,
                signature: None,
                slot: None,
                batch_id: None,
                attempts: 0,
                updated_at_ms: now,
                seq,
            };
            // A second copy of the id later in this call reports the record just stored.
            existing.insert(record.id, record.clone());
            out.push(InsertOutcome::Inserted(record));
        } else {
            let record = existing.get(&intent.id).cloned().ok_or_else(|| {
                StoreError::Internal("intent id conflicts but no record reads back".into())
            })?;
            out.push(InsertOutcome::Existing(record));
        }
    }
    Ok(out)
}

/// Locks the state rows of `ids` in `seq` order (one statement), so transactions touching
/// overlapping intents queue instead of deadlocking.
async fn lock_intents<C: GenericClient>(c: &C, ids: &[IntentId]) -> StoreResult<()> {
    let keys: Vec<&[u8]> = ids.iter().map(|id| &id[..]).collect();
    rows(
        c,
        "SELECT s.seq FROM intents i JOIN intent_state s ON s.seq = i.seq \
         WHERE i.id = ANY($1) ORDER BY s.seq FOR UPDATE OF s",
        &[&keys],
    )
    .await?;
    Ok(())
}

/// Applies one transition if the rules allow it; returns whether it applied.
async fn apply_one<C: GenericClient>(c: &C, t: &Transition, now: i64) -> StoreResult<bool> {
    let found = rows(
        c,
        "SELECT s.seq, s.status FROM intents i JOIN intent_state s ON s.seq = i.seq \
         WHERE i.id = $1 FOR UPDATE OF s",
        &[&&t.id[..]],
    )
    .await?;
    let Some(row) = found.first() else {
        return Ok(false);
    };
    let seq: i64 = row.try_get(0).map_err(pg_err)?;
    let from: String = row.try_get(1).map_err(pg_err)?;
    let from: Status = from
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("intent status: {e}")))?;
    if !from.can_transition_to(t.to) {
        return Ok(false);
    }
    let slot = t.slot.map(u64_to_sql);
    let bump = i64::from(t.bump_attempts);
    exec(
        c,
        "WITH u AS ( \
           UPDATE intent_state SET status = $1, reason = $2, \
             signature = COALESCE($3, signature), slot = COALESCE($4, slot), \
             batch_id = COALESCE($5, batch_id), attempts = LEAST(attempts + $6, 4294967295), \
             updated_at_ms = $7 \
           WHERE seq = $8 AND status = $9 RETURNING seq) \
         INSERT INTO audit_log (intent_seq, intent_id, from_status, to_status, reason, \
           signature, actor, at_ms) \
         SELECT seq, $10, $9, $1, $2, $3, $11, $7 FROM u",
        &[
            &t.to.as_str(),
            &t.reason,
            &t.signature,
            &slot,
            &t.batch_id,
            &bump,
            &now,
            &seq,
            &from.as_str(),
            &&t.id[..],
            &t.actor.as_str(),
        ],
    )
    .await
    .map(|n| n == 1)
}

/// Applies transitions in order.
pub(crate) async fn apply<C: GenericClient>(
    c: &C,
    transitions: &[Transition],
) -> StoreResult<Vec<bool>> {
    if transitions.is_empty() {
        return Ok(Vec::new());
    }
    let distinct: std::collections::HashSet<&IntentId> =
        transitions.iter().map(|t| &t.id).collect();
    if distinct.len() == transitions.len() {
        return apply_distinct(c, transitions).await;
    }
    // An intent moved twice in one call: one at a time, in order.
    let ids: Vec<IntentId> = transitions.iter().map(|t| t.id).collect();
    lock_intents(c, &ids).await?;
    let now = now_ms();
    let mut out = Vec::with_capacity(transitions.len());
    for t in transitions {
        out.push(apply_one(c, t, now).await?);
    }
    Ok(out)
}

/// Transitions of distinct intents in one statement: rows locked in `seq` order, each moved
/// only from a state its target allows (compare-and-set on the locked row), an audit row per
/// move in input order.
async fn apply_distinct<C: GenericClient>(
    c: &C,
    transitions: &[Transition],
) -> StoreResult<Vec<bool>> {
    let now = now_ms();
    let ids: Vec<&[u8]> = transitions.iter().map(|t| &t.id[..]).collect();
    let to: Vec<&str> = transitions.iter().map(|t| t.to.as_str()).collect();
    let reason: Vec<Option<&str>> = transitions.iter().map(|t| t.reason.as_deref()).collect();
    let signature: Vec<Option<&str>> = transitions.iter().map(|t| t.signature.as_deref()).collect();
    let slot: Vec<Option<i64>> = transitions.iter().map(|t| t.slot.map(u64_to_sql)).collect();
    let batch: Vec<Option<i64>> = transitions.iter().map(|t| t.batch_id).collect();
    let bump: Vec<i64> = transitions
        .iter()
        .map(|t| i64::from(t.bump_attempts))
        .collect();
    let actor: Vec<&str> = transitions.iter().map(|t| t.actor.as_str()).collect();
    let allowed: Vec<String> = transitions
        .iter()
        .map(|t| {
            Status::allowed_from(t.to)
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let applied = rows(
        c,
        "WITH input AS ( \
           SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::int8[], \
             $6::int8[], $7::int8[], $8::text[], $9::text[]) WITH ORDINALITY \
             AS t(id, to_status, reason, signature, slot, batch_id, bump, actor, allowed, ord)), \
         cur AS ( \
           SELECT s.seq, s.status, input.* FROM input \
           JOIN intents i ON i.id = input.id JOIN intent_state s ON s.seq = i.seq \
           ORDER BY s.seq FOR UPDATE OF s), \
         upd AS ( \
           UPDATE intent_state s SET status = cur.to_status, reason = cur.reason, \
             signature = COALESCE(cur.signature, s.signature), slot = COALESCE(cur.slot, s.slot), \
             batch_id = COALESCE(cur.batch_id, s.batch_id), \
             attempts = LEAST(s.attempts + cur.bump, 4294967295), updated_at_ms = $10 \
           FROM cur WHERE s.seq = cur.seq AND s.status = cur.status \
             AND cur.status = ANY(string_to_array(cur.allowed, ',')) \
           RETURNING s.seq, cur.id, cur.status AS from_status, cur.to_status, cur.reason, \
             cur.signature, cur.actor, cur.ord), \
         au AS ( \
           INSERT INTO audit_log (intent_seq, intent_id, from_status, to_status, reason, \
             signature, actor, at_ms) \
           SELECT seq, id, from_status, to_status, reason, signature, actor, $10 FROM upd \
           ORDER BY ord) \
         SELECT ord FROM upd",
        &[
            &ids, &to, &reason, &signature, &slot, &batch, &bump, &actor, &allowed, &now,
        ],
    )
    .await?;
    let mut out = vec![false; transitions.len()];
    for row in &applied {
        let ord: i64 = row.try_get(0).map_err(pg_err)?;
        if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| out.get_mut(i)) {
            *slot = true;
        }
    }
    Ok(out)
}

/// Expires every pending intent whose expiry is before `now_unix` (rows another transaction
/// holds are left for the next sweep). A `queued` intent belongs to its batch's driver, which
/// expires it itself (see [`crate::store::Store::expire_due`]).
pub(crate) async fn expire_due<C: GenericClient>(
    c: &C,
    now_unix: i64,
    actor: Actor,
) -> StoreResult<Vec<IntentId>> {
    let now = now_ms();
    rows(
        c,
        "WITH due AS ( \
           SELECT seq, id, status FROM intent_state \
           WHERE status = 'pending' AND expiry < $1 \
           ORDER BY seq FOR UPDATE SKIP LOCKED), \
         u AS ( \
           UPDATE intent_state s SET status = 'expired', reason = 'expiry passed', \
             updated_at_ms = $2 \
           FROM due WHERE s.seq = due.seq \
           RETURNING s.seq, s.id, due.status AS from_status), \
         a AS ( \
           INSERT INTO audit_log (intent_seq, intent_id, from_status, to_status, reason, \
             actor, at_ms) \
           SELECT seq, id, from_status, 'expired', 'expiry passed', $3, $2 FROM u) \
         SELECT id FROM u ORDER BY seq",
        &[&now_unix, &now, &actor.as_str()],
    )
    .await?
    .iter()
    .map(|r| super::rows::blob32(r, 0, "intent id"))
    .collect()
}

/// Creates an open batch of existing intents, leased to `lease` if given.
pub(crate) async fn create_batch<C: GenericClient>(
    c: &C,
    intent_ids: &[IntentId],
    lease: Option<&Lease>,
) -> StoreResult<i64> {
    if intent_ids.is_empty() {
        return Err(StoreError::InvalidInput(
            "a batch needs at least one intent".into(),
        ));
    }
    let now = now_ms();
    let owner = lease.map(|l| l.owner.as_str());
    let ttl = lease.map(|l| l.ttl_ms);
    let row = rows(
        c,
        &format!(
            "INSERT INTO batches (state, created_at_ms, updated_at_ms, owner, lease_until_ms) \
             VALUES ('open', $1, $1, $2, {DB_NOW_MS} + $3) RETURNING batch_id"
        ),
        &[&now, &owner, &ttl],
    )
    .await?;
    let batch_id: i64 = row
        .first()
        .ok_or_else(|| StoreError::Internal("batch insert returned no id".into()))?
        .try_get(0)
        .map_err(pg_err)?;
    let keys: Vec<&[u8]> = intent_ids.iter().map(|id| &id[..]).collect();
    exec(
        c,
        "INSERT INTO batch_intents (batch_id, position, intent_id) \
         SELECT $1, (ord - 1)::int, id FROM UNNEST($2::bytea[]) WITH ORDINALITY AS t(id, ord)",
        &[&batch_id, &keys],
    )
    .await
    .map_err(|e| match e {
        StoreError::InvalidInput(m) => {
            StoreError::InvalidInput(format!("a batch intent is unknown or listed twice: {m}"))
        }
        other => other,
    })?;
    Ok(batch_id)
}

/// Whether, for any `(nonce account, seq)` listed, another intent on that nonce account
/// stops the intent `seq` from going now: one with a lower `seq` still open, or any in
/// flight. One statement for the whole group.
async fn any_nonce_blocked<C: GenericClient>(
    c: &C,
    nonces: &[Vec<u8>],
    seqs: &[i64],
) -> StoreResult<bool> {
    let blocked = rows(
        c,
        "SELECT 1 FROM UNNEST($1::bytea[], $2::int8[]) AS g(nonce_account, seq) \
         WHERE EXISTS (SELECT 1 FROM intent_state s WHERE s.nonce_account = g.nonce_account \
           AND s.status IN ('pending', 'queued', 'submitted') AND s.seq <> g.seq \
           AND (s.status <> 'pending' OR s.seq < g.seq)) \
         LIMIT 1",
        &[&nonces, &seqs],
    )
    .await?;
    Ok(!blocked.is_empty())
}

/// Claims one group, or returns `None` without writing anything. Three statements whatever
/// the group's size: lock the pending rows, check the nonce rule, take every nonce
/// account's advisory lock and check again.
async fn claim_group<C: GenericClient>(
    c: &C,
    group: &[IntentId],
    actor: Actor,
    lease: &Lease,
) -> StoreResult<Option<i64>> {
    let keys: Vec<&[u8]> = group.iter().map(|id| &id[..]).collect();
    // Lock what is still pending; rows another instance is claiming right now are skipped.
    let locked = rows(
        c,
        "SELECT s.seq, s.nonce_account FROM intents i JOIN intent_state s ON s.seq = i.seq \
         WHERE i.id = ANY($1) AND s.status = 'pending' ORDER BY s.seq FOR UPDATE OF s SKIP LOCKED",
        &[&keys],
    )
    .await?;
    if locked.len() != group.len() {
        return Ok(None);
    }
    let mut seqs = Vec::with_capacity(locked.len());
    let mut nonces = Vec::with_capacity(locked.len());
    for row in &locked {
        seqs.push(row.try_get::<_, i64>(0).map_err(pg_err)?);
        nonces.push(row.try_get::<_, Vec<u8>>(1).map_err(pg_err)?);
    }
    // Only rightful next intents on their nonces go for the nonces' locks (a claimer that is
    // behind would hold them to no use until its transaction ends) ...
    if any_nonce_blocked(c, &nonces, &seqs).await? {
        return Ok(None);
    }
    // ... then one claimer per nonce account at a time (a try-lock never waits, so the
    // order of taking them cannot deadlock), and a fresh look: every claim committed before
    // the locks were granted is visible to the next statement.
    let got: bool = rows(
        c,
        "SELECT COALESCE(bool_and(pg_try_advisory_xact_lock(\
         hashtextextended(current_schema() || ':' || encode(n, 'hex'), 0))), false) \
         FROM UNNEST($1::bytea[]) AS n",
        &[&nonces],
    )
    .await?
    .first()
    .map(|r| r.try_get(0))
    .transpose()
    .map_err(pg_err)?
    .unwrap_or(false);
    if !got || any_nonce_blocked(c, &nonces, &seqs).await? {
        return Ok(None);
    }
    let batch_id = create_batch(c, group, Some(lease)).await?;
    let queued: Vec<Transition> = group
        .iter()
        .map(|id| Transition::new(*id, Status::Queued, actor).batch(batch_id))
        .collect();
    let applied = apply(c, &queued).await?;
    if applied.iter().any(|a| !a) {
        return Err(StoreError::Internal(
            "a locked pending intent refused to queue".into(),
        ));
    }
    Ok(Some(batch_id))
}

/// Claims each whole group into a batch leased to `lease.owner`.
pub(crate) async fn open_batches<C: GenericClient>(
    c: &C,
    groups: &[Vec<IntentId>],
    actor: Actor,
    lease: &Lease,
) -> StoreResult<Vec<Option<i64>>> {
    let all: Vec<&[u8]> = groups.iter().flatten().map(|id| &id[..]).collect();
    let known = rows(c, "SELECT id FROM intents WHERE id = ANY($1)", &[&all]).await?;
    let known: std::collections::HashSet<IntentId> = known
        .iter()
        .map(|r| super::rows::blob32(r, 0, "intent id"))
        .collect::<StoreResult<_>>()?;
    if let Some(unknown) = groups.iter().flatten().find(|id| !known.contains(*id)) {
        return Err(StoreError::InvalidInput(format!(
            "batch intent {} is unknown",
            hex::encode(unknown)
        )));
    }
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let distinct: std::collections::HashSet<&IntentId> = group.iter().collect();
        if group.is_empty() || distinct.len() != group.len() {
            return Err(StoreError::InvalidInput(
                "a batch group is empty or lists an intent twice".into(),
            ));
        }
        out.push(claim_group(c, group, actor, lease).await?);
    }
    Ok(out)
}

/// Records a (re-)send of a batch if `lease.owner` holds it, and keeps the signature.
pub(crate) async fn mark_batch_sent<C: GenericClient>(
    c: &C,
    batch_id: i64,
    signature: &str,
    blockhash: &str,
    last_valid_block_height: u64,
    lease: &Lease,
) -> StoreResult<bool> {
    let owner = rows(
        c,
        "SELECT batch_id FROM batch_signatures WHERE signature = $1",
        &[&signature],
    )
    .await?;
    if let Some(row) = owner.first() {
        let other: i64 = row.try_get(0).map_err(pg_err)?;
        if other != batch_id {
            return Err(StoreError::InvalidInput(format!(
                "signature {signature} already belongs to another batch"
            )));
        }
    }
    let now = now_ms();
    let lvbh = u64_to_sql(last_valid_block_height);
    // Fenced by the lease: the row lock orders this against a takeover, and a batch taken
    // over by another instance no longer matches `owner`.
    let changed = exec(
        c,
        &format!(
            "UPDATE batches SET state = 'sent', signature = $1, blockhash = $2, \
             last_valid_block_height = $3, updated_at_ms = $4, owner = $5, \
             lease_until_ms = {DB_NOW_MS} + $6 \
             WHERE batch_id = $7 AND state IN ('open', 'sent') AND (owner = $5 OR owner IS NULL)"
        ),
        &[
            &signature,
            &blockhash,
            &lvbh,
            &now,
            &lease.owner,
            &lease.ttl_ms,
            &batch_id,
        ],
    )
    .await?;
    if changed != 1 {
        return Ok(false);
    }
    exec(
        c,
        "INSERT INTO batch_signatures (signature, batch_id, blockhash, last_valid_block_height, \
         sent_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (signature) DO NOTHING",
        &[&signature, &batch_id, &blockhash, &lvbh, &now],
    )
    .await?;
    Ok(true)
}

/// Moves an unfinished batch to a final state; with `owner`, only a batch that instance owns.
pub(crate) async fn finish_batch<C: GenericClient>(
    c: &C,
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
    exec(
        c,
        "UPDATE batches SET state = $1, error = $2, updated_at_ms = $3 \
         WHERE batch_id = $4 AND state IN ('open', 'sent') \
         AND ($5::text IS NULL OR owner = $5)",
        &[&state.as_str(), &error, &now_ms(), &batch_id, &owner],
    )
    .await
    .map(|n| n == 1)
}

/// Extends `lease` on the listed batches it holds; returns those renewed.
pub(crate) async fn renew_leases<C: GenericClient>(
    c: &C,
    lease: &Lease,
    batch_ids: &[i64],
) -> StoreResult<Vec<i64>> {
    rows(
        c,
        &format!(
            "UPDATE batches SET lease_until_ms = {DB_NOW_MS} + $1 \
             WHERE batch_id = ANY($2) AND owner = $3 AND state IN ('open', 'sent') \
             RETURNING batch_id"
        ),
        &[&lease.ttl_ms, &batch_ids, &lease.owner],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0).map_err(pg_err))
    .collect()
}

/// Ends `owner`'s leases on the listed batches now.
pub(crate) async fn release_leases<C: GenericClient>(
    c: &C,
    owner: &str,
    batch_ids: &[i64],
) -> StoreResult<()> {
    exec(
        c,
        "UPDATE batches SET lease_until_ms = 0 WHERE batch_id = ANY($1) AND owner = $2 \
         AND state IN ('open', 'sent')",
        &[&batch_ids, &owner],
    )
    .await?;
    Ok(())
}

/// Takes over up to `limit` unfinished batches whose lease lapsed; batches locked by another
/// taker are skipped.
pub(crate) async fn take_lapsed_batches<C: GenericClient>(
    c: &C,
    lease: &Lease,
    limit: usize,
) -> StoreResult<Vec<BatchRecord>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let taken: Vec<i64> = rows(
        c,
        &format!(
            "WITH lapsed AS ( \
               SELECT batch_id, owner FROM batches \
               WHERE state IN ('open', 'sent') \
                 AND (lease_until_ms IS NULL OR lease_until_ms < {DB_NOW_MS}) \
               ORDER BY batch_id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE batches b SET owner = $1, lease_until_ms = {DB_NOW_MS} + $3, \
               takeovers = b.takeovers + \
                 CASE WHEN lapsed.owner IS NOT NULL AND lapsed.owner <> $1 THEN 1 ELSE 0 END \
             FROM lapsed WHERE b.batch_id = lapsed.batch_id RETURNING b.batch_id"
        ),
        &[&lease.owner, &limit, &lease.ttl_ms],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0).map_err(pg_err))
    .collect::<StoreResult<_>>()?;
    if taken.is_empty() {
        return Ok(Vec::new());
    }
    reads::batches_where(c, "batch_id = ANY($1)", &[&taken]).await
}
