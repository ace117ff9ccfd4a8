//! Arbitrary input into every decoder and the reassembler: an error or a value, never a panic,
//! and never a "complete" payload that does not match what the frames announce.

use crate::fuzz_config;
use proptest::collection::vec;
use proptest::prelude::*;
use toss_sdk::transport::fragment::Frame;
use toss_sdk::transport::qr::{PartCollector, BUNDLE_PREFIX};
use toss_sdk::transport::{base45, bundle, crc32, nfc, Push, Reassembler};

/// Arbitrary bytes, half of them starting with version byte 1 so they pass the first check.
fn framish() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), vec(any::<u8>(), 0..48)).prop_map(|(versioned, mut v)| {
        if versioned {
            v.insert(0, 1);
        }
        v
    })
}

/// A well-formed (CRC-valid) fragment frame with arbitrary, often contradictory, fields.
fn crc_valid_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        0u32..2,
        0u16..5,
        0u16..5,
        0u32..12,
        prop_oneof![Just(None), any::<u32>().prop_map(Some)],
        vec(any::<u8>(), 0..8),
    )
        .prop_map(|(message_id, index, count, payload_len, crc, chunk)| {
            let payload_crc = crc.unwrap_or_else(|| crc32(&[&chunk]));
            Frame {
                message_id,
                index,
                count,
                payload_len,
                payload_crc,
                chunk: &chunk,
            }
            .encode()
            .unwrap_or_default()
        })
}

/// QR part text: the prefix (or a damaged one) and characters mostly from the base45
/// alphabet, some outside it.
fn part_text() -> impl Strategy<Value = String> {
    (any::<bool>(), vec(0u8..50, 0..60)).prop_map(|(prefixed, chars)| {
        let body: String = chars
            .iter()
            .map(|&c| {
                base45::ALPHABET
                    .get(usize::from(c))
                    .map_or('a', |&b| char::from(b))
            })
            .collect();
        let prefix = if prefixed {
            BUNDLE_PREFIX
        } else {
            "TOSS-BUNDLE-2:"
        };
        format!("{prefix}{body}")
    })
}

proptest! {
    #![proptest_config(fuzz_config())]

    /// Each byte decoder gets the same input raw and, where it has a length field, with a
    /// plausible header in front.
    #[test]
    fn byte_decoders_never_panic(bytes in framish(), len in 0u16..300, count in 0u16..4) {
        let _ = Frame::decode(&bytes);
        let _ = Reassembler::new().push(&bytes);
        let _ = nfc::decode(&bytes);
        let mut nfc_shaped = vec![1];
        nfc_shaped.extend_from_slice(&(len % 48).to_le_bytes());
        nfc_shaped.extend_from_slice(&bytes);
        let _ = nfc::decode(&nfc_shaped);
        let _ = bundle::decode(&bytes);
        let mut bundle_shaped = vec![1];
        bundle_shaped.extend_from_slice(&count.to_le_bytes());
        bundle_shaped.extend_from_slice(&len.to_le_bytes());
        bundle_shaped.extend_from_slice(&bytes);
        let _ = bundle::decode(&bundle_shaped);
        let text = String::from_utf8_lossy(&bytes);
        let _ = base45::decode(&text);
        let _ = PartCollector::new().push(&text);
    }

    #[test]
    fn reassembler_never_panics_or_lies(frames in vec(crc_valid_frame(), 1..5)) {
        let mut r = Reassembler::new();
        for frame in &frames {
            if let Ok(Push::Complete(payload)) = r.push(frame) {
                let first = Frame::decode(frame).unwrap();
                prop_assert_eq!(payload.len(), first.payload_len as usize);
                prop_assert_eq!(crc32(&[&payload]), first.payload_crc);
            }
            let _ = r.missing();
        }
        let _ = r.finish();
    }

    #[test]
    fn qr_collector_never_panics(text in part_text()) {
        let _ = base45::decode(&text);
        let mut collector = PartCollector::new();
        let _ = collector.push(&text);
        let _ = collector.finish();
    }
}
