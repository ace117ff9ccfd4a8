//! Settling one SPL token intent (Token or Token-2022): the payer's tokens stay in the payer's
//! own account until settlement and move with `transfer_checked`, signed by the payer's
//! delegate PDA within the allowance the payer approved online.
//!
//! Token-2022 mints are accepted only with extensions that keep the offline guarantees
//! ([`SUPPORTED_MINT_EXTENSIONS`]); token accounts only with [`SUPPORTED_ACCOUNT_EXTENSIONS`].

use super::{bind_nonce, check_intent, read_vault, writable, Bound, SettleContext};
use crate::constants::{DELEGATE_SEED, TOKEN_INTENT_ACCOUNTS};
use crate::error::TossError;
use crate::events::RejectReason;
use crate::intent::Intent;
use crate::nonce;
use crate::state::VaultHeader;
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
    state::{Account as TokenAccountState, AccountState, Mint},
};
use anchor_spl::token_interface::{self, TransferChecked};

/// Mint extensions that leave "the recipient gets exactly the signed amount, from the payer's
/// allowance, whenever a relayer submits it" intact: metadata and grouping, close authority,
/// display-only interest and UI scaling, and a default account state (frozen accounts are
/// rejected per intent). Everything else is refused, notably transfer hooks, transfer fees,
/// confidential transfers and mint/burn, non-transferable tokens, permanent delegates (who
/// could drain the payer's account after a merchant accepted an intent) and pausable mints.
pub const SUPPORTED_MINT_EXTENSIONS: &[ExtensionType] = &[
    ExtensionType::MintCloseAuthority,
    ExtensionType::DefaultAccountState,
    ExtensionType::InterestBearingConfig,
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
    ExtensionType::ScaledUiAmount,
];

/// Token-account extensions a delegate transfer by CPI works with.
pub const SUPPORTED_ACCOUNT_EXTENSIONS: &[ExtensionType] =
    &[ExtensionType::ImmutableOwner, ExtensionType::CpiGuard];

/// What settlement needs of a token account, parsed once.
#[derive(Clone, Copy, Debug)]
pub struct TokenAccountView {
    /// Token balance.
    pub amount: u64,
    /// Delegate and its remaining allowance.
    pub delegate: Option<(Pubkey, u64)>,
    /// Frozen by the mint's freeze authority.
    pub frozen: bool,
    /// Only supported extensions.
    pub supported: bool,
}

/// What a token account must be; `err` names the mismatch.
struct Expected<'a> {
    token_program: &'a Pubkey,
    mint: &'a Pubkey,
    owner: Option<&'a Pubkey>,
    err: TossError,
}

/// Parses a token account and checks it against `expected`.
fn token_account(info: &AccountInfo, expected: &Expected) -> Result<TokenAccountView> {
    let Expected {
        token_program,
        mint,
        owner,
        err,
    } = *expected;
    require_keys_eq!(*info.owner, *token_program, err);
    let data = info.try_borrow_data()?;
    let state = StateWithExtensions::<TokenAccountState>::unpack(&data).map_err(|_| err)?;
    require_keys_eq!(state.base.mint, *mint, err);
    if let Some(owner) = owner {
        require_keys_eq!(state.base.owner, *owner, err);
    }
    let supported = state
        .get_extension_types()
        .map(|types| {
            types
                .iter()
                .all(|t| SUPPORTED_ACCOUNT_EXTENSIONS.contains(t))
        })
        .unwrap_or(false);
    Ok(TokenAccountView {
        amount: state.base.amount,
        delegate: Option::<Pubkey>::from(state.base.delegate)
            .map(|d| (d, state.base.delegated_amount)),
        frozen: state.base.state == AccountState::Frozen,
        supported,
    })
}

/// What settlement requires of a recipient's token account, for off-chain callers (the
/// relayer's intake): why a payment into an account with `data` would be rejected, if it
/// would. The same rules as [`token_account`] and [`TokenIntentAccounts::check`]; the account's
/// owning program is the caller's to check.
pub fn destination_rejection(data: &[u8], mint: &Pubkey, owner: &Pubkey) -> Option<RejectReason> {
    let Ok(state) = StateWithExtensions::<TokenAccountState>::unpack(data) else {
        return Some(RejectReason::DestinationUnavailable);
    };
    if state.base.mint != *mint || state.base.owner != *owner {
        return Some(RejectReason::DestinationUnavailable);
    }
    if state.base.state == AccountState::Frozen {
        return Some(RejectReason::AccountFrozen);
    }
    let supported = state
        .get_extension_types()
        .map(|types| {
            types
                .iter()
                .all(|t| SUPPORTED_ACCOUNT_EXTENSIONS.contains(t))
        })
        .unwrap_or(false);
    (!supported).then_some(RejectReason::UnsupportedAccount)
}

/// The mint's decimals, if it is a mint of `token_program` whose extensions are all
/// supported. Per intent: a payer may pick (or close) such a mint, which must not sink a batch.
fn mint_decimals(
    info: &AccountInfo,
    token_program: &Pubkey,
) -> core::result::Result<u8, RejectReason> {
    if *info.owner != *token_program {
        return Err(RejectReason::UnsupportedMint);
    }
    let data = info
        .try_borrow_data()
        .map_err(|_| RejectReason::UnsupportedMint)?;
    let state =
        StateWithExtensions::<Mint>::unpack(&data).map_err(|_| RejectReason::UnsupportedMint)?;
    let types = state
        .get_extension_types()
        .map_err(|_| RejectReason::UnsupportedMint)?;
    if !types.iter().all(|t| SUPPORTED_MINT_EXTENSIONS.contains(t)) {
        return Err(RejectReason::UnsupportedMint);
    }
    Ok(state.base.decimals)
}

/// The accounts one token intent brings, in remaining-accounts order.
pub struct TokenIntentAccounts<'a, 'info> {
    /// The intent's durable nonce account (writable): advanced.
    pub nonce: &'a AccountInfo<'info>,
    /// The sender's nonce-authority PDA.
    pub nonce_authority: &'a AccountInfo<'info>,
    /// The sender's delegate PDA: signs the transfers.
    pub delegate: &'a AccountInfo<'info>,
    /// The sender's token account for the mint (writable).
    pub source: &'a AccountInfo<'info>,
    /// The recipient's token account for the mint (writable).
    pub destination: &'a AccountInfo<'info>,
    /// The relayer's token account for the mint (writable): receives the fee.
    pub fee_destination: &'a AccountInfo<'info>,
    /// The intent's mint.
    pub mint: &'a AccountInfo<'info>,
    /// SPL Token or Token-2022, owner of the mint.
    pub token_program: &'a AccountInfo<'info>,
    /// The vault's fields.
    pub header: VaultHeader,
    /// The mint's decimals, or why the mint cannot be used (a per-intent rejection).
    pub decimals: core::result::Result<u8, RejectReason>,
    /// Source and destination, parsed, or why they cannot be used (per-intent rejections:
    /// the payer controls the source and may name a recipient that closes its account).
    pub ends: core::result::Result<[TokenAccountView; 2], RejectReason>,
    /// The relayer's fee account, parsed (the relayer's own choice: checked structurally).
    pub fee_view: TokenAccountView,
}

impl<'a, 'info> TokenIntentAccounts<'a, 'info> {
    /// Takes the intent's accounts off `remaining` and checks that they are the intent's.
    pub fn bind(
        remaining: &mut &'a [AccountInfo<'info>],
        intent: &Intent,
        mint_key: &Pubkey,
    ) -> Result<Bound<Self>> {
        let (group, rest) = remaining
            .split_at_checked(TOKEN_INTENT_ACCOUNTS)
            .ok_or(TossError::AccountCountMismatch)?;
        *remaining = rest;
        let [vault, nonce, nonce_authority, delegate, source, destination, fee_destination, mint, token_program] =
            group
        else {
            return err!(TossError::AccountCountMismatch);
        };
        let Some(header) = read_vault(vault, intent)? else {
            return Ok(Bound::NoVault);
        };
        bind_nonce(nonce, nonce_authority, intent, &header)?;
        require_keys_eq!(*delegate.key, header.delegate, TossError::DelegateMismatch);
        require_keys_eq!(*mint.key, *mint_key, TossError::MintMismatch);
        require!(
            *token_program.key == anchor_spl::token::ID
                || *token_program.key == anchor_spl::token_2022::ID,
            TossError::InvalidTokenProgram
        );
        let decimals = mint_decimals(mint, token_program.key);
        fn expect<'k>(
            token_program: &'k Pubkey,
            mint: &'k Pubkey,
            owner: Option<&'k Pubkey>,
            err: TossError,
        ) -> Expected<'k> {
            Expected {
                token_program,
                mint,
                owner,
                err,
            }
        }
        let program = token_program.key;
        let source_view = token_account(
            source,
            &expect(
                program,
                mint_key,
                Some(&intent.sender),
                TossError::SourceMismatch,
            ),
        )
        .map_err(|_| RejectReason::SourceUnavailable);
        let destination_view = token_account(
            destination,
            &expect(
                program,
                mint_key,
                Some(&intent.recipient),
                TossError::DestinationMismatch,
            ),
        )
        .map_err(|_| RejectReason::DestinationUnavailable);
        let ends = source_view.and_then(|s| destination_view.map(|d| [s, d]));
        let fee_view = token_account(
            fee_destination,
            &expect(program, mint_key, None, TossError::FeeAccountMismatch),
        )?;
        super::nonce_writable(nonce)?;
        for info in [source, destination, fee_destination] {
            writable(info)?;
        }
        Ok(Bound::Accounts(Self {
            nonce,
            nonce_authority,
            delegate,
            source,
            destination,
            fee_destination,
            mint,
            token_program,
            header,
            decimals,
            ends,
            fee_view,
        }))
    }

    /// Chain-state checks; reads only. Returns amount + fee.
    pub fn check(
        &self,
        intent: &Intent,
        fee: u64,
        cx: &SettleContext,
    ) -> core::result::Result<u64, RejectReason> {
        let total = check_intent(self.nonce, &self.header, intent, fee, cx)?;
        self.decimals?;
        let [source, destination] = self.ends?;
        let fee_account = self.fee_view;
        if source.frozen || destination.frozen || (fee > 0 && fee_account.frozen) {
            return Err(RejectReason::AccountFrozen);
        }
        if !source.supported || !destination.supported || (fee > 0 && !fee_account.supported) {
            return Err(RejectReason::UnsupportedAccount);
        }
        match source.delegate {
            Some((delegate, allowance))
                if delegate == self.header.delegate && allowance >= total => {}
            _ => return Err(RejectReason::AllowanceExceeded),
        }
        if source.amount < total {
            return Err(RejectReason::InsufficientFunds);
        }
        Ok(total)
    }

    /// Advances the nonce, then transfers amount to the recipient and the fee to the relayer.
    pub fn settle(
        &self,
        intent: &Intent,
        fee: u64,
        recent_blockhashes: &AccountInfo<'info>,
    ) -> Result<()> {
        nonce::advance(
            self.nonce,
            recent_blockhashes,
            self.nonce_authority,
            &intent.sender,
            self.header.nonce_authority_bump,
        )?;
        self.transfer(intent, self.destination, intent.amount)?;
        if fee > 0 {
            self.transfer(intent, self.fee_destination, fee)?;
        }
        Ok(())
    }

    fn transfer(&self, intent: &Intent, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        let decimals = self
            .decimals
            .map_err(|_| TossError::UnsupportedMintExtension)?;
        let bump = [self.header.delegate_bump];
        let seeds: &[&[u8]] = &[DELEGATE_SEED, intent.sender.as_ref(), &bump];
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                *self.token_program.key,
                TransferChecked {
                    from: self.source.clone(),
                    mint: self.mint.clone(),
                    to: to.clone(),
                    authority: self.delegate.clone(),
                },
                &[seeds],
            ),
            amount,
            decimals,
        )
    }
}
