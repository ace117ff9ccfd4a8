//! `nonce_close_execute`: step two. Within the request's window, once its delay has passed in
//! unpaused time (`state::delayed`), withdraws the nonce account's lamports to
//! the owner by CPI signed with the nonce-authority PDA (closing it) and closes the request.

use crate::constants::RECENT_BLOCKHASHES_ID;
use crate::error::TossError;
use crate::events::{emit_event, NonceClosed};
use crate::nonce;
use crate::state::{Config, NonceClose, NotExecutable, Vault};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct NonceCloseExecute<'info> {
    /// The nonce's owner; receives the nonce's lamports and the request's rent.
    #[account(mut)]
    pub owner: Signer<'info>,

    /// The owner's vault: names the nonce-authority PDA and its bump.
    #[account(has_one = owner @ TossError::Unauthorized, has_one = nonce_authority)]
    pub vault: Account<'info, Vault>,

    /// The pending request for `nonce`; closed to the owner. `dup`: the only mutable `Account`.
    #[account(
        mut,
        dup,
        close = owner,
        has_one = owner @ TossError::Unauthorized,
        has_one = nonce @ TossError::NotOwnNonce,
        seeds = [crate::constants::NONCE_CLOSE_SEED, nonce.key().as_ref()],
        bump = request.bump
    )]
    pub request: Account<'info, NonceClose>,

    /// CHECK: the nonce named by the request; the system program checks its authority.
    #[account(mut)]
    pub nonce: UncheckedAccount<'info>,

    /// CHECK: the vault's nonce-authority PDA (`has_one` on the vault); signs the withdrawal.
    pub nonce_authority: UncheckedAccount<'info>,

    /// CHECK: address-checked RecentBlockhashes sysvar, required by `WithdrawNonceAccount`.
    #[account(address = RECENT_BLOCKHASHES_ID @ TossError::InvalidRecentBlockhashesSysvar)]
    pub recent_blockhashes: UncheckedAccount<'info>,

    /// The Rent sysvar, required by `WithdrawNonceAccount`.
    pub rent: Sysvar<'info, Rent>,

    pub system_program: Program<'info, System>,

    /// Program config (paused flag, pause clock).
    #[account(address = Config::ADDRESS)]
    pub config: Account<'info, Config>,
}

impl NonceCloseExecute<'_> {
    /// Not paused, the delay passed in unpaused time, and the window still open.
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        self.request
            .request()
            .check(&self.config, now)
            .map_err(|e| match e {
                NotExecutable::Paused => TossError::Paused,
                NotExecutable::Locked => TossError::NonceCloseLocked,
                NotExecutable::Lapsed => TossError::NonceCloseLapsed,
            })?;
        Ok(())
    }
}

/// Withdraws everything from the nonce to the owner.
pub fn handler(ctx: Context<NonceCloseExecute>) -> Result<()> {
    let accounts = &ctx.accounts;
    let lamports = accounts.nonce.lamports();
    nonce::withdraw(
        &nonce::NonceWithdraw {
            nonce: &accounts.nonce.to_account_info(),
            to: &accounts.owner.to_account_info(),
            recent_blockhashes: &accounts.recent_blockhashes.to_account_info(),
            rent: &accounts.rent.to_account_info(),
            authority: &accounts.nonce_authority.to_account_info(),
        },
        &accounts.owner.key(),
        accounts.vault.nonce_authority_bump,
        lamports,
    )?;
    emit_event(&NonceClosed {
        owner: accounts.owner.key(),
        nonce: accounts.nonce.key(),
        lamports,
    })
}
