//! Offline transports: byte frames for BLE, NFC and QR codes. Pure functions, no I/O; every
//! decoder refuses malformed input with a [`FrameError`] and never panics.
//!
//! - [`fragment`]: the fragment frame (version, message id, index, count, the whole payload's
//!   length and CRC32, a chunk, a per-frame CRC32) and [`fragment::split`].
//! - [`reassembler`]: collects fragment frames in any order, ignores identical duplicates,
//!   refuses conflicting or corrupt frames, reports missing indexes, bounds its memory.
//! - [`ble`]: fragment frames sized to a BLE MTU (the guide's 480 bytes by default).
//! - [`nfc`]: one framed payload of at most 4096 bytes.
//! - [`qr`]: one `toss:` code for one signed intent, or numbered `TOSS-BUNDLE-1:` parts
//!   (fragment frames in base45) and a [`qr::PartCollector`] for larger payloads.
//! - [`bundle`]: several signed intents as one payload, to carry over any of the above.
//!
//! Byte layouts, limits and examples: `docs/transports.md`. Every integer is little-endian;
//! every CRC32 is the IEEE 802.3 polynomial (zlib, PNG, `crc32fast`).

pub mod base45;
pub mod ble;
pub mod bundle;
pub mod fragment;
pub mod nfc;
pub mod qr;
pub mod reassembler;

pub use reassembler::{Limits, Push, Reassembler};

use crate::SdkError;
use thiserror::Error;

/// Why a frame, a QR part, a bundle or a reassembly was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// The input ends before the frame it announces.
    #[error("truncated: {expected} bytes expected, {actual} received")]
    Truncated {
        /// Bytes the frame needs (as far as could be read).
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
    /// Bytes follow the end of the frame.
    #[error("trailing bytes: {expected} bytes expected, {actual} received")]
    TrailingBytes {
        /// Bytes the frame announces.
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
    /// The input or the payload is larger than the format or the configured limit allows.
    #[error("oversized: {len} bytes, at most {max}")]
    Oversized {
        /// Size found.
        len: usize,
        /// Largest size allowed.
        max: usize,
    },
    /// The version byte is not one this SDK reads.
    #[error("unsupported frame version {0}")]
    UnsupportedVersion(u8),
    /// The frame's CRC32 does not match its contents: the frame is corrupt.
    #[error("frame CRC32 mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BadCrc {
        /// CRC32 carried by the frame.
        stored: u32,
        /// CRC32 of the bytes received.
        computed: u32,
    },
    /// A fragment's index is not below its count (a count of 0 included).
    #[error("frame index {index} out of range for {count} frames")]
    IndexOutOfRange {
        /// Index carried by the frame.
        index: u16,
        /// Count carried by the frame.
        count: u16,
    },
    /// The frame's fields contradict each other (e.g. an empty chunk in a non-empty message).
    #[error("inconsistent frame: {0}")]
    Inconsistent(&'static str),
    /// The MTU cannot carry a frame header, its CRC and one payload byte.
    #[error("MTU {mtu} too small: a frame needs at least {min} bytes")]
    MtuTooSmall {
        /// MTU given.
        mtu: usize,
        /// Smallest usable MTU.
        min: usize,
    },
    /// The payload needs more frames than the format or the configured limit allows.
    #[error("{count} frames needed, at most {max}")]
    TooManyFrames {
        /// Frames the payload needs or announces.
        count: usize,
        /// Largest count allowed.
        max: usize,
    },
    /// A frame of another message reached a reassembler busy with one message.
    #[error("frame of message {got:#010x} while reassembling message {expected:#010x}")]
    OtherMessage {
        /// Message id being reassembled.
        expected: u32,
        /// Message id of the frame.
        got: u32,
    },
    /// A frame announces a different count than the frames before it.
    #[error("frame count changed from {expected} to {got}")]
    CountChanged {
        /// Count announced by earlier frames.
        expected: u16,
        /// Count announced by this frame.
        got: u16,
    },
    /// A frame announces a different payload length or payload CRC32 than earlier frames.
    #[error("frame disagrees with earlier frames on the payload {0}")]
    HeaderMismatch(&'static str),
    /// A frame repeats an index already received, with different contents.
    #[error("frame {index} received twice with different contents")]
    ConflictingDuplicate {
        /// Index received twice.
        index: u16,
    },
    /// The chunks do not add up to the announced payload length.
    #[error("chunks add up to {actual} bytes, the message announces {expected}")]
    LengthMismatch {
        /// Announced payload length.
        expected: usize,
        /// Bytes received (so far, when too many).
        actual: usize,
    },
    /// The reassembled payload does not match the announced payload CRC32.
    #[error("reassembled payload CRC32 mismatch: announced {announced:#010x}, computed {computed:#010x}")]
    PayloadCrc {
        /// CRC32 announced in every frame.
        announced: u32,
        /// CRC32 of the reassembled bytes.
        computed: u32,
    },
    /// Frames are missing: the message cannot be completed yet (loss).
    #[error("incomplete: {} of {count} frames missing (first missing: {:?})", .missing.len(), .missing.first())]
    Incomplete {
        /// Frames in the message.
        count: u16,
        /// Indexes not received yet, ascending.
        missing: Vec<u16>,
    },
    /// No frame has been accepted yet.
    #[error("no frame received")]
    NothingReceived,
    /// A QR part does not start with the bundle prefix.
    #[error("not a TOSS bundle QR part")]
    NotABundlePart,
    /// A QR part's text is not valid base45 (RFC 9285).
    #[error("invalid base45: {0}")]
    Base45(&'static str),
    /// The text does not fit one QR code.
    #[error("too long for one QR code")]
    QrTooLarge,
    /// A bundle holds no intent.
    #[error("empty bundle")]
    EmptyBundle,
    /// A bundle entry is not a valid signed intent (or does not verify).
    #[error("bundle intent {index}: {reason}")]
    Intent {
        /// Position of the intent in the bundle.
        index: usize,
        /// Why it was refused.
        reason: SdkError,
    },
}

/// CRC32 (IEEE 802.3 polynomial, reflected, init and final XOR `0xFFFFFFFF`) of `parts`
/// concatenated.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize()
}

/// Reads a little-endian `u16` at `at` (callers check the length first).
fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// Reads a little-endian `u32` at `at` (callers check the length first).
fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xCBF4_3926);
    }

    #[test]
    fn readers_refuse_short_input() {
        assert_eq!(read_u16(&[1], 0), None);
        assert_eq!(read_u32(&[1, 2, 3, 4], 1), None);
        assert_eq!(read_u32(&[1, 0, 0, 0], 0), Some(1));
        assert_eq!(read_u16(&[0, 1], usize::MAX), None);
    }
}
