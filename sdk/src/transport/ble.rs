//! BLE: fragment frames sized to the link's MTU.
//!
//! `mtu` is the largest frame one write carries, header and CRC included: for a GATT
//! characteristic write that is the negotiated ATT MTU minus 3. The default, 480 bytes, is the
//! TOSS guide's BLE chunk size taken as the whole frame, so a frame is never split again by the
//! link. Frames are fragment frames ([`super::fragment`]) and are reassembled with a
//! [`super::Reassembler`].

use super::fragment::{self, OVERHEAD};
use super::FrameError;

/// Default frame size: the guide's 480-byte BLE chunk.
pub const DEFAULT_MTU: usize = 480;
/// Smallest MTU that carries a frame header, its CRC and one payload byte.
pub const MIN_MTU: usize = OVERHEAD + 1;

/// Splits `payload` into frames of at most `mtu` bytes, with the message id derived from the
/// payload ([`fragment::message_id`]).
pub fn split(payload: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, FrameError> {
    split_with_id(payload, fragment::message_id(payload), mtu)
}

/// Splits `payload` into frames of at most `mtu` bytes under a caller-chosen message id (e.g. a
/// session counter, when the same payload may legitimately be sent twice as two messages).
pub fn split_with_id(
    payload: &[u8],
    message_id: u32,
    mtu: usize,
) -> Result<Vec<Vec<u8>>, FrameError> {
    fragment::split(payload, message_id, mtu)
}

/// Frames a payload of `payload_len` bytes needs at `mtu`.
pub fn frames_needed(payload_len: usize, mtu: usize) -> Result<usize, FrameError> {
    fragment::frames_needed(payload_len, mtu)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{Push, Reassembler};

    #[test]
    fn frames_fit_the_mtu() {
        let payload = vec![0xA5; 1000];
        for mtu in [MIN_MTU, 185, DEFAULT_MTU] {
            let frames = split(&payload, mtu).unwrap();
            assert!(frames.iter().all(|f| f.len() <= mtu));
            assert_eq!(frames.len(), frames_needed(payload.len(), mtu).unwrap());
        }
        assert_eq!(frames_needed(1000, DEFAULT_MTU), Ok(3));
    }

    #[test]
    fn an_mtu_below_the_minimum_is_refused() {
        let err = FrameError::MtuTooSmall {
            mtu: MIN_MTU - 1,
            min: MIN_MTU,
        };
        assert_eq!(split(b"x", MIN_MTU - 1), Err(err));
        assert!(matches!(
            frames_needed(1, 0),
            Err(FrameError::MtuTooSmall { mtu: 0, .. })
        ));
    }

    #[test]
    fn the_same_payload_gives_the_same_frames() {
        let a = split(b"pay me", DEFAULT_MTU).unwrap();
        assert_eq!(a, split(b"pay me", DEFAULT_MTU).unwrap());
        let b = split_with_id(b"pay me", 1, DEFAULT_MTU).unwrap();
        assert_ne!(a, b);
        let mut r = Reassembler::new();
        assert_eq!(r.push(&b[0]), Ok(Push::Complete(b"pay me".to_vec())));
    }
}
