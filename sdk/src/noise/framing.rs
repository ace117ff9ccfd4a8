//! The standard Noise framing on a byte stream: every message is preceded by its length as
//! a 2-byte big-endian unsigned integer (so at most 65,535 bytes), nothing else.

use super::{NoiseError, MAX_MESSAGE_LEN};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// `message` with its 2-byte big-endian length prefix.
pub fn encode_frame(message: &[u8]) -> Result<Vec<u8>, NoiseError> {
    let len = u16::try_from(message.len()).map_err(|_| NoiseError::FrameTooLarge {
        len: message.len(),
        max: MAX_MESSAGE_LEN,
    })?;
    let mut frame = Vec::with_capacity(2 + message.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(message);
    Ok(frame)
}

/// Writes one frame (prefix and message in one write, so Nagle never splits them).
pub async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    message: &[u8],
) -> Result<(), NoiseError> {
    w.write_all(&encode_frame(message)?).await?;
    w.flush().await?;
    Ok(())
}

/// Reads one frame of at most `max` bytes. `Ok(None)` when the stream ends cleanly before a
/// frame starts; [`NoiseError::FrameTooLarge`] as soon as the prefix announces more than
/// `max` (the body is not read); [`NoiseError::Closed`] when the stream ends inside a frame.
pub async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, NoiseError> {
    let mut prefix = [0u8; 2];
    let first = r.read(&mut prefix).await?;
    match first {
        0 => return Ok(None),
        1 => {
            r.read_exact(&mut prefix[1..]).await?;
        }
        _ => {}
    }
    let len = usize::from(u16::from_be_bytes(prefix));
    if len > max {
        return Err(NoiseError::FrameTooLarge { len, max });
    }
    let mut message = vec![0u8; len];
    r.read_exact(&mut message).await?;
    Ok(Some(message))
}
