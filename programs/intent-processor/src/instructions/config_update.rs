//! `config_update`: the admin changes the bounds, within the same limits as initialization.
//! A change that could void intents merchants already hold (a shorter lifetime, a lower fee
//! cap, a shorter withdrawal delay) is scheduled: it takes effect one full max intent lifetime
//! (of the bounds in force) later, when every intent acceptable today has expired. Other
//! changes take effect at once. A new update replaces a scheduled one that is not due yet.
//!
//! A shorter withdrawal delay must also outlast every intent merchants may hold: it may not go
//! below the lifetime in force (lower the lifetime first, then the delay), and it takes effect
//! no earlier than `expiry_horizon − new delay`, so a withdrawal requested under it executes
//! only after every intent accepted under a longer, superseded lifetime has expired.

use crate::error::TossError;
use crate::events::{emit_event, ConfigUpdated};
use crate::state::{Config, ConfigBounds};
use anchor_lang::prelude::*;

/// New bounds.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ConfigUpdateArgs {
    /// See [`Config::max_intent_lifetime_secs`].
    pub max_intent_lifetime_secs: i64,
    /// See [`Config::max_relayer_fee`].
    pub max_relayer_fee: u64,
    /// See [`Config::withdrawal_delay_secs`].
    pub withdrawal_delay_secs: i64,
    /// See [`Config::withdrawal_window_secs`].
    pub withdrawal_window_secs: i64,
}

impl ConfigUpdateArgs {
    /// The bounds these arguments set.
    pub fn bounds(&self) -> ConfigBounds {
        ConfigBounds::new(
            self.max_intent_lifetime_secs,
            self.max_relayer_fee,
            self.withdrawal_delay_secs,
            self.withdrawal_window_secs,
        )
    }
}

#[derive(Accounts)]
pub struct ConfigUpdate<'info> {
    /// The admin.
    pub admin: Signer<'info>,

    /// The config. `dup`: the only mutable `Account`.
    #[account(mut, dup, address = Config::ADDRESS, has_one = admin @ TossError::Unauthorized)]
    pub config: Account<'info, Config>,
}

impl ConfigUpdate<'_> {
    /// Same bounds as `config_initialize`.
    pub fn validate(&self, args: &ConfigUpdateArgs) -> Result<()> {
        args.bounds().check()
    }
}

/// Applies the new bounds now, or schedules them after the notice period.
pub fn handler(ctx: Context<ConfigUpdate>, args: ConfigUpdateArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let config = &mut ctx.accounts.config;
    config.apply_due(now);
    let current = config.bounds();
    let next = args.bounds();
    let shorter_delay = next.withdrawal_delay_secs < current.withdrawal_delay_secs;
    require!(
        !shorter_delay || next.withdrawal_delay_secs >= current.max_intent_lifetime_secs,
        TossError::WithdrawalDelayOutOfBounds
    );
    let effective_at = if current.needs_notice(&next) {
        let mut at = now
            .checked_add(current.max_intent_lifetime_secs)
            .ok_or(TossError::ArithmeticOverflow)?;
        if shorter_delay {
            // A request at `at` unlocks at `at + delay + 1 > expiry_horizon`.
            at = at.max(
                config
                    .expiry_horizon
                    .saturating_sub(next.withdrawal_delay_secs),
            );
        }
        config.pending_bounds = next;
        config.bounds_change_at = at;
        at
    } else {
        config.set_bounds(&next);
        config.pending_bounds = ConfigBounds::default();
        config.bounds_change_at = 0;
        now
    };
    // Intents accepted under the current lifetime until the change may expire this late.
    config.expiry_horizon = config.expiry_horizon.max(
        effective_at
            .checked_add(current.max_intent_lifetime_secs)
            .ok_or(TossError::ArithmeticOverflow)?,
    );
    config.invariant()?;
    emit_event(&ConfigUpdated {
        max_intent_lifetime_secs: next.max_intent_lifetime_secs,
        max_relayer_fee: next.max_relayer_fee,
        withdrawal_delay_secs: next.withdrawal_delay_secs,
        withdrawal_window_secs: next.withdrawal_window_secs,
        effective_at,
    })
}
