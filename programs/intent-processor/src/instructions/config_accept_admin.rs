//! `config_accept_admin`: step two of admin rotation, signed by the proposed admin, so a typo in
//! the proposal can never lock the program's admin out.

use crate::error::TossError;
use crate::events::{emit_event, AdminAccepted};
use crate::state::Config;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct ConfigAcceptAdmin<'info> {
    /// The proposed admin.
    pub new_admin: Signer<'info>,

    /// The config. `dup`: the only mutable `Account`.
    #[account(mut, dup, address = Config::ADDRESS)]
    pub config: Account<'info, Config>,
}

impl ConfigAcceptAdmin<'_> {
    /// Only the proposed key may accept.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.config.pending_admin != Pubkey::default()
                && self.config.pending_admin == self.new_admin.key(),
            TossError::NotPendingAdmin
        );
        Ok(())
    }
}

/// Makes the signer the admin.
pub fn handler(ctx: Context<ConfigAcceptAdmin>) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let previous = config.admin;
    config.admin = ctx.accounts.new_admin.key();
    config.pending_admin = Pubkey::default();
    config.invariant()?;
    emit_event(&AdminAccepted {
        previous,
        admin: config.admin,
    })
}
