//! Intake: every ingress (HTTP in `crate::api`, Noise in `crate::noise`) hands requests to
//! this stage, which validates intents, stores them durably and answers. It knows nothing of
//! the stages after the store: the batcher finds new intents there (and is woken).
//!
//! - [`gate`]: refuse a request before reading it (shutting down, per-IP limit);
//! - [`answer_body`] / [`answer_noise`]: the answer to a request body;
//! - [`IntakeQueue`]: gathers concurrent requests into one group for [`intake`] (one store
//!   read, one parallel verification, one nonce lookup, one group commit);
//! - [`intake`]: parse → idempotency → verify → rules → nonce → funds → durable insert;
//! - `confidential`: confidential mode's checks and operations.

mod accept;
mod answer;
mod confidential;
mod error;
mod limits;
mod queue;

pub use accept::{intake, record_json, Submitted};
pub use answer::{answer_body, answer_noise, gate, request_texts, Request};
pub use confidential::{answer_encrypt, mxe_key_json};
pub use error::{bad, reply, ApiError};
pub use limits::{client_key, Limits};
pub use queue::{IntakeQueue, MAX_INTAKE_BATCH};

use crate::ctx::Ctx;
use std::sync::Arc;
use toss_sdk::noise::NoiseKeyRecord;

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
        let limits = Arc::new(Limits::new(&ctx.config.server));
        // Ends by itself once every clone of `limits` is dropped.
        let _forgetting = Limits::forget_idle_every(&limits, limits::FORGET_EVERY);
        Self {
            intake: Arc::new(IntakeQueue::start(ctx.clone(), limits.clone())),
            ctx,
            limits,
            noise_key,
        }
    }
}
