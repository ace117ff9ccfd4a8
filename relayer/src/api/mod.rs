//! The HTTP API (axum). Documented in the README and `relayer/openapi.yaml`.
//!
//! - `POST /v1/intents`: one `{"intent": "<base64>"}` or an array of them (bulk).
//! - `GET /v1/intents/{id}`: an intent's state.
//! - `GET /v1/noise/key`: the Noise endpoint's signed key record (`docs/noise.md`).
//! - `GET /v1/arcium/mxe-key`, `POST /v1/arcium/encrypt`: confidential mode (`docs/arcium.md`).
//! - `GET /healthz`, `GET /metrics`.
//! - `POST /v1/admin/pause`, `POST /v1/admin/resume` (bearer token).
//!
//! Every client mistake is a 4xx with `{"error": {"code", "message"}}` and stores nothing.

mod admin;
mod arcium;
mod error;
mod intents;
mod noise_key;
mod queue;

pub use error::ApiError;
pub use intents::{answer_body, answer_noise, gate, intake, record_json, Submitted};
pub use queue::{IntakeQueue, MAX_INTAKE_BATCH};

use crate::service::Ctx;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use solana_pubkey::Pubkey;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use toss_sdk::noise::NoiseKeyRecord;

/// Per-IP and per-sender rate limits (token buckets).
pub struct Limits {
    /// Requests per client IP.
    pub per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Intents per sender key.
    pub per_sender: DefaultKeyedRateLimiter<Pubkey>,
}

fn quota(per_s: u32, burst: u32) -> Quota {
    let per_s = NonZeroU32::new(per_s).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(per_s);
    Quota::per_second(per_s).allow_burst(burst)
}

/// Shared state of the handlers, and of every ingress: the HTTP router and the Noise
/// listener hold clones of one `AppState`, so they share the intake queue and the rate
/// limiters.
#[derive(Clone)]
pub struct AppState {
    /// The relayer.
    pub ctx: Arc<Ctx>,
    /// Rate limiters.
    pub limits: Arc<Limits>,
    /// The micro-batching intake every submission goes through.
    pub intake: Arc<IntakeQueue>,
    /// The Noise endpoint's signed key record (`GET /v1/noise/key`); `None` when disabled.
    pub noise_key: Option<Arc<NoiseKeyRecord>>,
}

impl AppState {
    /// The limiters and the intake queue (its workers start now) over `ctx`.
    pub fn new(ctx: Arc<Ctx>, noise_key: Option<Arc<NoiseKeyRecord>>) -> Self {
        let s = &ctx.config.server;
        let limits = Arc::new(Limits {
            per_ip: RateLimiter::keyed(quota(s.rate_limit_per_ip_per_s, s.rate_limit_per_ip_burst)),
            per_sender: RateLimiter::keyed(quota(
                s.rate_limit_per_sender_per_s,
                s.rate_limit_per_sender_burst,
            )),
        });
        Self {
            intake: Arc::new(IntakeQueue::start(ctx.clone(), limits.clone())),
            ctx,
            limits,
            noise_key,
        }
    }
}

/// The router over `state`.
pub fn router(state: AppState) -> Router {
    let body_limit = state.ctx.config.server.max_body_bytes;
    Router::new()
        .route("/v1/intents", post(intents::post_intents))
        .route("/v1/intents/{id}", get(intents::get_intent))
        .route("/v1/noise/key", get(noise_key::get_noise_key))
        .route("/v1/arcium/mxe-key", get(arcium::get_mxe_key))
        .route("/v1/arcium/encrypt", post(arcium::post_encrypt))
        .route("/v1/admin/pause", post(admin::pause))
        .route("/v1/admin/resume", post(admin::resume))
        .route("/healthz", get(admin::healthz))
        .route("/metrics", get(admin::metrics))
        .fallback(admin::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
