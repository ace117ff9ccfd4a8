//! TOSS intent processor: settles payment intents that payers signed offline.
//!
//! A payer sets funds aside online (a vault) and opens durable nonce accounts whose authority is
//! this program's `["nonce-authority", payer]` PDA. Offline, the payer signs intents (see
//! [`intent`]); anyone online later submits them in a transaction whose Ed25519 precompile
//! instruction verifies the signatures and whose `intent_settle` instruction binds each
//! signature to one intent, checks it, pays it from the vault and advances its nonce. The
//! compact form (`intent_settle_compact`) verifies the same signatures inside the program
//! instead ([`verify`]), over bytes rebuilt from the accounts; both share the settlement.
#![deny(arithmetic_overflow)]
// Lints that fire inside Anchor's `#[program]` expansion, not in code written here.
#![allow(clippy::diverging_sub_expression)]

extern crate alloc;

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

pub mod constants;
pub mod ed25519;
pub mod error;
pub mod events;
pub mod instructions;
pub mod intent;
pub mod nonce;
pub mod settlement;
pub mod state;
pub mod verify;

pub use instructions::*;

declare_id!("97HzxHhFMbtTUx3tdtfDkvZmUgZjHKnZhmy9CcqbZuHP");

#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "TOSS intent processor",
    project_url: "https://github.com/toss-pay/toss",
    contacts: "email:security@toss.invalid",
    policy: "https://github.com/toss-pay/toss/blob/main/SECURITY.md",
    preferred_languages: "en",
    source_code: "https://github.com/toss-pay/toss",
    auditors: "None"
}

#[program]
pub mod toss_intent_processor {
    use super::*;

    /// Creates the config; only the program's upgrade authority may call it.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn config_initialize(
        ctx: Context<ConfigInitialize>,
        args: ConfigInitializeArgs,
    ) -> Result<()> {
        instructions::config_initialize::handler(ctx, args)
    }

    /// Pauses or resumes settlement (admin only).
    pub fn config_set_paused(ctx: Context<ConfigSetPaused>, paused: bool) -> Result<()> {
        instructions::config_set_paused::handler(ctx, paused)
    }

    /// Adds lamports to the signer's vault, creating it on first use.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn vault_deposit(ctx: Context<VaultDeposit>, amount: u64) -> Result<()> {
        instructions::vault_deposit::handler(ctx, amount)
    }

    /// Proposes a new admin (admin only); the proposed key must accept.
    pub fn config_propose_admin(ctx: Context<ConfigProposeAdmin>, proposed: Pubkey) -> Result<()> {
        instructions::config_propose_admin::handler(ctx, proposed)
    }

    /// Accepts a proposed admin rotation (signed by the proposed admin).
    #[access_control(ctx.accounts.validate())]
    pub fn config_accept_admin(ctx: Context<ConfigAcceptAdmin>) -> Result<()> {
        instructions::config_accept_admin::handler(ctx)
    }

    /// Changes the lifetime, fee-cap and delay bounds (admin only).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn config_update(ctx: Context<ConfigUpdate>, args: ConfigUpdateArgs) -> Result<()> {
        instructions::config_update::handler(ctx, args)
    }

    /// Creates the signer's vault without a deposit (token-only payers).
    pub fn vault_open(ctx: Context<VaultOpen>) -> Result<()> {
        instructions::vault_open::handler(ctx)
    }

    /// Starts a vault withdrawal; executable after the withdrawal delay.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn vault_withdraw_request(ctx: Context<VaultWithdrawRequest>, amount: u64) -> Result<()> {
        instructions::vault_withdraw_request::handler(ctx, amount)
    }

    /// Executes a pending withdrawal after its delay.
    pub fn vault_withdraw_execute(ctx: Context<VaultWithdrawExecute>) -> Result<()> {
        instructions::vault_withdraw_execute::handler(ctx)
    }

    /// Cancels a pending withdrawal.
    pub fn vault_withdraw_cancel(ctx: Context<VaultWithdrawCancel>) -> Result<()> {
        instructions::vault_withdraw_cancel::handler(ctx)
    }

    /// Starts closing one of the signer's nonce accounts; executable after the delay.
    #[access_control(ctx.accounts.validate())]
    pub fn nonce_close_request(ctx: Context<NonceCloseRequest>) -> Result<()> {
        instructions::nonce_close_request::handler(ctx)
    }

    /// Closes the nonce account after the delay, returning its lamports to the owner.
    #[access_control(ctx.accounts.validate())]
    pub fn nonce_close_execute(ctx: Context<NonceCloseExecute>) -> Result<()> {
        instructions::nonce_close_execute::handler(ctx)
    }

    /// Settles the intents signed in the preceding Ed25519 precompile instruction.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn intent_settle<'info>(
        ctx: Context<'info, IntentSettle<'info>>,
        args: IntentSettleArgs,
    ) -> Result<()> {
        instructions::intent_settle::handler(ctx, args)
    }

    /// Settles intents whose signatures the program verifies itself, over bytes rebuilt from
    /// the accounts (no precompile instruction, no per-signature fee).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn intent_settle_compact<'info>(
        ctx: Context<'info, IntentSettleCompact<'info>>,
        args: IntentSettleCompactArgs,
    ) -> Result<()> {
        instructions::intent_settle_compact::handler(ctx, args)
    }
}
