//! NFC: one payload in one frame of at most 4096 bytes (the guide's NFC message size).
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 1 | version `1` |
//! | 1 | 2 | payload length `n` (`u16`, at most 4089) |
//! | 3 | n | payload |
//! | 3+n | 4 | CRC32 over bytes `0..3+n` |
//!
//! The frame is what goes into the NDEF record (or an APDU response); the record's own type
//! and length framing stay the NFC stack's business.

use super::{crc32, read_u16, read_u32, FrameError};

/// The NFC frame version this SDK writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the payload.
pub const HEADER_LEN: usize = 3;
/// Bytes a frame adds to its payload.
pub const OVERHEAD: usize = HEADER_LEN + 4;
/// Largest frame, all bytes included.
pub const MAX_FRAME: usize = 4096;
/// Largest payload.
pub const MAX_PAYLOAD: usize = MAX_FRAME - OVERHEAD;

/// Frames `payload` (at most [`MAX_PAYLOAD`] bytes).
pub fn encode(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    let len = u16::try_from(payload.len())
        .ok()
        .filter(|&n| usize::from(n) <= MAX_PAYLOAD)
        .ok_or(FrameError::Oversized {
            len: payload.len(),
            max: MAX_PAYLOAD,
        })?;
    let mut out = Vec::with_capacity(OVERHEAD + payload.len());
    out.push(VERSION);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32(&[&out]);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The payload of one frame. Refuses, in this order: input over [`MAX_FRAME`], input shorter
/// than a header, an unknown version, an announced length over [`MAX_PAYLOAD`], missing bytes,
/// extra bytes, a CRC32 mismatch.
pub fn decode(bytes: &[u8]) -> Result<&[u8], FrameError> {
    if bytes.len() > MAX_FRAME {
        return Err(FrameError::Oversized {
            len: bytes.len(),
            max: MAX_FRAME,
        });
    }
    let truncated = |expected| FrameError::Truncated {
        expected,
        actual: bytes.len(),
    };
    let version = *bytes.first().ok_or(truncated(OVERHEAD))?;
    if version != VERSION {
        return Err(FrameError::UnsupportedVersion(version));
    }
    let len = usize::from(read_u16(bytes, 1).ok_or(truncated(OVERHEAD))?);
    if len > MAX_PAYLOAD {
        return Err(FrameError::Oversized {
            len,
            max: MAX_PAYLOAD,
        });
    }
    let expected = OVERHEAD + len;
    if bytes.len() < expected {
        return Err(truncated(expected));
    }
    if bytes.len() > expected {
        return Err(FrameError::TrailingBytes {
            expected,
            actual: bytes.len(),
        });
    }
    let body = &bytes[..HEADER_LEN + len];
    let stored = read_u32(bytes, HEADER_LEN + len).ok_or(truncated(expected))?;
    let computed = crc32(&[body]);
    if stored != computed {
        return Err(FrameError::BadCrc { stored, computed });
    }
    Ok(&body[HEADER_LEN..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_as_documented() {
        let frame = encode(b"abc").unwrap();
        assert_eq!(&frame[..6], &[1, 3, 0, b'a', b'b', b'c']);
        assert_eq!(&frame[6..], &crc32(&[&frame[..6]]).to_le_bytes());
        assert_eq!(decode(&frame), Ok(&b"abc"[..]));
        assert_eq!(decode(&encode(b"").unwrap()), Ok(&b""[..]));
    }

    #[test]
    fn the_largest_payload_fits_4096_bytes() {
        let frame = encode(&[7; MAX_PAYLOAD]).unwrap();
        assert_eq!(frame.len(), MAX_FRAME);
        assert_eq!(decode(&frame).map(<[u8]>::len), Ok(MAX_PAYLOAD));
        let err = FrameError::Oversized {
            len: MAX_PAYLOAD + 1,
            max: MAX_PAYLOAD,
        };
        assert_eq!(encode(&[7; MAX_PAYLOAD + 1]), Err(err));
        assert!(matches!(
            encode(&[0; 70_000]),
            Err(FrameError::Oversized { .. })
        ));
    }

    #[test]
    fn each_malformation_has_its_error() {
        let frame = encode(b"abc").unwrap();
        let truncated = |expected, actual| FrameError::Truncated { expected, actual };
        assert_eq!(decode(&[]), Err(truncated(OVERHEAD, 0)));
        assert_eq!(decode(&[1, 3]), Err(truncated(OVERHEAD, 2)));
        assert_eq!(decode(&frame[..9]), Err(truncated(10, 9)));
        let mut long = frame.clone();
        long.push(0);
        let err = FrameError::TrailingBytes {
            expected: 10,
            actual: 11,
        };
        assert_eq!(decode(&long), Err(err));
        let mut v0 = frame.clone();
        v0[0] = 0;
        assert_eq!(decode(&v0), Err(FrameError::UnsupportedVersion(0)));
        let err = FrameError::Oversized {
            len: 4097,
            max: MAX_FRAME,
        };
        assert_eq!(decode(&[1; 4097]), Err(err));
        let err = FrameError::Oversized {
            len: 0xFFFF,
            max: MAX_PAYLOAD,
        };
        assert_eq!(decode(&[1, 0xFF, 0xFF, 0, 0, 0, 0]), Err(err));
        let mut corrupt = frame.clone();
        corrupt[4] ^= 0x80;
        assert!(matches!(decode(&corrupt), Err(FrameError::BadCrc { .. })));
    }
}
