//! System durable-nonce accounts, read in place, and the advance CPI.

use crate::constants::NONCE_AUTHORITY_SEED;
use anchor_lang::prelude::*;
use anchor_lang::solana_program::program::invoke_signed;

/// Size of a system nonce account (`nonce::versions::Versions`, bincode).
pub const NONCE_ACCOUNT_LEN: usize = 80;
/// `Versions::Current` tag.
const VERSION_CURRENT: u32 = 1;
/// `State::Initialized` tag.
const STATE_INITIALIZED: u32 = 1;

/// The two fields of an initialized nonce account that settlement checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonceState {
    /// Who may advance or withdraw.
    pub authority: Pubkey,
    /// The stored durable nonce.
    pub durable_nonce: [u8; 32],
}

/// Reads an initialized, current-version nonce account:
/// `[version: u32 = 1][state: u32 = 1][authority: 32][durable_nonce: 32][lamports_per_signature: u64]`.
/// Returns `None` for anything else (legacy or uninitialized nonces, other data).
pub fn read_nonce(data: &[u8]) -> Option<NonceState> {
    if data.len() != NONCE_ACCOUNT_LEN {
        return None;
    }
    let tag = |at: usize| u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    if tag(0) != VERSION_CURRENT || tag(4) != STATE_INITIALIZED {
        return None;
    }
    let mut authority = [0u8; 32];
    authority.copy_from_slice(&data[8..40]);
    let mut durable_nonce = [0u8; 32];
    durable_nonce.copy_from_slice(&data[40..72]);
    Some(NonceState {
        authority: Pubkey::new_from_array(authority),
        durable_nonce,
    })
}

/// The durable nonce a nonce advanced in this slot would get: SHA-256 of `"DURABLE_NONCE"` and
/// the bank's blockhash, which is the first entry of the `RecentBlockhashes` sysvar
/// (`[len: u64][(blockhash: 32, lamports_per_signature: u64); len]`, newest first). A nonce that
/// already holds this value cannot be advanced before the next slot. `None` when the sysvar is
/// empty (no nonce can be advanced then).
pub fn next_durable_nonce(recent_blockhashes: &[u8]) -> Option<[u8; 32]> {
    let len = u64::from_le_bytes(recent_blockhashes.get(..8)?.try_into().ok()?);
    if len == 0 {
        return None;
    }
    let blockhash = recent_blockhashes.get(8..40)?;
    Some(solana_sha256_hasher::hashv(&[b"DURABLE_NONCE", blockhash]).to_bytes())
}

/// Advances `nonce` by CPI to the system program, signed by the sender's nonce-authority PDA.
pub fn advance<'info>(
    nonce: &AccountInfo<'info>,
    recent_blockhashes: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    sender: &Pubkey,
    authority_bump: u8,
) -> Result<()> {
    let ix = solana_system_interface::instruction::advance_nonce_account(nonce.key, authority.key);
    invoke_signed(
        &ix,
        &[nonce.clone(), recent_blockhashes.clone(), authority.clone()],
        &[&[NONCE_AUTHORITY_SEED, sender.as_ref(), &[authority_bump]]],
    )?;
    Ok(())
}

/// The accounts of a `WithdrawNonceAccount` CPI.
pub struct NonceWithdraw<'a, 'info> {
    /// The nonce account (writable).
    pub nonce: &'a AccountInfo<'info>,
    /// Receives the lamports (writable).
    pub to: &'a AccountInfo<'info>,
    /// RecentBlockhashes sysvar.
    pub recent_blockhashes: &'a AccountInfo<'info>,
    /// Rent sysvar.
    pub rent: &'a AccountInfo<'info>,
    /// The sender's nonce-authority PDA.
    pub authority: &'a AccountInfo<'info>,
}

/// Withdraws `lamports` from the nonce by CPI, signed by the sender's nonce-authority PDA.
/// Withdrawing everything closes the nonce account.
pub fn withdraw(
    accounts: &NonceWithdraw,
    sender: &Pubkey,
    authority_bump: u8,
    lamports: u64,
) -> Result<()> {
    let NonceWithdraw {
        nonce,
        to,
        recent_blockhashes,
        rent,
        authority,
    } = accounts;
    let ix = solana_system_interface::instruction::withdraw_nonce_account(
        nonce.key,
        authority.key,
        to.key,
        lamports,
    );
    invoke_signed(
        &ix,
        &[
            (*nonce).clone(),
            (*to).clone(),
            (*recent_blockhashes).clone(),
            (*rent).clone(),
            (*authority).clone(),
        ],
        &[&[NONCE_AUTHORITY_SEED, sender.as_ref(), &[authority_bump]]],
    )?;
    Ok(())
}
