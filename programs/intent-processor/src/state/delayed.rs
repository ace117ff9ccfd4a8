//! The timing rule shared by the two requests that can void intents merchants hold: a vault
//! withdrawal and a nonce close.
//!
//! A request made at `t` with the config's delay `D` and window `W` unlocks at `t + D + 1` and
//! its window ends at `unlocks_at + W` (both stored, so a payee can read them). The extra
//! second breaks the tie with an intent signed in the request's second with the longest
//! lifetime (`expiry = t + L <= t + D`): it settles (`now <= expiry`) strictly before the
//! withdrawal can execute (`now >= unlocks_at`). It may execute at `now`
//! only when settlement is not paused and
//! `unlocks_at + (pause clock now − pause clock at request) <= now <= window_ends_at`:
//! the delay runs only while settlement runs (a pause of `P` seconds moves the unlock `P`
//! later), and the window end never moves (a pause can only shorten the window, never extend
//! it). So every withdrawal that could execute before an intent expires is visible to a payee
//! as `[unlocks_at, window_ends_at]`, and one that was not executed in time lapses.

use crate::error::TossError;
use crate::state::Config;
use anchor_lang::prelude::*;

/// When a two-step request may execute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelayedRequest {
    /// Unix seconds from which it may execute, if no pause happens meanwhile.
    pub unlocks_at: i64,
    /// Unix seconds after which it can no longer execute.
    pub window_ends_at: i64,
    /// The config's pause clock when it was made.
    pub pause_clock_at_request: i64,
}

/// Why a request cannot execute now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotExecutable {
    /// Settlement is paused.
    Paused,
    /// The delay (plus pauses since the request) has not passed.
    Locked,
    /// The window has passed.
    Lapsed,
}

impl DelayedRequest {
    /// A request made at `now` under the bounds in force.
    pub fn start(config: &Config, now: i64) -> Result<Self> {
        let bounds = config.bounds_at(now);
        let unlocks_at = now
            .checked_add(bounds.withdrawal_delay_secs)
            .and_then(|t| t.checked_add(1))
            .ok_or(TossError::ArithmeticOverflow)?;
        let window_ends_at = unlocks_at
            .checked_add(bounds.withdrawal_window_secs)
            .ok_or(TossError::ArithmeticOverflow)?;
        Ok(Self {
            unlocks_at,
            window_ends_at,
            pause_clock_at_request: config.pause_clock(now),
        })
    }

    /// The moment it unlocks given the pauses so far.
    pub fn effective_unlock(&self, config: &Config, now: i64) -> i64 {
        let paused = config
            .pause_clock(now)
            .saturating_sub(self.pause_clock_at_request)
            .max(0);
        self.unlocks_at.saturating_add(paused)
    }

    /// Whether it may execute at `now`.
    pub fn check(&self, config: &Config, now: i64) -> core::result::Result<(), NotExecutable> {
        if config.paused {
            return Err(NotExecutable::Paused);
        }
        if now > self.window_ends_at {
            return Err(NotExecutable::Lapsed);
        }
        if now < self.effective_unlock(config, now) {
            return Err(NotExecutable::Locked);
        }
        Ok(())
    }

    /// True once the window has passed (the request can never execute).
    pub fn lapsed(&self, now: i64) -> bool {
        now > self.window_ends_at
    }
}
