//! The Noise endpoint: a TCP listener (`[noise] listen`) speaking the Noise protocol of
//! `docs/noise.md` (patterns IK, XX, N, NN with `25519_ChaChaPoly_SHA256`, prologue
//! `toss-noise-v1`, 2-byte big-endian length-prefixed frames). After the handshake each
//! transport message carries one `POST /v1/intents` body and gets `{"status", "body"}` back,
//! computed by the same [`crate::intake::gate`] and [`crate::intake::answer_body`] as the HTTP API,
//! over the same intake queue and rate limiters.
//!
//! - [`identity`]: the relayer's static key, derived from its Ed25519 identity, and the
//!   signed record `GET /v1/noise/key` serves.
//! - [`listener`]: accepting connections, per-IP session limits, shutdown.
//! - `session`: one connection: handshake under a deadline, then requests under the idle
//!   timeout and the frame size limit.
//! - [`metrics`]: handshakes by pattern and outcome, closed sessions by reason.

pub mod identity;
pub mod listener;
pub mod metrics;
mod session;
mod slots;

pub use identity::{load_identity, NoiseIdentity};
pub use listener::spawn;
pub use metrics::NoiseMetrics;

/// Resolves once `stop` is true (or its sender is gone); holds no borrow of the value, so it
/// can sit in a `select!` whose other arms await.
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
