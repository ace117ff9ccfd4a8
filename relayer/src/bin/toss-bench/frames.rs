//! `toss-bench frames`: what the offline transports cost for real signed intents: BLE frames
//! at MTU 185 and 480, NFC frame size, the QR code for one intent and the parts of a 10-intent
//! bundle, and the time to split and reassemble a bundle (signatures are not verified in the
//! timed loop: `ingest` measures verification).

use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::time::Instant;
use toss_sdk::transport::{ble, bundle, nfc, qr, FrameError, Push, Reassembler};
use toss_sdk::{Intent, SdkError, SignedIntent};

/// The MTUs the issue asks about (the frame budget, header and CRC included).
const MTUS: [usize; 2] = [185, ble::DEFAULT_MTU];
/// Intents in the bundle.
const BUNDLE: usize = 10;
/// Split-and-reassemble rounds timed.
const ROUNDS: u32 = 1_000;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A signed SOL intent, or a token intent with a reference (the largest kind).
fn signed(largest: bool) -> Result<SignedIntent, SdkError> {
    let kp = Keypair::new();
    let intent = Intent {
        sender: kp.pubkey(),
        recipient: Pubkey::new_unique(),
        mint: largest.then(Pubkey::new_unique),
        amount: 1_000_000,
        nonce_account: Pubkey::new_unique(),
        nonce_value: [7; 32],
        expiry: 1_900_000_000,
        max_fee: 5_000,
        reference: largest.then_some([9; 32]),
    };
    SignedIntent::sign(&kp, &intent)
}

/// Frames at each MTU, as `{"185": n, "480": m}`.
fn ble_frames(len: usize) -> Result<Value, FrameError> {
    let mut out = serde_json::Map::new();
    for mtu in MTUS {
        out.insert(mtu.to_string(), json!(ble::frames_needed(len, mtu)?));
    }
    Ok(Value::Object(out))
}

/// Microseconds per split + reassemble (frames in reverse order) + bundle decode.
fn round_trip_us(bytes: &[u8], mtu: usize) -> Result<f64, String> {
    let start = Instant::now();
    for _ in 0..ROUNDS {
        let mut r = Reassembler::new();
        let mut done = None;
        for frame in ble::split(bytes, mtu).map_err(err)?.iter().rev() {
            if let Push::Complete(p) = r.push(frame).map_err(err)? {
                done = Some(p);
            }
        }
        let payload = done.ok_or("bundle did not complete")?;
        bundle::decode(&payload).map_err(err)?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS))
}

/// Transport figures.
pub fn run() -> Result<Value, String> {
    let one = signed(false).map_err(err)?;
    let largest = signed(true).map_err(err)?;
    let intents = (0..BUNDLE)
        .map(|_| signed(false))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let bundle_bytes = bundle::encode(&intents).map_err(err)?;
    let uri = qr::intent_text(&one);
    let one_code = qr::symbol(&uri).map_err(err)?;
    let largest_code = qr::symbol(&qr::intent_text(&largest)).map_err(err)?;
    let parts = qr::intent_parts(&intents).map_err(err)?;
    let part_codes = parts
        .iter()
        .map(|p| qr::symbol(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let biggest_part = part_codes.iter().max_by_key(|s| s.version).copied();
    Ok(json!({
        "intent_bytes": one.to_bytes().len(),
        "largest_intent_bytes": largest.to_bytes().len(),
        "bundle_intents": BUNDLE,
        "bundle_bytes": bundle_bytes.len(),
        "ble_frames_one_intent": ble_frames(one.to_bytes().len()).map_err(err)?,
        "ble_frames_largest_intent": ble_frames(largest.to_bytes().len()).map_err(err)?,
        "ble_frames_bundle": ble_frames(bundle_bytes.len()).map_err(err)?,
        "nfc_bytes_one_intent": nfc::encode(&one.to_bytes()).map_err(err)?.len(),
        "nfc_bytes_bundle": nfc::encode(&bundle_bytes).map_err(err)?.len(),
        "qr_one_intent_chars": uri.len(),
        "qr_one_intent_version": one_code.version,
        "qr_one_intent_modules": one_code.modules,
        "qr_largest_intent_version": largest_code.version,
        "qr_largest_intent_modules": largest_code.modules,
        "qr_bundle_part_bytes": qr::DEFAULT_PART_BYTES,
        "qr_bundle_parts": parts.len(),
        "qr_bundle_part_chars_max": parts.iter().map(String::len).max(),
        "qr_bundle_part_version_max": biggest_part.map(|s| s.version),
        "qr_bundle_part_modules_max": biggest_part.map(|s| s.modules),
        "ble_bundle_split_reassemble_us_mtu185": round_trip_us(&bundle_bytes, 185)?,
    }))
}
