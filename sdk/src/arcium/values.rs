//! How values become field elements, the way Arcis lays out circuit inputs: every integer or
//! bool is one scalar (its value as a field element); a 32-byte Solana public key is two
//! `u128` scalars, `lo` = bytes 0..16 and `hi` = bytes 16..32, each little-endian (the Arcis
//! standard library's `SerializedSolanaPublicKey { lo, hi }`).

use super::field::Fe;
use super::ArciumError;

/// One plaintext value of a confidential input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plaintext {
    /// A `u64` (an amount, a fee): one scalar.
    U64(u64),
    /// A `u128`: one scalar.
    U128(u128),
    /// A bool: one scalar, 0 or 1.
    Bool(bool),
    /// A Solana public key: two scalars (`lo`, `hi`).
    Pubkey([u8; 32]),
    /// A raw field element: one scalar.
    Field(Fe),
}

impl Plaintext {
    /// How many scalars (ciphertexts) this value takes.
    pub fn scalars(&self) -> usize {
        match self {
            Plaintext::Pubkey(_) => 2,
            _ => 1,
        }
    }

    /// Appends this value's scalars to `out`.
    pub fn encode_into(&self, out: &mut Vec<Fe>) {
        match *self {
            Plaintext::U64(v) => out.push(Fe::from_u64(v)),
            Plaintext::U128(v) => out.push(Fe::from_u128(v)),
            Plaintext::Bool(b) => out.push(Fe::from_u64(u64::from(b))),
            Plaintext::Pubkey(bytes) => {
                let (lo, hi) = pubkey_halves(&bytes);
                out.push(Fe::from_u128(lo));
                out.push(Fe::from_u128(hi));
            }
            Plaintext::Field(f) => out.push(f),
        }
    }
}

/// The scalars of `values`, in order.
pub fn encode(values: &[Plaintext]) -> Vec<Fe> {
    let mut out = Vec::with_capacity(values.iter().map(Plaintext::scalars).sum());
    for v in values {
        v.encode_into(&mut out);
    }
    out
}

fn pubkey_halves(bytes: &[u8; 32]) -> (u128, u128) {
    let mut lo = [0u8; 16];
    let mut hi = [0u8; 16];
    lo.copy_from_slice(&bytes[..16]);
    hi.copy_from_slice(&bytes[16..]);
    (u128::from_le_bytes(lo), u128::from_le_bytes(hi))
}

/// A decrypted scalar as a `u64`; [`ArciumError::OutOfRange`] if it is 2^64 or more.
pub fn decode_u64(f: &Fe, index: usize) -> Result<u64, ArciumError> {
    f.to_u64()
        .ok_or(ArciumError::OutOfRange { index, kind: "u64" })
}

/// A decrypted scalar as a `u128`; [`ArciumError::OutOfRange`] if it is 2^128 or more.
pub fn decode_u128(f: &Fe, index: usize) -> Result<u128, ArciumError> {
    f.to_u128().ok_or(ArciumError::OutOfRange {
        index,
        kind: "u128",
    })
}

/// Two decrypted scalars (`lo`, `hi`) as a public key.
pub fn decode_pubkey(lo: &Fe, hi: &Fe, index: usize) -> Result<[u8; 32], ArciumError> {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&decode_u128(lo, index)?.to_le_bytes());
    out[16..].copy_from_slice(&decode_u128(hi, index + 1)?.to_le_bytes());
    Ok(out)
}
