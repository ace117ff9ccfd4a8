//! The program-wide configuration, one PDA at `["config"]`.

use crate::constants::*;
use crate::error::TossError;
use anchor_lang::prelude::*;

/// Program-wide settings, written by `config_initialize` and changed only by the admin.
///
/// Invariants ([`Config::invariant`]):
/// - `MIN_INTENT_LIFETIME_SECS <= max_intent_lifetime_secs <= MAX_INTENT_LIFETIME_SECS`;
/// - `max_relayer_fee <= MAX_RELAYER_FEE_CAP`;
/// - `max_intent_lifetime_secs <= withdrawal_delay_secs <= MAX_WITHDRAWAL_DELAY_SECS`, so any
///   intent signed before a withdrawal request expires before the withdrawal can execute.
#[account]
#[derive(InitSpace, Debug)]
pub struct Config {
    /// May pause settlement, update bounds and propose a new admin.
    pub admin: Pubkey,
    /// Admin proposed by the current admin; `Pubkey::default()` when none is pending.
    pub pending_admin: Pubkey,
    /// Longest time (seconds) between settlement and an intent's expiry; intents that expire
    /// later than `now + max_intent_lifetime_secs` are rejected.
    pub max_intent_lifetime_secs: i64,
    /// Highest relayer fee (lamports) one SOL intent may pay, whatever its own max fee says.
    pub max_relayer_fee: u64,
    /// Seconds between a withdrawal (or nonce close) request and its execution.
    pub withdrawal_delay_secs: i64,
    /// Emergency stop for settlement only; deposits, withdrawals and nonce closing still work.
    pub paused: bool,
    /// Bump of this PDA.
    pub bump: u8,
}

const CONFIG_PDA: ([u8; 32], u8) =
    anchor_lang::derive_program_address(&[CONFIG_SEED], &crate::ID.to_bytes());

impl Config {
    /// The config PDA, derived at compile time (no runtime PDA derivation needed to check it).
    pub const ADDRESS: Pubkey = Pubkey::new_from_array(CONFIG_PDA.0);
    /// Bump of [`Config::ADDRESS`].
    pub const BUMP: u8 = CONFIG_PDA.1;

    /// Seeds of the config PDA.
    pub fn seeds() -> [&'static [u8]; 1] {
        [CONFIG_SEED]
    }

    /// The config address and bump for this program id.
    pub fn find_address() -> (Pubkey, u8) {
        (Self::ADDRESS, Self::BUMP)
    }

    /// Checks proposed bounds; used by initialization and updates.
    pub fn check_bounds(
        max_intent_lifetime_secs: i64,
        max_relayer_fee: u64,
        withdrawal_delay_secs: i64,
    ) -> Result<()> {
        require!(
            (MIN_INTENT_LIFETIME_SECS..=MAX_INTENT_LIFETIME_SECS)
                .contains(&max_intent_lifetime_secs),
            TossError::LifetimeOutOfBounds
        );
        require!(
            max_relayer_fee <= MAX_RELAYER_FEE_CAP,
            TossError::FeeCapOutOfBounds
        );
        require!(
            (max_intent_lifetime_secs..=MAX_WITHDRAWAL_DELAY_SECS).contains(&withdrawal_delay_secs),
            TossError::WithdrawalDelayOutOfBounds
        );
        Ok(())
    }

    /// The config's invariants; called at the end of every handler that writes it.
    pub fn invariant(&self) -> Result<()> {
        Self::check_bounds(
            self.max_intent_lifetime_secs,
            self.max_relayer_fee,
            self.withdrawal_delay_secs,
        )
    }
}
