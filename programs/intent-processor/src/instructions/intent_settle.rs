//! `intent_settle`: settles 1..=N offline-signed SOL intents verified by the Ed25519 precompile
//! instruction directly before this one.
//!
//! Remaining accounts, per intent in precompile-entry order: vault (w), nonce account (w),
//! nonce authority PDA, recipient (w) ([`SOL_INTENT_ACCOUNTS`]).
//!
//! Structural problems (accounts, precompile layout, fees the relayer asked for, paused) fail
//! the whole instruction with a named error. Business failures of one intent (expired, stale
//! nonce, vault short of funds, ...) emit `IntentRejected` and leave that intent untouched while
//! the others settle.

use crate::constants::*;
use crate::ed25519::{self, Precompile};
use crate::error::TossError;
use crate::events::{emit_event, IntentRejected, IntentSettled, RejectReason};
use crate::intent::{intent_id, Intent};
use crate::nonce;
use crate::settlement::{Bound, SolIntentAccounts};
use crate::state::Config;
use anchor_lang::prelude::*;

/// What the relayer asks for.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct IntentSettleArgs {
    /// Relayer fee (lamports) to take from each intent, in precompile-entry order; each must be
    /// at most that intent's max fee and the config's cap.
    pub fees: Vec<u64>,
}

#[derive(Accounts)]
pub struct IntentSettle<'info> {
    /// The relayer: signs and pays the transaction, receives the relayer fees.
    #[account(mut)]
    pub relayer: Signer<'info>,

    /// Program config (fee cap, lifetime bound, paused flag).
    #[account(address = Config::ADDRESS)]
    pub config: Account<'info, Config>,

    /// CHECK: address-checked to be the instructions sysvar; parsed in place by `ed25519`.
    #[account(address = INSTRUCTIONS_SYSVAR_ID @ TossError::InvalidInstructionsSysvar)]
    pub instructions_sysvar: UncheckedAccount<'info>,

    /// CHECK: address-checked to be the RecentBlockhashes sysvar, which `AdvanceNonceAccount`
    /// requires and whose newest entry tells whether a nonce can be advanced in this slot.
    #[account(address = RECENT_BLOCKHASHES_ID @ TossError::InvalidRecentBlockhashesSysvar)]
    pub recent_blockhashes: UncheckedAccount<'info>,

    /// The system program, invoked to advance nonces.
    pub system_program: Program<'info, System>,
}

impl IntentSettle<'_> {
    /// Not paused; a batch of sensible size.
    pub fn validate(&self, args: &IntentSettleArgs) -> Result<()> {
        require!(!self.config.paused, TossError::Paused);
        require!(
            (1..=MAX_INTENTS_PER_SETTLE).contains(&args.fees.len()),
            TossError::BatchSize
        );
        Ok(())
    }
}

/// Settles or rejects each intent in order.
pub fn handler<'info>(
    ctx: Context<'info, IntentSettle<'info>>,
    args: IntentSettleArgs,
) -> Result<()> {
    let accounts = &ctx.accounts;
    let sysvar_data = accounts.instructions_sysvar.try_borrow_data()?;
    let current = ed25519::current_index(&sysvar_data)?;
    let precompile = Precompile::load_preceding(&sysvar_data, current)?;
    require_eq!(
        precompile.count(),
        args.fees.len(),
        TossError::SignatureCountMismatch
    );
    let now = Clock::get()?.unix_timestamp;
    let rent = Rent::get()?;
    let next_durable_nonce =
        nonce::next_durable_nonce(&accounts.recent_blockhashes.try_borrow_data()?);
    let config = &accounts.config;

    let mut messages = precompile.messages();
    let mut remaining: &'info [AccountInfo<'info>] = ctx.remaining_accounts;
    for &fee in &args.fees {
        let message = messages.next_message()?;
        let intent = Intent::decode(message)?;
        require!(intent.mint.is_none(), TossError::UnsupportedIntentKind);
        let bound = SolIntentAccounts::bind(&mut remaining, &intent)?;
        require!(fee <= intent.max_fee, TossError::FeeExceedsIntentMax);
        require!(fee <= config.max_relayer_fee, TossError::FeeExceedsCap);
        let id = intent_id(message);
        let accounts_of_intent = match bound {
            Bound::Accounts(accounts) => accounts,
            Bound::NoVault => {
                emit_event(&IntentRejected {
                    id,
                    reason: RejectReason::InsufficientFunds,
                })?;
                continue;
            }
        };
        match accounts_of_intent.check(
            &intent,
            fee,
            config,
            now,
            &rent,
            next_durable_nonce.as_ref(),
        ) {
            Ok(transfer) => {
                accounts_of_intent.settle(
                    &intent,
                    &transfer,
                    &accounts.relayer.to_account_info(),
                    &accounts.recent_blockhashes.to_account_info(),
                )?;
                emit_event(&IntentSettled {
                    id,
                    sender: intent.sender,
                    recipient: intent.recipient,
                    amount: transfer.amount,
                    fee: transfer.fee,
                })?;
            }
            Err(reason) => emit_event(&IntentRejected { id, reason })?,
        }
    }
    messages.finish()?;
    require!(remaining.is_empty(), TossError::AccountCountMismatch);
    Ok(())
}
