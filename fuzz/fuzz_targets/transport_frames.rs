//! Offline transports: BLE/NFC/QR frames, their reassembly and intent bundles, fed arbitrary
//! bytes. Errors, never a panic; a completed message is exactly what its frames carried.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toss_sdk::transport::{base45, bundle, fragment::Frame, nfc, qr, Push, Reassembler};

fuzz_target!(|data: &[u8]| {
    let _ = Frame::decode(data);
    let _ = nfc::decode(data);
    let _ = bundle::decode(data);
    // The input as a stream of frames: a length byte, then that many bytes.
    let mut r = Reassembler::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        rest = next;
        if let Ok(Push::Complete(payload)) = r.push(frame) {
            let _ = bundle::decode(&payload);
        }
    }
    let _ = r.missing();
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = base45::decode(text) {
            assert_eq!(base45::decode(&base45::encode(&bytes)).ok(), Some(bytes));
        }
        let _ = qr::part_frame(text);
        let mut parts = qr::PartCollector::new();
        for line in text.lines().take(64) {
            let _ = parts.push(line);
        }
        let _ = parts.finish_intents();
    }
});
