//! `config_set_paused`: the admin's emergency stop. Pausing stops settlement and the execution
//! of withdrawals and nonce closes: merchants cannot settle the intents they hold meanwhile, so
//! payers must not be able to pull the funds (or close the nonces) under them. Withdrawal
//! delays do not run while paused (the config's pause clock; see `state::delayed`), so a pause
//! never shortens the time merchants have to settle. Deposits, requests and cancels keep
//! working.

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
    let now = Clock::get()?.unix_timestamp;
    let config = &mut ctx.accounts.config;
    if paused && !config.paused {
        config.paused_at = now.max(1);
    } else if !paused && config.paused {
        let lasted = now.saturating_sub(config.paused_at).max(0);
        config.paused_secs_total = config
            .paused_secs_total
            .checked_add(lasted)
            .ok_or(TossError::ArithmeticOverflow)?;
        config.paused_at = 0;
    }
    config.paused = paused;
    config.invariant()?;
    emit_event(&PausedSet { paused })?;
    Ok(())
}
