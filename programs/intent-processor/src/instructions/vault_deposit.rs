//! `vault_deposit`: adds lamports to the sender's vault, creating it on first use. The vault's
//! rent-exempt minimum (paid at creation) is a floor settlement never spends.

use crate::constants::VAULT_SEED;
use crate::error::TossError;
use crate::events::{emit_event, VaultDeposited};
use crate::state::Vault;
use anchor_lang::prelude::*;
use anchor_lang::system_program;

#[derive(Accounts)]
pub struct VaultDeposit<'info> {
    /// The vault's owner (the sender of future intents); pays the deposit and, once, the rent.
    #[account(mut)]
    pub owner: Signer<'info>,

    /// The owner's vault PDA; created on the first deposit. `dup`: the only mutable `Account`
    /// here (see `config_set_paused` for why Anchor's duplicate check is skipped).
    #[account(
        init_if_needed,
        dup,
        payer = owner,
        space = 8 + Vault::INIT_SPACE,
        seeds = [VAULT_SEED, owner.key().as_ref()],
        bump
    )]
    pub vault: Account<'info, Vault>,

    pub system_program: Program<'info, System>,
}

impl VaultDeposit<'_> {
    /// A deposit must add something.
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TossError::ZeroAmount);
        Ok(())
    }
}

/// Initializes the vault on first use, then transfers `amount` lamports into it.
pub fn handler(ctx: Context<VaultDeposit>, amount: u64) -> Result<()> {
    let owner = ctx.accounts.owner.key();
    if ctx.accounts.vault.owner == Pubkey::default() {
        ctx.accounts
            .vault
            .set_inner(Vault::new(owner, ctx.bumps.vault));
    }
    system_program::transfer(
        CpiContext::new(
            ctx.accounts.system_program.key(),
            system_program::Transfer {
                from: ctx.accounts.owner.to_account_info(),
                to: ctx.accounts.vault.to_account_info(),
            },
        ),
        amount,
    )?;
    let vault = &ctx.accounts.vault;
    vault.invariant()?;
    emit_event(&VaultDeposited {
        owner,
        amount,
        balance: vault.to_account_info().lamports(),
    })?;
    Ok(())
}
