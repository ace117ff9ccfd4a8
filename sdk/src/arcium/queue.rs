//! The queue-computation transaction of confidential settlement: the Ed25519 precompile over
//! the signed version-2 intent, then the program's `intent_settle_confidential` with the
//! accounts of `docs/arcium.md` ("Accounts of the queue-computation transaction"), the Arcium
//! ones derived as Arcium derives them ([`super::pda`]).
//!
//! The instruction data carries only the relayer fee: the program reads the ciphertext, the
//! client key and the nonce from the verified precompile message, never from instruction data,
//! so the MPC decrypts exactly what the payer signed. The computation offset is the first 8
//! bytes of the intent id (little-endian): unique per intent and derivable from the id alone,
//! which is how the relayer finds the computation account again after a crash.

use super::intent::{ConfidentialIntent, SignedConfidentialIntent};
use super::pda::{QueueAccounts, ARCIUM_PROGRAM_ID};
use super::MxeAccount;
use crate::precompile::precompile_ix_raw;
use sha2::{Digest, Sha256};
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;
use toss_intent_processor::constants::{INSTRUCTIONS_SYSVAR_ID, RECENT_BLOCKHASHES_ID};
use toss_intent_processor::state::{Config, NonceAuthority, Vault};

/// The Arcis circuit that settles a confidential intent.
pub const CIRCUIT: &str = "settle_confidential";
/// The program instruction that queues it.
pub const INSTRUCTION: &str = "intent_settle_confidential";
/// Seed of a confidential balance account (`Enc<Mxe, u64>` per owner and mint; SOL uses the
/// default key as its mint).
pub const BALANCE_SEED: &[u8] = b"cbalance";

/// Anchor's discriminator of `intent_settle_confidential`: `sha256("global:<name>")[..8]`.
pub fn discriminator() -> [u8; 8] {
    let digest = Sha256::digest(format!("global:{INSTRUCTION}").as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// The computation offset of an intent: the first 8 bytes of its id, little-endian.
pub fn computation_offset(intent_id: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&intent_id[..8]);
    u64::from_le_bytes(first)
}

/// A confidential balance account of `owner` for `mint` (`None`: SOL), under the program that
/// owns the balances.
pub fn balance_account(program: &Pubkey, owner: &Pubkey, mint: Option<&Pubkey>) -> Pubkey {
    let mint = mint.copied().unwrap_or_default();
    Pubkey::find_program_address(&[BALANCE_SEED, owner.as_ref(), mint.as_ref()], program).0
}

/// `[Ed25519 precompile, intent_settle_confidential]` for one signed confidential intent
/// (one Arcium computation per instruction). `mxe_program` is the program whose MXE runs the
/// circuit; `mxe` its decoded `MXEAccount` (for the cluster offset).
pub fn queue_ixs(
    relayer: &Pubkey,
    signed: &SignedConfidentialIntent,
    intent: &ConfidentialIntent,
    fee: u64,
    mxe_program: &Pubkey,
    mxe: &MxeAccount,
) -> Vec<Instruction> {
    let program = toss_intent_processor::ID;
    let arcium = QueueAccounts::new(mxe_program, mxe, CIRCUIT, computation_offset(&signed.id()));
    let mint = intent.mint.as_ref();
    let accounts = vec![
        AccountMeta::new(*relayer, true),
        AccountMeta::new_readonly(Config::find_address().0, false),
        AccountMeta::new_readonly(INSTRUCTIONS_SYSVAR_ID, false),
        AccountMeta::new_readonly(RECENT_BLOCKHASHES_ID, false),
        AccountMeta::new(Vault::find_address(&intent.sender).0, false),
        AccountMeta::new(intent.nonce_account, false),
        AccountMeta::new_readonly(NonceAuthority::find_address(&intent.sender).0, false),
        AccountMeta::new(balance_account(&program, &intent.sender, mint), false),
        AccountMeta::new(balance_account(&program, &intent.recipient, mint), false),
        AccountMeta::new(arcium.sign_seed, false),
        AccountMeta::new_readonly(arcium.mxe, false),
        AccountMeta::new(arcium.mempool, false),
        AccountMeta::new(arcium.executing_pool, false),
        AccountMeta::new(arcium.computation, false),
        AccountMeta::new_readonly(arcium.comp_def, false),
        AccountMeta::new(arcium.cluster, false),
        AccountMeta::new(arcium.fee_pool, false),
        AccountMeta::new(arcium.clock, false),
        AccountMeta::new_readonly(solana_sdk_ids::system_program::ID, false),
        AccountMeta::new_readonly(ARCIUM_PROGRAM_ID, false),
    ];
    let mut data = discriminator().to_vec();
    data.extend_from_slice(&fee.to_le_bytes());
    vec![
        precompile_ix_raw(&[(&signed.signature, signed.message.as_slice())]),
        Instruction {
            program_id: program,
            accounts,
            data,
        },
    ]
}
