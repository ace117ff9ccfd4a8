//! Settling one SOL intent: binding its accounts, checking it against chain state (and the
//! moves earlier intents of the batch recorded), advancing the nonce and recording the lamport
//! moves in the batch's [`Ledger`], which writes them after the instruction's last CPI.

use super::{ledger::Ledger, Bound, SettleContext};
use crate::constants::SOL_INTENT_ACCOUNTS;
use crate::error::TossError;
use crate::events::RejectReason;
use crate::intent::Intent;
use crate::nonce;
use crate::state::VaultHeader;
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

impl<'a, 'info> SolIntentAccounts<'a, 'info> {
    /// Takes the intent's accounts off the front of `remaining` and checks that they are the
    /// intent's (keys, writability, vault ownership). A mismatch is the submitter's mistake and
    /// fails the whole instruction.
    pub fn bind(remaining: &mut &'a [AccountInfo<'info>], intent: &Intent) -> Result<Bound<Self>> {
        let (group, rest) = remaining
            .split_at_checked(SOL_INTENT_ACCOUNTS)
            .ok_or(TossError::AccountCountMismatch)?;
        *remaining = rest;
        let [vault, nonce, nonce_authority, recipient] = group else {
            return err!(TossError::AccountCountMismatch);
        };
        let Some(header) = super::read_vault(vault, intent)? else {
            return Ok(Bound::NoVault);
        };
        super::bind_nonce(nonce, nonce_authority, intent, &header)?;
        require_keys_eq!(
            *recipient.key,
            intent.recipient,
            TossError::RecipientMismatch
        );
        super::writable(vault)?;
        super::nonce_writable(nonce)?;
        // The recipient's writability is checked per intent ([`Self::check`]): the runtime
        // demotes reserved accounts (sysvars, builtin programs) to read-only whatever the
        // message says, and a payer must not be able to sink the batch by naming one (nor
        // as its nonce account: [`super::nonce_writable`]).
        Ok(Bound::Accounts(Self {
            vault,
            nonce,
            nonce_authority,
            recipient,
            header,
        }))
    }

    /// Everything about this intent that depends on chain state, with the balances the moves
    /// recorded so far would leave. Reads only; on `Err` nothing of the intent has changed.
    pub fn check(
        &self,
        intent: &Intent,
        fee: u64,
        cx: &SettleContext,
        ledger: &Ledger,
    ) -> core::result::Result<SolTransfer, RejectReason> {
        let rent = &cx.rent;
        debug_assert!(intent.mint.is_none());
        let total = super::check_intent(self.nonce, &self.header, intent, fee, cx)?;
        let vault_lamports = ledger.lamports(self.vault).ok_or(RejectReason::Overflow)?;
        let spendable = vault_lamports.saturating_sub(rent.minimum_balance(self.vault.data_len()));
        if total > spendable {
            return Err(RejectReason::InsufficientFunds);
        }
        if self.recipient.executable {
            return Err(RejectReason::RecipientExecutable);
        }
        if !self.recipient.is_writable {
            return Err(RejectReason::RecipientNotWritable);
        }
        let after = ledger
            .lamports(self.recipient)
            .and_then(|l| l.checked_add(intent.amount))
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

    /// Advances the nonce (replay protection first), then records the lamport moves; the
    /// ledger writes them after the instruction's last CPI.
    pub fn settle<'l>(
        &self,
        intent: &Intent,
        transfer: &SolTransfer,
        recent_blockhashes: &AccountInfo<'info>,
        ledger: &mut Ledger<'l, 'info>,
    ) -> Result<()>
    where
        'a: 'l,
    {
        nonce::advance(
            self.nonce,
            recent_blockhashes,
            self.nonce_authority,
            &intent.sender,
            self.header.nonce_authority_bump,
        )?;
        ledger.debit(self.vault, transfer.total)?;
        ledger.credit(self.recipient, transfer.amount)?;
        Ok(())
    }
}
