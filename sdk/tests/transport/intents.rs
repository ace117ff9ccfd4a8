//! Real signed intents over every transport: one intent, a 10-intent bundle, and a bundle
//! part through a rendered and scanned QR code.

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use toss_sdk::transport::qr::{self, PartCollector};
use toss_sdk::transport::{ble, bundle, nfc, Push, Reassembler};
use toss_sdk::{Intent, SignedIntent};

fn signed(amount: u64) -> SignedIntent {
    let kp = Keypair::new();
    let intent = Intent {
        sender: kp.pubkey(),
        recipient: Pubkey::new_unique(),
        mint: None,
        amount,
        nonce_account: Pubkey::new_unique(),
        nonce_value: [5; 32],
        expiry: 1_900_000_000,
        max_fee: 5_000,
        reference: None,
    };
    SignedIntent::sign(&kp, &intent).unwrap()
}

fn reassemble(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut r = Reassembler::new();
    let mut out = None;
    for frame in frames.iter().rev() {
        if let Push::Complete(p) = r.push(frame).unwrap() {
            out = Some(p);
        }
    }
    out.unwrap()
}

#[test]
fn a_ten_intent_bundle_crosses_every_transport() {
    let intents: Vec<_> = (1..=10).map(signed).collect();
    let bytes = bundle::encode(&intents).unwrap();
    for mtu in [185, ble::DEFAULT_MTU] {
        let frames = ble::split(&bytes, mtu).unwrap();
        let back = bundle::decode_verified(&reassemble(&frames)).unwrap();
        assert_eq!(back, intents, "BLE at MTU {mtu}");
    }
    let frame = nfc::encode(&bytes).unwrap();
    assert_eq!(
        bundle::decode_verified(nfc::decode(&frame).unwrap()).unwrap(),
        intents
    );
    let parts = qr::intent_parts(&intents).unwrap();
    let mut collector = PartCollector::new();
    for part in parts.iter().rev() {
        collector.push(part).unwrap();
    }
    assert_eq!(collector.finish_intents().unwrap(), intents);
}

#[test]
fn one_intent_is_one_code() {
    let one = signed(42);
    let text = qr::intent_text(&one);
    assert_eq!(SignedIntent::from_uri(&text).unwrap(), one);
    let symbol = qr::symbol(&text).unwrap();
    assert!(symbol.version <= 13, "{symbol:?}");
    assert_eq!(
        ble::split(&one.to_bytes(), ble::DEFAULT_MTU).unwrap().len(),
        1
    );
}

/// Decodes the single QR code in a grayscale PNG.
fn scan(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

#[test]
fn bundle_parts_scan_back_from_rendered_codes() {
    let intents: Vec<_> = (1..=3).map(signed).collect();
    let parts = qr::intent_parts(&intents).unwrap();
    let mut collector = PartCollector::new();
    for part in &parts {
        let scanned = scan(&toss_sdk::qr::to_png(part, 4).unwrap());
        assert_eq!(&scanned, part);
        collector.push(&scanned).unwrap();
    }
    assert_eq!(collector.finish_intents().unwrap(), intents);
}
