//! The program-wide configuration, one PDA at `["config"]`.

use crate::constants::*;
use crate::error::TossError;
use anchor_lang::prelude::*;

/// Program-wide settings, written by `config_initialize` and changed only by the admin.
///
/// Invariants ([`Config::invariant`]), for the bounds in force and for a scheduled change:
/// - `MIN_INTENT_LIFETIME_SECS <= max_intent_lifetime_secs <= MAX_INTENT_LIFETIME_SECS`;
/// - `max_relayer_fee <= MAX_RELAYER_FEE_CAP`;
/// - `max_intent_lifetime_secs <= withdrawal_delay_secs <= MAX_WITHDRAWAL_DELAY_SECS`, so any
///   intent signed before a withdrawal request expires before the withdrawal can execute;
/// - `MIN_WITHDRAWAL_WINDOW_SECS <= withdrawal_window_secs <= MAX_WITHDRAWAL_WINDOW_SECS`;
/// - `paused_at != 0` exactly when `paused`, and `paused_secs_total >= 0`.
///
/// The bounds in force at time `t` are [`Config::bounds_at`]: a change that could void intents
/// merchants hold (a lower lifetime, fee cap or withdrawal delay) is scheduled by
/// `config_update` and takes effect only at `bounds_change_at`, one full max intent lifetime
/// later; every reader, on-chain and off, goes through `bounds_at`.
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
    /// Seconds of unpaused time between a withdrawal (or nonce close) request and the moment it
    /// may execute.
    pub withdrawal_delay_secs: i64,
    /// Emergency stop for settlement, and for the execution of withdrawals and nonce closes
    /// (which would otherwise void intents merchants cannot settle meanwhile). Deposits,
    /// requests and cancels keep working.
    pub paused: bool,
    /// Bump of this PDA.
    pub bump: u8,
    /// Seconds an unlocked withdrawal or nonce close stays executable; after that it lapses and
    /// must be requested again (the delay starts over).
    pub withdrawal_window_secs: i64,
    /// Unix seconds at which the current pause began; 0 when not paused.
    pub paused_at: i64,
    /// Seconds settlement was paused, summed over all completed pauses: with the current pause
    /// it is the "pause clock" ([`Config::pause_clock`]) that withdrawal delays do not run on.
    pub paused_secs_total: i64,
    /// Bounds scheduled by `config_update`, in force from `bounds_change_at`.
    pub pending_bounds: ConfigBounds,
    /// Unix seconds from which `pending_bounds` are in force; 0 when no change is scheduled.
    pub bounds_change_at: i64,
    /// The latest expiry an intent accepted under lifetime bounds no longer in force may have
    /// (unix seconds; 0 at first). A shorter withdrawal delay takes effect only once a
    /// withdrawal requested under it cannot execute before that moment.
    pub expiry_horizon: i64,
}

/// The admin-settable bounds.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct ConfigBounds {
    /// See [`Config::max_intent_lifetime_secs`].
    pub max_intent_lifetime_secs: i64,
    /// See [`Config::max_relayer_fee`].
    pub max_relayer_fee: u64,
    /// See [`Config::withdrawal_delay_secs`].
    pub withdrawal_delay_secs: i64,
    /// See [`Config::withdrawal_window_secs`].
    pub withdrawal_window_secs: i64,
}

impl ConfigBounds {
    /// Bounds from their four values, in field order.
    pub const fn new(
        max_intent_lifetime_secs: i64,
        max_relayer_fee: u64,
        withdrawal_delay_secs: i64,
        withdrawal_window_secs: i64,
    ) -> Self {
        Self {
            max_intent_lifetime_secs,
            max_relayer_fee,
            withdrawal_delay_secs,
            withdrawal_window_secs,
        }
    }

    /// Checks the bounds against the program's limits.
    pub fn check(&self) -> Result<()> {
        Config::check_bounds(
            self.max_intent_lifetime_secs,
            self.max_relayer_fee,
            self.withdrawal_delay_secs,
        )?;
        require!(
            (MIN_WITHDRAWAL_WINDOW_SECS..=MAX_WITHDRAWAL_WINDOW_SECS)
                .contains(&self.withdrawal_window_secs),
            TossError::WithdrawalWindowOutOfBounds
        );
        Ok(())
    }

    /// True when moving from `self` to `next` could void an intent a merchant already holds:
    /// a shorter lifetime (held intents would be "too long"), a lower fee cap (relayers would
    /// earn less than the payer offered), or a shorter withdrawal delay (a withdrawal could
    /// execute before a held intent expires). The window may change at once: each request
    /// keeps the window it was made with.
    pub fn needs_notice(&self, next: &ConfigBounds) -> bool {
        next.max_intent_lifetime_secs < self.max_intent_lifetime_secs
            || next.max_relayer_fee < self.max_relayer_fee
            || next.withdrawal_delay_secs < self.withdrawal_delay_secs
    }
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

    /// Decodes a config account's data (discriminator checked), for off-chain readers.
    pub fn decode(mut data: &[u8]) -> Option<Self> {
        <Self as anchor_lang::AccountDeserialize>::try_deserialize(&mut data).ok()
    }

    /// The config's invariants; called at the end of every handler that writes it.
    pub fn invariant(&self) -> Result<()> {
        self.bounds().check()?;
        if self.bounds_change_at != 0 {
            self.pending_bounds.check()?;
        }
        require!(
            self.paused == (self.paused_at != 0) && self.paused_secs_total >= 0,
            TossError::InvalidPauseClock
        );
        Ok(())
    }

    /// The bounds written in the config's own fields (in force unless a scheduled change is
    /// due; see [`Config::bounds_at`]).
    pub fn bounds(&self) -> ConfigBounds {
        ConfigBounds::new(
            self.max_intent_lifetime_secs,
            self.max_relayer_fee,
            self.withdrawal_delay_secs,
            self.withdrawal_window_secs,
        )
    }

    /// The bounds in force at unix time `now`: the scheduled ones once they are due.
    pub fn bounds_at(&self, now: i64) -> ConfigBounds {
        if self.bounds_change_at != 0 && now >= self.bounds_change_at {
            self.pending_bounds
        } else {
            self.bounds()
        }
    }

    /// Writes the bounds in force at `now` into the config's own fields and clears a scheduled
    /// change that is due.
    pub fn apply_due(&mut self, now: i64) {
        if self.bounds_change_at != 0 && now >= self.bounds_change_at {
            self.set_bounds(&self.pending_bounds.clone());
            self.pending_bounds = ConfigBounds::default();
            self.bounds_change_at = 0;
        }
    }

    /// Sets the config's own bound fields.
    pub fn set_bounds(&mut self, bounds: &ConfigBounds) {
        self.max_intent_lifetime_secs = bounds.max_intent_lifetime_secs;
        self.max_relayer_fee = bounds.max_relayer_fee;
        self.withdrawal_delay_secs = bounds.withdrawal_delay_secs;
        self.withdrawal_window_secs = bounds.withdrawal_window_secs;
    }

    /// Seconds of pause up to `now`, the current pause included. Withdrawal and nonce-close
    /// delays count only unpaused time: a request's unlock moves later by the pause clock's
    /// advance since the request.
    pub fn pause_clock(&self, now: i64) -> i64 {
        let current = if self.paused {
            now.saturating_sub(self.paused_at).max(0)
        } else {
            0
        };
        self.paused_secs_total.saturating_add(current)
    }
}
