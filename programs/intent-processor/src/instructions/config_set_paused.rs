//! `config_set_paused`: the admin's emergency stop. Pausing stops settlement only; deposits,
//! withdrawals and nonce closing keep working so users can always get their funds out.

use crate::error::TossError;
use crate::events::{emit_event, PausedSet};
use crate::state::Config;
use anchor_lang::prelude::*;

#[derive(Accounts)]
pub struct ConfigSetPaused<'info> {
    /// The config admin.
    pub admin: Signer<'info>,

    /// The config; `has_one` ties it to `admin`. `dup`: this is the struct's only mutable
    /// `Account`, so no duplicate is possible, and Anchor's generic duplicate check builds a
    /// `HashSet` with std's `RandomState`, which the SBF build here cannot link (mutable static).
    #[account(mut, dup, address = Config::ADDRESS, has_one = admin @ TossError::Unauthorized)]
    pub config: Account<'info, Config>,
}

/// Sets or clears the paused flag.
pub fn handler(ctx: Context<ConfigSetPaused>, paused: bool) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.paused = paused;
    config.invariant()?;
    emit_event(&PausedSet { paused })?;
    Ok(())
}
