//! A client of the relayer's Noise endpoint: connect, handshake, then submit intents with the
//! same JSON bodies as `POST /v1/intents` and read the same answers (`{"status", "body"}`).

use super::handshake::{InitiatorOptions, Session};
use super::stream::{initiate, recv, send};
use super::{NoiseError, MAX_MESSAGE_LEN};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The relayer's answer to one request: the HTTP API's status code and JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// HTTP status code (202, 200, 4xx, 503).
    pub status: u16,
    /// The JSON body the HTTP API would send.
    pub body: Value,
}

impl Answer {
    /// Parses `{"status": <u16>, "body": <json>}`.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoiseError> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| NoiseError::Answer(e.to_string()))?;
        let status = v["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| NoiseError::Answer("no status".into()))?;
        Ok(Self {
            status,
            body: v["body"].clone(),
        })
    }

    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A Noise session with a relayer over a stream.
///
/// Answers carry no request id: they are matched to requests by order. So once an exchange
/// fails or is abandoned midway (a timeout, a broken frame, a lost connection, the caller
/// dropping the future) the session is unusable: a late
/// answer would be taken for the next request's, and the transport's nonces may be out of
/// step. Every later call fails with [`NoiseError::Unusable`]; connect again.
pub struct NoiseClient<S = TcpStream> {
    io: S,
    session: Session,
    timeout: Duration,
    /// Why the session can no longer be used, once an exchange failed midway.
    broken: Option<&'static str>,
}

/// Why a session is unusable after a failed exchange.
const OUT_OF_STEP: &str =
    "an earlier request failed or timed out midway (its answer may still arrive)";

impl NoiseClient<TcpStream> {
    /// Connects to `addr` (`HOST:PORT`) and runs the handshake, all within `timeout` (which
    /// also bounds each later wait for an answer).
    pub async fn connect(
        addr: &str,
        opts: &InitiatorOptions<'_>,
        timeout: Duration,
    ) -> Result<Self, NoiseError> {
        let connect = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| NoiseError::Io(format!("cannot connect to {addr}: {e}")))?;
            tcp.set_nodelay(true)?;
            Self::handshake(tcp, opts, timeout).await
        };
        tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| NoiseError::Timeout("connecting and handshaking"))?
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> NoiseClient<S> {
    /// Runs the handshake on an open stream.
    pub async fn handshake(
        mut io: S,
        opts: &InitiatorOptions<'_>,
        timeout: Duration,
    ) -> Result<Self, NoiseError> {
        let session = initiate(&mut io, opts).await?;
        Ok(Self {
            io,
            session,
            timeout,
            broken: None,
        })
    }

    /// The established session (pattern, the relayer's verified binding).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Sends one request body and waits for its answer (two-way patterns).
    pub async fn request(&mut self, body: &Value) -> Result<Answer, NoiseError> {
        if !self.session.can_receive() {
            return Err(NoiseError::OneWay);
        }
        self.usable()?;
        // Marked out of step for the whole exchange, so that a caller dropping this future
        // midway (its own timeout, a `select!`) leaves the session unusable too.
        self.broken = Some(OUT_OF_STEP);
        send(&mut self.io, &mut self.session, body.to_string().as_bytes()).await?;
        let reply = tokio::time::timeout(
            self.timeout,
            recv(&mut self.io, &mut self.session, MAX_MESSAGE_LEN),
        )
        .await
        .map_err(|_| NoiseError::Timeout("waiting for the relayer's answer"))??
        .ok_or(NoiseError::Closed("before the relayer answered"))?;
        // A whole frame was read: the session is in step even if the answer is malformed.
        self.broken = None;
        Answer::parse(&reply)
    }

    /// Sends one request body without waiting for an answer (the only way in `N`).
    pub async fn send_one_way(&mut self, body: &Value) -> Result<(), NoiseError> {
        self.usable()?;
        self.broken = Some(OUT_OF_STEP);
        send(&mut self.io, &mut self.session, body.to_string().as_bytes()).await?;
        self.broken = None;
        Ok(())
    }

    /// Whether the session can still carry requests (no exchange failed midway).
    pub fn is_usable(&self) -> bool {
        self.broken.is_none()
    }

    fn usable(&self) -> Result<(), NoiseError> {
        match self.broken {
            Some(why) => Err(NoiseError::Unusable(why)),
            None => Ok(()),
        }
    }

    /// Ends the session: closes our direction, then waits (within the timeout) for the
    /// relayer to close its own, which it does once it has handled every request it read.
    pub async fn finish(mut self) -> Result<(), NoiseError> {
        self.io.shutdown().await?;
        let drain = async {
            let mut sink = [0u8; 512];
            loop {
                let n = tokio::io::AsyncReadExt::read(&mut self.io, &mut sink).await?;
                if n == 0 {
                    return Ok::<(), NoiseError>(());
                }
            }
        };
        tokio::time::timeout(self.timeout, drain)
            .await
            .map_err(|_| NoiseError::Timeout("waiting for the relayer to close"))?
    }
}
