//! `vault_withdraw_cancel`: drops a pending withdrawal request.

use crate::error::TossError;
use crate::events::{emit_event, VaultWithdrawalCancelled};
use crate::state::Vault;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct VaultWithdrawCancel<'info> {
    /// The vault's owner.
    pub owner: Signer<'info>,

    /// The owner's vault. `dup`: the only mutable `Account`.
    #[account(mut, dup, has_one = owner @ TossError::Unauthorized)]
    pub vault: Account<'info, Vault>,
}

/// Clears the request.
pub fn handler(ctx: Context<VaultWithdrawCancel>) -> Result<()> {
    let vault = &mut ctx.accounts.vault;
    require!(vault.pending_withdrawal > 0, TossError::NoWithdrawalPending);
    vault.pending_withdrawal = 0;
    vault.withdrawal_unlocks_at = 0;
    vault.invariant()?;
    emit_event(&VaultWithdrawalCancelled { owner: vault.owner })
}
