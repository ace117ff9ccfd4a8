//! Accepting Noise connections: one task per session, at most `[noise] max_sessions` at once
//! and `max_sessions_per_ip` from one client (an IPv4 address or an IPv6 /64; handshakes included; the next one is closed at once,
//! with a log line and `noise_sessions_closed_total{reason="too_many_sessions"}`). Each
//! connection counts as one request against the HTTP API's per-IP rate limit, checked before
//! any handshake work (`reason="rate_limited"`): a handshake costs the relayer several X25519
//! operations and a signature check, and replaying a recorded first message costs the client
//! nothing. On shutdown the listener
//! stops accepting, every session finishes the request it is handling and closes, then the
//! task ends.

use super::identity::NoiseIdentity;
use super::metrics::NoiseMetrics;
use super::session::{self, Close, SessionCtx};
use super::slots::PerIp;
use crate::intake::{client_key, AppState};
use crate::RelayerError;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Serves the Noise endpoint on `listener` until `stop` turns true. `state` is the HTTP
/// API's (same intake queue, same limiters).
pub fn spawn(
    listener: TcpListener,
    state: AppState,
    identity: Arc<NoiseIdentity>,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, RelayerError> {
    let metrics = NoiseMetrics::register(&state.ctx.metrics)
        .map_err(|e| RelayerError::Other(format!("noise metrics: {e}")))?;
    let ctx = Arc::new(SessionCtx {
        config: state.ctx.config.noise.clone(),
        state,
        identity,
        metrics,
        lingering: tokio::sync::Semaphore::new(session::MAX_LINGERING),
    });
    Ok(tokio::spawn(accept_loop(listener, ctx, stop)))
}

async fn accept_loop(listener: TcpListener, ctx: Arc<SessionCtx>, mut stop: watch::Receiver<bool>) {
    let table = Arc::new(PerIp::default());
    let mut sessions = JoinSet::new();
    let session_stop = stop.clone();
    loop {
        tokio::select! {
            _ = super::stopped(&mut stop) => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    if sessions.len() >= ctx.config.max_sessions {
                        tracing::warn!(
                            peer = %peer.ip(),
                            limit = ctx.config.max_sessions,
                            "noise session refused: too many sessions open"
                        );
                        refuse(&ctx, Close::TooManySessions);
                        continue;
                    }
                    if !ctx.state.limits.allow_request(peer.ip()) {
                        tracing::debug!(peer = %peer.ip(), "noise session refused: rate limited");
                        refuse(&ctx, Close::RateLimited);
                        continue;
                    }
                    let Some(slot) = PerIp::claim(&table, client_key(peer.ip()), ctx.config.max_sessions_per_ip)
                    else {
                        tracing::warn!(
                            peer = %peer.ip(),
                            limit = ctx.config.max_sessions_per_ip,
                            "noise session refused: too many sessions from this address"
                        );
                        refuse(&ctx, Close::TooManySessions);
                        continue;
                    };
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                    }
                    sessions.spawn(session::run(tcp, peer, slot, ctx.clone(), session_stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "noise accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
    tracing::info!("noise endpoint stopped");
}

/// Counts a connection closed at accept (the socket is dropped by the caller).
fn refuse(ctx: &SessionCtx, why: Close) {
    ctx.metrics.closed.with_label_values(&[why.label()]).inc();
}
