//! Byte-exact examples from `docs/transports.md`, produced by an independent implementation
//! (Python's `zlib.crc32` and `hashlib.sha256`), so the layouts are checked against the text.

use toss_sdk::transport::fragment::message_id;
use toss_sdk::transport::qr::{self, PartCollector};
use toss_sdk::transport::{ble, nfc, Push, Reassembler};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

const PAYLOAD: &[u8] = b"hello, toss!";
const FRAME_0: &str =
    "01 51 cf ff 78 00 00 02 00 0c 00 00 00 5c d9 25 72 06 00 68 65 6c 6c 6f 2c 49 18 c8 92";
const FRAME_1: &str =
    "01 51 cf ff 78 01 00 02 00 0c 00 00 00 5c d9 25 72 06 00 20 74 6f 73 73 21 7f 7f 2d d4";
const PART_0: &str = "TOSS-BUNDLE-1:M70CDQU7F200C00000220EKRUIEE20: C*VD.Q5:53B3";
const PART_1: &str = "TOSS-BUNDLE-1:M70CDQV7F200C00000220EKRUIEW00HWEZQEPA4M3GW4";

#[test]
fn ble_example() {
    assert_eq!(message_id(PAYLOAD), 0x78ff_cf51);
    let frames = ble::split(PAYLOAD, 29).unwrap();
    assert_eq!(frames, vec![hex(FRAME_0), hex(FRAME_1)]);
    let mut r = Reassembler::new();
    r.push(&hex(FRAME_1)).unwrap();
    assert_eq!(r.push(&hex(FRAME_0)), Ok(Push::Complete(PAYLOAD.to_vec())));
}

#[test]
fn qr_parts_example() {
    assert_eq!(qr::parts(PAYLOAD, 29).unwrap(), vec![PART_0, PART_1]);
    let mut collector = PartCollector::new();
    collector.push(PART_1).unwrap();
    collector.push(PART_0).unwrap();
    assert_eq!(collector.finish(), Ok(PAYLOAD.to_vec()));
}

#[test]
fn nfc_example() {
    let frame = hex("01 03 00 61 62 63 06 90 5b f7");
    assert_eq!(nfc::encode(b"abc").unwrap(), frame);
    assert_eq!(nfc::decode(&frame), Ok(&b"abc"[..]));
}
