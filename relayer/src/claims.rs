//! Claims on work, in memory and in the store, and the sweeper that takes over lapsed ones.
//!
//! * In memory (one instance): the batches a live task drives (`active_batches`) and the
//!   nonce accounts they use (`busy_nonces`), so this instance's own batcher and sweeper never
//!   start a second task for either.
//! * In the store (every instance): each unfinished batch's [`Lease`](crate::store::Lease).
//!   [`renew_loop`] extends the leases of the batches this instance drives; [`sweep_loop`]
//!   takes over batches whose lease lapsed (an instance died, or a task here gave up):
//!   a batch never sent is dropped and its intents go back to `pending`; a sent one is resumed,
//!   and the submitter first reads every recorded signature's status and waits until the
//!   latest blockhash can no longer land before it signs anything new. A signature is only
//!   recorded under a live lease, so two instances never have live transactions for one batch.

use crate::batch;
use crate::reconcile;
use crate::service::Ctx;
use crate::store::{BatchRecord, IntentRecord, Status, Transition};
use crate::submit::{self, Batch};
use crate::RelayerError;
use solana_pubkey::Pubkey;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Marks a batch and its nonces as taken by a live task.
pub fn claim(ctx: &Ctx, batch_id: i64, records: &[IntentRecord]) {
    claim_batch(ctx, batch_id);
    claim_nonces(ctx, records);
}

/// Marks a batch as held by a live task; false if one already holds it.
pub fn claim_batch(ctx: &Ctx, batch_id: i64) -> bool {
    ctx.active_batches
        .lock()
        .map(|mut active| active.insert(batch_id))
        .unwrap_or(false)
}

/// Gives up a claim taken with [`claim_batch`] that no task took over.
pub fn unclaim_batch(ctx: &Ctx, batch_id: i64) {
    if let Ok(mut active) = ctx.active_batches.lock() {
        active.remove(&batch_id);
    }
}

/// Marks the nonces of `records` as in flight.
pub fn claim_nonces(ctx: &Ctx, records: &[IntentRecord]) {
    if let Ok(mut busy) = ctx.busy_nonces.lock() {
        busy.extend(
            records
                .iter()
                .map(|r| Pubkey::new_from_array(r.nonce_account)),
        );
    }
}

/// Ends a task's claims on its batch and nonces.
pub fn release(ctx: &Ctx, batch_id: i64, records: &[IntentRecord]) {
    unclaim_batch(ctx, batch_id);
    if let Ok(mut busy) = ctx.busy_nonces.lock() {
        for r in records {
            busy.remove(&Pubkey::new_from_array(r.nonce_account));
        }
    }
}

/// The batches live tasks drive here.
fn active(ctx: &Ctx) -> Vec<i64> {
    ctx.active_batches
        .lock()
        .map(|a| a.iter().copied().collect())
        .unwrap_or_default()
}

/// Renews this instance's leases every third of `store.lease_ms` until `stop`.
pub async fn renew_loop(ctx: Arc<Ctx>, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_millis((ctx.lease.ttl_ms / 3).max(100).unsigned_abs());
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => break,
        }
        renew(&ctx).await;
    }
}

/// One renewal round: a batch whose lease could not be renewed is counted and logged; its
/// task finds out at its next send, which the store refuses.
pub async fn renew(ctx: &Ctx) {
    let held = active(ctx);
    if held.is_empty() {
        return;
    }
    match ctx.store.renew_leases(&ctx.lease, held.clone()).await {
        Ok(renewed) => {
            // A batch finished between the read and the renewal is not lost; only one still
            // held here and unfinished in the store is.
            let lost: Vec<i64> = held
                .into_iter()
                .filter(|b| !renewed.contains(b))
                .filter(|b| active(ctx).contains(b))
                .collect();
            for b in lost {
                if let Ok(Some(rec)) = ctx.store.get_batch(b).await {
                    if !rec.state.is_final() {
                        ctx.metrics.leases_lost.inc();
                        tracing::warn!(batch_id = b, owner = ?rec.owner, "lease lost to another instance");
                    }
                }
            }
        }
        Err(e) => {
            ctx.metrics.store_up.set(0);
            tracing::warn!(error = %e, "cannot renew leases");
        }
    }
}

/// Drops a batch that was never sent and puts its still-queued intents back to `pending`, in
/// one commit.
async fn drop_unsent(ctx: &Ctx, b: &BatchRecord) -> Result<(), RelayerError> {
    let back: Vec<Transition> = ctx
        .store
        .get_many(b.intent_ids.clone())
        .await?
        .into_iter()
        .flatten()
        .filter(|r| r.status == Status::Queued && r.batch_id == Some(b.batch_id))
        .map(|r| Transition::new(r.id, Status::Pending, "sweeper").reason("batch never sent"))
        .collect();
    tracing::info!(
        batch_id = b.batch_id,
        intents = back.len(),
        "dropping unsent batch"
    );
    ctx.store
        .apply_and_finish_batch(
            back,
            b.batch_id,
            crate::store::BatchState::Dropped,
            Some("never sent".into()),
        )
        .await?;
    ctx.wake.notify_one();
    Ok(())
}

/// What the sweep did with one batch it had taken over.
enum Taken {
    /// A task now drives it (and holds the claim).
    Resumed,
    /// Nothing to resume: final by now, or dropped as never sent.
    Done,
    /// No in-flight slot is free; the rest waits for the next sweep.
    NoSlot,
}

/// Handles one batch whose lease this instance just took (no live task here holds it).
async fn resume(
    ctx: &Arc<Ctx>,
    b: BatchRecord,
    tasks: &mut JoinSet<()>,
) -> Result<Taken, RelayerError> {
    if b.state.is_final() {
        return Ok(Taken::Done);
    }
    if b.signature.is_none() {
        // Never sent and its owner let go (or died): nothing of it can land, so its intents
        // go back to `pending`.
        drop_unsent(ctx, &b).await?;
        return Ok(Taken::Done);
    }
    let Ok(permit) = ctx.in_flight.clone().try_acquire_owned() else {
        return Ok(Taken::NoSlot);
    };
    let records: Vec<_> = ctx
        .store
        .get_many(b.intent_ids.clone())
        .await?
        .into_iter()
        .flatten()
        .collect();
    let instructions = batch::build_instructions(ctx, &records).await?;
    claim_nonces(ctx, &records);
    tracing::info!(
        batch_id = b.batch_id,
        takeovers = b.takeovers,
        "resuming batch"
    );
    tasks.spawn(submit::run_batch(
        ctx.clone(),
        Batch {
            id: b.batch_id,
            records,
            instructions,
            resumed: true,
        },
        permit,
    ));
    Ok(Taken::Resumed)
}

/// Takes over the batches whose lease lapsed, as many as there are free in-flight slots.
pub async fn take_over(ctx: &Arc<Ctx>, tasks: &mut JoinSet<()>) -> Result<(), RelayerError> {
    let slots = ctx.in_flight.available_permits();
    // Unsent batches need no slot; at least one is looked at even when all slots are busy.
    let taken = ctx
        .store
        .take_lapsed_batches(&ctx.lease, slots.max(1))
        .await?;
    let mut give_back = Vec::new();
    for b in taken {
        let id = b.batch_id;
        // A batch a live task here still drives (its lease lapsed while the store was away):
        // the take just renewed it.
        if !claim_batch(ctx, id) {
            continue;
        }
        ctx.metrics.lease_takeovers.inc();
        match resume(ctx, b, tasks).await {
            Ok(Taken::Resumed) => {}
            Ok(Taken::Done) => unclaim_batch(ctx, id),
            Ok(Taken::NoSlot) => {
                unclaim_batch(ctx, id);
                give_back.push(id);
            }
            Err(e) => {
                unclaim_batch(ctx, id);
                give_back.push(id);
                tracing::warn!(batch_id = id, error = %e, "cannot resume batch");
            }
        }
    }
    // Whatever could not be started here goes back at once, for any instance to take.
    ctx.store
        .release_leases(&ctx.lease.owner, give_back)
        .await?;
    Ok(())
}

/// Expires what is due, takes over lapsed batches and refreshes the gauges.
pub async fn sweep(ctx: &Arc<Ctx>, tasks: &mut JoinSet<()>) -> Result<(), RelayerError> {
    let result = async {
        reconcile::expire_due(ctx, "sweeper").await?;
        take_over(ctx, tasks).await?;
        reconcile::refresh_gauges(ctx).await
    }
    .await;
    ctx.metrics
        .store_up
        .set(i64::from(!matches!(&result, Err(RelayerError::Store(_)))));
    result
}

/// The periodic sweep until `stop`.
pub async fn sweep_loop(ctx: Arc<Ctx>, mut stop: watch::Receiver<bool>) {
    let mut tasks = JoinSet::new();
    let interval = Duration::from_millis(ctx.config.reconcile.sweep_interval_ms.max(10));
    loop {
        while tasks.try_join_next().is_some() {}
        if let Err(e) = sweep(&ctx, &mut tasks).await {
            tracing::warn!(error = %e, "sweep failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => break,
        }
    }
    let wait = Duration::from_millis(ctx.config.submit.confirm_timeout_ms);
    let _ = tokio::time::timeout(wait, async { while tasks.join_next().await.is_some() {} }).await;
}
