//! The Noise module's error enum. Messages are one line and never contain key material.

use thiserror::Error;

/// Everything the Noise layer can refuse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum NoiseError {
    /// A device id is empty, too long or not printable ASCII.
    #[error("invalid device id: {0}")]
    DeviceId(&'static str),
    /// A key is malformed (length, encoding).
    #[error("invalid key: {0}")]
    Key(String),
    /// A key binding is malformed, does not verify, or names another key.
    #[error("key binding rejected: {0}")]
    Binding(&'static str),
    /// A published key record is malformed or does not verify.
    #[error("key record rejected: {0}")]
    Record(String),
    /// An unknown pattern name.
    #[error("unknown Noise pattern {0:?} (expected ik, xx, n or nn)")]
    Pattern(String),
    /// The hello frame names no protocol this side speaks.
    #[error("unsupported Noise protocol in the hello frame")]
    UnknownProtocol,
    /// The options do not fit the pattern (a missing or superfluous key).
    #[error("pattern {pattern}: {problem}")]
    Options {
        /// The pattern.
        pattern: &'static str,
        /// What is missing or superfluous.
        problem: &'static str,
    },
    /// A Diffie-Hellman result was all zeros: the peer sent a low-order public key.
    #[error("Diffie-Hellman output is all zero (the peer sent a low-order public key)")]
    ZeroDh,
    /// A handshake or transport message failed authentication (tampered, replayed out of
    /// order, or encrypted for another key).
    #[error("Noise message failed to decrypt (tampered, out of order, or for another key)")]
    Decrypt,
    /// A Noise message is too short or too long for its place in the protocol.
    #[error("malformed Noise message (too short or too long)")]
    Malformed,
    /// A handshake payload is not what the protocol puts there.
    #[error("unexpected handshake payload: {0}")]
    Payload(&'static str),
    /// The peer's static key is not the pinned one.
    #[error("the relayer's static key or identity is not the pinned one")]
    PinMismatch,
    /// One-way pattern: this side cannot send (responder) or receive (initiator).
    #[error("pattern N is one-way: the relayer cannot answer")]
    OneWay,
    /// The handshake is not in a state for this call.
    #[error("Noise state: {0}")]
    State(String),
    /// A frame's length prefix is over the limit.
    #[error("frame of {len} bytes is over the limit of {max}")]
    FrameTooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The peer closed the connection.
    #[error("connection closed {0}")]
    Closed(&'static str),
    /// A deadline passed.
    #[error("timed out {0}")]
    Timeout(&'static str),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(String),
    /// The session cannot carry more requests: an earlier exchange failed midway, so a late
    /// answer could be taken for a later request's. Connect again.
    #[error("the Noise session is unusable: {0}; connect again")]
    Unusable(&'static str),
    /// An answer from the relayer is not `{"status", "body"}` JSON.
    #[error("malformed answer from the relayer: {0}")]
    Answer(String),
}

impl From<snow::Error> for NoiseError {
    fn from(e: snow::Error) -> Self {
        match e {
            // The default resolver never fails a DH; only our all-zero check does.
            snow::Error::Dh => NoiseError::ZeroDh,
            snow::Error::Decrypt => NoiseError::Decrypt,
            snow::Error::Input => NoiseError::Malformed,
            other => NoiseError::State(other.to_string()),
        }
    }
}

impl From<std::io::Error> for NoiseError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof => NoiseError::Closed("in the middle of a frame"),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe => {
                NoiseError::Closed("by the peer")
            }
            _ => NoiseError::Io(e.to_string()),
        }
    }
}
