//! The Ed25519 precompile instruction in the intent processor's canonical layout (see the
//! program's `ed25519` module): header, one offsets entry per intent, then
//! `signature || intent bytes` per intent, with the public key pointing at the intent's sender
//! field.

use crate::SignedIntent;
use solana_instruction::Instruction;
use toss_intent_processor::{
    constants::ED25519_PROGRAM_ID,
    ed25519::{HEADER_LEN, OFFSETS_LEN, SIGNATURE_LEN},
    intent::SENDER_OFFSET,
};

/// The Ed25519 precompile instruction in the program's canonical layout: header, offsets
/// entries, then `signature || message` per intent, public key pointing at the sender field.
pub fn precompile_ix(signed: &[SignedIntent]) -> Instruction {
    let entries: Vec<(&[u8; 64], &[u8])> = signed
        .iter()
        .map(|s| (&s.signature, s.message.as_slice()))
        .collect();
    precompile_ix_raw(&entries)
}

/// [`precompile_ix`] over `(signature, message)` pairs of any intent version (the sender sits
/// at the same offset in every version).
pub fn precompile_ix_raw(signed: &[(&[u8; 64], &[u8])]) -> Instruction {
    let n = signed.len();
    let mut data = vec![n as u8, 0];
    let mut cursor = HEADER_LEN + OFFSETS_LEN * n;
    for (_, message) in signed {
        let signature_offset = cursor as u16;
        let message_offset = (cursor + SIGNATURE_LEN) as u16;
        for field in [
            signature_offset,
            u16::MAX,
            message_offset + SENDER_OFFSET as u16,
            u16::MAX,
            message_offset,
            message.len() as u16,
            u16::MAX,
        ] {
            data.extend_from_slice(&field.to_le_bytes());
        }
        cursor += SIGNATURE_LEN + message.len();
    }
    for (signature, message) in signed {
        data.extend_from_slice(&signature[..]);
        data.extend_from_slice(message);
    }
    Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    }
}

/// Byte offset of field `field` (0..7: signature offset, signature ix, public key offset,
/// public key ix, message offset, message size, message ix) of entry `entry`.
pub fn offsets_field(entry: usize, field: usize) -> usize {
    HEADER_LEN + OFFSETS_LEN * entry + 2 * field
}
