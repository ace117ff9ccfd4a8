//! One Noise connection: the hello frame and the handshake within
//! `[noise] handshake_timeout_ms` of the accept, then one request per transport message, each
//! within `[noise] idle_timeout_ms` of the previous one and at most
//! `[noise] max_message_bytes` long. Every way a session ends is a [`Close`] reason: one log
//! line and one `noise_sessions_closed_total{reason}`.

use super::identity::NoiseIdentity;
use super::metrics::NoiseMetrics;
use super::slots::Slot;
use crate::config::NoiseConfig;
use crate::intake::{self, AppState};
use crate::refusal::Code;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{timeout, timeout_at, Instant};
use toss_sdk::noise::framing::read_frame;
use toss_sdk::noise::stream::{read_hello, respond, send};
use toss_sdk::noise::{NoiseError, Pattern, Session};

/// What every session of one endpoint shares.
pub(super) struct SessionCtx {
    /// `[noise]`.
    pub config: NoiseConfig,
    /// The HTTP API's state: intake queue, limiters, the relayer.
    pub state: AppState,
    /// The relayer's static key and binding.
    pub identity: Arc<NoiseIdentity>,
    /// Metrics.
    pub metrics: NoiseMetrics,
    /// Closing sockets allowed to linger at once ([`MAX_LINGERING`]).
    pub lingering: tokio::sync::Semaphore,
}

/// Most closing sockets that linger (drain the client's input after the last answer) at once.
pub(super) const MAX_LINGERING: usize = 256;

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Close {
    /// The client closed after its requests (normal).
    ClientClosed,
    /// No complete handshake within the deadline (slowloris, silent client).
    HandshakeTimeout,
    /// The hello frame names no protocol we speak.
    UnknownProtocol,
    /// The handshake failed (decryption, a wrong relayer key, malformed messages).
    HandshakeFailed(String),
    /// The client's static key has no valid binding.
    BadBinding,
    /// A low-order public key (all-zero DH).
    LowOrderKey,
    /// A length prefix over `max_message_bytes`.
    OversizedFrame {
        /// Whether the client was told (an encrypted `413`), with the frame left unread.
        answered: bool,
    },
    /// A transport message failed authentication.
    DecryptFailed {
        /// Whether the client was told (an encrypted `400`).
        answered: bool,
    },
    /// No message within the idle timeout.
    IdleTimeout,
    /// Over `max_sessions_per_ip` or `max_sessions` (refused at accept).
    TooManySessions,
    /// The client's address is over its request rate (each connection counts as one request;
    /// refused at accept, before any handshake work).
    RateLimited,
    /// The socket failed or closed mid-frame.
    Io(String),
    /// The relayer is stopping.
    ShuttingDown,
}

impl Close {
    /// The metric label.
    pub(super) fn label(&self) -> &'static str {
        match self {
            Close::ClientClosed => "client_closed",
            Close::HandshakeTimeout => "handshake_timeout",
            Close::UnknownProtocol => "unknown_protocol",
            Close::HandshakeFailed(_) => "handshake_failed",
            Close::BadBinding => "bad_binding",
            Close::LowOrderKey => "low_order_key",
            Close::OversizedFrame { .. } => "oversized_frame",
            Close::DecryptFailed { .. } => "decrypt_failed",
            Close::IdleTimeout => "idle_timeout",
            Close::TooManySessions => "too_many_sessions",
            Close::RateLimited => "rate_limited",
            Close::Io(_) => "io_error",
            Close::ShuttingDown => "shutting_down",
        }
    }

    fn of_handshake(e: NoiseError) -> Self {
        match e {
            NoiseError::UnknownProtocol => Close::UnknownProtocol,
            NoiseError::Binding(_) => Close::BadBinding,
            NoiseError::ZeroDh => Close::LowOrderKey,
            NoiseError::FrameTooLarge { .. } => Close::OversizedFrame { answered: false },
            NoiseError::Closed(_) | NoiseError::Io(_) => Close::Io(e.to_string()),
            other => Close::HandshakeFailed(other.to_string()),
        }
    }
}

/// Serves one connection to its end, then records why it ended.
pub(super) async fn run(
    mut tcp: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    ctx: Arc<SessionCtx>,
    mut stop: watch::Receiver<bool>,
) {
    ctx.metrics.active.inc();
    let (pattern, close) = serve(&mut tcp, peer, &ctx, &mut stop).await;
    // Free the slot and count the close before the client can see it, so it may reconnect at
    // once and a scrape after the close always includes it.
    drop(slot);
    ctx.metrics.active.dec();
    ctx.metrics.closed.with_label_values(&[close.label()]).inc();
    // Answered with input left unread: close behind the answer, not with a reset. At most
    // MAX_LINGERING sockets linger at once (beyond the sessions' limits, which no longer count
    // them); past that, closed at once.
    let answered = match close {
        Close::OversizedFrame { answered } | Close::DecryptFailed { answered } => answered,
        _ => false,
    };
    if answered {
        if let Ok(_lingering) = ctx.lingering.try_acquire() {
            linger(&mut tcp).await;
        }
    }
    drop(tcp);
    let pattern = pattern.map_or("-", Pattern::name);
    match &close {
        Close::ClientClosed | Close::ShuttingDown => {
            tracing::debug!(peer = %peer.ip(), pattern, reason = close.label(), "noise session closed")
        }
        Close::HandshakeFailed(detail) | Close::Io(detail) => tracing::info!(
            peer = %peer.ip(), pattern, reason = close.label(), detail = %detail,
            "noise session closed"
        ),
        _ => {
            tracing::info!(peer = %peer.ip(), pattern, reason = close.label(), "noise session closed")
        }
    }
}

async fn serve(
    tcp: &mut TcpStream,
    peer: SocketAddr,
    ctx: &SessionCtx,
    stop: &mut watch::Receiver<bool>,
) -> (Option<Pattern>, Close) {
    let deadline = Instant::now() + Duration::from_millis(ctx.config.handshake_timeout_ms);
    let max = ctx.config.max_message_bytes;
    let hello = tokio::select! {
        r = timeout_at(deadline, read_hello(tcp)) => r,
        _ = super::stopped(stop) => return (None, Close::ShuttingDown),
    };
    let pattern = match hello {
        Err(_) => return (None, Close::HandshakeTimeout),
        Ok(Err(e)) => return (None, Close::of_handshake(e)),
        Ok(Ok(p)) => p,
    };
    let handshake = tokio::select! {
        r = timeout_at(deadline, respond(tcp, pattern, &ctx.identity.device, max)) => r,
        _ = super::stopped(stop) => return (Some(pattern), Close::ShuttingDown),
    };
    let outcome = match handshake {
        Err(_) => Err(Close::HandshakeTimeout),
        Ok(Err(e)) => Err(Close::of_handshake(e)),
        Ok(Ok(session)) => Ok(session),
    };
    let label = outcome.as_ref().err().map_or("ok", Close::label);
    ctx.metrics
        .handshakes
        .with_label_values(&[pattern.name(), label])
        .inc();
    let session = match outcome {
        Ok(s) => s,
        Err(close) => return (Some(pattern), close),
    };
    let source: Arc<str> = Arc::from(match session.peer() {
        Some(b) => format!(
            "noise-{} {} client={}",
            pattern.cli_name(),
            peer.ip(),
            bs58::encode(b.ed25519).into_string()
        ),
        None => format!("noise-{} {}", pattern.cli_name(), peer.ip()),
    });
    (
        Some(pattern),
        requests(tcp, peer, ctx, session, source, stop).await,
    )
}

/// The transport phase: one request per message until the client closes.
async fn requests(
    tcp: &mut TcpStream,
    peer: SocketAddr,
    ctx: &SessionCtx,
    mut session: Session,
    source: Arc<str>,
    stop: &mut watch::Receiver<bool>,
) -> Close {
    let idle = Duration::from_millis(ctx.config.idle_timeout_ms);
    let max = ctx.config.max_message_bytes;
    loop {
        let frame = tokio::select! {
            r = timeout(idle, read_frame(tcp, max)) => r,
            _ = super::stopped(stop) => return Close::ShuttingDown,
        };
        let message = match frame {
            Err(_) => return Close::IdleTimeout,
            Ok(Ok(None)) => return Close::ClientClosed,
            Ok(Err(NoiseError::FrameTooLarge { len, max })) => {
                let message = format!("a frame of {len} bytes is over the limit of {max}");
                let answered = answer(
                    tcp,
                    &mut session,
                    idle,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Code::FrameTooLarge,
                    message,
                )
                .await;
                return Close::OversizedFrame { answered };
            }
            Ok(Err(e)) => return Close::Io(e.to_string()),
            Ok(Ok(Some(m))) => m,
        };
        let body = match session.decrypt(&message) {
            Ok(b) => b,
            Err(_) => {
                let message = "a message failed to decrypt; the session is closed";
                let answered = answer(
                    tcp,
                    &mut session,
                    idle,
                    StatusCode::BAD_REQUEST,
                    Code::DecryptFailed,
                    message,
                )
                .await;
                return Close::DecryptFailed { answered };
            }
        };
        ctx.metrics
            .requests
            .with_label_values(&[session.pattern().name()])
            .inc();
        let state = &ctx.state;
        let (status, value) = match intake::gate(state, peer.ip()) {
            Err(e) => (e.status, e.body()),
            Ok(()) => intake::answer_noise(state, source.clone(), &body).await,
        };
        if !session.can_send() {
            continue;
        }
        if let Err(close) = reply(tcp, &mut session, idle, status, value).await {
            return close;
        }
    }
}

/// Sends `{"status", "body"}` (an answer too large for one message becomes a 413).
async fn reply(
    tcp: &mut TcpStream,
    session: &mut Session,
    idle: Duration,
    status: StatusCode,
    body: Value,
) -> Result<(), Close> {
    let mut text = json!({"status": status.as_u16(), "body": body}).to_string();
    if text.len() > toss_sdk::noise::MAX_PLAINTEXT_LEN {
        let e = intake::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::TooManyIntents,
            "the answer does not fit one Noise message; send fewer intents per message",
        );
        text = json!({"status": e.status.as_u16(), "body": e.body()}).to_string();
    }
    match timeout(idle, send(tcp, session, text.as_bytes())).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Close::Io(e.to_string())),
        Err(_) => Err(Close::IdleTimeout),
    }
}

/// Best effort: tells the client why its session is about to close (two-way patterns only);
/// whether the answer was sent.
async fn answer(
    tcp: &mut TcpStream,
    session: &mut Session,
    idle: Duration,
    status: StatusCode,
    code: Code,
    message: impl Into<String>,
) -> bool {
    if !session.can_send() {
        return false;
    }
    let body = intake::ApiError::new(status, code, message).body();
    reply(tcp, session, idle, status, body).await.is_ok()
}

/// How long, and how many bytes, a closing session reads and discards.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

/// Closes our direction, then reads and discards what the client still sends (bounded), so
/// that the close is a FIN after the answer: closing a socket with unread input resets the
/// connection, and some clients' stacks then drop the answer they had not read yet.
async fn linger(tcp: &mut TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if tcp.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut left = LINGER_BYTES;
        while left > 0 {
            match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = timeout(LINGER, drain).await;
}
