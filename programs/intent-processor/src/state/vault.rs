//! A sender's SOL vault, PDA `["vault", sender]`, owned by this program.

use crate::constants::VAULT_SEED;
use crate::error::TossError;
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

/// Lamports a payer set aside online for offline spending. The account's lamports are the
/// balance; its rent-exempt minimum is a floor that settlement never spends.
///
/// Invariant ([`Vault::invariant`]): `owner` and `nonce_authority` never change after creation,
/// and `nonce_authority` is the `["nonce-authority", owner]` PDA with bump `nonce_authority_bump`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Vault {
    /// The sender whose intents spend this vault.
    pub owner: Pubkey,
    /// The owner's nonce-authority PDA, stored so settlement compares keys instead of deriving.
    pub nonce_authority: Pubkey,
    /// Bump of this vault PDA.
    pub bump: u8,
    /// Bump of `nonce_authority`, used to sign the nonce-advance CPI.
    pub nonce_authority_bump: u8,
    /// Lamports of a pending withdrawal request; 0 when none.
    pub pending_withdrawal: u64,
    /// Unix seconds from which the pending withdrawal may execute; 0 when none.
    pub withdrawal_unlocks_at: i64,
    /// The owner's token delegate PDA `["delegate", owner]`: the allowance the owner grants it
    /// with an SPL `approve` is what token intents spend.
    pub delegate: Pubkey,
    /// Bump of `delegate`, used to sign token transfers.
    pub delegate_bump: u8,
    /// Unix seconds after which the pending withdrawal lapses; 0 when none.
    pub withdrawal_window_ends_at: i64,
    /// The config's pause clock when the pending withdrawal was requested.
    pub withdrawal_pause_clock: i64,
}

/// The fields settlement needs, read in place from a vault account's data.
#[derive(Clone, Copy, Debug)]
pub struct VaultHeader {
    /// The vault's owner (sender).
    pub owner: Pubkey,
    /// The owner's nonce-authority PDA.
    pub nonce_authority: Pubkey,
    /// Bump of `nonce_authority`.
    pub nonce_authority_bump: u8,
    /// The owner's token delegate PDA.
    pub delegate: Pubkey,
    /// Bump of `delegate`.
    pub delegate_bump: u8,
}

impl Vault {
    /// Byte offset of `owner` in the account data (after the 8-byte discriminator).
    const OWNER_AT: usize = 8;
    /// Byte offset of `nonce_authority`.
    const NONCE_AUTHORITY_AT: usize = 40;
    /// Byte offset of `nonce_authority_bump` (after `bump` at 72).
    const NONCE_AUTHORITY_BUMP_AT: usize = 73;
    /// Byte offset of `delegate` (after the two withdrawal fields at 74..90).
    const DELEGATE_AT: usize = 90;
    /// Byte offset of `delegate_bump`.
    const DELEGATE_BUMP_AT: usize = 122;

    /// Seeds without the bump.
    pub fn seeds(owner: &Pubkey) -> [&[u8]; 2] {
        [VAULT_SEED, owner.as_ref()]
    }

    /// The owner's vault address and bump.
    pub fn find_address(owner: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&Self::seeds(owner), &crate::ID)
    }

    /// Reads owner and nonce authority from a vault account without deserializing it: checks
    /// the account's owner program and the discriminator, so only an account this program
    /// created as a `Vault` (which it only does at the owner's PDA) passes.
    pub fn read_header(info: &AccountInfo) -> Result<VaultHeader> {
        require_keys_eq!(*info.owner, crate::ID, TossError::VaultMismatch);
        let data = info.try_borrow_data()?;
        let bytes = data
            .get(..Self::DELEGATE_BUMP_AT + 1)
            .ok_or(TossError::VaultMismatch)?;
        require!(bytes[..8] == *Self::DISCRIMINATOR, TossError::VaultMismatch);
        let key_at = |at: usize| {
            let mut key = [0u8; 32];
            key.copy_from_slice(&bytes[at..at + 32]);
            Pubkey::new_from_array(key)
        };
        Ok(VaultHeader {
            owner: key_at(Self::OWNER_AT),
            nonce_authority: key_at(Self::NONCE_AUTHORITY_AT),
            nonce_authority_bump: bytes[Self::NONCE_AUTHORITY_BUMP_AT],
            delegate: key_at(Self::DELEGATE_AT),
            delegate_bump: bytes[Self::DELEGATE_BUMP_AT],
        })
    }

    /// A new vault for `owner`, with its PDAs derived once.
    pub fn new(owner: Pubkey, bump: u8) -> Self {
        let (nonce_authority, nonce_authority_bump) =
            crate::state::NonceAuthority::find_address(&owner);
        let (delegate, delegate_bump) = crate::state::Delegate::find_address(&owner);
        Self {
            owner,
            nonce_authority,
            bump,
            nonce_authority_bump,
            pending_withdrawal: 0,
            withdrawal_unlocks_at: 0,
            delegate,
            delegate_bump,
            withdrawal_window_ends_at: 0,
            withdrawal_pause_clock: 0,
        }
    }

    /// The pending withdrawal's timing, if one is pending.
    pub fn pending_request(&self) -> Option<crate::state::DelayedRequest> {
        (self.pending_withdrawal > 0).then_some(crate::state::DelayedRequest {
            unlocks_at: self.withdrawal_unlocks_at,
            window_ends_at: self.withdrawal_window_ends_at,
            pause_clock_at_request: self.withdrawal_pause_clock,
        })
    }

    /// Records a pending withdrawal of `amount` with `request`'s timing.
    pub fn set_request(&mut self, amount: u64, request: &crate::state::DelayedRequest) {
        self.pending_withdrawal = amount;
        self.withdrawal_unlocks_at = request.unlocks_at;
        self.withdrawal_window_ends_at = request.window_ends_at;
        self.withdrawal_pause_clock = request.pause_clock_at_request;
    }

    /// Clears the pending withdrawal.
    pub fn clear_request(&mut self) {
        self.set_request(
            0,
            &crate::state::DelayedRequest {
                unlocks_at: 0,
                window_ends_at: 0,
                pause_clock_at_request: 0,
            },
        );
    }

    /// The vault's invariants; called at the end of every handler that writes it.
    pub fn invariant(&self) -> Result<()> {
        let expected = Pubkey::create_program_address(
            &[
                crate::constants::NONCE_AUTHORITY_SEED,
                self.owner.as_ref(),
                &[self.nonce_authority_bump],
            ],
            &crate::ID,
        )
        .map_err(|_| TossError::VaultMismatch)?;
        require_keys_eq!(self.nonce_authority, expected, TossError::VaultMismatch);
        let delegate = Pubkey::create_program_address(
            &[
                crate::constants::DELEGATE_SEED,
                self.owner.as_ref(),
                &[self.delegate_bump],
            ],
            &crate::ID,
        )
        .map_err(|_| TossError::VaultMismatch)?;
        require_keys_eq!(self.delegate, delegate, TossError::VaultMismatch);
        Ok(())
    }
}

impl Vault {
    /// Lamports settlement and withdrawals may spend: the balance above the rent floor.
    pub fn spendable(info: &AccountInfo, rent: &Rent) -> u64 {
        info.lamports()
            .saturating_sub(rent.minimum_balance(info.data_len()))
    }
}
