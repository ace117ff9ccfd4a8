//! A pending request to close one durable nonce account, PDA `["nonce-close", nonce]`.

use crate::constants::NONCE_CLOSE_SEED;
use anchor_lang::prelude::*;

/// Created by `nonce_close_request`, consumed (closed) by `nonce_close_execute`. While it
/// exists, intents on the nonce keep settling: closing voids any intent a merchant holds on that
/// nonce, so it waits the same delay as a vault withdrawal.
#[account]
#[derive(InitSpace, Debug)]
pub struct NonceClose {
    /// The nonce's owner (the sender whose nonce-authority PDA controls it).
    pub owner: Pubkey,
    /// The nonce account to close.
    pub nonce: Pubkey,
    /// Unix seconds from which the close may execute.
    pub unlocks_at: i64,
    /// Bump of this PDA.
    pub bump: u8,
    /// Unix seconds after which the request lapses (it may then be made again).
    pub window_ends_at: i64,
    /// The config's pause clock when the request was made.
    pub pause_clock_at_request: i64,
}

impl NonceClose {
    /// Seeds without the bump.
    pub fn seeds(nonce: &Pubkey) -> [&[u8]; 2] {
        [NONCE_CLOSE_SEED, nonce.as_ref()]
    }

    /// The request's timing.
    pub fn request(&self) -> crate::state::DelayedRequest {
        crate::state::DelayedRequest {
            unlocks_at: self.unlocks_at,
            window_ends_at: self.window_ends_at,
            pause_clock_at_request: self.pause_clock_at_request,
        }
    }

    /// The request's address and bump for `nonce`.
    pub fn find_address(nonce: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&Self::seeds(nonce), &crate::ID)
    }
}
