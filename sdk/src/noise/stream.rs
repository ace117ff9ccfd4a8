//! Handshakes and transport messages over a byte stream (TCP, or an in-memory pipe in tests
//! and benchmarks), framed as [`super::framing`] says.
//!
//! The client's first frame is the *hello frame*: the full protocol name in ASCII
//! (`Noise_IK_25519_ChaChaPoly_SHA256`), so the relayer knows which pattern follows. It is not
//! encrypted, but changing it changes the handshake hash, so a tampered hello makes the
//! handshake fail.

use super::binding::DeviceIdentity;
use super::framing::{read_frame, write_frame};
use super::handshake::{Handshake, InitiatorOptions, Session};
use super::{NoiseError, Pattern, MAX_MESSAGE_LEN};
use tokio::io::{AsyncRead, AsyncWrite};

/// Longest hello frame a responder reads.
pub const MAX_HELLO_LEN: usize = 64;

async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    hs: &mut Handshake,
    max: usize,
) -> Result<(), NoiseError> {
    while !hs.is_finished() {
        if hs.is_my_turn() {
            let message = hs.write_message()?;
            write_frame(io, &message).await?;
        } else {
            let message = read_frame(io, max)
                .await?
                .ok_or(NoiseError::Closed("during the handshake"))?;
            hs.read_message(&message)?;
        }
    }
    Ok(())
}

/// Client side: sends the hello frame and runs the handshake.
pub async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    opts: &InitiatorOptions<'_>,
) -> Result<Session, NoiseError> {
    let mut hs = Handshake::initiator(opts)?;
    write_frame(io, opts.pattern.protocol_name().as_bytes()).await?;
    drive(io, &mut hs, MAX_MESSAGE_LEN).await?;
    hs.into_session()
}

/// Server side, first step: reads the hello frame and returns the pattern it names.
pub async fn read_hello<S: AsyncRead + Unpin>(io: &mut S) -> Result<Pattern, NoiseError> {
    let hello = read_frame(io, MAX_HELLO_LEN)
        .await?
        .ok_or(NoiseError::Closed("before the hello frame"))?;
    Pattern::from_protocol_name(&hello).ok_or(NoiseError::UnknownProtocol)
}

/// Server side, second step: runs the handshake of `pattern` with `identity`, reading frames
/// of at most `max` bytes.
pub async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    pattern: Pattern,
    identity: &DeviceIdentity,
    max: usize,
) -> Result<Session, NoiseError> {
    let mut hs = Handshake::responder(pattern, Some(identity))?;
    drive(io, &mut hs, max).await?;
    hs.into_session()
}

/// Encrypts `plaintext` and writes it as one frame.
pub async fn send<S: AsyncWrite + Unpin>(
    io: &mut S,
    session: &mut Session,
    plaintext: &[u8],
) -> Result<(), NoiseError> {
    let message = session.encrypt(plaintext)?;
    write_frame(io, &message).await
}

/// Reads one frame of at most `max` bytes and decrypts it; `Ok(None)` at a clean end of the
/// stream.
pub async fn recv<S: AsyncRead + Unpin>(
    io: &mut S,
    session: &mut Session,
    max: usize,
) -> Result<Option<Vec<u8>>, NoiseError> {
    match read_frame(io, max).await? {
        None => Ok(None),
        Some(message) => session.decrypt(&message).map(Some),
    }
}
