//! The program's single error enum. Append only: never reorder or remove a variant, clients
//! match on the numeric codes (6000 + position).

use anchor_lang::prelude::*;

#[error_code]
#[derive(PartialEq, Eq)]
pub enum TossError {
    #[msg("Signer is not the config admin")]
    Unauthorized,
    #[msg("Signer is not the program's upgrade authority")]
    NotUpgradeAuthority,
    #[msg("Intent lifetime bound is out of range")]
    LifetimeOutOfBounds,
    #[msg("Relayer fee cap is out of range")]
    FeeCapOutOfBounds,
    #[msg("Withdrawal delay is out of range or shorter than the intent lifetime")]
    WithdrawalDelayOutOfBounds,
    #[msg("Settlement is paused")]
    Paused,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Account is not the instructions sysvar")]
    InvalidInstructionsSysvar,
    #[msg("Account is not the recent blockhashes sysvar")]
    InvalidRecentBlockhashesSysvar,
    #[msg("The instruction before intent_settle is not an Ed25519 precompile instruction")]
    PrecompileMissing,
    #[msg("The Ed25519 precompile instruction must not carry accounts")]
    PrecompileHasAccounts,
    #[msg("Ed25519 precompile data is malformed or not in canonical layout")]
    PrecompileMalformed,
    #[msg("An Ed25519 offsets entry refers to another instruction's data")]
    PrecompileForeignInstructionIndex,
    #[msg("Ed25519 signature count does not match the number of intents")]
    SignatureCountMismatch,
    #[msg("Intent bytes are malformed")]
    MalformedIntent,
    #[msg("Intent format version is not supported")]
    UnsupportedIntentVersion,
    #[msg("Intent kind is not supported")]
    UnsupportedIntentKind,
    #[msg("Batch is empty or larger than the maximum")]
    BatchSize,
    #[msg("Remaining accounts do not match the intents")]
    AccountCountMismatch,
    #[msg("Vault account does not belong to the intent's sender")]
    VaultMismatch,
    #[msg("Nonce account does not match the intent")]
    NonceAccountMismatch,
    #[msg("Nonce authority account is not the sender's nonce-authority PDA")]
    NonceAuthorityAccountMismatch,
    #[msg("Recipient account does not match the intent")]
    RecipientMismatch,
    #[msg("An account that must be writable is not")]
    AccountNotWritable,
    #[msg("Requested relayer fee exceeds the intent's max fee")]
    FeeExceedsIntentMax,
    #[msg("Requested relayer fee exceeds the configured cap")]
    FeeExceedsCap,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("Account is not the program's ProgramData account")]
    InvalidProgramData,
    #[msg("No withdrawal is pending")]
    NoWithdrawalPending,
    #[msg("The withdrawal delay has not passed yet")]
    WithdrawalLocked,
    #[msg("Account is not an initialized durable nonce account of the signer's nonce authority")]
    NotOwnNonce,
    #[msg("The nonce close delay has not passed yet")]
    NonceCloseLocked,
    #[msg("Signer is not the proposed admin")]
    NotPendingAdmin,
    #[msg("Delegate account is not the sender's delegate PDA")]
    DelegateMismatch,
    #[msg("Mint account does not match the intent")]
    MintMismatch,
    #[msg("Token program is not SPL Token or Token-2022, or does not own the mint")]
    InvalidTokenProgram,
    #[msg("The mint has a Token-2022 extension that breaks offline-payment guarantees")]
    UnsupportedMintExtension,
    #[msg("Source is not the sender's token account for the intent's mint")]
    SourceMismatch,
    #[msg("Destination is not the recipient's token account for the intent's mint")]
    DestinationMismatch,
    #[msg("Relayer fee account is not a token account of the intent's mint")]
    FeeAccountMismatch,
    #[msg("Withdrawal window is out of range")]
    WithdrawalWindowOutOfBounds,
    #[msg("The withdrawal's execution window has passed; request it again")]
    WithdrawalLapsed,
    #[msg("The nonce close's execution window has passed; request it again")]
    NonceCloseLapsed,
    #[msg("A close request for this nonce is pending")]
    NonceClosePending,
    #[msg("The config's pause clock is inconsistent")]
    InvalidPauseClock,
}
