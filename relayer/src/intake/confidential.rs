//! Confidential mode at intake (`docs/arcium.md`): the MXE key as served, encrypt-for-me,
//! and the checks a signed confidential intent gets before the answer (it is never stored:
//! the deployed program cannot settle it).

use super::error::{bad, reply, ApiError};
use super::AppState;
use crate::arcium::{key_error_code, Sealed};
use crate::ctx::Ctx;
use crate::refusal::{Code, Rejection};
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{json, Value};
use toss_sdk::arcium::ArciumError;
use toss_sdk::arcium::SignedConfidentialIntent;
use toss_sdk::Intent;

/// The API error of an MXE key failure (503: the relayer cannot serve it now; not the
/// client's fault).
pub fn key_error(e: &ArciumError) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        key_error_code(e),
        format!("the MXE key is not available: {e}"),
    )
}

fn disabled() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        Code::ArciumDisabled,
        "this relayer has no confidential mode ([arcium] enabled = false)",
    )
}

/// The MXE key as served: `{"mxe_program_id", "mxe_account", "x25519_pubkey" (hex),
/// "cluster_offset", "slot"}`.
pub async fn mxe_key_json(state: &AppState) -> Result<Value, ApiError> {
    let ctx = &state.ctx;
    let arcium = ctx.arcium.as_ref().ok_or_else(disabled)?;
    let key = arcium
        .key(ctx.cluster.as_ref())
        .await
        .map_err(|e| key_error(&e))?;
    Ok(json!({
        "mxe_program_id": arcium.mxe_program.to_string(),
        "mxe_account": key.address.to_string(),
        "x25519_pubkey": hex::encode(key.key.to_bytes()),
        "cluster_offset": key.account.cluster,
        "slot": key.slot,
    }))
}

/// Encrypt-for-me on a parsed body `{"intent": "<base64 canonical version-1 intent bytes,
/// unsigned>"}`: 200 with the version-2 bytes to sign and their opening, or the downgrade.
pub async fn answer_encrypt(state: &AppState, body: &Value) -> (StatusCode, Value) {
    let ctx = &state.ctx;
    let Some(arcium) = ctx.arcium.as_ref() else {
        return reply(disabled());
    };
    let Some(text) = body.get("intent").and_then(Value::as_str) else {
        return reply(bad(
            Code::MalformedJson,
            "expected {\"intent\": \"<base64 unsigned intent bytes>\"}",
        ));
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) else {
        return reply(bad(Code::BadBase64, "intent is not standard base64"));
    };
    let intent = match Intent::decode(&bytes) {
        Ok(i) => i,
        Err(e) => {
            return reply(bad(
                Code::MalformedIntent,
                format!("expected an unsigned version-1 intent: {e}"),
            ))
        }
    };
    ctx.validator.chain.refresh_if_stale().await;
    if let Err(r) = ctx.validator.check_rules(&intent, crate::now_ms() / 1000) {
        return reply(r.into());
    }
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match arcium.seal(ctx.cluster.as_ref(), intent).await {
        Ok(Sealed::Encrypted {
            intent,
            opening,
            key,
        }) => {
            let message = intent.encode();
            (
                StatusCode::OK,
                json!({
                    "version": 2,
                    "downgraded": false,
                    "message": b64(&message),
                    "id": hex::encode(toss_intent_processor::intent::intent_id(&message)),
                    "opening": b64(&opening.to_bytes()),
                    "mxe_account": key.address.to_string(),
                    "x25519_pubkey": hex::encode(key.key.to_bytes()),
                    "slot": key.slot,
                }),
            )
        }
        Ok(Sealed::Downgraded { intent, reason }) => match intent.encode() {
            Ok(message) => (
                StatusCode::OK,
                json!({
                    "version": 1,
                    "downgraded": true,
                    "reason": reason,
                    "message": b64(&message),
                }),
            ),
            Err(e) => reply(bad(Code::MalformedIntent, e.to_string())),
        },
        Err(e) => reply(key_error(&e)),
    }
}

fn refuse(code: Code, status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

/// Intake of one signed confidential intent (`signature || version-2 bytes`): every check the
/// program and the MPC do not need to be online for, then the answer. Never stores it (see the
/// module documentation).
pub async fn intake(ctx: &Ctx, bytes: Vec<u8>) -> ApiError {
    let answer = check_confidential(ctx, bytes).await;
    if let Some(c) = &ctx.arcium {
        let outcome = match &answer {
            Ok(()) => "valid",
            Err(e) => e.code.as_str(),
        };
        c.metrics.submissions.with_label_values(&[outcome]).inc();
    }
    answer.err().unwrap_or_else(|| {
        refuse(
            Code::ConfidentialSettlementUnavailable,
            StatusCode::UNPROCESSABLE_ENTITY,
            "the confidential intent is valid, but the deployed program has no confidential-settlement \
             instruction (it needs Arcium's toolchain; docs/arcium.md), so it is not stored; \
             submit a version-1 intent instead",
        )
    })
}

async fn check_confidential(ctx: &Ctx, bytes: Vec<u8>) -> Result<(), ApiError> {
    if ctx.arcium.is_none() {
        return Err(refuse(
            Code::ConfidentialDisabled,
            StatusCode::UNPROCESSABLE_ENTITY,
            "this relayer does not accept confidential intents ([arcium] enabled = false)",
        ));
    }
    let signed = SignedConfidentialIntent::from_bytes(&bytes).map_err(|e| {
        refuse(
            Code::MalformedIntent,
            StatusCode::BAD_REQUEST,
            format!("confidential intent: {e}"),
        )
    })?;
    let verified = tokio::task::spawn_blocking(move || signed.verify())
        .await
        .map_err(|_| ApiError::internal("verification task failed"))?;
    let intent = verified.map_err(|_| {
        ApiError::from(Rejection::new(
            Code::BadSignature,
            "signature does not verify for the intent's sender",
        ))
    })?;
    let now = crate::now_ms() / 1000;
    ctx.validator.chain.refresh_if_stale().await;
    ctx.validator
        .check_public_rules(intent.expiry, intent.mint.as_ref(), intent.max_fee, now)
        .map_err(ApiError::from)?;
    let nonce = ctx
        .validator
        .check_nonce_values(&[(intent.nonce_account, intent.nonce_value, None)])
        .await;
    match nonce.into_iter().next() {
        Some(Ok(())) => Ok(()),
        Some(Err(r)) => Err(r.into()),
        None => Err(ApiError::internal("nonce check returned nothing")),
    }
}
