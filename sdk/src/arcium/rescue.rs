//! The Rescue permutation, the Rescue-Prime hash (sponge) and the Rescue block cipher's key
//! schedule, over GF(2^255 − 19).
//!
//! One round is two half-rounds, each `s ← MDS·S(s) + kᵣ` where the S-box S raises every
//! element to a fixed exponent. In the block cipher the first half-round of each round uses
//! α⁻¹ and the second α; in the hash it is the other way round (Arcium's convention). Round
//! keys: for the hash they are the round constants; for the cipher they are every intermediate
//! state of the same permutation run over the *key* with the round constants as keys (the
//! Rescue key schedule), so they are as secret as the key and are zeroized on drop.

use super::field::Fe;
use super::params::{cipher_params, hash_params, Params, CIPHER_WIDTH, HASH_RATE, HASH_WIDTH};
use zeroize::Zeroize;

/// Which exponent each half-round uses.
#[derive(Clone, Copy)]
enum Mode {
    /// α⁻¹ then α.
    BlockCipher,
    /// α then α⁻¹.
    Hash,
}

/// Runs the permutation over `state` with `keys` (first added up front, one per half-round
/// after), calling `each` with the state after the initial key and after every half-round.
fn permute<const M: usize>(
    params: &Params<M>,
    mode: Mode,
    keys: &[[Fe; M]],
    state: &[Fe; M],
    mut each: impl FnMut(&[Fe; M]),
) -> [Fe; M] {
    let alpha = [params.alpha, 0, 0, 0];
    let (even, odd) = match mode {
        Mode::BlockCipher => (&params.alpha_inv, &alpha),
        Mode::Hash => (&alpha, &params.alpha_inv),
    };
    let Some((first, rest)) = keys.split_first() else {
        return *state;
    };
    let mut s: [Fe; M] = std::array::from_fn(|i| state[i] + first[i]);
    each(&s);
    for (r, key) in rest.iter().enumerate() {
        let exponent = if r % 2 == 0 { even } else { odd };
        let boxed: [Fe; M] = std::array::from_fn(|i| s[i].pow(exponent));
        s = std::array::from_fn(|i| {
            params.mds[i]
                .iter()
                .zip(&boxed)
                .fold(key[i], |acc, (&m, &x)| acc + m * x)
        });
        each(&s);
    }
    s
}

/// The Rescue-Prime hash over GF(p): a sponge of width 12, rate 7, capacity 5, digest 5
/// elements. The message gets a `1` appended, then zeros up to a multiple of the rate.
pub fn rescue_prime_hash(message: &[Fe]) -> [Fe; 5] {
    let params = hash_params();
    let mut padded = message.to_vec();
    padded.push(Fe::ONE);
    while !padded.len().is_multiple_of(HASH_RATE) {
        padded.push(Fe::ZERO);
    }
    let mut state = [Fe::ZERO; HASH_WIDTH];
    for chunk in padded.chunks(HASH_RATE) {
        for (s, &m) in state.iter_mut().zip(chunk) {
            *s += m;
        }
        state = permute(params, Mode::Hash, &params.constants, &state, |_| {});
    }
    padded.zeroize();
    let digest = std::array::from_fn(|i| state[i]);
    state.zeroize();
    digest
}

/// The Rescue block cipher of width 5 with an expanded key.
pub struct RescueBlockCipher {
    round_keys: Vec<[Fe; CIPHER_WIDTH]>,
}

impl RescueBlockCipher {
    /// Expands `key` with the Rescue key schedule.
    pub fn new(key: &[Fe; CIPHER_WIDTH]) -> RescueBlockCipher {
        let params = cipher_params();
        let mut round_keys = Vec::with_capacity(params.constants.len());
        permute(params, Mode::BlockCipher, &params.constants, key, |s| {
            round_keys.push(*s)
        });
        RescueBlockCipher { round_keys }
    }

    /// Encrypts one block.
    pub fn encrypt_block(&self, block: &[Fe; CIPHER_WIDTH]) -> [Fe; CIPHER_WIDTH] {
        permute(
            cipher_params(),
            Mode::BlockCipher,
            &self.round_keys,
            block,
            |_| {},
        )
    }
}

impl Drop for RescueBlockCipher {
    fn drop(&mut self) {
        for k in self.round_keys.iter_mut() {
            k.zeroize();
        }
    }
}
