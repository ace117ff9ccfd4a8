//! Confidential intents (format version 2): canonical encoding, strict signatures, the MXE
//! decrypting what the payer signed, the payee's opening check, refusals, and the
//! queue-computation transaction carrying no plaintext amount.

use proptest::prelude::*;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use toss_sdk::arcium::intent::{is_low_order_x25519, MAX_LEN, SOL_LEN, TOKEN_LEN};
use toss_sdk::arcium::queue::{computation_offset, discriminator, queue_ixs, CIRCUIT};
use toss_sdk::arcium::{
    pda, values, ArciumError, ClientSecret, ConfidentialIntent, MxeAccount, MxePublicKey, Nonce,
    RescueCipher, SignedConfidentialIntent,
};
use toss_sdk::Intent;

fn mxe() -> (ClientSecret, MxePublicKey) {
    let secret = ClientSecret::from_bytes([7; 32]);
    let key = MxePublicKey::new(secret.public_key()).unwrap();
    (secret, key)
}

fn plain(sender: Pubkey, amount: u64, mint: Option<Pubkey>, reference: Option<[u8; 32]>) -> Intent {
    Intent {
        sender,
        recipient: Pubkey::new_from_array([2; 32]),
        mint,
        amount,
        nonce_account: Pubkey::new_from_array([3; 32]),
        nonce_value: [4; 32],
        expiry: 1_900_000_000,
        max_fee: 5_000,
        reference,
    }
}

/// What the MXE does with a signed intent: decrypt the amount from the client key and nonce
/// it carries.
fn mxe_decrypts(mxe_secret: &ClientSecret, c: &ConfidentialIntent) -> u64 {
    let client = MxePublicKey::new(c.client_pubkey).unwrap();
    let cipher = RescueCipher::for_client(mxe_secret, &client).unwrap();
    let fields = cipher.decrypt(&[c.amount_ciphertext], &c.nonce).unwrap();
    values::decode_u64(&fields[0], 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn encode_sign_verify_decrypt_round_trip(
        amount in 1..u64::MAX,
        token in any::<bool>(),
        reference in proptest::option::of(any::<[u8; 32]>()),
    ) {
        let (mxe_secret, mxe) = mxe();
        let payer = Keypair::new();
        let mint = token.then(|| Pubkey::new_from_array([5; 32]));
        let (c, opening) = ConfidentialIntent::encrypt(&plain(payer.pubkey(), amount, mint, reference), &mxe).unwrap();
        let bytes = c.encode();
        let base = if token { TOKEN_LEN } else { SOL_LEN };
        prop_assert_eq!(bytes.len(), base + if reference.is_some() { 32 } else { 0 });
        prop_assert_eq!(bytes[5], 2);
        prop_assert_eq!(&ConfidentialIntent::decode(&bytes).unwrap(), &c);
        let signed = SignedConfidentialIntent::sign(&payer, &c);
        prop_assert_eq!(&signed.verify().unwrap(), &c);
        prop_assert_eq!(&SignedConfidentialIntent::from_bytes(&signed.to_bytes()).unwrap(), &signed);
        prop_assert_eq!(mxe_decrypts(&mxe_secret, &c), amount);
        prop_assert!(c.check_opening(&opening, &mxe).is_ok());
        // The amount's bytes are nowhere in what is signed.
        let le = amount.to_le_bytes();
        prop_assert!(amount < 1 << 40 || !bytes.windows(8).any(|w| w == le));
    }

    #[test]
    fn any_flipped_bit_is_refused(byte in 0usize..(64 + MAX_LEN), bit in 0u8..8) {
        let (_, mxe) = mxe();
        let payer = Keypair::new();
        let (c, _) = ConfidentialIntent::encrypt(&plain(payer.pubkey(), 42, None, None), &mxe).unwrap();
        let mut bytes = SignedConfidentialIntent::sign(&payer, &c).to_bytes();
        let at = byte % bytes.len();
        bytes[at] ^= 1 << bit;
        let outcome = SignedConfidentialIntent::from_bytes(&bytes).and_then(|s| s.verify());
        prop_assert!(outcome.is_err());
    }
}

#[test]
fn fresh_secret_and_nonce_per_intent() {
    let (_, mxe) = mxe();
    let intent = plain(Pubkey::new_unique(), 1_000, None, None);
    let (a, _) = ConfidentialIntent::encrypt(&intent, &mxe).unwrap();
    let (b, _) = ConfidentialIntent::encrypt(&intent, &mxe).unwrap();
    assert_ne!(a.client_pubkey, b.client_pubkey);
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(
        a.amount_ciphertext, b.amount_ciphertext,
        "equal amounts are unlinkable"
    );
}

#[test]
fn the_opening_must_match() {
    let (_, mxe) = mxe();
    let intent = plain(Pubkey::new_unique(), 1_000, None, None);
    let (c, mut opening) = ConfidentialIntent::encrypt(&intent, &mxe).unwrap();
    assert!(c.check_opening(&opening, &mxe).is_ok());
    opening.amount = 1_001;
    assert_eq!(
        c.check_opening(&opening, &mxe),
        Err(ArciumError::OpeningMismatch)
    );
    let (_, other) = ConfidentialIntent::encrypt(&intent, &mxe).unwrap();
    assert_eq!(
        c.check_opening(&other, &mxe),
        Err(ArciumError::OpeningMismatch),
        "another intent's secret"
    );
    assert_eq!(format!("{other:?}"), "Opening(..)", "never printed");
}

#[test]
fn refusals() {
    let (_, mxe) = mxe();
    let payer = Keypair::new();
    // Zero amount: never encrypted.
    assert!(ConfidentialIntent::encrypt(&plain(payer.pubkey(), 0, None, None), &mxe).is_err());
    // Unset MXE key.
    assert_eq!(MxePublicKey::new([0; 32]), Err(ArciumError::MxeKeyUnset));
    let (c, _) = ConfidentialIntent::encrypt(&plain(payer.pubkey(), 9, None, None), &mxe).unwrap();
    // A non-canonical ciphertext (>= p).
    let mut bad = c.clone();
    bad.amount_ciphertext = [0xff; 32];
    assert!(ConfidentialIntent::decode(&bad.encode()).is_err());
    // A low-order client key (all zero, one, and the order-8 point 325606...).
    for low in [[0u8; 32], {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    }] {
        assert!(is_low_order_x25519(&low));
        let mut bad = c.clone();
        bad.client_pubkey = low;
        assert!(ConfidentialIntent::decode(&bad.encode()).is_err());
    }
    assert!(!is_low_order_x25519(&c.client_pubkey));
    // Version 1 bytes, trailing bytes, unknown flags.
    let v1 = plain(payer.pubkey(), 9, None, None).encode().unwrap();
    assert!(ConfidentialIntent::decode(&v1).is_err());
    let mut long = c.encode();
    long.push(0);
    assert!(ConfidentialIntent::decode(&long).is_err());
    let mut flags = c.encode();
    flags[7] = 2;
    assert!(ConfidentialIntent::decode(&flags).is_err());
    // Signed by someone else.
    let signed = SignedConfidentialIntent::sign(&Keypair::new(), &c);
    assert!(signed.verify().is_err());
}

#[test]
fn queue_transaction_carries_no_plaintext_amount() {
    let (mxe_secret, mxe_key) = mxe();
    let mxe_program = Pubkey::new_unique();
    let account = MxeAccount::decode(&crate::account::fixture(
        &mxe_program,
        Some(mxe_key.to_bytes()),
    ))
    .unwrap();
    let relayer = Keypair::new();
    let payer = Keypair::new();
    // Amounts with no zero byte, so a plaintext copy would be unmistakable.
    for amount in [
        0x1122_3344_5566_7788u64,
        0x0102_0304_0506_0708,
        987_654_321_987,
    ] {
        let intent = plain(payer.pubkey(), amount, None, Some([9; 32]));
        let (c, _) = ConfidentialIntent::encrypt(&intent, &mxe_key).unwrap();
        let signed = SignedConfidentialIntent::sign(&payer, &c);
        let ixs = queue_ixs(
            &relayer.pubkey(),
            &signed,
            &c,
            5_000,
            &mxe_program,
            &account,
        );
        assert_eq!(ixs.len(), 2);
        assert_eq!(ixs[1].accounts.len(), 20);
        assert_eq!(ixs[1].data[..8], discriminator());
        assert_eq!(ixs[1].data[8..], 5_000u64.to_le_bytes());
        let computation = pda::computation(account.cluster, computation_offset(&signed.id()));
        assert_eq!(ixs[1].accounts[13].pubkey, computation);
        assert_eq!(
            ixs[1].accounts[14].pubkey,
            pda::computation_definition(&mxe_program, pda::comp_def_offset(CIRCUIT))
        );
        let tx = Transaction::new(
            &[&relayer],
            Message::new(&ixs, Some(&relayer.pubkey())),
            solana_hash::Hash::new_from_array([1; 32]),
        );
        let wire = bincode::serialize(&tx).unwrap();
        let needle = amount.to_le_bytes();
        assert!(
            !wire.windows(8).any(|w| w == needle),
            "plaintext amount in the transaction"
        );
        let big_endian = amount.to_be_bytes();
        assert!(!wire.windows(8).any(|w| w == big_endian));
        // The precompile carries the signed ciphertext, which the MXE decrypts to the amount.
        let carried = &ixs[0].data[2 + 14 + 64..];
        assert_eq!(carried, signed.message.as_slice());
        let decoded = ConfidentialIntent::decode(carried).unwrap();
        assert_eq!(mxe_decrypts(&mxe_secret, &decoded), amount);
        assert!(wire.len() <= 1232, "fits a packet: {} bytes", wire.len());
    }
}

#[test]
fn fixed_secret_and_nonce_are_deterministic() {
    let (_, mxe) = mxe();
    let intent = plain(Pubkey::new_from_array([1; 32]), 77, None, None);
    let make = || {
        ConfidentialIntent::encrypt_with(
            &intent,
            &mxe,
            ClientSecret::from_bytes([3; 32]),
            Nonce([4; 16]),
        )
        .unwrap()
        .0
        .encode()
    };
    assert_eq!(make(), make());
}
