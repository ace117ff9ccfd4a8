//! `intent_settle`: settles 1..=N offline-signed SOL intents verified by the Ed25519 precompile
//! instruction directly before this one.
//!
//! Remaining accounts, per intent in precompile-entry order: for a SOL intent vault (w), nonce
//! account (w), nonce authority PDA, recipient (w) ([`SOL_INTENT_ACCOUNTS`]); for a token intent
//! see [`TOKEN_INTENT_ACCOUNTS`]. SOL and token intents mix freely in one batch. The relayer fee
//! is paid in the intent's unit: lamports (capped by the config too) or tokens of the mint
//! (capped by the intent's max fee).
//!
//! Structural problems (accounts, precompile layout, fees the relayer asked for, paused) fail
//! the whole instruction with a named error. Business failures of one intent (expired, stale
//! nonce, vault short of funds, a recipient the runtime will not write, a token account or mint
//! that changed since the batch was built, ...) emit `IntentRejected` and leave that intent
//! untouched while the others settle. Direct lamport moves are recorded in a
//! [`Ledger`] and written after the last CPI, so no payment can unbalance a later intent's CPI.

use crate::constants::*;
use crate::ed25519::{self, Precompile};
use crate::error::TossError;
use crate::intent::{intent_id, Intent};
use crate::nonce;
use crate::settlement::{ledger::Ledger, settle_intent, SettleContext, Shared};
use crate::state::Config;
use anchor_lang::prelude::*;

/// What the relayer asks for.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct IntentSettleArgs {
    /// Relayer fee to take from each intent, in precompile-entry order, in the intent's unit;
    /// each must be at most that intent's max fee (and, for SOL, the config's cap).
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

    let mut messages = precompile.messages();
    let mut remaining: &[AccountInfo<'info>] = ctx.remaining_accounts;
    let shared = Shared {
        relayer: accounts.relayer.as_ref(),
        recent_blockhashes: accounts.recent_blockhashes.as_ref(),
    };
    let mut ledger = Ledger::new();
    for &fee in &args.fees {
        let message = messages.next_message()?;
        let intent = Intent::decode(message)?;
        let id = intent_id(message);
        settle_intent(
            &intent,
            id,
            fee,
            &mut remaining,
            (&cx, &shared, &mut ledger),
        )?;
    }
    messages.finish()?;
    require!(remaining.is_empty(), TossError::AccountCountMismatch);
    ledger.apply()
}
