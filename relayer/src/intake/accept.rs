//! [`intake`], the path every ingress (HTTP, Noise) shares: parse → idempotency → verify →
//! rules → nonce and recipient → funds → durable insert, on a whole group of intents at once.

use super::error::ApiError;
use crate::ctx::Ctx;
use crate::funds::Spend;
use crate::refusal::{Code, Rejection};
use crate::store::{InsertOutcome, IntentRecord, NewIntent};
use crate::validate::{decode_base64, parse_base64, Validator};
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::sync::Arc;
use toss_sdk::SignedIntent;

/// A stored intent as intake returns it.
#[derive(Clone, Debug)]
pub struct Submitted {
    /// The record.
    pub record: IntentRecord,
    /// True when this request stored it (202), false when it was already known (200).
    pub created: bool,
}

/// `{"id", "status", "signature"?, "reason"?, "slot"?}`.
pub fn record_json(r: &IntentRecord) -> Value {
    let mut v = json!({"id": hex::encode(r.id), "status": r.status.as_str()});
    if let Some(s) = &r.signature {
        v["signature"] = json!(s);
    }
    if let Some(s) = &r.reason {
        v["reason"] = json!(s);
    }
    if let Some(s) = r.slot {
        v["slot"] = json!(s);
    }
    v
}

/// Validates and durably stores base64 intents, each with its source (`"http 1.2.3.4"`);
/// results in input order. Nothing is stored for a refused intent; an accepted one is
/// committed before this returns. `sender_ok` applies the per-sender rate limit. Every
/// stage works on the whole list at once (one store read, one parallel verification, one
/// nonce lookup, one group commit), which is what [`super::IntakeQueue`] exploits.
pub async fn intake(
    ctx: &Ctx,
    items: Vec<(String, Arc<str>)>,
    sender_ok: &(dyn Fn(&Pubkey) -> bool + Sync),
) -> Vec<Result<Submitted, ApiError>> {
    let n = items.len();
    ctx.metrics.received.inc_by(n as u64);
    let mut results: Vec<Option<Result<Submitted, ApiError>>> = vec![None; n];
    let sources: Vec<Arc<str>> = items.iter().map(|(_, s)| s.clone()).collect();
    // Parse, then answer known intents from the store (idempotent resubmission).
    let mut parsed: Vec<(usize, SignedIntent)> = Vec::new();
    for (i, (text, _)) in items.iter().enumerate() {
        match parse_base64(text) {
            Err(r) if r.code == Code::ConfidentialIntent => {
                let bytes = decode_base64(text).unwrap_or_default();
                results[i] = Some(Err(super::confidential::intake(ctx, bytes).await));
            }
            Err(r) => results[i] = Some(Err(r.into())),
            Ok(signed) => parsed.push((i, signed)),
        }
    }
    let known = ctx
        .store
        .get_many(parsed.iter().map(|(_, s)| s.id()).collect())
        .await;
    let mut fresh: Vec<(usize, SignedIntent)> = Vec::new();
    match known {
        Ok(known) => {
            for ((i, signed), record) in parsed.into_iter().zip(known) {
                match record {
                    Some(record) => {
                        results[i] = Some(Ok(Submitted {
                            record,
                            created: false,
                        }))
                    }
                    None => fresh.push((i, signed)),
                }
            }
        }
        Err(e) => {
            let err = ApiError::internal(e);
            for (i, _) in parsed {
                results[i] = Some(Err(err.clone()));
            }
        }
    }
    let (index, signed): (Vec<usize>, Vec<SignedIntent>) = fresh.into_iter().unzip();
    let verified = ctx.validator.verify_signatures(signed).await;
    ctx.validator.chain.refresh_if_stale().await;
    let now_ms = crate::now_ms();
    let mut candidates = Vec::new();
    if verified.len() != index.len() {
        for i in index {
            results[i] = Some(Err(ApiError::internal("verification task failed")));
        }
    } else {
        for (i, (signed, verdict)) in index.into_iter().zip(verified) {
            let checked = verdict.and_then(|intent| {
                ctx.validator.check_rules(&intent, now_ms / 1000)?;
                Ok(intent)
            });
            match checked {
                Ok(intent) => candidates.push((i, signed, intent)),
                Err(r) => results[i] = Some(Err(r.into())),
            }
        }
    }
    let intents: Vec<&toss_sdk::Intent> = candidates.iter().map(|(_, _, i)| i).collect();
    let (nonce_ok, recipient_ok) = if intents.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        tokio::join!(
            ctx.validator.check_nonces(&intents),
            ctx.validator.recipients.check(&intents)
        )
    };
    let mut to_store: Vec<(usize, NewIntent)> = Vec::new();
    for (((i, signed, intent), nonce), recipient) in
        candidates.iter().zip(nonce_ok).zip(recipient_ok)
    {
        // Per-sender limits count the intents that would be stored.
        let ok = nonce.and(recipient).and_then(|()| {
            if sender_ok(&intent.sender) {
                Ok(())
            } else {
                Err(Rejection::new(
                    Code::RateLimited,
                    "too many intents from this sender; slow down",
                ))
            }
        });
        match ok {
            Ok(()) => to_store.push((
                *i,
                Validator::to_new_intent(signed, intent, now_ms, &sources[*i]),
            )),
            Err(r) => results[*i] = Some(Err(r.into())),
        }
    }
    let to_store = funds_gate(ctx, to_store, &mut results, now_ms / 1000).await;
    if !to_store.is_empty() {
        let (index, new): (Vec<usize>, Vec<NewIntent>) = to_store.into_iter().unzip();
        let spends: Vec<Spend> = new.iter().map(Spend::of).collect();
        match ctx.store.insert_intents(new).await {
            Ok(outcomes) => {
                let mut inserted = 0;
                for (i, outcome) in index.into_iter().zip(outcomes) {
                    let created = outcome.is_inserted();
                    inserted += usize::from(created);
                    let record = match outcome {
                        InsertOutcome::Inserted(r) | InsertOutcome::Existing(r) => r,
                    };
                    if created {
                        tracing::debug!(intent_id = %hex::encode(record.id), source = %record.source, "intent accepted");
                    }
                    results[i] = Some(Ok(Submitted { record, created }));
                }
                ctx.metrics.accepted.inc_by(inserted as u64);
                if inserted > 0 {
                    ctx.flow.wake.notify_one();
                }
            }
            Err(e) => {
                for spend in &spends {
                    ctx.validator.funds.release(spend);
                }
                let err = ApiError::internal(e);
                for i in index {
                    results[i] = Some(Err(err.clone()));
                }
            }
        }
    }
    results
        .into_iter()
        .map(|r| {
            let r = r.unwrap_or_else(|| Err(ApiError::internal("intent lost in intake")));
            if let Err(e) = &r {
                ctx.metrics
                    .refused
                    .with_label_values(&[e.code.as_str()])
                    .inc();
            }
            r
        })
        .collect()
}

/// The fee payer's protection (`crate::funds`): refuses backed-off senders and intents their
/// funds cannot cover; keeps the rest, in order.
async fn funds_gate(
    ctx: &Ctx,
    to_store: Vec<(usize, NewIntent)>,
    results: &mut [Option<Result<Submitted, ApiError>>],
    now_unix: i64,
) -> Vec<(usize, NewIntent)> {
    if !ctx.config.intake.check_funds || to_store.is_empty() {
        return to_store;
    }
    let mut candidates = Vec::with_capacity(to_store.len());
    for (i, new) in to_store {
        match ctx
            .validator
            .funds
            .check_backoff(&Pubkey::new_from_array(new.sender))
        {
            Ok(()) => candidates.push((i, new)),
            Err(r) => results[i] = Some(Err(r.into())),
        }
    }
    let spends: Vec<Spend> = candidates.iter().map(|(_, n)| Spend::of(n)).collect();
    let now = ctx.validator.chain.cluster_now().unwrap_or(now_unix);
    let verdicts = ctx
        .validator
        .funds
        .check(&spends, now, ctx.store.as_ref())
        .await;
    let mut kept = Vec::with_capacity(candidates.len());
    for ((i, new), verdict) in candidates.into_iter().zip(verdicts) {
        match verdict {
            Ok(()) => kept.push((i, new)),
            Err(r) => results[i] = Some(Err(r.into())),
        }
    }
    kept
}
