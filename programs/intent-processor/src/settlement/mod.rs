//! Settling one intent: binding its accounts (structural: a mismatch is the submitter's mistake
//! and fails the whole instruction), checking it against chain state (business: a failure
//! rejects only this intent, nothing of it moves), then advancing its nonce and paying.

pub mod ledger;
pub mod sol;
pub mod token;

use crate::error::TossError;
use crate::events::{emit_event, IntentRejected, IntentSettled, RejectReason};
use crate::intent::Intent;
use crate::nonce;
use crate::state::{ConfigBounds, Vault, VaultHeader};
use anchor_lang::prelude::*;
use ledger::Ledger;
use sol::SolIntentAccounts;
use token::TokenIntentAccounts;

/// What every intent of one `intent_settle` is checked against. Passed by reference so
/// per-intent functions keep to five arguments: SBPF v0 has no stack arguments.
pub struct SettleContext<'a> {
    /// The config's bounds in force now (`Config::bounds_at`).
    pub bounds: &'a ConfigBounds,
    /// `Config::expiry_horizon`: intents expiring no later than this were acceptable under a
    /// longer lifetime that has since been lowered, and still settle.
    pub expiry_horizon: i64,
    /// Clock unix timestamp.
    pub now: i64,
    /// Rent parameters.
    pub rent: Rent,
    /// The durable nonce a nonce advanced in this slot would get (`None`: none can advance).
    pub next_durable_nonce: Option<[u8; 32]>,
}

/// The accounts every intent of one settle instruction shares.
pub struct Shared<'a, 'info> {
    /// The relayer (fee payer, receives SOL fees).
    pub relayer: &'a AccountInfo<'info>,
    /// The RecentBlockhashes sysvar, passed to `AdvanceNonceAccount`.
    pub recent_blockhashes: &'a AccountInfo<'info>,
}

/// Settles one verified intent: the path both verification front-ends (precompile and
/// compact) share. Takes the intent's accounts off the front of `remaining`, checks the fee
/// against the intent and the config (structural: the relayer asked for more than allowed),
/// then settles it or rejects it with an `IntentSettled` / `IntentRejected` event.
#[inline(never)]
pub fn settle_intent<'a, 'info>(
    intent: &Intent,
    id: [u8; 32],
    fee: u64,
    remaining: &mut &'a [AccountInfo<'info>],
    (cx, shared, ledger): (&SettleContext, &Shared<'a, 'info>, &mut Ledger<'a, 'info>),
) -> Result<()> {
    require!(fee <= intent.max_fee, TossError::FeeExceedsIntentMax);
    let outcome = match intent.mint {
        None => {
            require!(fee <= cx.bounds.max_relayer_fee, TossError::FeeExceedsCap);
            match SolIntentAccounts::bind(remaining, intent)? {
                Bound::NoVault => Err(RejectReason::InsufficientFunds),
                Bound::Accounts(sol) => match sol.check(intent, fee, cx, ledger) {
                    Ok(transfer) => {
                        sol.settle(intent, &transfer, shared.recent_blockhashes, ledger)?;
                        ledger.credit(shared.relayer, transfer.fee)?;
                        Ok(())
                    }
                    Err(reason) => Err(reason),
                },
            }
        }
        Some(mint) => match TokenIntentAccounts::bind(remaining, intent, &mint)? {
            Bound::NoVault => Err(RejectReason::InsufficientFunds),
            Bound::Accounts(token) => match token.check(intent, fee, cx) {
                Ok(_) => {
                    token.settle(intent, fee, shared.recent_blockhashes)?;
                    Ok(())
                }
                Err(reason) => Err(reason),
            },
        },
    };
    match outcome {
        Ok(()) => emit_event(&IntentSettled {
            id,
            sender: intent.sender,
            recipient: intent.recipient,
            amount: intent.amount,
            fee,
        }),
        Err(reason) => emit_event(&IntentRejected { id, reason }),
    }
}

/// Outcome of binding an intent's accounts.
pub enum Bound<T> {
    /// The accounts are the intent's; go on to the business checks.
    Accounts(T),
    /// The sender's vault PDA is passed but holds no vault: the sender never set one up.
    NoVault,
}

/// An account that must be writable.
pub fn writable(info: &AccountInfo) -> Result<()> {
    require!(info.is_writable, TossError::AccountNotWritable);
    Ok(())
}

/// The intent's nonce account must be writable (the advance writes it), but only if it is
/// system-owned: any other is rejected on its own ([`check_nonce`]: `NonceNotSystemOwned`),
/// and it may be a reserved account (a sysvar, a builtin program) that the runtime demotes to
/// read-only whatever the message says. A payer naming one must not sink the batch.
pub fn nonce_writable(nonce: &AccountInfo) -> Result<()> {
    if *nonce.owner == anchor_lang::system_program::ID {
        writable(nonce)?;
    }
    Ok(())
}

/// Reads the sender's vault. `None` when the account at the sender's vault address is empty
/// (only on that failure path is the PDA derived); an error when it is another account.
pub fn read_vault(vault: &AccountInfo, intent: &Intent) -> Result<Option<VaultHeader>> {
    let header = match Vault::read_header(vault) {
        Ok(header) => header,
        Err(_) if vault.data_is_empty() && *vault.key == Vault::find_address(&intent.sender).0 => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    require_keys_eq!(header.owner, intent.sender, TossError::VaultMismatch);
    Ok(Some(header))
}

/// The nonce account is the intent's and the authority account is the sender's PDA.
pub fn bind_nonce(
    nonce: &AccountInfo,
    nonce_authority: &AccountInfo,
    intent: &Intent,
    header: &VaultHeader,
) -> Result<()> {
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
    Ok(())
}

/// The checks every intent kind shares (window, nonce), then amount + fee.
pub fn check_intent(
    nonce_info: &AccountInfo,
    header: &VaultHeader,
    intent: &Intent,
    fee: u64,
    cx: &SettleContext,
) -> core::result::Result<u64, RejectReason> {
    check_window(intent, cx.bounds, cx.expiry_horizon, cx.now)?;
    check_nonce(
        nonce_info,
        &header.nonce_authority,
        intent,
        cx.next_durable_nonce.as_ref(),
    )?;
    intent.amount.checked_add(fee).ok_or(RejectReason::Overflow)
}

/// Expiry (inclusive) and the configured lifetime bound, or an expiry within the horizon of a
/// lifetime that was lowered since (an intent a merchant accepted before the change settles
/// whenever it is submitted before its expiry).
pub fn check_window(
    intent: &Intent,
    bounds: &ConfigBounds,
    expiry_horizon: i64,
    now: i64,
) -> core::result::Result<(), RejectReason> {
    if now > intent.expiry {
        return Err(RejectReason::Expired);
    }
    match intent.expiry.checked_sub(now) {
        Some(left) if left <= bounds.max_intent_lifetime_secs => Ok(()),
        Some(_) if intent.expiry <= expiry_horizon => Ok(()),
        _ => Err(RejectReason::LifetimeTooLong),
    }
}

/// The nonce is a system durable nonce of the sender's nonce authority, holds the intent's
/// nonce value, and can be advanced in this slot.
pub fn check_nonce(
    nonce_info: &AccountInfo,
    nonce_authority: &Pubkey,
    intent: &Intent,
    next_durable_nonce: Option<&[u8; 32]>,
) -> core::result::Result<(), RejectReason> {
    if *nonce_info.owner != anchor_lang::system_program::ID {
        return Err(RejectReason::NonceNotSystemOwned);
    }
    let state = {
        let data = nonce_info
            .try_borrow_data()
            .map_err(|_| RejectReason::NonceNotInitialized)?;
        nonce::read_nonce(&data).ok_or(RejectReason::NonceNotInitialized)?
    };
    if state.authority != *nonce_authority {
        return Err(RejectReason::NonceAuthorityMismatch);
    }
    if state.durable_nonce != intent.nonce_value {
        return Err(RejectReason::StaleNonce);
    }
    if next_durable_nonce.is_none_or(|next| *next == state.durable_nonce) {
        return Err(RejectReason::NonceNotAdvanceable);
    }
    Ok(())
}
