//! Settling one SOL intent: binding its accounts (structural: a mismatch fails the instruction),
//! checking it against chain state (business: a failure rejects only this intent), and moving
//! the lamports plus advancing the nonce.

use crate::constants::SOL_INTENT_ACCOUNTS;
use crate::error::TossError;
use crate::events::RejectReason;
use crate::intent::Intent;
use crate::nonce;
use crate::state::{Config, Vault, VaultHeader};
use anchor_lang::prelude::*;

/// The accounts one SOL intent brings, in remaining-accounts order.
pub struct SolIntentAccounts<'a, 'info> {
    /// The sender's vault (writable): pays amount + fee.
    pub vault: &'a AccountInfo<'info>,
    /// The intent's durable nonce account (writable): advanced.
    pub nonce: &'a AccountInfo<'info>,
    /// The sender's nonce-authority PDA: signs the advance.
    pub nonce_authority: &'a AccountInfo<'info>,
    /// The recipient (writable): receives amount.
    pub recipient: &'a AccountInfo<'info>,
    /// The vault's fields, read in place.
    pub header: VaultHeader,
}

/// What a checked intent will move.
pub struct SolTransfer {
    /// Lamports to the recipient.
    pub amount: u64,
    /// Lamports to the relayer.
    pub fee: u64,
    /// amount + fee, debited from the vault.
    pub total: u64,
}

/// Outcome of [`SolIntentAccounts::bind`].
pub enum Bound<'a, 'info> {
    /// The accounts are the intent's; go on to the business checks.
    Accounts(SolIntentAccounts<'a, 'info>),
    /// The vault PDA is passed but holds no vault: the sender never deposited.
    NoVault,
}

fn writable(info: &AccountInfo) -> Result<()> {
    require!(info.is_writable, TossError::AccountNotWritable);
    Ok(())
}

impl<'a, 'info> SolIntentAccounts<'a, 'info> {
    /// Takes the intent's accounts off the front of `remaining` and checks that they are the
    /// intent's (keys, writability, vault ownership). A mismatch is the submitter's mistake and
    /// fails the whole instruction.
    pub fn bind(
        remaining: &mut &'a [AccountInfo<'info>],
        intent: &Intent,
    ) -> Result<Bound<'a, 'info>> {
        let (group, rest) = remaining
            .split_at_checked(SOL_INTENT_ACCOUNTS)
            .ok_or(TossError::AccountCountMismatch)?;
        *remaining = rest;
        let [vault, nonce, nonce_authority, recipient] = group else {
            return err!(TossError::AccountCountMismatch);
        };
        let header = match Vault::read_header(vault) {
            Ok(header) => header,
            // Only on this failure path is the PDA derived: an empty account at the sender's
            // vault address means "no funds", a business rejection, not a malformed batch.
            Err(_)
                if vault.data_is_empty() && *vault.key == Vault::find_address(&intent.sender).0 =>
            {
                return Ok(Bound::NoVault)
            }
            Err(e) => return Err(e),
        };
        require_keys_eq!(header.owner, intent.sender, TossError::VaultMismatch);
        require_keys_eq!(
            *nonce.key,
            intent.nonce_account,
            TossError::NonceAccountMismatch
        );
        require_keys_eq!(
            *nonce_authority.key,
            header.nonce_authority,
            TossError::NonceAuthorityAccountMismatch
        );
        require_keys_eq!(
            *recipient.key,
            intent.recipient,
            TossError::RecipientMismatch
        );
        writable(vault)?;
        writable(nonce)?;
        writable(recipient)?;
        Ok(Bound::Accounts(Self {
            vault,
            nonce,
            nonce_authority,
            recipient,
            header,
        }))
    }

    /// Everything about this intent that depends on chain state. Reads only; on `Err` nothing
    /// of the intent has changed.
    pub fn check(
        &self,
        intent: &Intent,
        fee: u64,
        config: &Config,
        now: i64,
        rent: &Rent,
        next_durable_nonce: Option<&[u8; 32]>,
    ) -> core::result::Result<SolTransfer, RejectReason> {
        if now > intent.expiry {
            return Err(RejectReason::Expired);
        }
        match intent.expiry.checked_sub(now) {
            Some(left) if left <= config.max_intent_lifetime_secs => {}
            _ => return Err(RejectReason::LifetimeTooLong),
        }
        if *self.nonce.owner != anchor_lang::system_program::ID {
            return Err(RejectReason::NonceNotSystemOwned);
        }
        let state = {
            let data = self
                .nonce
                .try_borrow_data()
                .map_err(|_| RejectReason::NonceNotInitialized)?;
            nonce::read_nonce(&data).ok_or(RejectReason::NonceNotInitialized)?
        };
        if state.authority != self.header.nonce_authority {
            return Err(RejectReason::NonceAuthorityMismatch);
        }
        if state.durable_nonce != intent.nonce_value {
            return Err(RejectReason::StaleNonce);
        }
        if next_durable_nonce.is_none_or(|next| *next == state.durable_nonce) {
            return Err(RejectReason::NonceNotAdvanceable);
        }
        let total = intent
            .amount
            .checked_add(fee)
            .ok_or(RejectReason::Overflow)?;
        let floor = rent.minimum_balance(self.vault.data_len());
        let spendable = self.vault.lamports().saturating_sub(floor);
        if total > spendable {
            return Err(RejectReason::InsufficientFunds);
        }
        if self.recipient.executable {
            return Err(RejectReason::RecipientExecutable);
        }
        let after = self
            .recipient
            .lamports()
            .checked_add(intent.amount)
            .ok_or(RejectReason::Overflow)?;
        if after < rent.minimum_balance(self.recipient.data_len()) {
            return Err(RejectReason::RecipientNotRentExempt);
        }
        Ok(SolTransfer {
            amount: intent.amount,
            fee,
            total,
        })
    }

    /// Advances the nonce (replay protection first), then moves the lamports.
    pub fn settle(
        &self,
        intent: &Intent,
        transfer: &SolTransfer,
        relayer: &AccountInfo<'info>,
        recent_blockhashes: &AccountInfo<'info>,
    ) -> Result<()> {
        nonce::advance(
            self.nonce,
            recent_blockhashes,
            self.nonce_authority,
            &intent.sender,
            self.header.nonce_authority_bump,
        )?;
        debit(self.vault, transfer.total)?;
        credit(self.recipient, transfer.amount)?;
        credit(relayer, transfer.fee)?;
        Ok(())
    }
}

fn debit(info: &AccountInfo, lamports: u64) -> Result<()> {
    let mut balance = info.try_borrow_mut_lamports()?;
    **balance = balance
        .checked_sub(lamports)
        .ok_or(TossError::ArithmeticOverflow)?;
    Ok(())
}

fn credit(info: &AccountInfo, lamports: u64) -> Result<()> {
    let mut balance = info.try_borrow_mut_lamports()?;
    **balance = balance
        .checked_add(lamports)
        .ok_or(TossError::ArithmeticOverflow)?;
    Ok(())
}
