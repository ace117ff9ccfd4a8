//! Arcium confidential mode, client side, as a user of the SDK sees it: the cipher against the
//! committed vectors from Arcium's reference implementation (byte for byte, both directions),
//! field arithmetic against a big-integer reference, round trips, refusals (unset MXE key,
//! non-canonical ciphertexts), the `MXEAccount` layout, Arcium's PDAs and the key fetch.

mod account;
mod cli;
mod fetch;
mod field;
mod intent;
mod round_trip;
mod vectors;

/// Hex to a fixed-size array (test input only).
pub fn unhex<const N: usize>(s: &str) -> [u8; N] {
    let v = hex::decode(s).expect("hex");
    v.try_into().expect("length")
}
