//! The fragment frame: one piece of a payload too large for one link-layer write or one QR
//! code. BLE frames are fragment frames as they are; QR bundle parts are fragment frames in
//! base45.
//!
//! Every frame carries the whole payload's length and CRC32, so the reassembled bytes are
//! checked end to end (a frame of another payload that happens to share the message id, or a
//! sender bug, cannot yield a wrong payload), and its own CRC32 over header and chunk.
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 1 | version `1` |
//! | 1 | 4 | message id (`u32`) |
//! | 5 | 2 | index (`u16`, `< count`) |
//! | 7 | 2 | count (`u16`, `>= 1`) |
//! | 9 | 4 | payload length (`u32`, the whole payload) |
//! | 13 | 4 | payload CRC32 (the whole payload) |
//! | 17 | 2 | chunk length `n` (`u16`) |
//! | 19 | n | chunk |
//! | 19+n | 4 | frame CRC32 over bytes `0..19+n` |

use super::{crc32, read_u16, read_u32, FrameError};
use sha2::{Digest, Sha256};

/// The fragment frame version this SDK writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the chunk.
pub const HEADER_LEN: usize = 19;
/// Bytes of the trailing frame CRC32.
pub const CRC_LEN: usize = 4;
/// Bytes a frame adds to its chunk.
pub const OVERHEAD: usize = HEADER_LEN + CRC_LEN;
/// Most frames one message can have (the `u16` count).
pub const MAX_COUNT: usize = u16::MAX as usize;

/// A decoded fragment frame, borrowing its chunk from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Identifies the message; all frames of one message share it.
    pub message_id: u32,
    /// Position of this chunk, from 0.
    pub index: u16,
    /// Frames in the message.
    pub count: u16,
    /// Length of the whole payload.
    pub payload_len: u32,
    /// CRC32 of the whole payload.
    pub payload_crc: u32,
    /// This frame's piece of the payload.
    pub chunk: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Decodes one frame and checks everything one frame alone can show: length, version,
    /// CRC32, `index < count`, and that the chunk fits the announced payload.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, FrameError> {
        let truncated = |expected| FrameError::Truncated {
            expected,
            actual: bytes.len(),
        };
        let version = *bytes.first().ok_or(truncated(OVERHEAD))?;
        if version != VERSION {
            return Err(FrameError::UnsupportedVersion(version));
        }
        if bytes.len() < OVERHEAD {
            return Err(truncated(OVERHEAD));
        }
        let chunk_len = usize::from(read_u16(bytes, 17).ok_or(truncated(OVERHEAD))?);
        let expected = OVERHEAD + chunk_len;
        if bytes.len() < expected {
            return Err(truncated(expected));
        }
        if bytes.len() > expected {
            return Err(FrameError::TrailingBytes {
                expected,
                actual: bytes.len(),
            });
        }
        let body = &bytes[..HEADER_LEN + chunk_len];
        let stored = read_u32(bytes, HEADER_LEN + chunk_len).ok_or(truncated(expected))?;
        let computed = crc32(&[body]);
        if stored != computed {
            return Err(FrameError::BadCrc { stored, computed });
        }
        let field32 = |at| read_u32(bytes, at).ok_or(truncated(OVERHEAD));
        let field16 = |at| read_u16(bytes, at).ok_or(truncated(OVERHEAD));
        let frame = Frame {
            message_id: field32(1)?,
            index: field16(5)?,
            count: field16(7)?,
            payload_len: field32(9)?,
            payload_crc: field32(13)?,
            chunk: &body[HEADER_LEN..],
        };
        frame.check()?;
        Ok(frame)
    }

    /// The rules between a frame's own fields.
    fn check(&self) -> Result<(), FrameError> {
        if self.index >= self.count {
            return Err(FrameError::IndexOutOfRange {
                index: self.index,
                count: self.count,
            });
        }
        let payload_len = self.payload_len as usize;
        if self.chunk.len() > payload_len {
            return Err(FrameError::Inconsistent("chunk longer than the payload"));
        }
        if payload_len == 0 && self.count != 1 {
            return Err(FrameError::Inconsistent("empty payload in several frames"));
        }
        if payload_len > 0 && self.chunk.is_empty() {
            return Err(FrameError::Inconsistent(
                "empty chunk in a non-empty payload",
            ));
        }
        if usize::from(self.count) > payload_len.max(1) {
            return Err(FrameError::Inconsistent("more frames than payload bytes"));
        }
        Ok(())
    }

    /// Encodes the fields as given (no rule is checked: [`Frame::decode`] checks them; tests
    /// use this to build well-formed frames with contradictory fields). Fails only when the
    /// chunk is longer than a `u16`.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let chunk_len = u16::try_from(self.chunk.len()).map_err(|_| FrameError::Oversized {
            len: self.chunk.len(),
            max: usize::from(u16::MAX),
        })?;
        let mut out = Vec::with_capacity(OVERHEAD + self.chunk.len());
        out.push(VERSION);
        out.extend_from_slice(&self.message_id.to_le_bytes());
        out.extend_from_slice(&self.index.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.payload_len.to_le_bytes());
        out.extend_from_slice(&self.payload_crc.to_le_bytes());
        out.extend_from_slice(&chunk_len.to_le_bytes());
        out.extend_from_slice(self.chunk);
        let crc = crc32(&[&out]);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}

/// The message id derived from a payload: the first four bytes of its SHA-256, read as a
/// little-endian `u32`. Deterministic, so resending the same payload produces the same frames
/// and a receiver can merge frames from several attempts.
pub fn message_id(payload: &[u8]) -> u32 {
    let digest = Sha256::digest(payload);
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// How many frames of at most `max_frame_len` bytes `payload_len` bytes need.
pub fn frames_needed(payload_len: usize, max_frame_len: usize) -> Result<usize, FrameError> {
    let chunk = chunk_capacity(max_frame_len)?;
    let count = payload_len.div_ceil(chunk).max(1);
    if count > MAX_COUNT {
        return Err(FrameError::TooManyFrames {
            count,
            max: MAX_COUNT,
        });
    }
    Ok(count)
}

/// Payload bytes one frame of at most `max_frame_len` bytes carries.
fn chunk_capacity(max_frame_len: usize) -> Result<usize, FrameError> {
    let min = OVERHEAD + 1;
    if max_frame_len < min {
        return Err(FrameError::MtuTooSmall {
            mtu: max_frame_len,
            min,
        });
    }
    Ok((max_frame_len - OVERHEAD).min(usize::from(u16::MAX)))
}

/// Splits `payload` into frames of at most `max_frame_len` bytes each (header and CRC
/// included), every chunk but the last one full. An empty payload is one frame with an empty
/// chunk.
pub fn split(
    payload: &[u8],
    message_id: u32,
    max_frame_len: usize,
) -> Result<Vec<Vec<u8>>, FrameError> {
    let payload_len = u32::try_from(payload.len()).map_err(|_| FrameError::Oversized {
        len: payload.len(),
        max: u32::MAX as usize,
    })?;
    let count = frames_needed(payload.len(), max_frame_len)?;
    let chunk = chunk_capacity(max_frame_len)?;
    let count16 = u16::try_from(count).map_err(|_| FrameError::TooManyFrames {
        count,
        max: MAX_COUNT,
    })?;
    let payload_crc = crc32(&[payload]);
    let chunks: Vec<&[u8]> = if payload.is_empty() {
        vec![payload]
    } else {
        payload.chunks(chunk).collect()
    };
    chunks
        .into_iter()
        .zip(0u16..)
        .map(|(piece, index)| {
            Frame {
                message_id,
                index,
                count: count16,
                payload_len,
                payload_crc,
                chunk: piece,
            }
            .encode()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(chunk: &[u8]) -> Frame<'_> {
        Frame {
            message_id: 7,
            index: 0,
            count: 1,
            payload_len: chunk.len() as u32,
            payload_crc: crc32(&[chunk]),
            chunk,
        }
    }

    #[test]
    fn layout_is_as_documented() {
        let bytes = frame(b"hi").encode().unwrap();
        assert_eq!(bytes.len(), OVERHEAD + 2);
        assert_eq!(bytes[0], VERSION);
        assert_eq!(&bytes[1..5], &7u32.to_le_bytes());
        assert_eq!(&bytes[5..7], &[0, 0]);
        assert_eq!(&bytes[7..9], &[1, 0]);
        assert_eq!(&bytes[9..13], &[2, 0, 0, 0]);
        assert_eq!(&bytes[17..19], &[2, 0]);
        assert_eq!(&bytes[19..21], b"hi");
        assert_eq!(&bytes[21..], &crc32(&[&bytes[..21]]).to_le_bytes());
        assert_eq!(Frame::decode(&bytes).unwrap(), frame(b"hi"));
    }

    #[test]
    fn short_long_and_foreign_input_is_refused() {
        let bytes = frame(b"hi").encode().unwrap();
        assert_eq!(
            Frame::decode(&[]),
            Err(FrameError::Truncated {
                expected: OVERHEAD,
                actual: 0
            })
        );
        assert_eq!(
            Frame::decode(&bytes[..10]),
            Err(FrameError::Truncated {
                expected: OVERHEAD,
                actual: 10
            })
        );
        assert_eq!(
            Frame::decode(&bytes[..OVERHEAD + 1]),
            Err(FrameError::Truncated {
                expected: OVERHEAD + 2,
                actual: OVERHEAD + 1
            })
        );
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            Frame::decode(&long),
            Err(FrameError::TrailingBytes {
                expected: OVERHEAD + 2,
                actual: OVERHEAD + 3
            })
        );
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(Frame::decode(&v2), Err(FrameError::UnsupportedVersion(2)));
    }

    #[test]
    fn corruption_is_a_crc_error() {
        let mut bytes = frame(b"hi").encode().unwrap();
        bytes[19] ^= 1;
        assert!(matches!(
            Frame::decode(&bytes),
            Err(FrameError::BadCrc { .. })
        ));
    }

    #[test]
    fn contradictory_fields_are_refused() {
        let mut f = frame(b"hi");
        f.index = 1;
        let err = FrameError::IndexOutOfRange { index: 1, count: 1 };
        assert_eq!(Frame::decode(&f.encode().unwrap()), Err(err));
        f.count = 0;
        f.index = 0;
        let err = FrameError::IndexOutOfRange { index: 0, count: 0 };
        assert_eq!(Frame::decode(&f.encode().unwrap()), Err(err));
        let cases: [(u16, u32, &[u8], &str); 4] = [
            (1, 1, b"hi", "chunk longer than the payload"),
            (2, 0, b"", "empty payload in several frames"),
            (2, 5, b"", "empty chunk in a non-empty payload"),
            (3, 2, b"h", "more frames than payload bytes"),
        ];
        for (count, payload_len, chunk, why) in cases {
            let f = Frame {
                count,
                payload_len,
                chunk,
                ..frame(b"")
            };
            let bytes = f.encode().unwrap();
            assert_eq!(Frame::decode(&bytes), Err(FrameError::Inconsistent(why)));
        }
    }

    #[test]
    fn split_sizes_frames_to_the_limit() {
        let payload: Vec<u8> = (0..=255).collect();
        let frames = split(&payload, 9, OVERHEAD + 100).unwrap();
        assert_eq!(frames.len(), 3);
        assert!(frames.iter().all(|f| f.len() <= OVERHEAD + 100));
        assert_eq!(frames[2].len(), OVERHEAD + 56);
        assert_eq!(frames_needed(256, OVERHEAD + 100), Ok(3));
        assert_eq!(frames_needed(0, OVERHEAD + 1), Ok(1));
        let empty = split(&[], 9, OVERHEAD + 1).unwrap();
        assert_eq!(empty.len(), 1);
        assert_eq!(Frame::decode(&empty[0]).unwrap().chunk, b"");
    }

    #[test]
    fn limits_of_split() {
        let min = OVERHEAD + 1;
        assert_eq!(
            split(b"x", 1, OVERHEAD),
            Err(FrameError::MtuTooSmall { mtu: OVERHEAD, min })
        );
        assert_eq!(
            frames_needed(MAX_COUNT + 1, min),
            Err(FrameError::TooManyFrames {
                count: MAX_COUNT + 1,
                max: MAX_COUNT
            })
        );
        // A huge MTU is capped at the u16 chunk length.
        assert_eq!(frames_needed(70_000, 1 << 20), Ok(2));
    }

    #[test]
    fn message_id_is_deterministic() {
        assert_eq!(message_id(b"abc"), message_id(b"abc"));
        assert_ne!(message_id(b"abc"), message_id(b"abd"));
        // SHA-256("abc") = ba7816bf...
        assert_eq!(message_id(b"abc"), 0xbf16_78ba);
    }
}
