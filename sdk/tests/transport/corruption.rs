//! Any single flipped bit in any frame or part is refused, and never yields a payload.

use crate::fuzz_config;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use toss_sdk::transport::fragment::Frame;
use toss_sdk::transport::qr::{self, PartCollector};
use toss_sdk::transport::{ble, nfc, FrameError, Push, Reassembler};

/// Flips bit `bit` (any position in the whole buffer).
fn flip(bytes: &mut [u8], bit: Index) {
    let at = bit.index(bytes.len() * 8);
    bytes[at / 8] ^= 1 << (at % 8);
}

proptest! {
    #![proptest_config(fuzz_config())]

    #[test]
    fn ble_bit_flip_is_detected(
        payload in vec(any::<u8>(), 0..40),
        mtu in ble::MIN_MTU..48,
        pick in any::<Index>(),
        bit in any::<Index>(),
    ) {
        let mut frames = ble::split_with_id(&payload, 7, mtu).unwrap();
        let victim = pick.index(frames.len());
        flip(&mut frames[victim], bit);
        prop_assert!(Frame::decode(&frames[victim]).is_err());
        let mut r = Reassembler::new();
        for (i, frame) in frames.iter().enumerate() {
            let pushed = r.push(frame);
            if i == victim {
                prop_assert!(pushed.is_err());
            } else {
                prop_assert!(matches!(pushed, Ok(Push::Stored { .. })), "{:?}", pushed);
            }
        }
        let expected = if frames.len() == 1 {
            FrameError::NothingReceived
        } else {
            FrameError::Incomplete { count: frames.len() as u16, missing: vec![victim as u16] }
        };
        prop_assert_eq!(r.finish(), Err(expected));
    }

    #[test]
    fn nfc_bit_flip_is_detected(payload in vec(any::<u8>(), 0..48), bit in any::<Index>()) {
        let mut frame = nfc::encode(&payload).unwrap();
        flip(&mut frame, bit);
        prop_assert!(nfc::decode(&frame).is_err());
    }

    #[test]
    fn qr_part_bit_flip_is_detected(
        payload in vec(any::<u8>(), 0..32),
        part_bytes in ble::MIN_MTU..40,
        pick in any::<Index>(),
        bit in any::<Index>(),
    ) {
        let parts = qr::parts(&payload, part_bytes).unwrap();
        let victim = pick.index(parts.len());
        let mut bytes = parts[victim].clone().into_bytes();
        flip(&mut bytes, bit);
        let mut collector = PartCollector::new();
        for (i, part) in parts.iter().enumerate() {
            if i == victim {
                // Not UTF-8 any more is refused before the collector sees it.
                if let Ok(text) = std::str::from_utf8(&bytes) {
                    prop_assert!(collector.push(text).is_err());
                }
            } else {
                let pushed = collector.push(part);
                prop_assert!(matches!(pushed, Ok(Push::Stored { .. })), "{:?}", pushed);
            }
        }
        prop_assert!(collector.finish().is_err());
    }
}
