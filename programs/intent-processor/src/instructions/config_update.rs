//! `config_update`: the admin changes the bounds, within the same limits as initialization.

use crate::error::TossError;
use crate::events::{emit_event, ConfigUpdated};
use crate::state::Config;
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
        Config::check_bounds(
            args.max_intent_lifetime_secs,
            args.max_relayer_fee,
            args.withdrawal_delay_secs,
        )
    }
}

/// Writes the new bounds.
pub fn handler(ctx: Context<ConfigUpdate>, args: ConfigUpdateArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.max_intent_lifetime_secs = args.max_intent_lifetime_secs;
    config.max_relayer_fee = args.max_relayer_fee;
    config.withdrawal_delay_secs = args.withdrawal_delay_secs;
    config.invariant()?;
    emit_event(&ConfigUpdated {
        max_intent_lifetime_secs: args.max_intent_lifetime_secs,
        max_relayer_fee: args.max_relayer_fee,
        withdrawal_delay_secs: args.withdrawal_delay_secs,
    })
}
