//! `config_initialize`: creates the config once, callable only by the program's upgrade
//! authority, so nobody can front-run it between `anchor deploy` and initialization.

use crate::error::TossError;
use crate::events::{emit_event, ConfigInitialized};
use crate::state::{Config, ConfigBounds};
use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;

/// Initial settings.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ConfigInitializeArgs {
    /// The admin (may differ from the upgrade authority, e.g. a multisig).
    pub admin: Pubkey,
    /// See [`Config::max_intent_lifetime_secs`].
    pub max_intent_lifetime_secs: i64,
    /// See [`Config::max_relayer_fee`] (lamports).
    pub max_relayer_fee: u64,
    /// See [`Config::withdrawal_delay_secs`].
    pub withdrawal_delay_secs: i64,
    /// Start paused (e.g. to finish setup before going live).
    pub paused: bool,
    /// See [`Config::withdrawal_window_secs`] (default
    /// [`crate::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS`]).
    pub withdrawal_window_secs: i64,
}

impl ConfigInitializeArgs {
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

const PROGRAM_DATA_PDA: ([u8; 32], u8) = anchor_lang::derive_program_address(
    &[&crate::ID.to_bytes()],
    &bpf_loader_upgradeable::ID.to_bytes(),
);

/// This program's ProgramData address under the upgradeable loader.
pub const PROGRAM_DATA_ADDRESS: Pubkey = Pubkey::new_from_array(PROGRAM_DATA_PDA.0);

#[derive(Accounts)]
pub struct ConfigInitialize<'info> {
    /// The program's upgrade authority (checked against `program_data`); pays for the config.
    #[account(mut)]
    pub authority: Signer<'info>,

    /// The config PDA, created here; `init` makes a second initialization fail.
    #[account(
        init,
        payer = authority,
        space = 8 + Config::INIT_SPACE,
        seeds = [crate::constants::CONFIG_SEED],
        bump
    )]
    pub config: Account<'info, Config>,

    /// This program's ProgramData (owner and layout checked by `Account`, address by
    /// constraint): its upgrade authority must be `authority`.
    #[account(
        address = PROGRAM_DATA_ADDRESS @ TossError::InvalidProgramData,
        constraint = program_data.upgrade_authority_address == Some(authority.key())
            @ TossError::NotUpgradeAuthority
    )]
    pub program_data: Account<'info, ProgramData>,

    pub system_program: Program<'info, System>,
}

impl ConfigInitialize<'_> {
    /// Bounds of the initial settings.
    pub fn validate(&self, args: &ConfigInitializeArgs) -> Result<()> {
        args.bounds().check()
    }
}

/// Writes the config.
pub fn handler(ctx: Context<ConfigInitialize>, args: ConfigInitializeArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let config = &mut ctx.accounts.config;
    config.set_inner(Config {
        admin: args.admin,
        pending_admin: Pubkey::default(),
        max_intent_lifetime_secs: args.max_intent_lifetime_secs,
        max_relayer_fee: args.max_relayer_fee,
        withdrawal_delay_secs: args.withdrawal_delay_secs,
        paused: args.paused,
        bump: ctx.bumps.config,
        withdrawal_window_secs: args.withdrawal_window_secs,
        // A pause needs a nonzero start; `max(1)` only matters on a cluster at unix time 0.
        paused_at: if args.paused { now.max(1) } else { 0 },
        paused_secs_total: 0,
        pending_bounds: ConfigBounds::default(),
        bounds_change_at: 0,
        expiry_horizon: 0,
    });
    config.invariant()?;
    emit_event(&ConfigInitialized {
        admin: args.admin,
        max_intent_lifetime_secs: args.max_intent_lifetime_secs,
        max_relayer_fee: args.max_relayer_fee,
        withdrawal_delay_secs: args.withdrawal_delay_secs,
        paused: args.paused,
        withdrawal_window_secs: args.withdrawal_window_secs,
    })?;
    Ok(())
}
