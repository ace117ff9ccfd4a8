//! Every split is reassembled exactly, whatever the order and the duplicates.

use crate::permutation;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use toss_sdk::transport::qr::{self, PartCollector};
use toss_sdk::transport::{base45, ble, nfc, FrameError, Limits, Push, Reassembler};

/// Room for the smallest MTUs (3000 one-byte frames); the default limit is 1024 frames.
const WIDE: Limits = Limits {
    max_frames: u16::MAX,
    max_payload: 64 * 1024,
};

/// The frames in a seeded order, with some of them repeated at the positions given.
fn shuffled<T: Clone>(items: &[T], seed: u64, dups: &[(Index, Index)]) -> Vec<T> {
    let mut out: Vec<T> = permutation(items.len(), seed)
        .into_iter()
        .map(|i| items[i].clone())
        .collect();
    for (which, at) in dups {
        let item = items[which.index(items.len())].clone();
        out.insert(at.index(out.len() + 1), item);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ble_round_trip_in_any_order(
        payload in vec(any::<u8>(), 0..3000),
        mtu in ble::MIN_MTU..600,
        seed in any::<u64>(),
        dups in vec((any::<Index>(), any::<Index>()), 0..6),
    ) {
        let frames = ble::split(&payload, mtu).unwrap();
        prop_assert!(frames.iter().all(|f| f.len() <= mtu));
        prop_assert_eq!(frames.len(), ble::frames_needed(payload.len(), mtu).unwrap());
        let mut r = Reassembler::with_limits(WIDE);
        let mut done = None;
        for frame in shuffled(&frames, seed, &dups) {
            match r.push(&frame).unwrap() {
                Push::Complete(p) => {
                    prop_assert!(done.is_none(), "completed twice");
                    done = Some(p);
                }
                Push::Stored { .. } => prop_assert!(done.is_none()),
                Push::Duplicate => {}
            }
        }
        prop_assert_eq!(done.as_ref(), Some(&payload));
        prop_assert_eq!(r.finish(), Ok(payload));
    }

    #[test]
    fn loss_is_reported_exactly(
        payload in vec(any::<u8>(), 1..2000),
        mtu in ble::MIN_MTU..300,
        seed in any::<u64>(),
        lost in vec(any::<Index>(), 1..4),
    ) {
        let frames = ble::split(&payload, mtu).unwrap();
        let mut lost: Vec<u16> = lost.iter().map(|i| i.index(frames.len()) as u16).collect();
        lost.sort_unstable();
        lost.dedup();
        let mut r = Reassembler::with_limits(WIDE);
        for i in permutation(frames.len(), seed) {
            if !lost.contains(&(i as u16)) {
                r.push(&frames[i]).unwrap();
            }
        }
        let expected = if lost.len() == frames.len() {
            FrameError::NothingReceived
        } else {
            prop_assert_eq!(r.missing(), Some(lost.clone()));
            FrameError::Incomplete { count: frames.len() as u16, missing: lost }
        };
        prop_assert_eq!(r.finish(), Err(expected));
    }

    #[test]
    fn qr_parts_round_trip_in_any_order(
        payload in vec(any::<u8>(), 0..3000),
        part_bytes in ble::MIN_MTU..700,
        seed in any::<u64>(),
        dups in vec((any::<Index>(), any::<Index>()), 0..6),
    ) {
        let parts = qr::parts(&payload, part_bytes).unwrap();
        let mut collector = PartCollector::with_limits(WIDE);
        for part in shuffled(&parts, seed, &dups) {
            collector.push(&part).unwrap();
        }
        prop_assert_eq!(collector.finish(), Ok(payload));
    }

    #[test]
    fn nfc_round_trip(payload in vec(any::<u8>(), 0..=nfc::MAX_PAYLOAD)) {
        let frame = nfc::encode(&payload).unwrap();
        prop_assert!(frame.len() <= nfc::MAX_FRAME);
        prop_assert_eq!(nfc::decode(&frame), Ok(&payload[..]));
    }

    #[test]
    fn base45_round_trip(bytes in vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(base45::decode(&base45::encode(&bytes)), Ok(bytes));
    }
}
