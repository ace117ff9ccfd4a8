//! Events the relayer watches. Each is logged with `sol_log_data` (Anchor `emit!`), keyed by the
//! intent id where one applies.

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

/// Largest serialized event, discriminator included.
const EVENT_BUF_LEN: usize = 192;

/// Logs `event` exactly as Anchor's `emit!` does (`sol_log_data` of discriminator || borsh),
/// but serialized into a stack buffer (no heap allocation per intent) and routed through the
/// syscall stubs off-chain, so native program-test runs log events too.
pub fn emit_event<E: AnchorSerialize + Discriminator>(event: &E) -> Result<()> {
    let mut buf = [0u8; EVENT_BUF_LEN];
    let disc = E::DISCRIMINATOR;
    let (head, mut body) = buf.split_at_mut(disc.len());
    head.copy_from_slice(disc);
    let room = body.len();
    event
        .serialize(&mut body)
        .map_err(|_| crate::error::TossError::ArithmeticOverflow)?;
    let len = disc.len() + room - body.len();
    log_data(&[&buf[..len]]);
    Ok(())
}

#[cfg(target_os = "solana")]
fn log_data(data: &[&[u8]]) {
    anchor_lang::solana_program::log::sol_log_data(data);
}

/// Native builds (tests only): program-test 3.1's stubs print `sol_log_data` to stdout instead
/// of the transaction logs, so the same bytes are logged as `Program log: Program data: <b64>`.
#[cfg(not(target_os = "solana"))]
fn log_data(data: &[&[u8]]) {
    use base64::Engine as _;
    for field in data {
        let b64 = base64::engine::general_purpose::STANDARD.encode(field);
        solana_sysvar::program_stubs::sol_log(&alloc::format!("Program data: {b64}"));
    }
}

/// Why `intent_settle` skipped one intent. Nothing of that intent moved: no lamports, no nonce.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The Clock's unix timestamp is past the intent's expiry.
    Expired,
    /// The intent expires further in the future than the configured max lifetime allows.
    LifetimeTooLong,
    /// The nonce account is not owned by the system program.
    NonceNotSystemOwned,
    /// The nonce account is not an initialized (current-version) durable nonce account.
    NonceNotInitialized,
    /// The nonce account's authority is not the sender's nonce-authority PDA.
    NonceAuthorityMismatch,
    /// The stored durable nonce differs from the intent's nonce value (already used, or stale).
    StaleNonce,
    /// The nonce was set in the current slot and cannot be advanced until the next one.
    NonceNotAdvanceable,
    /// The vault's balance above its rent-exempt floor is below amount + fee.
    InsufficientFunds,
    /// amount + fee, or the recipient's new balance, overflows u64.
    Overflow,
    /// The recipient would be left below its rent-exempt minimum.
    RecipientNotRentExempt,
    /// The recipient is an executable account, whose balance cannot change.
    RecipientExecutable,
    /// Token intent: the delegate's allowance on the source is missing, revoked or below
    /// amount + fee.
    AllowanceExceeded,
    /// Token intent: the source, destination or fee account is frozen.
    AccountFrozen,
    /// Token intent: a token account carries an extension that would make the transfer fail
    /// (e.g. memo-required transfers, confidential transfers).
    UnsupportedAccount,
    /// The recipient (SOL) cannot be written in this transaction: the runtime demotes sysvars,
    /// builtin programs and other reserved accounts to read-only whatever the message says.
    RecipientNotWritable,
    /// Token intent: the source account is no longer the sender's token account for the mint
    /// (closed, reassigned, or another mint).
    SourceUnavailable,
    /// Token intent: the destination is no longer the recipient's token account for the mint.
    DestinationUnavailable,
    /// Token intent: the mint is not owned by the token program, cannot be read, or carries a
    /// Token-2022 extension that breaks offline-payment guarantees.
    UnsupportedMint,
    /// Compact form (`intent_settle_compact`): the signature does not verify over the intent
    /// bytes rebuilt from the accounts and the instruction data (a forged signature, or data
    /// that is not what the payer signed).
    BadSignature,
}

/// An intent settled: `amount` went from the sender's vault to `recipient`, `fee` to the relayer,
/// and the nonce advanced.
#[event]
pub struct IntentSettled {
    /// SHA-256 of the intent's canonical bytes.
    pub id: [u8; 32],
    pub sender: Pubkey,
    pub recipient: Pubkey,
    /// Lamports paid to the recipient.
    pub amount: u64,
    /// Lamports paid to the relayer.
    pub fee: u64,
}

/// An intent was skipped; nothing of it changed.
#[event]
pub struct IntentRejected {
    /// SHA-256 of the intent's canonical bytes.
    pub id: [u8; 32],
    pub reason: RejectReason,
}

/// Compact form (`intent_settle_compact`): an intent whose signed bytes cannot be rebuilt,
/// because its nonce account no longer holds the durable nonce the entry names (advanced since
/// signing, closed, or not a nonce account) or its sender has no vault. Such an intent can
/// never settle; without its bytes it has no id, so it is named by its nonce account and the
/// nonce prefix the submitter gave.
#[event]
pub struct CompactIntentRejected {
    /// The entry's nonce account.
    pub nonce_account: Pubkey,
    /// The first bytes of the durable nonce the entry was signed over.
    pub nonce_hint: [u8; 4],
    pub reason: RejectReason,
}

/// The config was created.
#[event]
pub struct ConfigInitialized {
    pub admin: Pubkey,
    pub max_intent_lifetime_secs: i64,
    pub max_relayer_fee: u64,
    pub withdrawal_delay_secs: i64,
    pub paused: bool,
    pub withdrawal_window_secs: i64,
}

/// Settlement was paused or resumed.
#[event]
pub struct PausedSet {
    pub paused: bool,
}

/// Lamports were added to a vault.
#[event]
pub struct VaultDeposited {
    pub owner: Pubkey,
    /// Lamports added.
    pub amount: u64,
    /// Vault lamports after the deposit, rent floor included.
    pub balance: u64,
}

/// The owner asked to withdraw; executable from `unlocks_at` (later by any pause meanwhile)
/// until `window_ends_at`.
#[event]
pub struct VaultWithdrawalRequested {
    pub owner: Pubkey,
    /// Lamports requested.
    pub amount: u64,
    /// Unix seconds from which `vault_withdraw_execute` may run, if settlement is not paused
    /// meanwhile.
    pub unlocks_at: i64,
    /// Unix seconds after which the request lapses.
    pub window_ends_at: i64,
}

/// A pending withdrawal passed its window without executing; it was cleared when the owner
/// made a new request or cancelled.
#[event]
pub struct VaultWithdrawalLapsed {
    pub owner: Pubkey,
    /// Lamports that had been requested.
    pub amount: u64,
}

/// A withdrawal executed.
#[event]
pub struct VaultWithdrawn {
    pub owner: Pubkey,
    /// Lamports requested.
    pub requested: u64,
    /// Lamports paid out: the request, or what was left above the rent floor if less.
    pub amount: u64,
}

/// A pending withdrawal was cancelled.
#[event]
pub struct VaultWithdrawalCancelled {
    pub owner: Pubkey,
}

/// The owner asked to close a nonce account; executable from `unlocks_at` (later by any pause
/// meanwhile) until `window_ends_at`.
#[event]
pub struct NonceCloseRequested {
    pub owner: Pubkey,
    pub nonce: Pubkey,
    /// Unix seconds from which `nonce_close_execute` may run.
    pub unlocks_at: i64,
    /// Unix seconds after which the request lapses.
    pub window_ends_at: i64,
}

/// A nonce close request passed its window without executing; it was replaced by a new one.
#[event]
pub struct NonceCloseLapsed {
    pub owner: Pubkey,
    pub nonce: Pubkey,
}

/// A nonce account was closed; its lamports went to the owner.
#[event]
pub struct NonceClosed {
    pub owner: Pubkey,
    pub nonce: Pubkey,
    /// Lamports returned.
    pub lamports: u64,
}

/// The admin proposed a successor.
#[event]
pub struct AdminProposed {
    pub admin: Pubkey,
    pub proposed: Pubkey,
}

/// The proposed admin accepted.
#[event]
pub struct AdminAccepted {
    pub previous: Pubkey,
    pub admin: Pubkey,
}

/// The admin changed the bounds: in force from `effective_at` (the update's own time when
/// nothing in it can void held intents; one max intent lifetime later otherwise).
#[event]
pub struct ConfigUpdated {
    pub max_intent_lifetime_secs: i64,
    pub max_relayer_fee: u64,
    pub withdrawal_delay_secs: i64,
    pub withdrawal_window_secs: i64,
    /// Unix seconds from which the new bounds apply.
    pub effective_at: i64,
}
