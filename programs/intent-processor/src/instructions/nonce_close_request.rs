//! `nonce_close_request`: step one of closing a durable nonce account. Closing voids any intent
//! a merchant holds on that nonce, so it waits the config's withdrawal delay.

use crate::constants::NONCE_CLOSE_SEED;
use crate::error::TossError;
use crate::events::{emit_event, NonceCloseRequested};
use crate::nonce::read_nonce;
use crate::state::{Config, NonceClose, Vault};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct NonceCloseRequest<'info> {
    /// The nonce's owner; pays for the request account.
    #[account(mut)]
    pub owner: Signer<'info>,

    /// The owner's vault: names the owner's nonce-authority PDA.
    #[account(has_one = owner @ TossError::Unauthorized)]
    pub vault: Account<'info, Vault>,

    /// CHECK: checked in `validate`: an initialized system nonce account whose authority is the
    /// vault's nonce authority.
    pub nonce: UncheckedAccount<'info>,

    /// The request, one per nonce; `init` makes a second concurrent request fail.
    #[account(
        init,
        payer = owner,
        space = 8 + NonceClose::INIT_SPACE,
        seeds = [NONCE_CLOSE_SEED, nonce.key().as_ref()],
        bump
    )]
    pub request: Account<'info, NonceClose>,

    /// Program config (the delay).
    #[account(address = Config::ADDRESS)]
    pub config: Account<'info, Config>,

    pub system_program: Program<'info, System>,
}

impl NonceCloseRequest<'_> {
    /// Only the owner's own nonces can be closed.
    pub fn validate(&self) -> Result<()> {
        require_keys_eq!(
            *self.nonce.owner,
            anchor_lang::system_program::ID,
            TossError::NotOwnNonce
        );
        let data = self.nonce.try_borrow_data()?;
        let state = read_nonce(&data).ok_or(TossError::NotOwnNonce)?;
        require_keys_eq!(
            state.authority,
            self.vault.nonce_authority,
            TossError::NotOwnNonce
        );
        Ok(())
    }
}

/// Records the request.
pub fn handler(ctx: Context<NonceCloseRequest>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let unlocks_at = now
        .checked_add(ctx.accounts.config.withdrawal_delay_secs)
        .ok_or(TossError::ArithmeticOverflow)?;
    let owner = ctx.accounts.owner.key();
    let nonce = ctx.accounts.nonce.key();
    ctx.accounts.request.set_inner(NonceClose {
        owner,
        nonce,
        unlocks_at,
        bump: ctx.bumps.request,
    });
    emit_event(&NonceCloseRequested {
        owner,
        nonce,
        unlocks_at,
    })
}
