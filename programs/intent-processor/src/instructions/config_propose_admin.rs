//! `config_propose_admin`: step one of admin rotation; the proposed key must accept.

use crate::error::TossError;
use crate::events::{emit_event, AdminProposed};
use crate::state::Config;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct ConfigProposeAdmin<'info> {
    /// The current admin.
    pub admin: Signer<'info>,

    /// The config. `dup`: the only mutable `Account`.
    #[account(mut, dup, address = Config::ADDRESS, has_one = admin @ TossError::Unauthorized)]
    pub config: Account<'info, Config>,
}

/// Records `proposed` (replacing any earlier proposal; `Pubkey::default()` withdraws it).
pub fn handler(ctx: Context<ConfigProposeAdmin>, proposed: Pubkey) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.pending_admin = proposed;
    config.invariant()?;
    emit_event(&AdminProposed {
        admin: config.admin,
        proposed,
    })
}
