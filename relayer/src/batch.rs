//! The batcher: picks stored `pending` intents, at most one per nonce account, and packs them
//! with the SDK packer (v0 with lookup tables when configured, legacy otherwise) into settle
//! transactions, flushing when a transaction's worth is waiting or the oldest has waited
//! `batch.max_wait_ms`.
//!
//! Conflict rule (deterministic): intents on one nonce account go in the order the relayer
//! stored them (`seq`). Only the first non-final one may be in flight; the others wait. When
//! one settles, every other intent on that nonce becomes `conflict`; when it is rejected, the
//! next one gets its turn.
//!
//! Waiting for coverage (`tables.cover_wait_ms`): while this instance's lookup-table keeper
//! has rent left, an intent naming an account not yet usable in a table is held back for at
//! most `cover_wait_ms` after it was received (never when its expiry is within a minute
//! beyond that wait), so a burst of new payers settles in covered transactions of 8 instead
//! of uncovered ones of 3 or 4. A held intent stays `pending`; nothing else changes.

use crate::ctx::Ctx;
use crate::forms;
use crate::store::Actor;
use crate::store::{IntentRecord, Status};
use crate::RelayerError;
use solana_instruction::Instruction;
use solana_message::AddressLookupTableAccount;
use solana_pubkey::Pubkey;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};
use toss_sdk::instructions::{sol_intent_metas_at, token_intent_metas_at};
use toss_sdk::pack::{Form, PackItem};
use toss_sdk::SignedIntent;

pub use crate::addresses::{associated_token_address, ASSOCIATED_TOKEN_PROGRAM_ID};

/// One settle transaction's worth of intents, claimed in the store and handed to the
/// submitter with its in-flight slot.
pub struct Batch {
    /// Store id of the batch.
    pub id: i64,
    /// Its intents, in transaction order.
    pub records: Vec<IntentRecord>,
    /// Compute budget and settle instructions (precompile and `intent_settle`, or
    /// `intent_settle_compact`).
    pub instructions: Vec<Instruction>,
    /// The form of `instructions`.
    pub form: Form,
    /// Its fee by the cost model ([`crate::forms`]), lamports.
    pub fee: u64,
    /// Picked up again after a restart or by the sweeper (its intents may still be `queued`
    /// although a signature was recorded).
    pub resumed: bool,
    /// Its slot of `submit.in_flight_max`, freed when the batch is dropped.
    pub permit: OwnedSemaphorePermit,
}

impl Batch {
    /// A batch of `group`'s intents, with its in-flight slot.
    pub fn new(id: i64, group: Group, resumed: bool, permit: OwnedSemaphorePermit) -> Self {
        Batch {
            id,
            records: group.records,
            instructions: group.instructions,
            form: group.form,
            fee: group.fee,
            resumed,
            permit,
        }
    }
}

/// Runs until `stop`, then makes one last pass for what is pending; every batch goes to the
/// submitter on `batches`.
pub async fn run(
    ctx: Arc<Ctx>,
    batches: mpsc::UnboundedSender<Batch>,
    mut stop: watch::Receiver<bool>,
) {
    let tick = Duration::from_millis((ctx.config.batch.max_wait_ms / 4).clamp(5, 50));
    loop {
        if !*stop.borrow() {
            tokio::select! {
                _ = ctx.flow.wake.notified() => {}
                _ = tokio::time::sleep(tick) => {}
                _ = stop.changed() => {}
            }
        }
        let stopping = *stop.borrow();
        if let Err(e) = pass(&ctx, &batches, stopping).await {
            ctx.metrics.rpc_errors.inc();
            tracing::warn!(error = %e, "batcher pass failed");
        }
        if stopping {
            break;
        }
    }
}

/// One batching pass.
async fn pass(
    ctx: &Arc<Ctx>,
    batches: &mpsc::UnboundedSender<Batch>,
    stopping: bool,
) -> Result<(), RelayerError> {
    let now_ms = crate::now_ms();
    let expired = ctx.store.expire_due(now_ms / 1000, Actor::Batcher).await?;
    if !expired.is_empty() {
        ctx.metrics
            .finals
            .with_label_values(&["expired"])
            .inc_by(expired.len() as u64);
    }
    if ctx.sending_stopped().is_some() {
        return Ok(());
    }
    let permits = ctx.flow.in_flight.available_permits();
    if permits == 0 {
        return Ok(());
    }
    let max = ctx.config.batch.max_intents.max(1);
    // Only what this pass can send is packed: one more intent per free permit than the last
    // full transaction held (packing costs a serialization per candidate).
    let fit = ctx.packing.fit_hint.load(Ordering::Relaxed).clamp(1, max);
    let window = permits.saturating_mul((fit + 1).min(max));
    // Read more than the window: intents behind a busy nonce are skipped.
    let limit = window.saturating_mul(4).min(4_096);
    let pending = ctx.store.load_by_status(&[Status::Pending], limit).await?;
    let chosen = choose(ctx, pending);
    let Some(oldest) = chosen.iter().map(|r| r.received_at_ms).min() else {
        ctx.metrics.waiting_for_tables.set(0);
        return Ok(());
    };
    let waited = now_ms.saturating_sub(oldest);
    let wait = i64::try_from(ctx.config.batch.max_wait_ms).unwrap_or(i64::MAX);
    let flush_all = waited >= wait || stopping;
    // Nothing is held back once the relayer is stopping.
    let hold = (!stopping)
        .then(|| CoverHold::from_ctx(ctx, now_ms))
        .flatten();
    let solo: HashSet<[u8; 32]> = ctx
        .claims
        .solo
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    let (alone, mut together): (Vec<IntentRecord>, Vec<IntentRecord>) =
        chosen.into_iter().partition(|r| solo.contains(&r.id));
    // Before the window is cut: held intents must not take the places of the ones that can go.
    let mut held = 0;
    if let Some(hold) = hold {
        (together, held) = hold_back(ctx, together, hold).await;
    }
    ctx.metrics
        .waiting_for_tables
        .set(i64::try_from(held).unwrap_or(i64::MAX));
    together.truncate(window);
    let mut groups: Vec<Group> = Vec::new();
    for record in alone.into_iter().take(permits) {
        match build_instructions(ctx, vec![record]).await {
            Ok(group) => groups.push(group),
            Err(e) => tracing::warn!(error = %e, "cannot build settle instructions"),
        }
    }
    if !together.is_empty() && groups.len() < permits {
        let mut packed = pack_group(ctx, together).await?;
        if packed.len() > 1 {
            let most = packed.iter().map(|g| g.records.len()).max().unwrap_or(max);
            ctx.packing.fit_hint.store(most, Ordering::Relaxed);
        }
        // Every transaction but the last was closed because the next intent did not fit (or
        // `max` was reached): it goes now. The last may have room left: it waits for company
        // until its oldest intent has waited `batch.max_wait_ms`.
        if !flush_all && packed.last().is_some_and(|g| g.records.len() < max) {
            packed.pop();
        }
        groups.extend(packed);
    }
    groups.truncate(permits);
    // Every transaction of the pass is built; open all their batches in one durable commit
    // (one fsync per pass, not two per batch).
    let mut ready = Vec::with_capacity(groups.len());
    for group in groups {
        let Ok(permit) = ctx.flow.in_flight.clone().try_acquire_owned() else {
            break;
        };
        ready.push((group, permit));
    }
    let ids: Vec<Vec<[u8; 32]>> = ready
        .iter()
        .map(|(group, _)| group.records.iter().map(|r| r.id).collect())
        .collect();
    // A group another instance claimed first (or whose nonce is busy there) comes back
    // `None`: its permit is dropped and its intents stay where they are.
    let batch_ids = ctx
        .store
        .open_batches(ids, Actor::Batcher, &ctx.lease)
        .await?;
    for ((group, permit), batch_id) in ready.into_iter().zip(batch_ids) {
        let Some(batch_id) = batch_id else {
            continue;
        };
        ctx.claims.claim(batch_id, &group.records);
        let coverage = &ctx.metrics.table_coverage;
        coverage
            .with_label_values(&["yes"])
            .inc_by(group.covered as u64);
        coverage
            .with_label_values(&["no"])
            .inc_by((group.records.len() - group.covered) as u64);
        let batch = Batch::new(batch_id, group, false, permit);
        if batches.send(batch).is_err() {
            // The submitter is gone (shutting down): the batch's lease lapses and it resumes.
            break;
        }
    }
    Ok(())
}

/// Lowest `seq` first, one intent per nonce account, none on a nonce already in flight.
fn choose(ctx: &Ctx, pending: Vec<IntentRecord>) -> Vec<IntentRecord> {
    let busy = ctx
        .claims
        .busy_nonces
        .lock()
        .map(|b| b.clone())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    pending
        .into_iter()
        .filter(|r| {
            let nonce = Pubkey::new_from_array(r.nonce_account);
            !busy.contains(&nonce) && seen.insert(nonce)
        })
        .collect()
}

/// Holding uncovered intents back for the lookup-table keeper (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoverHold {
    /// Now, wall clock, ms.
    pub now_ms: i64,
    /// `tables.cover_wait_ms`.
    pub wait_ms: i64,
}

/// An intent is held only if it expires later than this beyond the wait, ms.
pub const COVER_HOLD_EXPIRY_MARGIN_MS: i64 = 60_000;

impl CoverHold {
    /// The hold for this pass: `None` when the keeper is off or has no room (rent limit,
    /// failed pass) or `tables.cover_wait_ms` is 0.
    pub fn from_ctx(ctx: &Ctx, now_ms: i64) -> Option<Self> {
        let wait_ms = i64::try_from(ctx.config.tables.cover_wait_ms).unwrap_or(i64::MAX);
        (ctx.config.tables.manage
            && wait_ms > 0
            && ctx.packing.keeper_has_room.load(Ordering::SeqCst))
        .then_some(CoverHold { now_ms, wait_ms })
    }

    /// Whether an uncovered intent received at `received_at_ms` and expiring at `expiry`
    /// (unix seconds) waits: it arrived less than `wait_ms` ago and expires well after.
    pub fn holds(&self, received_at_ms: i64, expiry: i64) -> bool {
        let young = self.now_ms.saturating_sub(received_at_ms) < self.wait_ms;
        let deadline = self
            .now_ms
            .saturating_add(self.wait_ms)
            .saturating_add(COVER_HOLD_EXPIRY_MARGIN_MS);
        young && expiry.saturating_mul(1000) > deadline
    }
}

/// `records` without the ones `hold` keeps back for the keeper (young, far from expiry, an
/// account not in a usable table); how many it kept back.
async fn hold_back(
    ctx: &Ctx,
    records: Vec<IntentRecord>,
    hold: CoverHold,
) -> (Vec<IntentRecord>, usize) {
    let tables = ctx.packing.tables();
    let in_tables: HashSet<&Pubkey> = tables.iter().flat_map(|t| t.addresses.iter()).collect();
    let mut out = Vec::with_capacity(records.len());
    let mut held = 0;
    for record in records {
        // The cheap test first: most intents are not young.
        if hold.holds(record.received_at_ms, record.expiry) {
            // One that cannot be packed goes on, to be reported by `pack_group`.
            let uncovered = pack_item(ctx, &record).await.is_ok_and(|item| {
                !item
                    .metas
                    .iter()
                    .all(|m| m.is_signer || in_tables.contains(&m.pubkey))
            });
            if uncovered {
                held += 1;
                continue;
            }
        }
        out.push(record);
    }
    (out, held)
}

/// Splits `records` into settle transactions that fit, at most `batch.max_intents` each, in
/// the form `submit.verification` picks ([`crate::forms::plan`]).
async fn pack_group(ctx: &Ctx, records: Vec<IntentRecord>) -> Result<Vec<Group>, RelayerError> {
    let mut items = Vec::with_capacity(records.len());
    let mut kept = Vec::with_capacity(records.len());
    for record in records {
        match pack_item(ctx, &record).await {
            Ok(item) => {
                items.push(item);
                kept.push(record);
            }
            Err(e) => {
                tracing::warn!(intent_id = %hex::encode(record.id), error = %e, "cannot pack intent")
            }
        }
    }
    let payer = solana_signer::Signer::pubkey(ctx.fee_payer.as_ref());
    let tables = ctx.packing.tables();
    let max = ctx.config.batch.max_intents.max(1);
    let planned = forms::plan(&ctx.config.submit, &payer, &items, &tables, max)?;
    let covered = covered(&items, &tables);
    let mut records: Vec<Option<IntentRecord>> = kept.into_iter().map(Some).collect();
    Ok(planned
        .into_iter()
        .map(|p| Group {
            covered: p.items.iter().filter(|&&i| covered[i]).count(),
            records: p.items.iter().filter_map(|&i| records[i].take()).collect(),
            form: p.form,
            fee: p.fee,
            instructions: p.instructions,
        })
        .collect())
}

/// Whether every account each item names (signers aside) is in one of `tables`.
fn covered(items: &[PackItem], tables: &[AddressLookupTableAccount]) -> Vec<bool> {
    let in_tables: HashSet<&Pubkey> = tables.iter().flat_map(|t| t.addresses.iter()).collect();
    items
        .iter()
        .map(|i| {
            i.metas
                .iter()
                .all(|m| m.is_signer || in_tables.contains(&m.pubkey))
        })
        .collect()
}

/// One settle transaction's intents as planned, before its batch is opened.
pub struct Group {
    /// Its intents, in transaction order.
    pub records: Vec<IntentRecord>,
    /// Its form.
    pub form: Form,
    /// Its fee by the cost model, lamports.
    pub fee: u64,
    /// Compute budget and settle instructions.
    pub instructions: Vec<Instruction>,
    /// How many of its intents had every account in a lookup table.
    pub covered: usize,
}

/// The settle instructions for `records` in one transaction, in the cheapest allowed form
/// that fits (resumed batches, intents retried alone).
pub async fn build_instructions(
    ctx: &Ctx,
    records: Vec<IntentRecord>,
) -> Result<Group, RelayerError> {
    // The fee cap comes from the program's config: keep the reading fresh even when no
    // intake traffic refreshes it.
    ctx.validator.chain.refresh_if_stale().await;
    let mut items = Vec::with_capacity(records.len());
    for r in &records {
        items.push(pack_item(ctx, r).await?);
    }
    let payer = solana_signer::Signer::pubkey(ctx.fee_payer.as_ref());
    let tables = ctx.packing.tables();
    let planned = forms::one_transaction(&ctx.config.submit, &payer, &items, &tables)?;
    Ok(Group {
        covered: covered(&items, &tables).iter().filter(|c| **c).count(),
        records,
        form: planned.form,
        fee: planned.fee,
        instructions: planned.instructions,
    })
}

/// One stored intent as the packer takes it. Token intents pay from the sender's associated
/// token account to the recipient's, and the fee to the relayer's.
pub async fn pack_item(ctx: &Ctx, record: &IntentRecord) -> Result<PackItem, RelayerError> {
    let signed = SignedIntent::from_bytes(&record.signed)?;
    let intent = signed.intent()?;
    let sender = ctx.packing.addresses.sender(&intent.sender);
    let metas = match intent.mint {
        None => sol_intent_metas_at(&intent, &sender),
        Some(mint) => {
            let token_program = token_program(ctx, &mint).await?;
            let payer = solana_signer::Signer::pubkey(ctx.fee_payer.as_ref());
            let ata = |owner: &Pubkey| ctx.packing.addresses.ata(owner, &mint, &token_program);
            token_intent_metas_at(
                &intent,
                &sender,
                &token_program,
                &ata(&intent.sender),
                &ata(&intent.recipient),
                &ata(&payer),
            )?
        }
    };
    // SOL fees are capped by the program's config too (token fees only by the intent).
    let fee = match (intent.mint, ctx.validator.chain.fee_cap()) {
        (None, Some(cap)) => intent.max_fee.min(cap),
        _ => intent.max_fee,
    };
    Ok(PackItem {
        signed,
        metas,
        fee,
        nonce: intent.nonce_account,
    })
}

/// The program owning `mint` (SPL Token or Token-2022), cached.
async fn token_program(ctx: &Ctx, mint: &Pubkey) -> Result<Pubkey, RelayerError> {
    if let Some(p) = ctx
        .packing
        .token_programs
        .lock()
        .ok()
        .and_then(|m| m.get(mint).copied())
    {
        return Ok(p);
    }
    let account = ctx
        .cluster
        .account(mint)
        .await?
        .ok_or_else(|| RelayerError::Other(format!("mint {mint} does not exist")))?;
    if let Ok(mut m) = ctx.packing.token_programs.lock() {
        m.insert(*mint, account.owner);
    }
    Ok(account.owner)
}

#[cfg(test)]
mod tests {
    use super::{CoverHold, COVER_HOLD_EXPIRY_MARGIN_MS};

    #[test]
    fn an_uncovered_intent_waits_only_while_young_and_far_from_expiry() {
        let now_ms = 1_700_000_000_000;
        let hold = CoverHold {
            now_ms,
            wait_ms: 3_000,
        };
        let far = now_ms / 1000 + 3_600;
        assert!(hold.holds(now_ms, far), "just received");
        assert!(hold.holds(now_ms - 2_999, far), "inside the wait");
        assert!(!hold.holds(now_ms - 3_000, far), "waited long enough");
        assert!(!hold.holds(now_ms - 60_000, far), "long received");
        // Expiry: held only when it falls later than the wait plus the margin.
        let edge = (now_ms + 3_000 + COVER_HOLD_EXPIRY_MARGIN_MS) / 1000;
        assert!(
            !hold.holds(now_ms, edge),
            "expires right after the wait's margin"
        );
        assert!(hold.holds(now_ms, edge + 1));
        assert!(!hold.holds(now_ms, now_ms / 1000 + 10), "expires soon");
        assert!(
            !hold.holds(now_ms, i64::MIN),
            "no overflow on a hostile expiry"
        );
        assert!(
            !hold.holds(i64::MIN, far),
            "no overflow on a corrupt receipt time"
        );
        assert!(
            hold.holds(now_ms, i64::MAX),
            "no overflow on the latest expiry"
        );
    }
}
