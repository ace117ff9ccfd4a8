//! Building and signing intents and the instructions that settle them.

use anchor_lang::{InstructionData, ToAccountMetas};
use ed25519_dalek::{Signer as _, SigningKey};
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use toss_intent_processor::{
    constants::{ED25519_PROGRAM_ID, RECENT_BLOCKHASHES_ID},
    ed25519::{HEADER_LEN, OFFSETS_LEN, SIGNATURE_LEN},
    instructions::{ConfigInitializeArgs, PROGRAM_DATA_ADDRESS},
    intent::{Intent, SENDER_OFFSET},
    state::{Config, NonceAuthority, Vault},
};

/// An intent's canonical bytes and the sender's Ed25519 signature over them.
#[derive(Clone, Debug)]
pub struct SignedIntent {
    /// Canonical bytes.
    pub message: Vec<u8>,
    /// Ed25519 signature over `message`.
    pub signature: [u8; 64],
}

/// Signs `intent` with `keypair` (deterministic RFC 8032 Ed25519, what the precompile checks).
pub fn sign_intent(keypair: &Keypair, intent: &Intent) -> SignedIntent {
    let message = intent.encode().expect("test intents are encodable");
    sign_bytes(keypair, message)
}

/// Signs arbitrary bytes as if they were an intent (for malformed-message attacks).
pub fn sign_bytes(keypair: &Keypair, message: Vec<u8>) -> SignedIntent {
    let secret: [u8; 32] = keypair.to_bytes()[..32].try_into().expect("32-byte secret");
    let signature = SigningKey::from_bytes(&secret).sign(&message).to_bytes();
    SignedIntent { message, signature }
}

/// The Ed25519 precompile instruction in the program's canonical layout: header, offsets
/// entries, then `signature || message` per intent, public key pointing at the sender field.
pub fn precompile_ix(signed: &[SignedIntent]) -> Instruction {
    let n = signed.len();
    let mut data = vec![n as u8, 0];
    let mut cursor = HEADER_LEN + OFFSETS_LEN * n;
    for s in signed {
        let signature_offset = cursor as u16;
        let message_offset = (cursor + SIGNATURE_LEN) as u16;
        for field in [
            signature_offset,
            u16::MAX,
            message_offset + SENDER_OFFSET as u16,
            u16::MAX,
            message_offset,
            s.message.len() as u16,
            u16::MAX,
        ] {
            data.extend_from_slice(&field.to_le_bytes());
        }
        cursor += SIGNATURE_LEN + s.message.len();
    }
    for s in signed {
        data.extend_from_slice(&s.signature);
        data.extend_from_slice(&s.message);
    }
    Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    }
}

/// Byte offset of field `field` (0..7: signature offset, signature ix, public key offset,
/// public key ix, message offset, message size, message ix) of entry `entry`.
pub fn offsets_field(entry: usize, field: usize) -> usize {
    HEADER_LEN + OFFSETS_LEN * entry + 2 * field
}

/// The four remaining accounts of a SOL intent, in program order.
pub fn sol_intent_metas(intent: &Intent) -> Vec<AccountMeta> {
    vec![
        AccountMeta::new(Vault::find_address(&intent.sender).0, false),
        AccountMeta::new(intent.nonce_account, false),
        AccountMeta::new_readonly(NonceAuthority::find_address(&intent.sender).0, false),
        AccountMeta::new(intent.recipient, false),
    ]
}

/// `intent_settle` for SOL `intents` (in precompile order) with the given fees.
pub fn settle_ix(relayer: &Pubkey, intents: &[Intent], fees: &[u64]) -> Instruction {
    let metas = intents.iter().flat_map(sol_intent_metas).collect();
    crate::token::settle_ix_with(relayer, fees, metas)
}

/// The precompile instruction and `intent_settle` for signed intents, decoded from their bytes.
pub fn settle_ixs(relayer: &Pubkey, signed: &[SignedIntent], fees: &[u64]) -> Vec<Instruction> {
    let intents: Vec<Intent> = signed
        .iter()
        .map(|s| Intent::decode(&s.message).expect("decodable test intent"))
        .collect();
    vec![precompile_ix(signed), settle_ix(relayer, &intents, fees)]
}

/// `config_initialize`, signed by the upgrade authority.
pub fn config_initialize_ix(authority: &Pubkey, args: ConfigInitializeArgs) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts: toss_intent_processor::accounts::ConfigInitialize {
            authority: *authority,
            config: Config::ADDRESS,
            program_data: PROGRAM_DATA_ADDRESS,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        data: toss_intent_processor::instruction::ConfigInitialize { args }.data(),
    }
}

/// `config_set_paused`, signed by `admin`.
pub fn config_set_paused_ix(admin: &Pubkey, paused: bool) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts: toss_intent_processor::accounts::ConfigSetPaused {
            admin: *admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        data: toss_intent_processor::instruction::ConfigSetPaused { paused }.data(),
    }
}

/// `vault_deposit` of `amount` lamports by `owner`.
pub fn vault_deposit_ix(owner: &Pubkey, amount: u64) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts: toss_intent_processor::accounts::VaultDeposit {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        data: toss_intent_processor::instruction::VaultDeposit { amount }.data(),
    }
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

fn toss_ix(accounts: Vec<AccountMeta>, data: Vec<u8>) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts,
        data,
    }
}

/// `config_propose_admin`, signed by `admin`.
pub fn config_propose_admin_ix(admin: &Pubkey, proposed: Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::ConfigProposeAdmin {
            admin: *admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::ConfigProposeAdmin { proposed }.data(),
    )
}

/// `config_accept_admin`, signed by `new_admin`.
pub fn config_accept_admin_ix(new_admin: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::ConfigAcceptAdmin {
            new_admin: *new_admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::ConfigAcceptAdmin {}.data(),
    )
}

/// `config_update`, signed by `admin`.
pub fn config_update_ix(
    admin: &Pubkey,
    args: toss_intent_processor::instructions::ConfigUpdateArgs,
) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::ConfigUpdate {
            admin: *admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::ConfigUpdate { args }.data(),
    )
}

/// `vault_withdraw_request` of `amount` by `owner`.
pub fn vault_withdraw_request_ix(owner: &Pubkey, amount: u64) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::VaultWithdrawRequest {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::VaultWithdrawRequest { amount }.data(),
    )
}

/// `vault_withdraw_execute` by `owner`.
pub fn vault_withdraw_execute_ix(owner: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::VaultWithdrawExecute {
            owner: *owner,
            vault: Vault::find_address(owner).0,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::VaultWithdrawExecute {}.data(),
    )
}

/// `vault_withdraw_cancel` by `owner`.
pub fn vault_withdraw_cancel_ix(owner: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::VaultWithdrawCancel {
            owner: *owner,
            vault: Vault::find_address(owner).0,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::VaultWithdrawCancel {}.data(),
    )
}

/// `nonce_close_request` for `owner`'s `nonce`.
pub fn nonce_close_request_ix(owner: &Pubkey, nonce: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::NonceCloseRequest {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            nonce: *nonce,
            request: toss_intent_processor::state::NonceClose::find_address(nonce).0,
            config: Config::ADDRESS,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::NonceCloseRequest {}.data(),
    )
}

/// `nonce_close_execute` for `owner`'s `nonce`.
pub fn nonce_close_execute_ix(owner: &Pubkey, nonce: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::NonceCloseExecute {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            request: toss_intent_processor::state::NonceClose::find_address(nonce).0,
            nonce: *nonce,
            nonce_authority: NonceAuthority::find_address(owner).0,
            recent_blockhashes: RECENT_BLOCKHASHES_ID,
            rent: solana_sdk_ids::sysvar::rent::ID,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::NonceCloseExecute {}.data(),
    )
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
