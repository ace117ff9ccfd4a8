//! `vault_withdraw_request`: step one of a withdrawal. Starts the config's withdrawal delay
//! (never shorter than the longest intent lifetime), during which intents keep settling.

use crate::error::TossError;
use crate::events::{emit_event, VaultWithdrawalRequested};
use crate::state::{Config, Vault};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct VaultWithdrawRequest<'info> {
    /// The vault's owner.
    pub owner: Signer<'info>,

    /// The owner's vault (`has_one` ties it to the signer). `dup`: the only mutable `Account`.
    #[account(mut, dup, has_one = owner @ TossError::Unauthorized)]
    pub vault: Account<'info, Vault>,

    /// Program config (withdrawal delay).
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

/// Records the request (replacing any pending one, whose delay restarts).
pub fn handler(ctx: Context<VaultWithdrawRequest>, amount: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let unlocks_at = now
        .checked_add(ctx.accounts.config.withdrawal_delay_secs)
        .ok_or(TossError::ArithmeticOverflow)?;
    let vault = &mut ctx.accounts.vault;
    vault.pending_withdrawal = amount;
    vault.withdrawal_unlocks_at = unlocks_at;
    vault.invariant()?;
    emit_event(&VaultWithdrawalRequested {
        owner: vault.owner,
        amount,
        unlocks_at,
    })
}
