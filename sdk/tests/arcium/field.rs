//! GF(2^255 − 19) arithmetic against `num-bigint` on random and edge-case operands.

use num_bigint::BigUint;
use proptest::prelude::*;
use toss_sdk::arcium::Fe;

fn p() -> BigUint {
    (BigUint::from(1u8) << 255u32) - BigUint::from(19u8)
}

fn big(f: &Fe) -> BigUint {
    BigUint::from_bytes_le(&f.to_bytes())
}

/// Any 32 bytes reduced mod p, biased towards the edges (0, 1, p − 1, just below 2^255).
fn element() -> impl Strategy<Value = (Fe, BigUint)> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(|mut b| {
            b[31] &= 0x7f;
            b
        }),
        Just([0u8; 32]),
        Just({
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        }),
        Just({
            let mut b = [0xff; 32];
            b[0] = 0xec;
            b[31] = 0x7f;
            b
        }),
        Just({
            let mut b = [0xff; 32];
            b[31] = 0x7f;
            b
        }),
    ]
    .prop_map(|b| {
        let value = BigUint::from_bytes_le(&b) % p();
        (Fe::from_bytes_mod_p(&b), value)
    })
}

proptest! {
    #[test]
    fn ring_operations_match_big_integers((a, x) in element(), (b, y) in element()) {
        let p = p();
        prop_assert_eq!(big(&a), x.clone());
        prop_assert_eq!(big(&(a + b)), (&x + &y) % &p);
        prop_assert_eq!(big(&(a - b)), (&x + &p - &y) % &p);
        prop_assert_eq!(big(&(a * b)), (&x * &y) % &p);
        prop_assert_eq!(big(&(-a)), (&p - &x) % &p);
        // Chains of operations stay within the limb bounds.
        let chain = (a * b + a - b) * (a - b) * (b + b + b);
        let expected = ((&x * &y + &x + &p - &y) % &p * ((&x + &p - &y) % &p) % &p * (&y * 3u8)) % &p;
        prop_assert_eq!(big(&chain), expected);
    }

    #[test]
    fn exponentiation_and_inverse_match((a, x) in element(), e in any::<[u64; 4]>()) {
        let p = p();
        let exponent = BigUint::from_slice(&e.iter().flat_map(|w| [*w as u32, (*w >> 32) as u32]).collect::<Vec<u32>>());
        prop_assert_eq!(big(&a.pow(&e)), x.modpow(&exponent, &p));
        if x != BigUint::from(0u8) {
            prop_assert_eq!(a * a.invert(), Fe::ONE);
        }
    }

    #[test]
    fn canonical_decoding_accepts_exactly_values_below_p(b in any::<[u8; 32]>()) {
        let value = BigUint::from_bytes_le(&b);
        let decoded = Fe::from_canonical_bytes(&b);
        prop_assert_eq!(decoded.is_some(), value < p());
        if let Some(f) = decoded {
            prop_assert_eq!(f.to_bytes(), b);
        }
    }

    #[test]
    fn wide_reduction_matches(b in proptest::collection::vec(any::<u8>(), 48)) {
        let mut wide = [0u8; 48];
        wide.copy_from_slice(&b);
        prop_assert_eq!(big(&Fe::from_wide_bytes(&wide)), BigUint::from_bytes_le(&wide) % p());
    }
}
