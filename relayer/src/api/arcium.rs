//! `GET /v1/arcium/mxe-key` and `POST /v1/arcium/encrypt`: confidential mode's endpoints
//! (`docs/arcium.md`). Both answer `404 arcium_disabled` when `[arcium] enabled = false`.

use super::AppState;
use crate::intake::{answer_encrypt, bad, gate, mxe_key_json, reply, ApiError};
use crate::refusal::Code;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use std::net::SocketAddr;

/// `GET /v1/arcium/mxe-key`: 200 with the key, 404 `arcium_disabled`, or 503
/// `mxe_key_unset` / `mxe_account_missing` / `mxe_account_invalid` / `mxe_unavailable`.
pub async fn get_mxe_key(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    mxe_key_json(&state).await.map(Json)
}

/// `POST /v1/arcium/encrypt`.
pub async fn post_encrypt(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = gate(&state, peer.ip()) {
        return e.into_response();
    }
    let body = match body {
        Ok(b) => b,
        Err(e) => return bad(Code::MalformedBody, e.body_text()).into_response(),
    };
    let (status, value) = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => answer_encrypt(&state, &v).await,
        Err(e) => reply(bad(Code::MalformedJson, format!("body is not JSON: {e}"))),
    };
    (status, Json(value)).into_response()
}
