//! `nonce_close_request`: step one of closing a durable nonce account. Closing voids any intent
//! a merchant holds on that nonce, so it follows the withdrawal's timing rule
//! (`state::delayed`): the config's delay in unpaused time, then a bounded window. A request
//! that lapsed may be made again (the delay starts over); one still pending may not.

use crate::constants::NONCE_CLOSE_SEED;
use crate::error::TossError;
use crate::events::{emit_event, NonceCloseLapsed, NonceCloseRequested};
use crate::nonce::read_nonce;
use crate::state::{Config, DelayedRequest, NonceClose, Vault};
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

    /// The request, one per nonce: created here, or restarted when the previous one lapsed.
    /// `dup`: the only mutable `Account` (see `config_set_paused`).
    #[account(
        init_if_needed,
        dup,
        payer = owner,
        space = 8 + NonceClose::INIT_SPACE,
        seeds = [NONCE_CLOSE_SEED, nonce.key().as_ref()],
        bump
    )]
    pub request: Account<'info, NonceClose>,

    /// Program config (delay, window, pause clock).
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

/// Records the request (restarting a lapsed one).
pub fn handler(ctx: Context<NonceCloseRequest>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let owner = ctx.accounts.owner.key();
    let nonce = ctx.accounts.nonce.key();
    if ctx.accounts.request.unlocks_at != 0 {
        require!(
            ctx.accounts.request.request().lapsed(now),
            TossError::NonceClosePending
        );
        emit_event(&NonceCloseLapsed { owner, nonce })?;
    }
    let request = DelayedRequest::start(&ctx.accounts.config, now)?;
    ctx.accounts.request.set_inner(NonceClose {
        owner,
        nonce,
        unlocks_at: request.unlocks_at,
        bump: ctx.bumps.request,
        window_ends_at: request.window_ends_at,
        pause_clock_at_request: request.pause_clock_at_request,
    });
    emit_event(&NonceCloseRequested {
        owner,
        nonce,
        unlocks_at: request.unlocks_at,
        window_ends_at: request.window_ends_at,
    })
}
