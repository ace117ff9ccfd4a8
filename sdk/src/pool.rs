//! A payer's pool of durable nonces and the online setup instructions.
//!
//! Nonce `i` of `owner` lives at `create_with_seed(owner, "toss-nonce-{i}", system_program)`,
//! so a wallet recovers its whole pool from its key alone (no list to back up). Its authority
//! is the owner's nonce-authority PDA, so only the owner's signed intents can consume it.

use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use toss_intent_processor::{
    nonce::NONCE_ACCOUNT_LEN,
    state::{Delegate, NonceAuthority},
};

/// Seed prefix of pool nonces (`toss-nonce-0`, `toss-nonce-1`, ...).
pub const NONCE_SEED_PREFIX: &str = "toss-nonce-";

/// Bytes of a nonce account (rent: `minimum_balance(NONCE_ACCOUNT_LEN)`).
pub const NONCE_ACCOUNT_SPACE: usize = NONCE_ACCOUNT_LEN;

/// The seed of pool nonce `index`.
pub fn nonce_seed(index: u32) -> String {
    format!("{NONCE_SEED_PREFIX}{index}")
}

/// The address of `owner`'s pool nonce `index`.
pub fn nonce_address(owner: &Pubkey, index: u32) -> Pubkey {
    // A 32-byte seed limit and a non-PDA owner are the only failure modes; neither applies.
    Pubkey::create_with_seed(
        owner,
        &nonce_seed(index),
        &solana_sdk_ids::system_program::ID,
    )
    .unwrap_or_default()
}

/// Instructions that open `owner`'s pool nonces `indexes` (owner pays and signs), each funded
/// with `lamports_each` (the rent-exempt minimum of [`NONCE_ACCOUNT_SPACE`]).
pub fn open_nonces_ixs(
    owner: &Pubkey,
    indexes: std::ops::Range<u32>,
    lamports_each: u64,
) -> Vec<Instruction> {
    let authority = NonceAuthority::find_address(owner).0;
    indexes
        .flat_map(|i| {
            solana_system_interface::instruction::create_nonce_account_with_seed(
                owner,
                &nonce_address(owner, i),
                owner,
                &nonce_seed(i),
                &authority,
                lamports_each,
            )
        })
        .collect()
}

/// The owner's SPL `approve` of its delegate PDA on `source` (Token or Token-2022): the
/// allowance token intents spend. `approve` again to change it; `revoke_ix` voids it.
pub fn approve_ix(
    token_program: &Pubkey,
    source: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<Instruction, crate::SdkError> {
    spl_token_2022_interface::instruction::approve(
        token_program,
        source,
        &Delegate::find_address(owner).0,
        owner,
        &[],
        amount,
    )
    .map_err(|e| crate::SdkError::Intent(e.to_string()))
}

/// The owner's SPL `revoke` on `source`: voids every held token intent at once.
pub fn revoke_ix(
    token_program: &Pubkey,
    source: &Pubkey,
    owner: &Pubkey,
) -> Result<Instruction, crate::SdkError> {
    spl_token_2022_interface::instruction::revoke(token_program, source, owner, &[])
        .map_err(|e| crate::SdkError::Intent(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_addresses_are_derived_from_the_owner_alone() {
        let owner = Pubkey::new_unique();
        let a: Vec<Pubkey> = (0..4).map(|i| nonce_address(&owner, i)).collect();
        let b: Vec<Pubkey> = (0..4).map(|i| nonce_address(&owner, i)).collect();
        assert_eq!(a, b);
        assert_eq!(
            a.iter().collect::<std::collections::HashSet<_>>().len(),
            4,
            "distinct"
        );
        assert_ne!(nonce_address(&Pubkey::new_unique(), 0), a[0]);
        assert_eq!(open_nonces_ixs(&owner, 0..3, 1).len(), 6);
    }
}
