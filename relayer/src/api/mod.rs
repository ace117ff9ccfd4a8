//! The HTTP API (axum): the HTTP face of [`crate::intake`]. Documented in the README and
//! `relayer/openapi.yaml`.
//!
//! - `POST /v1/intents`: one `{"intent": "<base64>"}` or an array of them (bulk).
//! - `GET /v1/intents/{id}`: an intent's state.
//! - `GET /v1/noise/key`: the Noise endpoint's signed key record (`docs/noise.md`).
//! - `GET /v1/arcium/mxe-key`, `POST /v1/arcium/encrypt`: confidential mode (`docs/arcium.md`).
//! - `GET /healthz`, `GET /metrics`.
//! - `POST /v1/admin/pause`, `POST /v1/admin/resume` (bearer token).
//!
//! Every route is rate-limited per client (`[server] rate_limit_per_ip_*`; reads have a bucket
//! of their own). Every client mistake is a 4xx with `{"error": {"code", "message"}}` and stores nothing.

mod admin;
mod arcium;
mod intents;
mod limits;
mod noise_key;

pub use crate::intake::{ApiError, AppState};
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

/// The router over `state`. Every route is rate-limited per client: submissions through
/// [`crate::intake::gate`], reads and the admin switch through [`limits`].
pub fn router(state: AppState) -> Router {
    let body_limit = state.ctx.config.server.max_body_bytes;
    let reads = Router::new()
        .route("/v1/intents/{id}", get(intents::get_intent))
        .route("/v1/noise/key", get(noise_key::get_noise_key))
        .route("/v1/arcium/mxe-key", get(arcium::get_mxe_key))
        .route("/healthz", get(admin::healthz))
        .route("/metrics", get(admin::metrics))
        .route_layer(from_fn_with_state(state.clone(), limits::reads));
    let admin = Router::new()
        .route("/v1/admin/pause", post(admin::pause))
        .route("/v1/admin/resume", post(admin::resume))
        .route_layer(from_fn_with_state(state.clone(), limits::requests));
    Router::new()
        .route("/v1/intents", post(intents::post_intents))
        .route("/v1/arcium/encrypt", post(arcium::post_encrypt))
        .merge(reads)
        .merge(admin)
        .fallback(admin::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
