//! Offline transport frames as a user of the SDK sees them: round trips under reordering and
//! duplication, arbitrary input into every decoder, single-bit corruption, and bundles of real
//! signed intents over BLE, NFC and QR.
//!
//! The "never panics" and "bit flip detected" properties run [`FUZZ_CASES`] cases each on
//! small inputs (the issue's ≥100k-case proptest in place of a cargo-fuzz target).

mod corruption;
mod fuzz;
mod intents;
mod round_trip;
mod vectors;

use proptest::test_runner::{Config, RngAlgorithm};

/// Cases for the fuzz-style properties.
pub const FUZZ_CASES: u32 = 100_000;

/// [`FUZZ_CASES`] cases, drawn with XorShift: ChaCha, proptest's default, was a quarter of the
/// debug-build run time, and these properties need volume more than randomness quality.
pub fn fuzz_config() -> Config {
    Config {
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::with_cases(FUZZ_CASES)
    }
}

/// A permutation of `0..n` from a seed (Fisher–Yates over xorshift64*).
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[test]
fn fuzz_properties_run_at_least_100k_cases() {
    assert!(fuzz_config().cases >= 100_000);
}
