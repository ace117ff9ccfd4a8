//! `GET /v1/arcium/mxe-key` and `POST /v1/arcium/encrypt`: confidential mode's endpoints
//! (`docs/arcium.md`). Both answer `404 arcium_disabled` when `[arcium] enabled = false`.

use super::intents::{bad, reply};
use super::{ApiError, AppState};
use crate::arcium::{key_error, Sealed};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};
use std::net::SocketAddr;
use toss_sdk::Intent;

fn disabled() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "arcium_disabled",
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

/// `GET /v1/arcium/mxe-key`: 200 with the key, 404 `arcium_disabled`, or 503
/// `mxe_key_unset` / `mxe_account_missing` / `mxe_account_invalid` / `mxe_unavailable`.
pub async fn get_mxe_key(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    mxe_key_json(&state).await.map(Json)
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
            "malformed_json",
            "expected {\"intent\": \"<base64 unsigned intent bytes>\"}",
        ));
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) else {
        return reply(bad("bad_base64", "intent is not standard base64"));
    };
    let intent = match Intent::decode(&bytes) {
        Ok(i) => i,
        Err(e) => {
            return reply(bad(
                "malformed_intent",
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
            Err(e) => reply(bad("malformed_intent", e.to_string())),
        },
        Err(e) => reply(key_error(&e)),
    }
}

/// `POST /v1/arcium/encrypt`.
pub async fn post_encrypt(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = super::gate(&state, peer.ip()) {
        return e.into_response();
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => return bad("malformed_body", e.body_text()).into_response(),
    };
    let (status, value) = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => answer_encrypt(&state, &v).await,
        Err(e) => reply(bad("malformed_json", format!("body is not JSON: {e}"))),
    };
    (status, Json(value)).into_response()
}
