//! Health, metrics and the admin pause switch.

use super::{ApiError, AppState};
use crate::refusal::Code;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

/// `GET /healthz`: 200 with the pipeline's state, 503 `store_unavailable` when the store
/// cannot be reached or written.
pub async fn healthz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let ctx = &state.ctx;
    let reachable = ctx.store.ping().await;
    ctx.metrics.store_up.set(i64::from(reachable.is_ok()));
    reachable.map_err(ApiError::internal)?;
    let counts = ctx.store.counts().await.map_err(ApiError::internal)?;
    let counts: serde_json::Map<String, serde_json::Value> = counts
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect();
    Ok(Json(json!({
        "status": "ok",
        "instance": ctx.lease.owner,
        "store": {"backend": ctx.store.backend(), "reachable": true},
        "paused": ctx.is_paused(),
        "sending_stopped": ctx.sending_stopped(),
        "breaker": format!("{:?}", ctx.flow.breaker.state()).to_lowercase(),
        "accepting": ctx.is_accepting(),
        "intents": counts,
        "program_config": ctx.validator.chain.summary(),
    })))
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let ctx = &state.ctx;
    if let Ok(counts) = ctx.store.counts().await {
        for s in crate::store::Status::NON_FINAL {
            let n = counts.get(&s).copied().unwrap_or(0);
            ctx.metrics
                .queue_depth
                .with_label_values(&[s.as_str()])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    (
        [("content-type", "text/plain; version=0.0.4")],
        ctx.metrics.render(),
    )
}

/// Checks `Authorization: Bearer <token>` in constant time.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = state.ctx.config.server.admin_token.as_ref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::AdminDisabled,
            "no admin token is configured",
        ));
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let want = token.expose().as_bytes();
    let given = given.as_bytes();
    let mut diff = u8::from(want.len() != given.len());
    for (i, w) in want.iter().enumerate() {
        diff |= w ^ given.get(i).copied().unwrap_or(0);
    }
    if diff == 0 {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            Code::Unauthorized,
            "missing or wrong bearer token",
        ))
    }
}

/// `POST /v1/admin/pause`: stops submission; intake continues.
pub async fn pause(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    state.ctx.set_paused(true);
    tracing::warn!("submission paused by admin");
    Ok(Json(json!({"paused": true})))
}

/// `POST /v1/admin/resume`: resumes submission.
pub async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    state.ctx.set_paused(false);
    tracing::warn!("submission resumed by admin");
    Ok(Json(json!({"paused": false})))
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, Code::NotFound, "no such endpoint")
}
