//! Parsers: the intent format, the precompile layout, the instructions sysvar and nonce
//! account readers. Property tests and cross-checks against Solana's own encoders.

use proptest::prelude::*;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use toss_intent_processor::{
    constants::ED25519_PROGRAM_ID,
    ed25519::{current_index, load_instruction, Precompile},
    error::TossError,
    intent::{encoded_len_from_header, intent_id, Intent},
    nonce::{next_durable_nonce, read_nonce},
};
use toss_tests::*;

fn arb_intent() -> impl Strategy<Value = Intent> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        proptest::option::of(any::<[u8; 32]>()),
        1..=u64::MAX,
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<i64>(),
        any::<u64>(),
        proptest::option::of(any::<[u8; 32]>()),
    )
        .prop_map(
            |(sender, recipient, mint, amount, nonce, value, expiry, max_fee, reference)| Intent {
                sender: Pubkey::new_from_array(sender),
                recipient: Pubkey::new_from_array(recipient),
                mint: mint.map(Pubkey::new_from_array),
                amount,
                nonce_account: Pubkey::new_from_array(nonce),
                nonce_value: value,
                expiry,
                max_fee,
                reference,
            },
        )
}

proptest! {
    #[test]
    fn intent_round_trips(intent in arb_intent()) {
        let bytes = intent.encode().unwrap();
        prop_assert_eq!(bytes.len(), intent.encoded_len());
        prop_assert_eq!(encoded_len_from_header(&bytes).unwrap(), bytes.len());
        prop_assert_eq!(Intent::decode(&bytes).unwrap(), intent.clone());
        prop_assert_eq!(intent.id().unwrap(), intent_id(&bytes));
    }

    #[test]
    fn decode_never_panics_and_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(intent) = Intent::decode(&bytes) {
            prop_assert_eq!(intent.encode().unwrap(), bytes);
        }
    }

    #[test]
    fn any_single_byte_change_is_refused_or_a_different_intent(
        intent in arb_intent(), at in any::<prop::sample::Index>(), xor in 1u8..=255,
    ) {
        let mut bytes = intent.encode().unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        match Intent::decode(&bytes) {
            Ok(other) => {
                prop_assert_ne!(&other, &intent);
                prop_assert_eq!(other.encode().unwrap(), bytes);
            }
            Err(e) => prop_assert!(matches!(
                e,
                TossError::MalformedIntent
                    | TossError::UnsupportedIntentVersion
                    | TossError::UnsupportedIntentKind
                    | TossError::ZeroAmount
            )),
        }
    }

    #[test]
    fn sysvar_reader_agrees_with_the_runtime_encoder(
        datas in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..5),
        accounts in 0usize..4,
    ) {
        let ixs: Vec<_> = datas.iter().enumerate().map(|(i, d)| solana_instruction::Instruction {
            program_id: Pubkey::new_unique(),
            accounts: (0..(accounts + i) % 4)
                .map(|_| solana_instruction::AccountMeta::new(Pubkey::new_unique(), i % 2 == 0))
                .collect(),
            data: d.clone(),
        }).collect();
        let current = (ixs.len() - 1) as u16;
        let data = instructions_sysvar_bytes(&ixs, current);
        prop_assert_eq!(current_index(&data).unwrap(), current);
        for (i, ix) in ixs.iter().enumerate() {
            let read = load_instruction(&data, i as u16).unwrap();
            prop_assert_eq!(read.program_id, ix.program_id);
            prop_assert_eq!(usize::from(read.num_accounts), ix.accounts.len());
            prop_assert_eq!(read.data, &ix.data[..]);
        }
        prop_assert!(load_instruction(&data, ixs.len() as u16).is_err());
    }

    #[test]
    fn mutated_precompile_offsets_never_yield_other_bytes(
        n in 1usize..4, field in 0usize..7, entry in 0usize..3, value in any::<u16>(),
    ) {
        let signed = sample_sol_intents(n);
        let mut pre = precompile_ix(&signed);
        let entry = entry % n;
        let at = offsets_field(entry, field);
        pre.data[at..at + 2].copy_from_slice(&value.to_le_bytes());
        let settle = solana_instruction::Instruction {
            program_id: toss_intent_processor::ID, accounts: vec![], data: vec![],
        };
        let data = instructions_sysvar_bytes(&[pre, settle], 1);
        let parsed = (|| -> anchor_lang::Result<Vec<Vec<u8>>> {
            let p = Precompile::load_preceding(&data, 1)?;
            let mut m = p.messages();
            let mut out = vec![];
            for _ in 0..p.count() { out.push(m.next_message()?.to_vec()); }
            m.finish()?;
            Ok(out)
        })();
        // Either refused, or (the mutation rewrote a value with itself / an own index) exactly
        // the signed messages.
        if let Ok(messages) = parsed {
            let expected: Vec<Vec<u8>> = signed.iter().map(|s| s.message.clone()).collect();
            prop_assert_eq!(messages, expected);
        }
    }
}

#[test]
fn canonical_precompile_parses_back_to_the_signed_messages() {
    for n in 1..=8 {
        let signed = sample_sol_intents(n);
        let pre = precompile_ix(&signed);
        assert_eq!(pre.program_id, ED25519_PROGRAM_ID);
        let data = instructions_sysvar_bytes(&[pre], 1);
        // The precompile is instruction 0; pretend settle is instruction 1.
        let mut data = data;
        let len = data.len();
        data[len - 2..].copy_from_slice(&1u16.to_le_bytes());
        let p = Precompile::load_preceding(&data, 1).unwrap();
        assert_eq!(p.count(), n);
        let mut m = p.messages();
        for s in &signed {
            assert_eq!(m.next_message().unwrap(), &s.message[..]);
        }
        m.finish().unwrap();
    }
}

#[test]
fn nonce_reader_agrees_with_the_system_program_layout() {
    use solana_nonce::{
        state::{Data, DurableNonce, State},
        versions::Versions,
    };
    let authority = Keypair::new();
    let durable = DurableNonce::from_blockhash(&solana_hash::Hash::new_from_array([5; 32]));
    let data = Data::new(solana_signer::Signer::pubkey(&authority), durable, 5_000);
    let bytes = bincode::serialize(&Versions::new(State::Initialized(data))).unwrap();
    assert_eq!(bytes.len(), toss_intent_processor::nonce::NONCE_ACCOUNT_LEN);
    let read = read_nonce(&bytes).unwrap();
    assert_eq!(read.authority, solana_signer::Signer::pubkey(&authority));
    assert_eq!(read.durable_nonce, durable.as_hash().to_bytes());
    let uninitialized = bincode::serialize(&Versions::new(State::Uninitialized)).unwrap();
    let mut padded = uninitialized.clone();
    padded.resize(80, 0);
    assert_eq!(read_nonce(&padded), None);
    assert_eq!(read_nonce(&bytes[..79]), None);
}

#[test]
fn next_durable_nonce_matches_the_system_program() {
    let blockhash = [9u8; 32];
    let mut sysvar = 2u64.to_le_bytes().to_vec();
    sysvar.extend_from_slice(&blockhash);
    sysvar.extend_from_slice(&5_000u64.to_le_bytes());
    sysvar.extend_from_slice(&[1u8; 32]);
    sysvar.extend_from_slice(&5_000u64.to_le_bytes());
    let expected = solana_nonce::state::DurableNonce::from_blockhash(
        &solana_hash::Hash::new_from_array(blockhash),
    );
    assert_eq!(
        next_durable_nonce(&sysvar),
        Some(expected.as_hash().to_bytes())
    );
    assert_eq!(next_durable_nonce(&0u64.to_le_bytes()), None);
    assert_eq!(next_durable_nonce(&[]), None);
}

#[test]
fn legacy_transaction_sizes() {
    // Report: serialized size of a settle transaction for 1..=N distinct-payer SOL intents.
    let relayer = Pubkey::new_unique();
    let max = max_sol_intents_per_legacy_tx();
    for n in 1..=max + 1 {
        let signed = sample_sol_intents(n);
        let len = legacy_tx_len(&relayer, &signed, &vec![0; n]);
        println!("legacy settle tx with {n} SOL intent(s): {len} bytes");
        assert_eq!(len <= PACKET_DATA_SIZE, n <= max);
    }
}
