//! Reassembly of one message from fragment frames received in any order.
//!
//! A frame is checked alone ([`Frame::decode`]), then against the message: same message id,
//! count, payload length and payload CRC32 as the first frame accepted. A refused frame
//! leaves the reassembler as it was, so the caller can go on receiving (or ask for a resend).
//! An identical duplicate is ignored; a different frame at an index already filled is refused.
//! When the last missing frame arrives the chunks are joined and checked against the announced
//! length and CRC32; a mismatch there means the frames cannot be trusted, and the reassembler
//! starts over.
//!
//! Memory is bounded by [`Limits`]: at most `max_frames` slots and `max_payload` bytes, both
//! checked on the first frame, before anything is stored.

use super::fragment::Frame;
use super::{crc32, FrameError};

/// Default [`Limits::max_frames`]: 1024 frames (a 64 KiB payload at MTU 87).
pub const DEFAULT_MAX_FRAMES: u16 = 1024;
/// Default [`Limits::max_payload`]: 64 KiB, room for a full bundle
/// ([`super::bundle::MAX_INTENTS`] signed intents of the largest kind).
pub const DEFAULT_MAX_PAYLOAD: u32 = 64 * 1024;

/// What one reassembler accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame count accepted.
    pub max_frames: u16,
    /// Largest payload accepted, in bytes.
    pub max_payload: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frames: DEFAULT_MAX_FRAMES,
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// What happened to an accepted frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Push {
    /// Stored; the message is not complete yet.
    Stored {
        /// Distinct frames received so far.
        received: u16,
        /// Frames in the message.
        count: u16,
    },
    /// Identical to a frame already received: ignored.
    Duplicate,
    /// This frame completed the message: the exact payload, checked end to end.
    Complete(Vec<u8>),
}

/// The message being reassembled.
#[derive(Debug)]
struct Message {
    message_id: u32,
    count: u16,
    payload_len: u32,
    payload_crc: u32,
    chunks: Vec<Option<Vec<u8>>>,
    received: u16,
    stored_bytes: usize,
}

impl Message {
    fn joined(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.stored_bytes);
        for chunk in self.chunks.iter().flatten() {
            out.extend_from_slice(chunk);
        }
        out
    }

    fn missing(&self) -> Vec<u16> {
        (0..self.count)
            .zip(&self.chunks)
            .filter(|(_, chunk)| chunk.is_none())
            .map(|(index, _)| index)
            .collect()
    }

    /// Checks the joined payload against the announced length and CRC32.
    fn payload(&self) -> Result<Vec<u8>, FrameError> {
        let payload = self.joined();
        if payload.len() != self.payload_len as usize {
            return Err(FrameError::LengthMismatch {
                expected: self.payload_len as usize,
                actual: payload.len(),
            });
        }
        let computed = crc32(&[&payload]);
        if computed != self.payload_crc {
            return Err(FrameError::PayloadCrc {
                announced: self.payload_crc,
                computed,
            });
        }
        Ok(payload)
    }
}

/// Reassembles one message. Use one per message id (or [`Reassembler::reset`] between them).
#[derive(Debug, Default)]
pub struct Reassembler {
    limits: Limits,
    message: Option<Message>,
}

impl Reassembler {
    /// A reassembler with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A reassembler with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            message: None,
        }
    }

    /// Forgets the current message.
    pub fn reset(&mut self) {
        self.message = None;
    }

    /// The id of the message being reassembled, once a frame was accepted.
    pub fn message_id(&self) -> Option<u32> {
        self.message.as_ref().map(|m| m.message_id)
    }

    /// The indexes not received yet (ascending), once a frame was accepted.
    pub fn missing(&self) -> Option<Vec<u16>> {
        self.message.as_ref().map(Message::missing)
    }

    /// Takes one frame. See the module documentation for what is refused.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Push, FrameError> {
        let frame = Frame::decode(bytes)?;
        let message = match &mut self.message {
            Some(message) => {
                same_message(message, &frame)?;
                message
            }
            None => self.message.insert(start(&self.limits, &frame)?),
        };
        let slot = message.chunks.get_mut(usize::from(frame.index)).ok_or(
            FrameError::IndexOutOfRange {
                index: frame.index,
                count: message.count,
            },
        )?;
        if let Some(existing) = slot {
            return if existing.as_slice() == frame.chunk {
                Ok(Push::Duplicate)
            } else {
                Err(FrameError::ConflictingDuplicate { index: frame.index })
            };
        }
        let stored_bytes = message.stored_bytes + frame.chunk.len();
        if stored_bytes > message.payload_len as usize {
            return Err(FrameError::LengthMismatch {
                expected: message.payload_len as usize,
                actual: stored_bytes,
            });
        }
        *slot = Some(frame.chunk.to_vec());
        message.stored_bytes = stored_bytes;
        message.received += 1;
        if message.received < message.count {
            return Ok(Push::Stored {
                received: message.received,
                count: message.count,
            });
        }
        match message.payload() {
            Ok(payload) => Ok(Push::Complete(payload)),
            Err(e) => {
                self.message = None;
                Err(e)
            }
        }
    }

    /// The payload if every frame arrived, else [`FrameError::Incomplete`] with the missing
    /// indexes (or [`FrameError::NothingReceived`]).
    pub fn finish(&self) -> Result<Vec<u8>, FrameError> {
        let message = self.message.as_ref().ok_or(FrameError::NothingReceived)?;
        let missing = message.missing();
        if !missing.is_empty() {
            return Err(FrameError::Incomplete {
                count: message.count,
                missing,
            });
        }
        message.payload()
    }
}

/// Starts a message from its first accepted frame, within the limits.
fn start(limits: &Limits, frame: &Frame<'_>) -> Result<Message, FrameError> {
    if frame.count > limits.max_frames {
        return Err(FrameError::TooManyFrames {
            count: usize::from(frame.count),
            max: usize::from(limits.max_frames),
        });
    }
    if frame.payload_len > limits.max_payload {
        return Err(FrameError::Oversized {
            len: frame.payload_len as usize,
            max: limits.max_payload as usize,
        });
    }
    Ok(Message {
        message_id: frame.message_id,
        count: frame.count,
        payload_len: frame.payload_len,
        payload_crc: frame.payload_crc,
        chunks: vec![None; usize::from(frame.count)],
        received: 0,
        stored_bytes: 0,
    })
}

/// Checks that a frame belongs to the message being reassembled.
fn same_message(message: &Message, frame: &Frame<'_>) -> Result<(), FrameError> {
    if frame.message_id != message.message_id {
        return Err(FrameError::OtherMessage {
            expected: message.message_id,
            got: frame.message_id,
        });
    }
    if frame.count != message.count {
        return Err(FrameError::CountChanged {
            expected: message.count,
            got: frame.count,
        });
    }
    if frame.payload_len != message.payload_len {
        return Err(FrameError::HeaderMismatch("length"));
    }
    if frame.payload_crc != message.payload_crc {
        return Err(FrameError::HeaderMismatch("CRC32"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::fragment::split;

    const PAYLOAD: &[u8] = b"the quick brown fox jumps over the lazy dog";

    fn frames() -> Vec<Vec<u8>> {
        // 43 bytes in chunks of 10: 5 frames.
        split(PAYLOAD, 42, crate::transport::fragment::OVERHEAD + 10).unwrap()
    }

    /// A well-formed frame with the given fields.
    fn raw(index: u16, count: u16, len: u32, crc: u32, chunk: &[u8]) -> Vec<u8> {
        Frame {
            message_id: 42,
            index,
            count,
            payload_len: len,
            payload_crc: crc,
            chunk,
        }
        .encode()
        .unwrap()
    }

    #[test]
    fn any_order_with_duplicates_yields_the_payload() {
        let f = frames();
        let mut r = Reassembler::new();
        assert_eq!(r.finish(), Err(FrameError::NothingReceived));
        assert_eq!(r.missing(), None);
        assert_eq!(
            r.push(&f[3]),
            Ok(Push::Stored {
                received: 1,
                count: 5
            })
        );
        assert_eq!(r.message_id(), Some(42));
        assert_eq!(r.push(&f[3]), Ok(Push::Duplicate));
        for i in [0, 4, 1] {
            assert!(matches!(r.push(&f[i]), Ok(Push::Stored { .. })));
        }
        assert_eq!(r.missing(), Some(vec![2]));
        assert_eq!(
            r.finish(),
            Err(FrameError::Incomplete {
                count: 5,
                missing: vec![2]
            })
        );
        assert_eq!(r.push(&f[2]), Ok(Push::Complete(PAYLOAD.to_vec())));
        assert_eq!(r.push(&f[0]), Ok(Push::Duplicate), "late duplicate");
        assert_eq!(r.finish(), Ok(PAYLOAD.to_vec()));
        r.reset();
        assert_eq!(r.message_id(), None);
    }

    #[test]
    fn frames_of_another_message_are_refused() {
        let mut r = Reassembler::new();
        r.push(&frames()[0]).unwrap();
        let other = split(PAYLOAD, 43, 40).unwrap();
        let err = FrameError::OtherMessage {
            expected: 42,
            got: 43,
        };
        assert_eq!(r.push(&other[1]), Err(err));
        assert_eq!(r.missing(), Some(vec![1, 2, 3, 4]), "state unchanged");
    }

    #[test]
    fn changed_headers_are_refused() {
        let f = frames();
        let crc = crc32(&[PAYLOAD]);
        let mut r = Reassembler::new();
        r.push(&f[0]).unwrap();
        let err = FrameError::CountChanged {
            expected: 5,
            got: 6,
        };
        assert_eq!(r.push(&raw(1, 6, 43, crc, b"0123456789")), Err(err));
        let wrong_len = raw(1, 5, 44, crc, b"0123456789");
        assert_eq!(
            r.push(&wrong_len),
            Err(FrameError::HeaderMismatch("length"))
        );
        let wrong_crc = raw(1, 5, 43, crc ^ 1, b"0123456789");
        assert_eq!(r.push(&wrong_crc), Err(FrameError::HeaderMismatch("CRC32")));
    }

    #[test]
    fn conflicting_duplicates_are_refused() {
        let mut r = Reassembler::new();
        r.push(&frames()[0]).unwrap();
        let forged = raw(0, 5, 43, crc32(&[PAYLOAD]), b"THE QUICK ");
        let err = FrameError::ConflictingDuplicate { index: 0 };
        assert_eq!(r.push(&forged), Err(err));
    }

    #[test]
    fn corrupt_frames_leave_the_state_alone() {
        let f = frames();
        let mut r = Reassembler::new();
        r.push(&f[0]).unwrap();
        let mut bad = f[1].clone();
        bad[20] ^= 0x10;
        assert!(matches!(r.push(&bad), Err(FrameError::BadCrc { .. })));
        assert_eq!(r.missing(), Some(vec![1, 2, 3, 4]));
    }

    #[test]
    fn limits_are_checked_on_the_first_frame() {
        let limits = Limits {
            max_frames: 4,
            max_payload: 40,
        };
        let mut r = Reassembler::with_limits(limits);
        let err = FrameError::TooManyFrames { count: 5, max: 4 };
        assert_eq!(r.push(&frames()[0]), Err(err));
        let big = raw(0, 1, 41, 0, &[0; 41]);
        let err = FrameError::Oversized { len: 41, max: 40 };
        assert_eq!(r.push(&big), Err(err));
        assert_eq!(r.message_id(), None);
    }

    #[test]
    fn chunks_that_do_not_add_up_are_refused() {
        let crc = crc32(&[b"abcd"]);
        // Too many bytes: refused when stored.
        let mut r = Reassembler::new();
        r.push(&raw(0, 2, 4, crc, b"abc")).unwrap();
        let err = FrameError::LengthMismatch {
            expected: 4,
            actual: 6,
        };
        assert_eq!(r.push(&raw(1, 2, 4, crc, b"def")), Err(err));
        // Too few bytes: refused on completion, and the frames are dropped.
        let mut r = Reassembler::new();
        r.push(&raw(0, 2, 4, crc, b"a")).unwrap();
        let err = FrameError::LengthMismatch {
            expected: 4,
            actual: 2,
        };
        assert_eq!(r.push(&raw(1, 2, 4, crc, b"b")), Err(err));
        assert_eq!(r.message_id(), None);
    }

    #[test]
    fn a_wrong_reassembly_is_refused() {
        // Well-formed frames whose chunks are not the announced payload.
        let mut r = Reassembler::new();
        let crc = crc32(&[b"abcd"]);
        r.push(&raw(1, 2, 4, crc, b"ab")).unwrap();
        let err = FrameError::PayloadCrc {
            announced: crc,
            computed: crc32(&[b"cdab"]),
        };
        assert_eq!(r.push(&raw(0, 2, 4, crc, b"cd")), Err(err));
        assert_eq!(r.finish(), Err(FrameError::NothingReceived));
    }
}
