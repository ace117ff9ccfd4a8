//! The reconciler: turns each landed transaction's events into per-intent final states
//! (`IntentSettled` / `IntentRejected` by intent id; the compact form's
//! `CompactIntentRejected` by nonce account), isolates the culprit when a transaction fails as
//! a whole (either form), expires what is due, and at start
//! puts intents left outside any batch back to `pending` (the sweeper in `crate::claims`
//! resumes unfinished batches).

use crate::batch::Batch;
use crate::ctx::Ctx;
use crate::store::Actor;
use crate::store::{BatchState, IntentRecord, Status, Transition};
use crate::submit::{self, SendOutcome, Sent};
use crate::RelayerError;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction_error::TransactionError;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use toss_intent_processor::events::RejectReason;
use toss_sdk::cluster::TxStatus;
use toss_sdk::events::{compact_rejections, outcomes, Outcome};
use toss_sdk::wallet::describe_tx_error;
use tracing::Instrument;

/// Rejections the payer controls (funds, allowance, its own token account, the mint, a recipient
/// no program can pay): strikes towards a back-off (`crate::funds`). Expiry, a used nonce and
/// the like are not (a relayer race can cause them), nor what the recipient controls (its
/// token account closed, its balance below rent), so a hostile merchant cannot get an honest
/// payer backed off.
fn payer_caused(reason: &RejectReason) -> bool {
    matches!(
        reason,
        RejectReason::InsufficientFunds
            | RejectReason::AllowanceExceeded
            | RejectReason::AccountFrozen
            | RejectReason::RecipientExecutable
            | RejectReason::RecipientNotWritable
            | RejectReason::SourceUnavailable
            | RejectReason::UnsupportedMint
    )
}

/// `InsufficientFunds` → `insufficient_funds`.
pub fn snake(reason: &RejectReason) -> String {
    let name = format!("{reason:?}");
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn count_final(ctx: &Ctx, status: Status, n: usize) {
    ctx.metrics.count_final(status, n);
}

/// Runs until the submitter stops: applies each batch's [`SendOutcome`], then ends the batch's
/// claims, frees its in-flight slot and wakes the batcher. Batches are reconciled
/// concurrently, each in its own task.
pub async fn run(ctx: Arc<Ctx>, mut sent: mpsc::UnboundedReceiver<Sent>) {
    let mut tasks = JoinSet::new();
    while let Some(s) = sent.recv().await {
        while tasks.try_join_next().is_some() {}
        tasks.spawn(settle_outcome(ctx.clone(), s));
    }
    while tasks.join_next().await.is_some() {}
}

/// Applies one batch's outcome.
async fn settle_outcome(ctx: Arc<Ctx>, Sent { batch, outcome }: Sent) {
    let span = tracing::info_span!("reconcile", batch_id = batch.id);
    let applied = async {
        match outcome {
            SendOutcome::Landed(signature, status, known) => {
                landed(&ctx, &batch, signature, status, known).await
            }
            SendOutcome::Refused(e) => failed(&ctx, &batch, &e).await,
            SendOutcome::RetriesExhausted => {
                ctx.metrics
                    .transactions
                    .with_label_values(&["retries_exhausted"])
                    .inc();
                Err(RelayerError::Other(
                    "retries exhausted for this round; its intents stay open".into(),
                ))
            }
            SendOutcome::IntentExpired => drop_expired(&ctx, &batch).await,
            SendOutcome::TooLarge => repack(&ctx, &batch).await,
            SendOutcome::Abandoned(e) => Err(e),
        }
    }
    .instrument(span)
    .await;
    if let Err(e) = applied {
        tracing::warn!(batch_id = batch.id, error = %e, "batch left for the sweeper");
        // Let the lease go now, so the next sweep (of any instance) takes the batch over
        // without waiting for the lease to lapse.
        if let Err(e) = ctx
            .store
            .release_leases(&ctx.lease.owner, vec![batch.id])
            .await
        {
            tracing::warn!(error = %e, "cannot release the batch's lease");
        }
    }
    ctx.claims.release(batch.id, &batch.records);
    drop(batch);
    ctx.flow.wake.notify_one();
}

/// A batch's transaction landed: apply each intent's event.
pub async fn landed(
    ctx: &Ctx,
    batch: &Batch,
    signature: Signature,
    status: TxStatus,
    form_known: bool,
) -> Result<(), RelayerError> {
    promote(ctx, batch, &signature).await?;
    if form_known {
        let form = [batch.form.as_str()];
        ctx.metrics.landed_by_form.with_label_values(&form).inc();
        ctx.metrics
            .settle_fees
            .with_label_values(&form)
            .inc_by(batch.fee);
    } else {
        // Signed before a restart or takeover, in a form and at a fee not known here.
        ctx.metrics
            .landed_by_form
            .with_label_values(&["unknown"])
            .inc();
    }
    if let Some(e) = status.err.clone() {
        ctx.metrics
            .transactions
            .with_label_values(&["failed"])
            .inc();
        return failed(ctx, batch, &e).await;
    }
    ctx.metrics
        .transactions
        .with_label_values(&["landed"])
        .inc();
    let mut logs = None;
    for attempt in 0..5u64 {
        match ctx.cluster.logs(&signature).await {
            Ok(Some(l)) => {
                logs = Some(l);
                break;
            }
            Ok(None) => {}
            Err(e) => submit::note_error(ctx, &e),
        }
        tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await;
    }
    let Some(logs) = logs else {
        return Err(RelayerError::Other(format!(
            "logs of {signature} unavailable; the sweeper will retry"
        )));
    };
    let events: HashMap<[u8; 32], Outcome> =
        outcomes(&logs).into_iter().map(|o| (o.id(), o)).collect();
    // The compact form names an intent whose bytes it could not rebuild by its nonce account
    // (one intent per nonce account in a batch) and the nonce prefix it was signed over.
    let unbuilt: HashMap<[u8; 32], ([u8; 4], RejectReason)> = compact_rejections(&logs)
        .into_iter()
        .map(|e| (e.nonce_account.to_bytes(), (e.nonce_hint, e.reason)))
        .collect();
    let sig = signature.to_string();
    let now = crate::now_ms();
    let mut transitions = Vec::with_capacity(batch.records.len());
    let mut settled: Vec<&IntentRecord> = Vec::new();
    for r in &batch.records {
        let outcome = events.get(&r.id).cloned().or_else(|| {
            let (hint, reason) = unbuilt.get(&r.nonce_account)?;
            (hint[..] == r.nonce_value[..4]).then(|| Outcome::Rejected {
                id: r.id,
                reason: *reason,
            })
        });
        let t = match outcome {
            Some(Outcome::Settled { .. }) => {
                settled.push(r);
                ctx.validator
                    .funds
                    .settled(&Pubkey::new_from_array(r.intent.sender));
                ctx.validator
                    .funds
                    .release(&crate::funds::Spend::of(&r.intent));
                let secs = (now.saturating_sub(r.received_at_ms)) as f64 / 1000.0;
                ctx.metrics.settlement_latency.observe(secs);
                Transition::new(r.id, Status::Settled, Actor::Reconciler)
                    .signature(sig.clone())
                    .slot(status.slot)
            }
            Some(Outcome::Rejected { reason, .. }) => match reason {
                RejectReason::Expired => Transition::new(r.id, Status::Expired, Actor::Reconciler)
                    .reason("expired")
                    .signature(sig.clone()),
                // The nonce was set in this very slot: try again in a later one.
                RejectReason::NonceNotAdvanceable => {
                    Transition::new(r.id, Status::Pending, Actor::Reconciler)
                        .reason("nonce_not_advanceable: retrying")
                }
                other => {
                    ctx.validator
                        .funds
                        .release(&crate::funds::Spend::of(&r.intent));
                    if payer_caused(&other)
                        && ctx
                            .validator
                            .funds
                            .strike(&Pubkey::new_from_array(r.intent.sender))
                    {
                        ctx.metrics.sender_backoffs.inc();
                    }
                    Transition::new(r.id, Status::Rejected, Actor::Reconciler)
                        .reason(snake(&other))
                        .signature(sig.clone())
                        .slot(status.slot)
                }
            },
            None => Transition::new(r.id, Status::Pending, Actor::Reconciler)
                .reason("no outcome in the transaction's logs: retrying"),
        };
        transitions.push(t);
    }
    // First settled on a nonce wins; every other intent on it can never settle. The chain
    // says so whether or not our own transition applies, so the conflicts are computed first
    // and everything is committed at once with the batch's end.
    let nonces: Vec<[u8; 32]> = settled.iter().map(|w| w.nonce_account).collect();
    let others = ctx.store.pending_on_nonces(nonces).await?;
    let mine: HashSet<[u8; 32]> = batch.records.iter().map(|r| r.id).collect();
    for (winner, others) in settled.iter().zip(others) {
        for other in others {
            // Only the intents signed over the same nonce value lost: one signed over the
            // value this settlement advanced the account to is the payer's next payment, and
            // can still settle.
            if other.id != winner.id
                && !mine.contains(&other.id)
                && other.nonce_value == winner.nonce_value
            {
                transitions.push(
                    Transition::new(other.id, Status::Conflict, Actor::Reconciler)
                        .reason(format!("nonce used by intent {}", hex::encode(winner.id))),
                );
            }
        }
    }
    let to: Vec<Status> = transitions.iter().map(|t| t.to).collect();
    if let Some(applied) = finish(ctx, batch, BatchState::Landed, None, transitions).await? {
        for (status, ok) in to.iter().zip(&applied) {
            if *ok && status.is_final() {
                count_final(ctx, *status, 1);
            }
        }
    }
    for r in &batch.records {
        ctx.validator
            .forget_nonce(&Pubkey::new_from_array(r.nonce_account));
    }
    tracing::info!(%signature, settled = settled.len(), "batch landed");
    Ok(())
}

/// Intents still `queued` in a batch whose signature was recorded (a crash between the two
/// writes) become `submitted`, so outcomes apply to them.
async fn promote(ctx: &Ctx, batch: &Batch, signature: &Signature) -> Result<(), RelayerError> {
    if !batch.resumed {
        // A live batch marked its intents `submitted` before sending anything.
        return Ok(());
    }
    let t: Vec<Transition> = batch
        .records
        .iter()
        .filter(|r| r.status == Status::Queued)
        .map(|r| {
            Transition::new(r.id, Status::Submitted, Actor::Reconciler)
                .signature(signature.to_string())
                .batch(batch.id)
        })
        .collect();
    if !t.is_empty() {
        ctx.store.apply(t).await?;
    }
    Ok(())
}

/// The transaction failed as a whole (or was refused): isolate the culprit by retrying each
/// intent alone; an intent that fails alone is `rejected` with the program's error name.
/// A paused program is not any intent's fault: everything waits.
pub async fn failed(ctx: &Ctx, batch: &Batch, e: &TransactionError) -> Result<(), RelayerError> {
    let reason = describe_tx_error(e);
    let paused_code = u32::from(toss_intent_processor::error::TossError::Paused);
    let program_paused = matches!(
        e,
        TransactionError::InstructionError(_, solana_instruction::error::InstructionError::Custom(c)) if *c == paused_code
    );
    let every = |to: Status, why: String| -> Vec<Transition> {
        batch
            .records
            .iter()
            .map(|r| Transition::new(r.id, to, Actor::Reconciler).reason(why.clone()))
            .collect()
    };
    let error = Some(reason.clone());
    if program_paused {
        tracing::warn!("program is paused; intents wait");
        let back = every(Status::Pending, "program paused: waiting".into());
        finish(ctx, batch, BatchState::Failed, error, back).await?;
        // Sending would only burn fees: no new batch for a breaker cooldown.
        ctx.hold_for(std::time::Duration::from_millis(
            ctx.config.submit.breaker_cooldown_ms,
        ));
        return Ok(());
    }
    if batch.records.len() > 1 {
        tracing::warn!(%reason, "batch failed as a whole; retrying its intents one by one");
        // Marked solo before they are `pending` again, so no pass packs them together.
        if let Ok(mut solo) = ctx.claims.solo.lock() {
            solo.extend(batch.records.iter().map(|r| r.id));
        }
        let back = every(
            Status::Pending,
            format!("batch failed ({reason}): retrying alone"),
        );
        finish(ctx, batch, BatchState::Failed, error, back).await?;
        return Ok(());
    }
    let t = every(Status::Rejected, reason.clone());
    if let Some(applied) = finish(ctx, batch, BatchState::Failed, error, t).await? {
        count_final(
            ctx,
            Status::Rejected,
            applied.iter().filter(|ok| **ok).count(),
        );
    }
    if let Ok(mut solo) = ctx.claims.solo.lock() {
        for r in &batch.records {
            solo.remove(&r.id);
        }
    }
    Ok(())
}

/// Some intent of the batch expired before any signature landed: expire those, send the
/// rest again in a new batch.
pub async fn drop_expired(ctx: &Ctx, batch: &Batch) -> Result<(), RelayerError> {
    let now = crate::now_ms() / 1000;
    let t: Vec<Transition> = batch
        .records
        .iter()
        .map(|r| {
            if r.expiry <= now {
                Transition::new(r.id, Status::Expired, Actor::Submitter).reason("expired")
            } else {
                Transition::new(r.id, Status::Pending, Actor::Submitter)
                    .reason("batch dropped for an expired neighbour")
            }
        })
        .collect();
    let expired: Vec<bool> = t.iter().map(|t| t.to == Status::Expired).collect();
    let error = Some("intent expired".into());
    if let Some(applied) = finish(ctx, batch, BatchState::Dropped, error, t).await? {
        let n = applied
            .iter()
            .zip(&expired)
            .filter(|(a, e)| **a && **e)
            .count();
        count_final(ctx, Status::Expired, n);
    }
    Ok(())
}

/// A batch that no longer fits one transaction (see [`SendOutcome::TooLarge`]): finished
/// unsent, its intents back to `pending` for the batcher to pack in the current form.
pub async fn repack(ctx: &Ctx, batch: &Batch) -> Result<(), RelayerError> {
    let t: Vec<Transition> = batch
        .records
        .iter()
        .map(|r| {
            Transition::new(r.id, Status::Pending, Actor::Submitter)
                .reason("batch too large for the current form: packed again")
        })
        .collect();
    let error = Some("too large for one transaction in the current form: packed again".into());
    finish(ctx, batch, BatchState::Dropped, error, t).await?;
    Ok(())
}

/// Ends `batch` with its intents' `transitions` in one fenced commit
/// ([`crate::store::Store::apply_and_finish_batch`]). `None` when the batch is no longer this
/// instance's to end (finished already, or taken over after this instance's lease lapsed,
/// say through a database outage longer than the lease): the new owner's outcome stands and
/// nothing of this one is applied, so two instances never both send an intent back.
async fn finish(
    ctx: &Ctx,
    batch: &Batch,
    state: BatchState,
    error: Option<String>,
    transitions: Vec<Transition>,
) -> Result<Option<Vec<bool>>, RelayerError> {
    let done = ctx
        .store
        .apply_and_finish_batch(transitions, batch.id, &ctx.lease, state, error)
        .await?;
    if done.is_none() {
        tracing::warn!(
            batch_id = batch.id,
            %state,
            "batch finished already or taken over by another instance: nothing applied here"
        );
    }
    Ok(done)
}

/// At start: intents left `queued` or `submitted` outside any unfinished batch go back to
/// `pending`, and this instance's own leases (held before a restart under the same instance
/// id) are let go, so the first sweep takes its batches back at once instead of waiting for
/// them to lapse. Batches of other live instances are left alone.
pub async fn recover(ctx: &Ctx) -> Result<(), RelayerError> {
    // Intents first, batches second: a batch another instance opens between the two reads
    // is among the unfinished ones (its intents became `queued` in the commit that created
    // it), so its intents are never taken for orphans.
    let open = ctx.store.nonfinal().await?;
    let batches = ctx.store.unfinished_batches().await?;
    let live: HashSet<i64> = batches.iter().map(|b| b.batch_id).collect();
    let orphans: Vec<Transition> = open
        .into_iter()
        .filter(|r| r.status != Status::Pending)
        .filter(|r| r.batch_id.is_none_or(|b| !live.contains(&b)))
        .map(|r| Transition::new(r.id, Status::Pending, Actor::Recovery).reason("restart"))
        .collect();
    if !orphans.is_empty() {
        tracing::info!(intents = orphans.len(), "restart: intents back to pending");
        ctx.store.apply(orphans).await?;
    }
    let mine: Vec<i64> = batches
        .iter()
        .filter(|b| b.owner.as_deref() == Some(ctx.lease.owner.as_str()))
        .map(|b| b.batch_id)
        .collect();
    if !mine.is_empty() {
        tracing::info!(
            batches = mine.len(),
            "restart: taking this instance's batches back"
        );
        ctx.store.release_leases(&ctx.lease.owner, mine).await?;
    }
    Ok(())
}
