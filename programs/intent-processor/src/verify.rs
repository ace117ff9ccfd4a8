//! Ed25519 signatures verified inside the program (the compact settle form), accepting exactly
//! what the Ed25519 precompile and ed25519-dalek's `verify_strict` accept:
//!
//! * `s` canonical (`s < l`), checked by the multiscalar-multiplication syscall;
//! * `R` and the public key `A` not of small order;
//! * `[s]B - [k]A` compresses to exactly the 32 bytes of `R` (so `R` must be a canonical
//!   encoding), with `k = SHA-512(R || A || M) mod l` over `A`'s bytes *as given*.
//!
//! The point arithmetic is one `sol_curve_multiscalar_mul` syscall through `brine-ed25519`
//! (`verify_prehashed_strict`: point-encoding and small-order checks, the wide reduction of `k`,
//! the MSM). The challenge hash is RustCrypto's `sha2`, computed in the program: the
//! `sol_sha512` syscall is not active on mainnet and a program linking it does not load there
//! (brine's `fast-sha512` feature is on so the crate never links it; a test checks the `.so`).
//! Measured in the SBF VM for a 160-byte intent (224 hashed bytes, two SHA-512 blocks):
//! hashing ~15,500 CU with either `sha2` or brine's unrolled `FastSha512` (2 % apart), the
//! reduction and the MSM ~5,000 CU; `FastSha512` made the `.so` 145 KB larger, so `sha2` it is.
//!
//! One rule differs between that crate and the precompile: ed25519-dalek decodes a public key
//! whose `y` is not reduced (`p <= y < 2^255`) as the point with `y - p`, while the crate refuses
//! such keys. [`canonical_key`] bridges it: the challenge hashes the key's bytes as given, the curve
//! operation uses the reduced encoding of the same point, so both verifiers agree on every
//! input (tests in `tests/tests/program/compact_verify.rs` check it against ed25519-dalek and
//! the precompile).

use brine_ed25519::{verify_prehashed_strict, Address};
use sha2::{Digest, Sha512};

/// `p = 2^255 - 19`, little-endian.
const P: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// The encoding of the same point with `y` reduced below `p` (sign bit kept). Identity for
/// every canonical encoding; only `y` in `p..2^255` (19 values) changes.
pub fn canonical_key(key: &[u8; 32]) -> [u8; 32] {
    let sign = key[31] & 0x80;
    let mut y = *key;
    y[31] &= 0x7f;
    // y >= p, compared from the most significant byte down.
    let mut at_least_p = true;
    for i in (0..32).rev() {
        if y[i] != P[i] {
            at_least_p = y[i] > P[i];
            break;
        }
    }
    if !at_least_p {
        return *key;
    }
    // y - p < 19 fits in the low byte: y's upper 31 bytes equal p's.
    let mut out = [0u8; 32];
    out[0] = y[0].wrapping_sub(P[0]);
    out[31] |= sign;
    out
}

/// Whether `signature` is `key`'s strict Ed25519 signature of the concatenation of `message`.
pub fn verify_strict(key: &[u8; 32], signature: &[u8; 64], message: &[&[u8]]) -> bool {
    let mut hasher = Sha512::new();
    hasher.update(&signature[..32]);
    hasher.update(key);
    for part in message {
        hasher.update(part);
    }
    let challenge: [u8; 64] = hasher.finalize().into();
    let point = Address::new_from_array(canonical_key(key));
    verify_prehashed_strict(&point, signature, &challenge).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keys_are_unchanged() {
        let mut key = [7u8; 32];
        assert_eq!(canonical_key(&key), key);
        key[31] = 0xff;
        assert_eq!(canonical_key(&key), key);
        // p - 1 is canonical.
        let mut below = P;
        below[0] -= 1;
        assert_eq!(canonical_key(&below), below);
    }

    #[test]
    fn unreduced_y_is_reduced_and_keeps_its_sign() {
        for offset in 0u8..19 {
            for sign in [0u8, 0x80] {
                let mut key = P;
                key[0] += offset;
                key[31] |= sign;
                let mut want = [0u8; 32];
                want[0] = offset;
                want[31] = sign;
                assert_eq!(canonical_key(&key), want);
            }
        }
    }
}
