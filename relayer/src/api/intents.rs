//! `POST /v1/intents` and `GET /v1/intents/{id}`, and [`intake`], the path every ingress
//! (HTTP, Noise) shares: parse → idempotency → verify → rules → nonce → durable insert, with
//! [`gate`] and [`answer_body`], the request-level checks and answers both ingresses give.

use super::{ApiError, AppState};
use crate::funds::Spend;
use crate::service::Ctx;
use crate::store::{InsertOutcome, IntentRecord, NewIntent};
use crate::validate::{decode_base64, parse_base64, Rejection, Validator, CONFIDENTIAL};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
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
/// nonce lookup, one group commit), which is what [`crate::api::IntakeQueue`] exploits.
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
            Err(r) if r.code == CONFIDENTIAL => {
                let bytes = decode_base64(text).unwrap_or_default();
                results[i] = Some(Err(crate::arcium::intake_confidential(ctx, bytes).await));
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
    let nonce_ok = if intents.is_empty() {
        Vec::new()
    } else {
        ctx.validator.check_nonces(&intents).await
    };
    let mut to_store: Vec<(usize, NewIntent)> = Vec::new();
    for ((i, signed, intent), ok) in candidates.iter().zip(nonce_ok) {
        // Per-sender limits count the intents that would be stored.
        let ok = ok.and_then(|()| {
            if sender_ok(&intent.sender) {
                Ok(())
            } else {
                Err(Rejection::new(
                    "rate_limited",
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
                    ctx.wake.notify_one();
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
                ctx.metrics.refused.with_label_values(&[e.code]).inc();
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

pub(super) fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// The `intent` field of one body item.
fn item_text(item: &Value) -> Result<String, ApiError> {
    item.get("intent")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            bad(
                "malformed_json",
                "expected {\"intent\": \"<base64>\"} (or an array of them)",
            )
        })
}

/// Refuses a request before its body is looked at: 503 while shutting down, 429 over the
/// per-IP rate limit. Every ingress (HTTP, Noise) calls it once per request.
pub fn gate(state: &AppState, ip: IpAddr) -> Result<(), ApiError> {
    let ctx = &state.ctx;
    if !ctx.accepting.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the relayer is shutting down; retry with another one or later",
        ));
    }
    if state.limits.per_ip.check_key(&ip).is_err() {
        ctx.metrics
            .refused
            .with_label_values(&["rate_limited"])
            .inc();
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from this address; slow down",
        ));
    }
    Ok(())
}

pub(super) fn reply(e: ApiError) -> (StatusCode, Value) {
    (e.status, e.body())
}

/// The answer to a `POST /v1/intents` body (one `{"intent"}` or an array of them) from
/// `source`, after [`gate`]: the status code and JSON body. The HTTP and Noise ingresses both
/// answer with it, so they validate, deduplicate and refuse alike.
pub async fn answer_body(state: &AppState, source: Arc<str>, body: &[u8]) -> (StatusCode, Value) {
    match serde_json::from_slice(body) {
        Ok(value) => answer_value(state, source, value).await,
        Err(e) => reply(bad("malformed_json", format!("body is not JSON: {e}"))),
    }
}

/// The Noise ingress: a `POST /v1/intents` body as [`answer_body`] answers it, or an
/// operation `{"op": "arcium_encrypt", "intent": "<base64>"}` / `{"op": "arcium_mxe_key"}`
/// answered as `POST /v1/arcium/encrypt` / `GET /v1/arcium/mxe-key` would be.
pub async fn answer_noise(state: &AppState, source: Arc<str>, body: &[u8]) -> (StatusCode, Value) {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return reply(bad("malformed_json", format!("body is not JSON: {e}"))),
    };
    match value.get("op").map(|op| op.as_str()) {
        None => answer_value(state, source, value).await,
        Some(Some("arcium_encrypt")) => super::arcium::answer_encrypt(state, &value).await,
        Some(Some("arcium_mxe_key")) => match super::arcium::mxe_key_json(state).await {
            Ok(v) => (StatusCode::OK, v),
            Err(e) => reply(e),
        },
        Some(_) => reply(bad(
            "unknown_op",
            "op must be \"arcium_encrypt\" or \"arcium_mxe_key\" (or absent: intents)",
        )),
    }
}

async fn answer_value(state: &AppState, source: Arc<str>, value: Value) -> (StatusCode, Value) {
    let ctx = &state.ctx;
    match value {
        Value::Array(items) => {
            let max = ctx.config.server.max_bulk;
            if items.len() > max {
                return reply(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_many_intents",
                    format!("{} intents in one request; the limit is {max}", items.len()),
                ));
            }
            if items.is_empty() {
                return reply(bad("malformed_json", "empty array"));
            }
            let texts: Result<Vec<String>, ApiError> = items.iter().map(item_text).collect();
            let texts = match texts {
                Ok(t) => t,
                Err(e) => return reply(e),
            };
            let results = state.intake.submit(texts, source).await;
            let out: Vec<Value> = results
                .iter()
                .map(|r| match r {
                    Ok(s) => {
                        let mut v = record_json(&s.record);
                        v["created"] = json!(s.created);
                        v
                    }
                    Err(e) => e.body(),
                })
                .collect();
            (StatusCode::OK, json!({ "results": out }))
        }
        other => {
            let text = match item_text(&other) {
                Ok(t) => t,
                Err(e) => return reply(e),
            };
            let mut results = state.intake.submit(vec![text], source).await;
            match results.pop() {
                Some(Ok(s)) => {
                    let status = if s.created {
                        StatusCode::ACCEPTED
                    } else {
                        StatusCode::OK
                    };
                    (status, record_json(&s.record))
                }
                Some(Err(e)) => reply(e),
                None => reply(ApiError::internal("no result")),
            }
        }
    }
}

/// `POST /v1/intents`.
pub async fn post_intents(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = gate(&state, peer.ip()) {
        return e.into_response();
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "request body is over {} bytes",
                    state.ctx.config.server.max_body_bytes
                ),
            )
            .into_response()
        }
        Err(e) => return bad("malformed_body", e.body_text()).into_response(),
    };
    let source: Arc<str> = Arc::from(format!("http {}", peer.ip()));
    let (status, value) = answer_body(&state, source, &body).await;
    (status, Json(value)).into_response()
}

/// `GET /v1/intents/{id}`.
pub async fn get_intent(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let bytes: [u8; 32] = hex::decode(id.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("bad_id", "an intent id is 64 hex characters"))?;
    match state.ctx.store.get(bytes).await {
        Ok(Some(r)) => Ok(Json(record_json(&r))),
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no intent with this id",
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}
