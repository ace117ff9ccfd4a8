//! `POST /v1/intents` and `GET /v1/intents/{id}`: the HTTP face of [`crate::intake`].

use super::AppState;
use crate::intake::{answer_body, bad, gate, record_json, ApiError};
use crate::refusal::Code;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

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
                Code::BodyTooLarge,
                format!(
                    "request body is over {} bytes",
                    state.ctx.config.server.max_body_bytes
                ),
            )
            .into_response()
        }
        Err(e) => return bad(Code::MalformedBody, e.body_text()).into_response(),
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
        .ok_or_else(|| bad(Code::BadId, "an intent id is 64 hex characters"))?;
    match state.ctx.store.get(bytes).await {
        Ok(Some(r)) => Ok(Json(record_json(&r))),
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Code::NotFound,
            "no intent with this id",
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}
