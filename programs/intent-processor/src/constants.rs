//! Seeds, limits and bounds shared by the program, the SDK, the relayer and the tests.

use anchor_lang::prelude::*;

/// Seed of the single [`crate::state::Config`] PDA.
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";

/// Seed prefix of a sender's SOL vault PDA: `["vault", sender]`.
#[constant]
pub const VAULT_SEED: &[u8] = b"vault";

/// Seed prefix of the PDA that is the authority of a sender's durable nonce accounts:
/// `["nonce-authority", sender]`.
#[constant]
pub const NONCE_AUTHORITY_SEED: &[u8] = b"nonce-authority";

/// Seed prefix of a sender's token delegate PDA: `["delegate", owner]`.
#[constant]
pub const DELEGATE_SEED: &[u8] = b"delegate";

/// Seed prefix of a pending nonce-close request: `["nonce-close", nonce_account]`.
#[constant]
pub const NONCE_CLOSE_SEED: &[u8] = b"nonce-close";

/// Shortest intent lifetime an admin may configure (seconds).
pub const MIN_INTENT_LIFETIME_SECS: i64 = 60;

/// Longest intent lifetime an admin may configure (seconds): 30 days.
pub const MAX_INTENT_LIFETIME_SECS: i64 = 30 * 24 * 60 * 60;

/// Longest withdrawal delay an admin may configure (seconds): 90 days.
pub const MAX_WITHDRAWAL_DELAY_SECS: i64 = 90 * 24 * 60 * 60;

/// Shortest execution window an admin may configure for an unlocked withdrawal or nonce close
/// (seconds): 10 minutes.
pub const MIN_WITHDRAWAL_WINDOW_SECS: i64 = 10 * 60;

/// Longest execution window an admin may configure (seconds): 7 days.
pub const MAX_WITHDRAWAL_WINDOW_SECS: i64 = 7 * 24 * 60 * 60;

/// The execution window deployments start with unless told otherwise (seconds): 1 day. A request
/// not executed within this time after it unlocks lapses and must be made again (the delay
/// starts over), so a payer cannot keep an unlocked withdrawal armed against merchants.
pub const DEFAULT_WITHDRAWAL_WINDOW_SECS: i64 = 24 * 60 * 60;

/// Highest relayer-fee cap an admin may configure (lamports): 0.1 SOL.
pub const MAX_RELAYER_FEE_CAP: u64 = 100_000_000;

/// Most intents one `intent_settle` instruction accepts. Transaction size (1232 bytes) binds far
/// earlier for legacy transactions; this bounds the loop and the compute for v0 transactions.
pub const MAX_INTENTS_PER_SETTLE: usize = 16;

/// Accounts each SOL intent contributes to `intent_settle`'s remaining accounts, in this order:
/// vault (w), nonce account (w), nonce authority, recipient (w).
pub const SOL_INTENT_ACCOUNTS: usize = 4;

/// Accounts each token intent contributes, in this order: vault, nonce account (w), nonce
/// authority, delegate, source token account (w), destination token account (w), relayer fee
/// token account (w), mint, token program.
pub const TOKEN_INTENT_ACCOUNTS: usize = 9;

/// The deprecated `RecentBlockhashes` sysvar: the system program's `AdvanceNonceAccount` still
/// requires it, and its first entry is the blockhash that a nonce advanced now would be derived
/// from.
pub const RECENT_BLOCKHASHES_ID: Pubkey = pubkey!("SysvarRecentB1ockHashes11111111111111111111");

/// The instructions sysvar, read to find the Ed25519 precompile instruction.
pub const INSTRUCTIONS_SYSVAR_ID: Pubkey = pubkey!("Sysvar1nstructions1111111111111111111111111");

/// The Ed25519 signature-verification precompile.
pub const ED25519_PROGRAM_ID: Pubkey = pubkey!("Ed25519SigVerify111111111111111111111111111");
