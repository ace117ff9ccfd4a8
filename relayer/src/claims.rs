//! Claims on work, in memory and in the store, and the sweeper that takes over lapsed ones.
//!
//! * In memory (one instance, [`crate::ctx::Claims`]): the batches a live task drives and
//!   the nonce accounts they use, so this instance's own batcher and sweeper never start a
//!   second task for either.
//! * In the store (every instance): each unfinished batch's [`Lease`](crate::store::Lease).
//!   [`renew_loop`] extends the leases of the batches this instance drives; [`sweep_loop`]
//!   takes over batches whose lease lapsed (an instance died, or a task here gave up):
//!   a batch never sent is dropped and its intents go back to `pending`; a sent one is resumed,
//!   and the submitter first reads every recorded signature's status and waits until the
//!   latest blockhash can no longer land before it signs anything new. A signature is only
//!   recorded under a live lease, so two instances never have live transactions for one batch.

use crate::batch::{self, Batch};
use crate::ctx::Ctx;
use crate::store::Actor;
use crate::store::{BatchRecord, Status, Transition};
use crate::RelayerError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The batches live tasks drive here.
fn active(ctx: &Ctx) -> Vec<i64> {
    ctx.claims
        .active_batches
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
        .map(|r| Transition::new(r.id, Status::Pending, Actor::Sweeper).reason("batch never sent"))
        .collect();
    tracing::info!(
        batch_id = b.batch_id,
        intents = back.len(),
        "dropping unsent batch"
    );
    let done = ctx
        .store
        .apply_and_finish_batch(
            back,
            b.batch_id,
            &ctx.lease,
            crate::store::BatchState::Dropped,
            Some("never sent".into()),
        )
        .await?;
    if done.is_none() {
        tracing::info!(
            batch_id = b.batch_id,
            "unsent batch finished or taken over meanwhile: left alone"
        );
    }
    ctx.flow.wake.notify_one();
    Ok(())
}

/// What the sweep did with one batch it had taken over.
enum Taken {
    /// Handed to the submitter (which holds the claim now).
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
    batches: &mpsc::UnboundedSender<Batch>,
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
    let Ok(permit) = ctx.flow.in_flight.clone().try_acquire_owned() else {
        return Ok(Taken::NoSlot);
    };
    let records: Vec<_> = ctx
        .store
        .get_many(b.intent_ids.clone())
        .await?
        .into_iter()
        .flatten()
        .collect();
    let group = batch::build_instructions(ctx, records).await?;
    ctx.claims.claim_nonces(&group.records);
    tracing::info!(
        batch_id = b.batch_id,
        takeovers = b.takeovers,
        "resuming batch"
    );
    let batch = Batch::new(b.batch_id, group, true, permit);
    if batches.send(batch).is_err() {
        return Err(RelayerError::Other("the submitter stopped".into()));
    }
    Ok(Taken::Resumed)
}

/// Takes over the batches whose lease lapsed, as many as there are free in-flight slots.
pub async fn take_over(
    ctx: &Arc<Ctx>,
    batches: &mpsc::UnboundedSender<Batch>,
) -> Result<(), RelayerError> {
    let slots = ctx.flow.in_flight.available_permits();
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
        if !ctx.claims.claim_batch(id) {
            continue;
        }
        ctx.metrics.lease_takeovers.inc();
        match resume(ctx, b, batches).await {
            Ok(Taken::Resumed) => {}
            Ok(Taken::Done) => ctx.claims.unclaim_batch(id),
            Ok(Taken::NoSlot) => {
                ctx.claims.unclaim_batch(id);
                give_back.push(id);
            }
            Err(e) => {
                ctx.claims.unclaim_batch(id);
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
pub async fn sweep(
    ctx: &Arc<Ctx>,
    batches: &mpsc::UnboundedSender<Batch>,
) -> Result<(), RelayerError> {
    let result = async {
        expire_due(ctx).await?;
        take_over(ctx, batches).await?;
        refresh_gauges(ctx).await
    }
    .await;
    ctx.metrics
        .store_up
        .set(i64::from(!matches!(&result, Err(RelayerError::Store(_)))));
    result
}

/// The periodic sweep until `stop`.
pub async fn sweep_loop(
    ctx: Arc<Ctx>,
    batches: mpsc::UnboundedSender<Batch>,
    mut stop: watch::Receiver<bool>,
) {
    let interval = Duration::from_millis(ctx.config.reconcile.sweep_interval_ms.max(10));
    loop {
        if let Err(e) = sweep(&ctx, &batches).await {
            tracing::warn!(error = %e, "sweep failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => break,
        }
    }
}

/// Expires every `pending` or `queued` intent past its expiry.
async fn expire_due(ctx: &Ctx) -> Result<(), RelayerError> {
    let expired = ctx
        .store
        .expire_due(crate::now_ms() / 1000, Actor::Sweeper)
        .await?;
    ctx.metrics.count_final(Status::Expired, expired.len());
    Ok(())
}

/// Refreshes the queue-depth, oldest-open-intent, breaker and fee-payer gauges.
async fn refresh_gauges(ctx: &Ctx) -> Result<(), RelayerError> {
    let counts = ctx.store.counts().await?;
    for s in Status::NON_FINAL {
        let n = counts.get(&s).copied().unwrap_or(0);
        ctx.metrics
            .queue_depth
            .with_label_values(&[s.as_str()])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let oldest = ctx
        .store
        .load_by_status(&Status::NON_FINAL, 1)
        .await?
        .first()
        .map(|r| crate::now_ms().saturating_sub(r.received_at_ms) / 1000)
        .unwrap_or(0);
    ctx.metrics.oldest_open_seconds.set(oldest.max(0));
    ctx.metrics
        .breaker_open
        .set(i64::from(ctx.flow.breaker.wait() > Duration::ZERO));
    let payer = solana_signer::Signer::pubkey(ctx.fee_payer.as_ref());
    if let Ok(lamports) = ctx.cluster.balance(&payer).await {
        ctx.metrics
            .fee_payer_lamports
            .set(i64::try_from(lamports).unwrap_or(i64::MAX));
    }
    Ok(())
}
