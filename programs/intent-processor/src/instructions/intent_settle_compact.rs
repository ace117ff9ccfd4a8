//! `intent_settle_compact`: settles 1..=N offline-signed intents whose Ed25519 signatures the
//! program verifies itself, over bytes it rebuilds from the transaction's accounts.
//!
//! Payers sign exactly what they sign for `intent_settle` (canonical format v1, see
//! [`crate::intent`]). Per intent the instruction carries only what the accounts do not hold:
//! the signature, amount, expiry, max fee, the relayer fee, kind, the optional reference and
//! the first four bytes of the durable nonce signed over. The rest of the signed bytes comes
//! from the accounts, which are the same, in the same order, as for `intent_settle`:
//!
//! | field          | taken from                                                           |
//! |----------------|----------------------------------------------------------------------|
//! | sender         | the vault's owner (a vault exists only at its owner's PDA)           |
//! | recipient      | SOL: the recipient account's key; token: the destination's owner     |
//! | mint           | token: the mint account's key                                        |
//! | nonce account  | the nonce account's key                                              |
//! | nonce value    | the nonce account's current durable nonce                            |
//!
//! Costs no precompile signature fee (5,000 lamports per intent) and about half the bytes per
//! intent, for compute units instead ([`crate::verify`]). Once the bytes are rebuilt the
//! intent goes through the very same settlement as `intent_settle`
//! ([`crate::settlement::settle_intent`]).
//!
//! Per-intent outcomes, never a failed batch: a signature that does not verify is
//! `IntentRejected { reason: BadSignature }` under the rebuilt bytes' id; an intent whose bytes
//! cannot be rebuilt (its nonce account no longer holds a nonce starting with the hint, or its
//! sender never opened a vault) is `CompactIntentRejected`, named by nonce account and hint.
//! Structural problems (account count, an account that is not what its slot needs, a fee over
//! the intent's max or the cap, bytes that are not a valid v1 intent, paused) fail the whole
//! instruction as they do for `intent_settle`.

use crate::constants::*;
use crate::error::TossError;
use crate::events::{emit_event, CompactIntentRejected, IntentRejected, RejectReason};
use crate::intent::{intent_id, Intent, IntentKind, MAX_INTENT_LEN};
use crate::nonce;
use crate::settlement::{ledger::Ledger, settle_intent, SettleContext, Shared};
use crate::state::{Config, Vault};
use crate::verify;
use anchor_lang::prelude::*;

/// One intent, minus what the accounts already say.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct CompactIntent {
    /// The payer's Ed25519 signature over the intent's canonical bytes.
    pub signature: [u8; 64],
    /// `0` = SOL, `1` = SPL token (the canonical kind byte; decides the account group).
    pub kind: u8,
    /// Lamports or token base units, as signed.
    pub amount: u64,
    /// Expiry, unix seconds, as signed.
    pub expiry: i64,
    /// Max relayer fee, as signed.
    pub max_fee: u64,
    /// The relayer fee to take (at most `max_fee`; for SOL also the config's cap).
    pub fee: u64,
    /// The first four bytes of the durable nonce the intent was signed over. When the nonce
    /// account holds another value the intent is rejected as `StaleNonce` without verifying.
    pub nonce_hint: [u8; 4],
    /// The reference, when the intent carries one.
    pub reference: Option<[u8; 32]>,
}

/// What the relayer asks for.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct IntentSettleCompactArgs {
    /// The intents, in remaining-accounts order.
    pub intents: Vec<CompactIntent>,
}

#[derive(Accounts)]
pub struct IntentSettleCompact<'info> {
    /// The relayer: signs and pays the transaction, receives the relayer fees.
    #[account(mut)]
    pub relayer: Signer<'info>,

    /// Program config (fee cap, lifetime bound, paused flag).
    #[account(address = Config::ADDRESS)]
    pub config: Account<'info, Config>,

    /// CHECK: address-checked to be the RecentBlockhashes sysvar (`AdvanceNonceAccount` needs
    /// it; its newest entry tells whether a nonce can be advanced in this slot).
    #[account(address = RECENT_BLOCKHASHES_ID @ TossError::InvalidRecentBlockhashesSysvar)]
    pub recent_blockhashes: UncheckedAccount<'info>,

    /// The system program, invoked to advance nonces.
    pub system_program: Program<'info, System>,
}

impl IntentSettleCompact<'_> {
    /// Not paused; a batch of sensible size.
    pub fn validate(&self, args: &IntentSettleCompactArgs) -> Result<()> {
        require!(!self.config.paused, TossError::Paused);
        require!(
            (1..=MAX_INTENTS_PER_SETTLE).contains(&args.intents.len()),
            TossError::BatchSize
        );
        Ok(())
    }
}

/// The fields of an entry's signed bytes that come from its accounts.
struct FromAccounts {
    sender: Pubkey,
    recipient: Pubkey,
    mint: Option<Pubkey>,
    nonce_value: [u8; 32],
}

/// Reads the signed fields the accounts hold, or why they cannot be read (the intent can never
/// settle then). `group` is the entry's account group, not consumed.
fn from_accounts(
    group: &[AccountInfo],
    entry: &CompactIntent,
) -> Result<core::result::Result<FromAccounts, RejectReason>> {
    let token = match entry.kind {
        k if k == IntentKind::Sol as u8 => false,
        k if k == IntentKind::Token as u8 => true,
        _ => return err!(TossError::UnsupportedIntentKind),
    };
    let needed = if token {
        TOKEN_INTENT_ACCOUNTS
    } else {
        SOL_INTENT_ACCOUNTS
    };
    let group = group.get(..needed).ok_or(TossError::AccountCountMismatch)?;
    let (vault, nonce_info) = (&group[0], &group[1]);
    let header = match Vault::read_header(vault) {
        Ok(header) => header,
        // An empty account: no vault was ever opened there, so there is no sender to rebuild
        // the bytes with. Anything else in the vault slot is the submitter's mistake.
        Err(_) if vault.data_is_empty() && *vault.owner == anchor_lang::system_program::ID => {
            return Ok(Err(RejectReason::InsufficientFunds))
        }
        Err(e) => return Err(e),
    };
    let nonce_value = match current_nonce(nonce_info) {
        Ok(value) if value[..4] == entry.nonce_hint => value,
        Ok(_) => return Ok(Err(RejectReason::StaleNonce)),
        Err(reason) => return Ok(Err(reason)),
    };
    let (recipient, mint) = if token {
        let (destination, mint) = (&group[5], &group[7]);
        match token_account_owner(destination) {
            Some(owner) => (owner, Some(*mint.key)),
            None => return Ok(Err(RejectReason::DestinationUnavailable)),
        }
    } else {
        (*group[3].key, None)
    };
    Ok(Ok(FromAccounts {
        sender: header.owner,
        recipient,
        mint,
        nonce_value,
    }))
}

/// The durable nonce a system nonce account holds now.
fn current_nonce(info: &AccountInfo) -> core::result::Result<[u8; 32], RejectReason> {
    if *info.owner != anchor_lang::system_program::ID {
        return Err(RejectReason::NonceNotSystemOwned);
    }
    let data = info
        .try_borrow_data()
        .map_err(|_| RejectReason::NonceNotInitialized)?;
    nonce::read_nonce(&data)
        .map(|state| state.durable_nonce)
        .ok_or(RejectReason::NonceNotInitialized)
}

/// The owner field of an SPL Token or Token-2022 account (same base layout: mint 0..32,
/// owner 32..64), if `info` is one.
fn token_account_owner(info: &AccountInfo) -> Option<Pubkey> {
    if *info.owner != anchor_spl::token::ID && *info.owner != anchor_spl::token_2022::ID {
        return None;
    }
    let data = info.try_borrow_data().ok()?;
    if data.len() < 165 {
        return None;
    }
    let owner: [u8; 32] = data.get(32..64)?.try_into().ok()?;
    Some(Pubkey::new_from_array(owner))
}

/// Settles or rejects each intent in order.
pub fn handler<'info>(
    ctx: Context<'info, IntentSettleCompact<'info>>,
    args: IntentSettleCompactArgs,
) -> Result<()> {
    let accounts = &ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let bounds = accounts.config.bounds_at(now);
    let cx = SettleContext {
        bounds: &bounds,
        expiry_horizon: accounts.config.expiry_horizon,
        now,
        rent: Rent::get()?,
        next_durable_nonce: nonce::next_durable_nonce(
            &accounts.recent_blockhashes.try_borrow_data()?,
        ),
    };
    let mut remaining: &[AccountInfo<'info>] = ctx.remaining_accounts;
    let shared = Shared {
        relayer: accounts.relayer.as_ref(),
        recent_blockhashes: accounts.recent_blockhashes.as_ref(),
    };
    let mut ledger = Ledger::new();
    let mut bytes = [0u8; MAX_INTENT_LEN];
    for entry in &args.intents {
        let fields = match from_accounts(remaining, entry)? {
            Ok(fields) => fields,
            Err(reason) => {
                let group = if entry.kind == IntentKind::Token as u8 {
                    TOKEN_INTENT_ACCOUNTS
                } else {
                    SOL_INTENT_ACCOUNTS
                };
                emit_event(&CompactIntentRejected {
                    nonce_account: *remaining[1].key,
                    nonce_hint: entry.nonce_hint,
                    reason,
                })?;
                remaining = &remaining[group..];
                continue;
            }
        };
        let intent = Intent {
            sender: fields.sender,
            recipient: fields.recipient,
            mint: fields.mint,
            amount: entry.amount,
            nonce_account: *remaining[1].key,
            nonce_value: fields.nonce_value,
            expiry: entry.expiry,
            max_fee: entry.max_fee,
            reference: entry.reference,
        };
        let len = intent.encode_into(&mut bytes)?;
        let message = &bytes[..len];
        // The same validity rules as a precompile-verified message (amount not zero, ...).
        Intent::decode(message)?;
        let id = intent_id(message);
        if !verify::verify_strict(&intent.sender.to_bytes(), &entry.signature, &[message]) {
            emit_event(&IntentRejected {
                id,
                reason: RejectReason::BadSignature,
            })?;
            let group = if intent.mint.is_some() {
                TOKEN_INTENT_ACCOUNTS
            } else {
                SOL_INTENT_ACCOUNTS
            };
            remaining = &remaining[group..];
            continue;
        }
        settle_intent(
            &intent,
            id,
            entry.fee,
            &mut remaining,
            (&cx, &shared, &mut ledger),
        )?;
    }
    require!(remaining.is_empty(), TossError::AccountCountMismatch);
    ledger.apply()
}
