//! Encrypt/decrypt round trips on random keys, nonces and values, and the refusals.

use proptest::prelude::*;
use toss_sdk::arcium::values::encode;
use toss_sdk::arcium::{
    encrypt_fresh, ArciumError, ClientSecret, Fe, MxePublicKey, Nonce, Plaintext, RescueCipher,
};

fn value() -> impl Strategy<Value = Plaintext> {
    prop_oneof![
        any::<u64>().prop_map(Plaintext::U64),
        any::<u128>().prop_map(Plaintext::U128),
        any::<bool>().prop_map(Plaintext::Bool),
        any::<[u8; 32]>().prop_map(Plaintext::Pubkey),
        any::<[u8; 32]>().prop_map(|b| Plaintext::Field(Fe::from_bytes_mod_p(&b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn decrypt_inverts_encrypt(
        client in any::<[u8; 32]>(),
        mxe in any::<[u8; 32]>(),
        nonce in any::<[u8; 16]>(),
        values in proptest::collection::vec(value(), 0..12),
    ) {
        let mxe_key = MxePublicKey::new(ClientSecret::from_bytes(mxe).public_key()).unwrap();
        let cipher = RescueCipher::for_client(&ClientSecret::from_bytes(client), &mxe_key).unwrap();
        let fields = encode(&values);
        let nonce = Nonce(nonce);
        let ciphertexts = cipher.encrypt(&fields, &nonce);
        prop_assert_eq!(ciphertexts.len(), fields.len());
        prop_assert_eq!(cipher.decrypt(&ciphertexts, &nonce).unwrap(), fields.clone());
        // Another nonce gives another keystream (and does not decrypt).
        if !fields.is_empty() {
            let other = nonce.next();
            prop_assert_ne!(cipher.encrypt(&fields, &other), ciphertexts.clone());
            prop_assert_ne!(cipher.decrypt(&ciphertexts, &other).unwrap(), fields);
        }
    }
}

#[test]
fn mxe_side_decrypts_what_the_client_encrypted() {
    let mxe_secret = ClientSecret::from_bytes([42; 32]);
    let mxe = MxePublicKey::new(mxe_secret.public_key()).unwrap();
    let values = [
        Plaintext::U64(2_500_000),
        Plaintext::Pubkey([9; 32]),
        Plaintext::U64(5_000),
    ];
    let (encrypted, _secret) = encrypt_fresh(&mxe, &values).unwrap();
    assert_eq!(encrypted.ciphertexts.len(), 4);
    // The MXE derives the same key from its secret and the client's public key.
    let client_pub = MxePublicKey::new(encrypted.client_pubkey).unwrap();
    let cipher = RescueCipher::for_client(&mxe_secret, &client_pub).unwrap();
    assert_eq!(
        cipher
            .decrypt(&encrypted.ciphertexts, &encrypted.nonce)
            .unwrap(),
        encode(&values)
    );
    // Fresh secret and nonce every time.
    let (again, _) = encrypt_fresh(&mxe, &values).unwrap();
    assert_ne!(again.nonce, encrypted.nonce);
    assert_ne!(again.client_pubkey, encrypted.client_pubkey);
    assert_ne!(again.ciphertexts, encrypted.ciphertexts);
}

#[test]
fn unset_and_low_order_mxe_keys_are_refused() {
    assert_eq!(MxePublicKey::new([0; 32]), Err(ArciumError::MxeKeyUnset));
    // u = 1 is a low-order point: the shared secret would be all zero.
    let mut one = [0u8; 32];
    one[0] = 1;
    let low = MxePublicKey::new(one).unwrap();
    assert_eq!(
        ClientSecret::from_bytes([7; 32]).shared_secret(&low).err(),
        Some(ArciumError::LowOrderMxeKey)
    );
}

#[test]
fn non_canonical_ciphertexts_are_refused() {
    let mxe = MxePublicKey::new(ClientSecret::from_bytes([3; 32]).public_key()).unwrap();
    let cipher = RescueCipher::for_client(&ClientSecret::from_bytes([4; 32]), &mxe).unwrap();
    let nonce = Nonce([5; 16]);
    let mut ciphertexts = cipher.encrypt(&encode(&[Plaintext::U64(1), Plaintext::U64(2)]), &nonce);
    // p itself, little-endian.
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    ciphertexts[1] = p;
    assert_eq!(
        cipher.decrypt(&ciphertexts, &nonce),
        Err(ArciumError::NonCanonicalCiphertext { index: 1 })
    );
    ciphertexts[1] = [0xff; 32];
    let err = cipher.decrypt(&ciphertexts, &nonce).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ciphertext 1 is not a canonical field element (>= 2^255 - 19)"
    );
}

#[test]
fn output_nonce_is_the_next_one_wrapping() {
    assert_eq!(
        Nonce([0; 16]).next(),
        Nonce({
            let mut n = [0; 16];
            n[0] = 1;
            n
        })
    );
    assert_eq!(Nonce([0xff; 16]).next(), Nonce([0; 16]));
}

#[test]
fn secrets_do_not_print() {
    let secret = ClientSecret::from_bytes([0xab; 32]);
    let mxe = MxePublicKey::new(ClientSecret::from_bytes([1; 32]).public_key()).unwrap();
    let shared = secret.shared_secret(&mxe).unwrap();
    for text in [
        format!("{secret:?}"),
        format!("{shared:?}"),
        format!("{:?}", shared.rescue_key()),
    ] {
        assert!(text.ends_with("(..)"), "{text}");
    }
}
