//! `vault_withdraw_execute`: step two. Within the request's window, once its delay has passed
//! in unpaused time, pays the owner the requested lamports, or what is left above the rent
//! floor if intents settled meanwhile took more. Refused while settlement is paused.

use crate::error::TossError;
use crate::events::{emit_event, VaultWithdrawn};
use crate::state::{Config, NotExecutable, Vault};
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct VaultWithdrawExecute<'info> {
    /// The vault's owner; receives the lamports.
    #[account(mut)]
    pub owner: Signer<'info>,

    /// The owner's vault. `dup`: the only mutable `Account`.
    #[account(mut, dup, has_one = owner @ TossError::Unauthorized)]
    pub vault: Account<'info, Vault>,

    /// Program config (paused flag, pause clock).
    #[account(address = Config::ADDRESS)]
    pub config: Account<'info, Config>,
}

/// Pays out `min(requested, spendable)` and clears the request.
pub fn handler(ctx: Context<VaultWithdrawExecute>) -> Result<()> {
    let request = ctx
        .accounts
        .vault
        .pending_request()
        .ok_or(TossError::NoWithdrawalPending)?;
    let requested = ctx.accounts.vault.pending_withdrawal;
    let now = Clock::get()?.unix_timestamp;
    request
        .check(&ctx.accounts.config, now)
        .map_err(|e| match e {
            NotExecutable::Paused => TossError::Paused,
            NotExecutable::Locked => TossError::WithdrawalLocked,
            NotExecutable::Lapsed => TossError::WithdrawalLapsed,
        })?;
    let vault_info = ctx.accounts.vault.to_account_info();
    let amount = requested.min(Vault::spendable(&vault_info, &Rent::get()?));
    let owner_info = ctx.accounts.owner.to_account_info();
    let vault_balance = vault_info
        .lamports()
        .checked_sub(amount)
        .ok_or(TossError::ArithmeticOverflow)?;
    let owner_balance = owner_info
        .lamports()
        .checked_add(amount)
        .ok_or(TossError::ArithmeticOverflow)?;
    **vault_info.try_borrow_mut_lamports()? = vault_balance;
    **owner_info.try_borrow_mut_lamports()? = owner_balance;
    let vault = &mut ctx.accounts.vault;
    vault.clear_request();
    vault.invariant()?;
    emit_event(&VaultWithdrawn {
        owner: vault.owner,
        requested,
        amount,
    })
}
