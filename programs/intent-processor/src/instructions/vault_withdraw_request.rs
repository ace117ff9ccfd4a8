//! `vault_withdraw_request`: step one of a withdrawal. Starts the config's withdrawal delay
//! (never shorter than the longest intent lifetime, and counting only unpaused time), during
//! which intents keep settling; the request then stays executable for the config's window and
//! lapses after it (`state::delayed`).

use crate::error::TossError;
use crate::events::{emit_event, VaultWithdrawalLapsed, VaultWithdrawalRequested};
use crate::state::{Config, DelayedRequest, Vault};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct VaultWithdrawRequest<'info> {
    /// The vault's owner.
    pub owner: Signer<'info>,

    /// The owner's vault (`has_one` ties it to the signer). `dup`: the only mutable `Account`.
    #[account(mut, dup, has_one = owner @ TossError::Unauthorized)]
    pub vault: Account<'info, Vault>,

    /// Program config (withdrawal delay and window, pause clock).
    #[account(address = Config::ADDRESS)]
    pub config: Account<'info, Config>,
}

impl VaultWithdrawRequest<'_> {
    /// A request must name an amount.
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TossError::ZeroAmount);
        Ok(())
    }
}

/// Records the request (replacing any pending one, whose delay restarts; a lapsed one is
/// reported as such first).
pub fn handler(ctx: Context<VaultWithdrawRequest>, amount: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let request = DelayedRequest::start(&ctx.accounts.config, now)?;
    let vault = &mut ctx.accounts.vault;
    if let Some(previous) = vault.pending_request() {
        if previous.lapsed(now) {
            emit_event(&VaultWithdrawalLapsed {
                owner: vault.owner,
                amount: vault.pending_withdrawal,
            })?;
        }
    }
    vault.set_request(amount, &request);
    vault.invariant()?;
    emit_event(&VaultWithdrawalRequested {
        owner: vault.owner,
        amount,
        unlocks_at: request.unlocks_at,
        window_ends_at: request.window_ends_at,
    })
}
