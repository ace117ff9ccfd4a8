//! QR codes: one code for one signed intent, numbered parts for anything larger.
//!
//! One intent: the `toss:` URI of [`SignedIntent::to_uri`], rendered by [`crate::qr`] and read
//! back by [`SignedIntent::from_uri`]. A bundle or any larger payload: fragment frames
//! ([`super::fragment`]) of at most `part_bytes` bytes, each written as
//! `TOSS-BUNDLE-1:` + base45 of the frame. Every character of a part is in the QR alphanumeric
//! set, so the code stores it in alphanumeric mode (5.5 bits per character). A
//! [`PartCollector`] takes the scanned parts in any order.

use super::fragment::{self, message_id};
use super::{base45, bundle, FrameError, Limits, Push, Reassembler};
use crate::SignedIntent;
use qrcode::{QrCode, Version};

/// Prefix of every bundle part (version 1 of the text form).
pub const BUNDLE_PREFIX: &str = "TOSS-BUNDLE-1:";
/// Default fragment frame size per part: 384 bytes, 590 characters with the prefix.
pub const DEFAULT_PART_BYTES: usize = 384;

/// The size of the QR code a text needs (error correction level M, as [`crate::qr`] renders).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// QR version, 1 to 40.
    pub version: i16,
    /// Modules per side (`17 + 4 * version`), quiet zone excluded.
    pub modules: usize,
}

/// The QR code `text` needs.
pub fn symbol(text: &str) -> Result<Symbol, FrameError> {
    let code = QrCode::new(text.as_bytes()).map_err(|_| FrameError::QrTooLarge)?;
    // `QrCode::new` only picks normal (not Micro) versions.
    let version = match code.version() {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    Ok(Symbol {
        version,
        modules: code.width(),
    })
}

/// The text of the single code for one signed intent: its `toss:` URI.
pub fn intent_text(signed: &SignedIntent) -> String {
    signed.to_uri()
}

/// Splits `payload` into numbered parts of at most `part_bytes` frame bytes each, the message
/// id derived from the payload.
pub fn parts(payload: &[u8], part_bytes: usize) -> Result<Vec<String>, FrameError> {
    let frames = fragment::split(payload, message_id(payload), part_bytes)?;
    Ok(frames
        .iter()
        .map(|frame| format!("{BUNDLE_PREFIX}{}", base45::encode(frame)))
        .collect())
}

/// The parts of a [`bundle`] of signed intents, at [`DEFAULT_PART_BYTES`].
pub fn intent_parts(intents: &[SignedIntent]) -> Result<Vec<String>, FrameError> {
    parts(&bundle::encode(intents)?, DEFAULT_PART_BYTES)
}

/// The fragment frame bytes inside one part (not checked: [`PartCollector::push`] checks).
pub fn part_frame(text: &str) -> Result<Vec<u8>, FrameError> {
    let body = text
        .strip_prefix(BUNDLE_PREFIX)
        .ok_or(FrameError::NotABundlePart)?;
    base45::decode(body)
}

/// Collects the parts of one message in any order (a [`Reassembler`] over decoded parts).
#[derive(Debug, Default)]
pub struct PartCollector {
    reassembler: Reassembler,
}

impl PartCollector {
    /// A collector with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A collector with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            reassembler: Reassembler::with_limits(limits),
        }
    }

    /// Takes one scanned part (the exact text of the code).
    pub fn push(&mut self, text: &str) -> Result<Push, FrameError> {
        self.reassembler.push(&part_frame(text)?)
    }

    /// Part indexes not scanned yet, once a part was accepted.
    pub fn missing(&self) -> Option<Vec<u16>> {
        self.reassembler.missing()
    }

    /// The payload if every part was scanned, else [`FrameError::Incomplete`].
    pub fn finish(&self) -> Result<Vec<u8>, FrameError> {
        self.reassembler.finish()
    }

    /// The verified signed intents of a complete bundle.
    pub fn finish_intents(&self) -> Result<Vec<SignedIntent>, FrameError> {
        bundle::decode_verified(&self.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_alphanumeric_and_sized() {
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let parts = parts(&payload, DEFAULT_PART_BYTES).unwrap();
        assert_eq!(parts.len(), 3);
        let alnum = |c: char| base45::ALPHABET.contains(&(c as u8));
        for part in &parts {
            assert!(part.starts_with(BUNDLE_PREFIX));
            assert!(part.chars().all(alnum), "{part}");
            assert!(part.len() <= BUNDLE_PREFIX.len() + DEFAULT_PART_BYTES / 2 * 3);
        }
        let mut collector = PartCollector::new();
        assert!(matches!(collector.push(&parts[2]), Ok(Push::Stored { .. })));
        assert_eq!(collector.missing(), Some(vec![0, 1]));
        assert_eq!(collector.push(&parts[2]), Ok(Push::Duplicate));
        assert!(matches!(collector.push(&parts[0]), Ok(Push::Stored { .. })));
        assert_eq!(
            collector.finish(),
            Err(FrameError::Incomplete {
                count: 3,
                missing: vec![1]
            })
        );
        assert_eq!(
            collector.push(&parts[1]),
            Ok(Push::Complete(payload.clone()))
        );
        assert_eq!(collector.finish(), Ok(payload));
    }

    #[test]
    fn foreign_and_corrupt_parts_are_refused() {
        let parts = parts(b"hello bundle", DEFAULT_PART_BYTES).unwrap();
        let mut collector = PartCollector::new();
        assert_eq!(collector.push("toss:abc"), Err(FrameError::NotABundlePart));
        let lower = parts[0].to_lowercase();
        assert_eq!(collector.push(&lower), Err(FrameError::NotABundlePart));
        let body = &parts[0][BUNDLE_PREFIX.len()..];
        let bad_char = format!("{BUNDLE_PREFIX}{}", body.replacen('0', "a", 1));
        if bad_char != parts[0] {
            let err = FrameError::Base45("character outside the alphabet");
            assert_eq!(collector.push(&bad_char), Err(err));
        }
        let mut swapped: Vec<char> = parts[0].chars().collect();
        let at = BUNDLE_PREFIX.len() + 20;
        swapped[at] = if swapped[at] == '1' { '2' } else { '1' };
        let swapped: String = swapped.into_iter().collect();
        assert!(collector.push(&swapped).is_err());
        assert_eq!(collector.finish(), Err(FrameError::NothingReceived));
    }

    #[test]
    fn symbol_reports_version_and_size() {
        let small = symbol("TOSS").unwrap();
        assert_eq!(
            small,
            Symbol {
                version: 1,
                modules: 21
            }
        );
        assert_eq!(symbol(&"x".repeat(8_000)), Err(FrameError::QrTooLarge));
        let part = parts(&[0; 361], DEFAULT_PART_BYTES).unwrap();
        assert_eq!(part.len(), 1);
        let s = symbol(&part[0]).unwrap();
        assert_eq!(s.modules, 17 + 4 * s.version as usize);
    }
}
