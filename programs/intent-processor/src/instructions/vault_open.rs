//! `vault_open`: creates the sender's vault without depositing, for payers who only spend
//! tokens. The vault records the sender's nonce-authority and delegate PDAs.

use crate::constants::VAULT_SEED;
use crate::events::{emit_event, VaultDeposited};
use crate::state::Vault;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct VaultOpen<'info> {
    /// The vault's owner; pays the rent.
    #[account(mut)]
    pub owner: Signer<'info>,

    /// The owner's vault PDA; `init` fails if it exists.
    #[account(
        init,
        payer = owner,
        space = 8 + Vault::INIT_SPACE,
        seeds = [VAULT_SEED, owner.key().as_ref()],
        bump
    )]
    pub vault: Account<'info, Vault>,

    pub system_program: Program<'info, System>,
}

/// Writes the new vault.
pub fn handler(ctx: Context<VaultOpen>) -> Result<()> {
    let owner = ctx.accounts.owner.key();
    ctx.accounts
        .vault
        .set_inner(Vault::new(owner, ctx.bumps.vault));
    let vault = &ctx.accounts.vault;
    vault.invariant()?;
    emit_event(&VaultDeposited {
        owner,
        amount: 0,
        balance: vault.to_account_info().lamports(),
    })
}
