//! `vault_withdraw_cancel`: drops a pending withdrawal request (reported as lapsed when its
//! window had already passed).

use crate::error::TossError;
use crate::events::{emit_event, VaultWithdrawalCancelled, VaultWithdrawalLapsed};
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
    let now = Clock::get()?.unix_timestamp;
    let vault = &mut ctx.accounts.vault;
    let request = vault
        .pending_request()
        .ok_or(TossError::NoWithdrawalPending)?;
    let amount = vault.pending_withdrawal;
    vault.clear_request();
    vault.invariant()?;
    if request.lapsed(now) {
        emit_event(&VaultWithdrawalLapsed {
            owner: vault.owner,
            amount,
        })
    } else {
        emit_event(&VaultWithdrawalCancelled { owner: vault.owner })
    }
}
