//! The PDA that is the authority of every durable nonce account a sender uses with TOSS.

use crate::constants::NONCE_AUTHORITY_SEED;
use anchor_lang::prelude::*;

/// Not an account with data: a PDA `["nonce-authority", sender]` that only this program can sign
/// for. Because the authority is per sender, only that sender's own signed intents can advance
/// (consume) the sender's nonces: nobody can grief another user's nonces.
pub struct NonceAuthority;

impl NonceAuthority {
    /// Seeds without the bump.
    pub fn seeds(sender: &Pubkey) -> [&[u8]; 2] {
        [NONCE_AUTHORITY_SEED, sender.as_ref()]
    }

    /// The sender's nonce authority and its bump.
    pub fn find_address(sender: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&Self::seeds(sender), &crate::ID)
    }
}

/// Not an account with data: the PDA `["delegate", owner]` that a payer approves as delegate of
/// their token account (SPL `approve`, online). Token intents spend only that allowance, from the
/// payer's own token account, so offline spending never exceeds what was approved and the
/// tokens stay with the payer until settlement. Revoking the approval voids held token intents.
pub struct Delegate;

impl Delegate {
    /// Seeds without the bump.
    pub fn seeds(owner: &Pubkey) -> [&[u8]; 2] {
        [crate::constants::DELEGATE_SEED, owner.as_ref()]
    }

    /// The owner's delegate and its bump.
    pub fn find_address(owner: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&Self::seeds(owner), &crate::ID)
    }
}
