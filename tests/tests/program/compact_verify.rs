//! The compact form's in-program Ed25519 verifier accepts exactly what ed25519-dalek's
//! `verify_strict` (the relayer's intake check) and the Ed25519 precompile accept: valid
//! signatures, and the edge cases of "Taming the many EdDSAs" (small-order keys and R,
//! mixed-order keys, non-canonical S and point encodings), plus random mutations. The program's
//! own verifier runs here natively; the SBF build of the same code is exercised by the
//! `intent_settle_compact` suite in BPF mode.

use curve25519_dalek::{
    constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION},
    edwards::{CompressedEdwardsY, EdwardsPoint},
    scalar::Scalar,
    traits::{Identity, IsIdentity},
};
use proptest::prelude::*;
use sha2::{Digest, Sha512};
use solana_keypair::Keypair;
use solana_signer::Signer;
use toss_intent_processor::verify;
use toss_tests::*;

/// One verification question: does `signature` verify `message` under `key`?
#[derive(Clone, Debug)]
struct Case {
    name: String,
    key: [u8; 32],
    signature: [u8; 64],
    message: Vec<u8>,
}

/// A message that carries the key at the intent's sender offset (8), so the precompile entry
/// can point its public key into the message as the program's layout does.
fn message_for(key: &[u8; 32], tail: &[u8]) -> Vec<u8> {
    let mut m = vec![0xA5; 8];
    m.extend_from_slice(key);
    m.extend_from_slice(tail);
    m
}

fn challenge(r: &[u8; 32], key: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(key);
    h.update(message);
    Scalar::from_hash(h)
}

/// A signature by secret scalar `a` whose public key is encoded as `key` (which may be any
/// encoding of any point: small or mixed order, non-canonical), with nonce `r`.
fn sign_raw(a: &Scalar, key: &[u8; 32], r: &Scalar, tail: &[u8]) -> Case {
    let message = message_for(key, tail);
    let big_r = (r * B).compress().to_bytes();
    let k = challenge(&big_r, key, &message);
    let s = r + k * a;
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&big_r);
    signature[32..].copy_from_slice(s.as_bytes());
    Case {
        name: String::new(),
        key: *key,
        signature,
        message,
    }
}

fn dalek_strict(c: &Case) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&c.key) else {
        return false;
    };
    key.verify_strict(
        &c.message,
        &ed25519_dalek::Signature::from_bytes(&c.signature),
    )
    .is_ok()
}

fn program(c: &Case) -> bool {
    verify::verify_strict(&c.key, &c.signature, &[&c.message])
}

/// `y + p` for a little-endian `y < 19`, with the sign bit of `sign`.
fn non_canonical(y: u8, sign: bool) -> [u8; 32] {
    let mut bytes = [0xffu8; 32];
    bytes[0] = 0xed + y;
    bytes[31] = 0x7f | if sign { 0x80 } else { 0 };
    bytes
}

/// S + l (same equation, non-canonical scalar).
fn s_plus_l(signature: &[u8; 64]) -> [u8; 64] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = *signature;
    let mut carry = 0u16;
    for (byte, l) in out[32..].iter_mut().zip(L) {
        let sum = *byte as u16 + l as u16 + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    out
}

/// Every edge case, each with the verdict `verify_strict` must give.
fn edge_cases() -> Vec<(Case, bool)> {
    let mut cases = Vec::new();
    let mut push = |name: &str, c: Case, want: bool| {
        cases.push((
            Case {
                name: name.into(),
                ..c
            },
            want,
        ))
    };
    // Ordinary signatures by real keypairs, as wallets make them.
    for i in 0..8u8 {
        let kp = Keypair::new();
        let key = kp.pubkey().to_bytes();
        let message = message_for(&key, &vec![i; i as usize * 17]);
        let signature = kp.sign_message(&message).into();
        push(
            "wallet signature",
            Case {
                name: String::new(),
                key,
                signature,
                message,
            },
            true,
        );
    }
    let a = Scalar::from_bytes_mod_order([7; 32]);
    let r = Scalar::from_bytes_mod_order([9; 32]);
    let key = (a * B).compress().to_bytes();
    let valid = sign_raw(&a, &key, &r, b"tail");
    push("valid", valid.clone(), true);
    let mut c = valid.clone();
    c.signature = s_plus_l(&c.signature);
    push("S + l", c, false);
    let mut c = valid.clone();
    c.signature[63] |= 0xe0;
    push("S with high bits", c, false);
    let mut c = valid.clone();
    c.signature[..32].copy_from_slice(&non_canonical(1, false));
    push("R non-canonical identity", c, false);
    let mut c = valid.clone();
    c.message.push(0);
    push("trailing byte", c, false);
    let mut c = valid.clone();
    c.message.pop();
    push("truncated", c, false);
    let mut c = valid.clone();
    c.signature.swap(0, 1);
    push("R changed", c, false);
    // Small-order public keys (every torsion point): with A of small order, s = r makes the
    // cofactorless equation hold whenever [k]A = 0; strict verification refuses them all.
    for (i, t) in EIGHT_TORSION.iter().enumerate() {
        let key = t.compress().to_bytes();
        for n in 0..4u8 {
            let c = sign_raw(&Scalar::ZERO, &key, &Scalar::from(n as u64 + 1), &[n]);
            push(&format!("small-order A #{i}"), c, false);
        }
    }
    // Small-order R: identity R with s = 0 and A the identity too; and a torsion R with a
    // real key (does not verify either).
    let identity = EdwardsPoint::identity().compress().to_bytes();
    let message = message_for(&identity, b"x");
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&identity);
    push(
        "small-order R and A",
        Case {
            name: String::new(),
            key: identity,
            signature,
            message,
        },
        false,
    );
    for t in EIGHT_TORSION.iter().skip(1) {
        let mut c = valid.clone();
        c.signature[..32].copy_from_slice(&t.compress().to_bytes());
        push("small-order R", c, false);
    }
    // Mixed-order keys A = [a]B + T: the cofactorless equation holds iff [k]T = 0, which
    // ed25519-dalek's verify_strict accepts (no cofactor clearing, like the precompile).
    for (i, t) in EIGHT_TORSION.iter().enumerate().skip(1) {
        let key = (a * B + t).compress().to_bytes();
        for n in 0..16u64 {
            let c = sign_raw(&a, &key, &Scalar::from(n + 100), &n.to_le_bytes());
            let k = challenge(&c.signature[..32].try_into().unwrap(), &key, &c.message);
            let holds = (k * t).is_identity();
            push(&format!("mixed-order A (T #{i})"), c, holds);
        }
    }
    // Non-canonical encodings of small-order keys (y = p, p + 1, either sign).
    for (y, sign) in [(0, false), (0, true), (1, false), (1, true)] {
        let key = non_canonical(y, sign);
        let c = sign_raw(&Scalar::ZERO, &key, &Scalar::from(5u64), b"nc");
        push("non-canonical small-order A", c, false);
    }
    // Non-canonical encodings of large-order keys (y in 2..19 where a point exists): nobody
    // knows such a key's secret, so no signature verifies; both must still agree on that.
    for y in 2..19u8 {
        let mut canonical = [0u8; 32];
        canonical[0] = y;
        let Some(point) = CompressedEdwardsY(canonical).decompress() else {
            continue;
        };
        if point.is_small_order() {
            continue;
        }
        let key = non_canonical(y, false);
        let c = sign_raw(&a, &key, &r, b"nc-large");
        push("non-canonical large-order A", c, false);
    }
    // A key that is not a point.
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    if CompressedEdwardsY(not_a_point).decompress().is_none() {
        push(
            "key off the curve",
            sign_raw(&a, &not_a_point, &r, b"off"),
            false,
        );
    }
    cases
}

#[test]
fn edge_cases_agree_with_ed25519_dalek_verify_strict() {
    for (case, want) in edge_cases() {
        assert_eq!(dalek_strict(&case), want, "dalek, {}", case.name);
        assert_eq!(program(&case), want, "program verifier, {}", case.name);
    }
}

/// The precompile (program-test runs agave's own) gives the same verdict on every edge case.
#[tokio::test]
async fn edge_cases_agree_with_the_precompile() {
    let mut env = Env::start(Mode::Native).await;
    let payer = env.ctx.payer.insecure_clone();
    let blockhash = env.fresh_blockhash().await;
    let mut checked = 0;
    for (case, want) in edge_cases() {
        let ix = precompile_ix_raw(&[(&case.signature, &case.message)]);
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            &[ix],
            Some(&payer.pubkey()),
            &[&payer],
            blockhash,
        );
        let out = env.send_tx(tx).await;
        assert_eq!(out.result.is_ok(), want, "precompile, {}", case.name);
        checked += 1;
    }
    assert!(checked > 100, "{checked} cases");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random single-bit flips of key, signature or message, and random other keys: the
    /// program's verifier and ed25519-dalek agree on every one.
    #[test]
    fn mutations_agree_with_ed25519_dalek(
        seed in any::<[u8; 32]>(),
        tail in proptest::collection::vec(any::<u8>(), 0..200),
        target in 0usize..3,
        bit in 0usize..2048,
    ) {
        let kp = Keypair::new_from_array(seed);
        let key = kp.pubkey().to_bytes();
        let message = message_for(&key, &tail);
        let signature: [u8; 64] = kp.sign_message(&message).into();
        let mut c = Case { name: "mutation".into(), key, signature, message };
        prop_assert!(program(&c) && dalek_strict(&c));
        match target {
            0 => c.key[bit % 256 / 8] ^= 1 << (bit % 8),
            1 => c.signature[bit % 512 / 8] ^= 1 << (bit % 8),
            _ => {
                let len = c.message.len();
                c.message[bit / 8 % len] ^= 1 << (bit % 8);
            }
        }
        prop_assert_eq!(program(&c), dalek_strict(&c));
        c.signature = s_plus_l(&signature);
        prop_assert_eq!(program(&c), dalek_strict(&c));
    }
}
