//! The SDK's builders (re-exported), plus what only tests need: unwrapping wrappers, sample
//! intents, transaction sizes and the instructions-sysvar encoder.

use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use toss_intent_processor::intent::Intent;
pub use toss_sdk::instructions::*;
pub use toss_sdk::precompile::*;
pub use toss_sdk::SignedIntent;

/// Signs `intent` (test intents always encode).
pub fn sign_intent(keypair: &Keypair, intent: &Intent) -> SignedIntent {
    SignedIntent::sign(keypair, intent).expect("test intents are encodable")
}

/// Signs arbitrary bytes as if they were an intent (for malformed-message attacks).
pub fn sign_bytes(keypair: &Keypair, message: Vec<u8>) -> SignedIntent {
    SignedIntent::sign_message(keypair, message)
}

/// The precompile and settle instructions of decodable signed SOL intents.
pub fn settle_ixs(relayer: &Pubkey, signed: &[SignedIntent], fees: &[u64]) -> Vec<Instruction> {
    toss_sdk::instructions::settle_ixs(relayer, signed, fees).expect("decodable test intents")
}

/// The accounts of a token intent.
pub fn token_intent_metas(
    intent: &Intent,
    token_program: &Pubkey,
    source: &Pubkey,
    destination: &Pubkey,
    fee_destination: &Pubkey,
) -> Vec<AccountMeta> {
    toss_sdk::instructions::token_intent_metas(
        intent,
        token_program,
        source,
        destination,
        fee_destination,
    )
    .expect("token intent")
}

/// Largest serialized transaction the network accepts (bytes).
pub const PACKET_DATA_SIZE: usize = 1232;

/// Serialized size of a legacy settle transaction signed by `relayer` alone (fee payer).
pub fn legacy_tx_len(relayer: &Pubkey, signed: &[SignedIntent], fees: &[u64]) -> usize {
    let message = solana_transaction::Transaction::new_with_payer(
        &settle_ixs(relayer, signed, fees),
        Some(relayer),
    );
    let mut tx = message;
    tx.signatures = vec![solana_signature::Signature::default(); 1];
    bincode::serialize(&tx).expect("serialize").len()
}

/// Distinct-payer SOL intents (each with its own vault, nonce, recipient) signed by fresh keys.
pub fn sample_sol_intents(n: usize) -> Vec<SignedIntent> {
    (0..n)
        .map(|i| {
            let payer = Keypair::new();
            let intent = Intent {
                sender: solana_signer::Signer::pubkey(&payer),
                recipient: Pubkey::new_unique(),
                mint: None,
                amount: 1_000_000 + i as u64,
                nonce_account: Pubkey::new_unique(),
                nonce_value: [i as u8; 32],
                expiry: 1_900_000_000,
                max_fee: 5_000,
                reference: None,
            };
            sign_intent(&payer, &intent)
        })
        .collect()
}

/// The most distinct-payer SOL intents one legacy settle transaction (relayer as the only
/// signer) can carry within [`PACKET_DATA_SIZE`].
pub fn max_sol_intents_per_legacy_tx() -> usize {
    let relayer = Pubkey::new_unique();
    let mut n = 0;
    loop {
        let signed = sample_sol_intents(n + 1);
        if legacy_tx_len(&relayer, &signed, &vec![0; n + 1]) > PACKET_DATA_SIZE {
            return n;
        }
        n += 1;
    }
}

/// The instructions sysvar's bytes for `ixs` with `current` executing, as the runtime builds them.
pub fn instructions_sysvar_bytes(ixs: &[Instruction], current: u16) -> Vec<u8> {
    let borrowed: Vec<solana_instruction::BorrowedInstruction> = ixs
        .iter()
        .map(|ix| solana_instruction::BorrowedInstruction {
            program_id: &ix.program_id,
            accounts: ix
                .accounts
                .iter()
                .map(|m| solana_instruction::BorrowedAccountMeta {
                    pubkey: &m.pubkey,
                    is_signer: m.is_signer,
                    is_writable: m.is_writable,
                })
                .collect(),
            data: &ix.data,
        })
        .collect();
    let mut data = solana_instructions_sysvar::construct_instructions_data(&borrowed);
    // The executing index lives in the last two bytes.
    let len = data.len();
    data[len - 2..].copy_from_slice(&current.to_le_bytes());
    data
}
