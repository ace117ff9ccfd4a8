//! The submitter: signs a batch with the fee payer, sends it, rebroadcasts the same bytes while
//! its blockhash is valid, and re-signs with a new blockhash only once no earlier signature
//! of the batch can land any more (every signature is stored before it is broadcast, and
//! checked before anything is sent again). Transient failures back off exponentially, up to
//! `submit.max_retries` per round; the circuit breaker holds sends while the cluster keeps
//! failing. A round that runs out of retries ends nothing: the batch goes back to the sweeper,
//! which resumes it (earlier signatures checked first) until it lands or its intents expire.

use crate::batch::Batch;
use crate::ctx::Ctx;
use crate::store::Actor;
use crate::store::{Status, Transition};
use crate::RelayerError;
use solana_instruction::Instruction;
use solana_message::{v0, VersionedMessage};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use toss_sdk::cluster::{ClusterError, TxStatus};
use toss_sdk::pack::{self, PACKET_DATA_SIZE};
use tracing::Instrument;

/// How often the same signed transaction is broadcast again while it is valid.
const REBROADCAST: Duration = Duration::from_millis(2_000);
/// How soon a transaction refused for a passing reason (accounts in use) is sent again.
const RETRY_SOON: Duration = Duration::from_millis(20);
/// How long to wait before asking again whether an earlier signature of a batch landed.
const POLL: Duration = Duration::from_millis(50);

/// How the submitter left a batch: what the reconciler acts on.
#[derive(Debug)]
pub enum SendOutcome {
    /// A transaction of the batch landed (successfully or not); `true` when it was signed
    /// from this batch's instructions (so its form and fee are the batch's), `false` when a
    /// signature recorded before a restart or takeover landed (its form is not known here).
    Landed(Signature, TxStatus, bool),
    /// The cluster refused the transaction before execution, for a reason that will not
    /// change.
    Refused(TransactionError),
    /// `submit.max_retries` ran out for this round. Not an outcome of any intent: a transient
    /// cluster failure must never become a final state while the intent can still settle, so
    /// the batch goes back to the sweeper, which resumes it.
    RetriesExhausted,
    /// An intent of the batch expired before the batch could land.
    IntentExpired,
    /// Its intents no longer fit one transaction in a form this instance may use (a batch
    /// packed in the compact form, resumed by an instance that only sends the precompile
    /// form): nothing of it can land any more, so its intents are packed again.
    TooLarge,
    /// Stopped without an outcome (store or cluster unreachable, lease lost): left for the
    /// sweeper.
    Abandoned(RelayerError),
}

/// A batch and how the submitter left it.
pub struct Sent {
    /// The batch (its in-flight slot is released when this is dropped).
    pub batch: Batch,
    /// What became of it.
    pub outcome: SendOutcome,
}

/// Runs until every sender of `batches` is gone (the batcher and the sweeper stopped): drives
/// each batch to an [`SendOutcome`] in its own task and hands it to the reconciler on `sent`;
/// then gives in-flight batches `submit.confirm_timeout_ms` to finish (the rest resume at the
/// next start, or on another instance).
pub async fn run(
    ctx: Arc<Ctx>,
    mut batches: mpsc::UnboundedReceiver<Batch>,
    sent: mpsc::UnboundedSender<Sent>,
) {
    let mut tasks = JoinSet::new();
    while let Some(batch) = batches.recv().await {
        while tasks.try_join_next().is_some() {}
        tasks.spawn(run_batch(ctx.clone(), batch, sent.clone()));
    }
    let wait = Duration::from_millis(ctx.config.submit.confirm_timeout_ms);
    let drained =
        tokio::time::timeout(wait, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("in-flight batches did not finish in time; they resume at restart");
    }
}

/// How a signed transaction ended while we watched it.
enum Watch {
    /// It landed (successfully or not).
    Landed(Signature, TxStatus),
    /// The cluster refused it before execution, for a reason that will not change.
    Refused(TransactionError),
    /// Its blockhash expired without it landing.
    Expired,
    /// We could not tell before `confirm_timeout_ms` (cluster unreachable).
    Unknown,
}

/// What earlier signatures of the batch say.
enum Earlier {
    /// None was recorded, or all expired without landing.
    Clear,
    /// One landed.
    Landed(Signature, TxStatus),
    /// The latest may still land (its blockhash is valid).
    Pending,
}

/// Drives one batch to an [`SendOutcome`] and hands both to the reconciler.
async fn run_batch(ctx: Arc<Ctx>, batch: Batch, sent: mpsc::UnboundedSender<Sent>) {
    let span = tracing::info_span!("batch", batch_id = batch.id, intents = batch.records.len());
    let outcome = drive(&ctx, &batch)
        .instrument(span)
        .await
        .unwrap_or_else(SendOutcome::Abandoned);
    // The reconciler stopped only if the relayer is going down: the batch resumes later.
    let _ = sent.send(Sent { batch, outcome });
}

fn backoff(ctx: &Ctx, attempt: u32) -> Duration {
    let s = &ctx.config.submit;
    let factor = 1u64 << attempt.min(16);
    Duration::from_millis(
        s.backoff_initial_ms
            .saturating_mul(factor)
            .min(s.backoff_max_ms),
    )
}

async fn drive(ctx: &Ctx, batch: &Batch) -> Result<SendOutcome, RelayerError> {
    let max_retries = ctx.config.submit.max_retries;
    let mut failures = 0u32;
    let mut marked = batch.records.iter().all(|r| r.status == Status::Submitted);
    // Signatures signed from `batch.instructions` (a resumed batch's earlier ones were not).
    let mut mine: Vec<Signature> = Vec::new();
    loop {
        match earlier(ctx, batch.id).await {
            Ok(Earlier::Landed(sig, status)) => {
                let known = !batch.resumed || mine.contains(&sig);
                return Ok(SendOutcome::Landed(sig, status, known));
            }
            Ok(Earlier::Pending) => {
                tokio::time::sleep(POLL * 4).await;
                continue;
            }
            Ok(Earlier::Clear) => {}
            Err(e) => {
                failures += 1;
                if failures > max_retries {
                    // The cluster could not say what became of the earlier signatures: this
                    // round ran out like any other; the batch resumes from the sweeper.
                    tracing::debug!(error = %e, "earlier signatures unknown; round over");
                    return Ok(SendOutcome::RetriesExhausted);
                }
                tokio::time::sleep(backoff(ctx, failures)).await;
                continue;
            }
        }
        if failures > max_retries {
            return Ok(SendOutcome::RetriesExhausted);
        }
        // Nothing is signed while this process may not be the only one under its id; waited
        // for first, so the expiry check and the blockhash below are as of the signature.
        while !ctx.flow.instance_held.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // After the breaker's wait, which can be long: the expiry check below must see the
        // time this signature goes out.
        let wait = ctx.flow.breaker.wait();
        if wait > Duration::ZERO {
            tokio::time::sleep(wait).await;
        }
        if batch
            .records
            .iter()
            .any(|r| r.expiry <= crate::now_ms() / 1000)
        {
            // Nothing of this batch can land any more: expire what is due, re-pack the rest.
            return Ok(SendOutcome::IntentExpired);
        }
        // No earlier signature can land (checked above), so the batch may be reshaped: never
        // put on the wire a transaction the cluster cannot take (it answers `too large`
        // forever, and the intents would wait until they expire).
        if batch.records.len() > 1 {
            let payer = ctx.fee_payer.pubkey();
            let size = pack::size_with(&payer, &batch.instructions, &ctx.packing.tables());
            if size > PACKET_DATA_SIZE {
                tracing::warn!(
                    size,
                    "batch too large for one transaction; packing it again"
                );
                return Ok(SendOutcome::TooLarge);
            }
        }
        let (blockhash, last_valid) = match ctx.cluster.latest_blockhash().await {
            Ok(v) => {
                ctx.flow.breaker.record(true);
                v
            }
            Err(e) => {
                note_error(ctx, &e);
                failures += 1;
                tokio::time::sleep(backoff(ctx, failures)).await;
                continue;
            }
        };
        let tx = sign(ctx, &batch.instructions, blockhash)?;
        let signature = tx.signatures[0];
        mine.push(signature);
        // The signature (and, the first time, every intent's move to `submitted`) is durable
        // before anything is broadcast: one commit.
        let submitted = if marked {
            Vec::new()
        } else {
            batch
                .records
                .iter()
                .map(|r| {
                    Transition::new(r.id, Status::Submitted, Actor::Submitter)
                        .signature(signature.to_string())
                        .batch(batch.id)
                        .bump_attempts()
                })
                .collect()
        };
        let recorded = ctx
            .store
            .mark_batch_sent_with(
                batch.id,
                signature.to_string(),
                blockhash.to_string(),
                last_valid,
                &ctx.lease,
                submitted,
            )
            .await?;
        if recorded.is_none() {
            // Finished, or taken over by another instance after our lease lapsed: nothing
            // new may go on the wire from here.
            return Err(RelayerError::Other(
                "batch finished or leased to another instance".into(),
            ));
        }
        marked = true;
        ctx.metrics.batch_size.observe(batch.records.len() as f64);
        tracing::debug!(%signature, "sending");
        match watch(ctx, &tx, last_valid).await {
            Watch::Landed(sig, status) => return Ok(SendOutcome::Landed(sig, status, true)),
            Watch::Refused(e) => return Ok(SendOutcome::Refused(e)),
            Watch::Expired => {
                ctx.metrics
                    .transactions
                    .with_label_values(&["expired"])
                    .inc();
                failures += 1;
            }
            Watch::Unknown => {
                failures += 1;
                tokio::time::sleep(backoff(ctx, failures)).await;
            }
        }
    }
}

/// Records a cluster failure for the breaker and the metrics.
pub fn note_error(ctx: &Ctx, e: &ClusterError) {
    ctx.flow.breaker.record(false);
    ctx.metrics.rpc_errors.inc();
    tracing::debug!(error = %e, "cluster request failed");
}

fn sign(
    ctx: &Ctx,
    ixs: &[Instruction],
    blockhash: solana_hash::Hash,
) -> Result<VersionedTransaction, RelayerError> {
    let payer = ctx.fee_payer.as_ref();
    let tables = ctx.packing.tables();
    if tables.is_empty() {
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &[payer], blockhash);
        return Ok(VersionedTransaction::from(tx));
    }
    let message = v0::Message::try_compile(&payer.pubkey(), ixs, &tables, blockhash)
        .map_err(|e| RelayerError::Other(format!("v0 message: {e}")))?;
    VersionedTransaction::try_new(VersionedMessage::V0(message), &[payer])
        .map_err(|e| RelayerError::Other(format!("signing: {e}")))
}

/// Checks every signature recorded for the batch.
async fn earlier(ctx: &Ctx, batch_id: i64) -> Result<Earlier, RelayerError> {
    let recorded = ctx.store.batch_signatures(batch_id).await?;
    let signatures: Vec<Signature> = recorded.iter().filter_map(|s| s.parse().ok()).collect();
    if signatures.is_empty() {
        return Ok(Earlier::Clear);
    }
    // With history: a transaction that landed before a long stall, outage or restart is no
    // longer in the node's recent status cache, and signing anew would send the batch twice
    // (the second landing rejects every intent as `stale_nonce` though they settled).
    let statuses = ctx
        .cluster
        .statuses_with_history(&signatures)
        .await
        .inspect_err(|e| note_error(ctx, e))?;
    let mut landed: Vec<(Signature, TxStatus)> = signatures
        .iter()
        .zip(statuses)
        .filter_map(|(s, st)| st.map(|st| (*s, st)))
        .collect();
    // A successful one wins over a failed one (a failed transaction changed nothing).
    landed.sort_by_key(|(_, st)| st.err.is_some());
    if let Some((sig, status)) = landed.into_iter().next() {
        return Ok(Earlier::Landed(sig, status));
    }
    let last_valid = ctx
        .store
        .get_batch(batch_id)
        .await?
        .and_then(|b| b.last_valid_block_height)
        .unwrap_or(0);
    let height = ctx
        .cluster
        .block_height()
        .await
        .inspect_err(|e| note_error(ctx, e))?;
    ctx.flow.breaker.record(true);
    Ok(if height > last_valid {
        Earlier::Clear
    } else {
        Earlier::Pending
    })
}

/// Sends `tx` and watches it (through the shared [`crate::watcher`]) until it lands, is
/// refused, expires, or time runs out; the same bytes are broadcast again every `REBROADCAST`.
async fn watch(ctx: &Ctx, tx: &VersionedTransaction, last_valid: u64) -> Watch {
    let signature = tx.signatures[0];
    let deadline = Instant::now() + Duration::from_millis(ctx.config.submit.confirm_timeout_ms);
    let mut seen = ctx.watcher.register(signature, last_valid);
    let mut send_at = Instant::now();
    let outcome = loop {
        if Instant::now() >= send_at {
            send_at = Instant::now() + REBROADCAST;
            match ctx.cluster.send(tx).await {
                Ok(_) => {
                    ctx.flow.breaker.record(true);
                    // A cluster that executes at send time (the in-process bank) answers
                    // now; any other is left to the watcher's next poll.
                    if let Ok(Some(Some(status))) = ctx
                        .cluster
                        .statuses(&[signature])
                        .await
                        .map(|s| s.into_iter().next())
                    {
                        if status.confirmed || status.err.is_some() {
                            break Watch::Landed(signature, status);
                        }
                    }
                }
                Err(ClusterError::Refused(TransactionError::BlockhashNotFound)) => {
                    // Too old to land: sign again with a fresh blockhash.
                    break Watch::Expired;
                }
                Err(ClusterError::Refused(e)) if is_ours(&e) => {
                    // Busy accounts or a transient bank condition: send again shortly.
                    ctx.metrics
                        .transactions
                        .with_label_values(&["send_error"])
                        .inc();
                    send_at = Instant::now() + RETRY_SOON;
                }
                Err(ClusterError::Refused(e)) => {
                    ctx.metrics
                        .transactions
                        .with_label_values(&["refused"])
                        .inc();
                    break Watch::Refused(e);
                }
                Err(e) => {
                    ctx.metrics
                        .transactions
                        .with_label_values(&["send_error"])
                        .inc();
                    note_error(ctx, &e);
                }
            }
        }
        if Instant::now() >= deadline {
            break Watch::Unknown;
        }
        tokio::select! {
            answer = &mut seen => break match answer {
                Ok(crate::watcher::Seen::Landed(status)) => Watch::Landed(signature, status),
                Ok(crate::watcher::Seen::Expired) => Watch::Expired,
                // The watcher stopped (shutdown): we cannot tell.
                Err(_) => Watch::Unknown,
            },
            _ = tokio::time::sleep_until(send_at.min(deadline)) => {}
        }
    };
    ctx.watcher.forget(&signature);
    outcome
}

/// Refusals caused by the relayer or the moment, not by the intents: retried, never blamed
/// on an intent.
pub fn is_ours(e: &TransactionError) -> bool {
    matches!(
        e,
        TransactionError::BlockhashNotFound
            | TransactionError::AccountInUse
            | TransactionError::AlreadyProcessed
            | TransactionError::InsufficientFundsForFee
            | TransactionError::AccountNotFound
            | TransactionError::WouldExceedMaxBlockCostLimit
            | TransactionError::WouldExceedMaxAccountCostLimit
            | TransactionError::WouldExceedAccountDataBlockLimit
            | TransactionError::ClusterMaintenance
    )
}
