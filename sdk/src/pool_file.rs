//! The pool file a device caches before going offline (`toss nonce list` writes it): the
//! owner's nonce accounts and their current values. `toss intent create` reads it, offline.
//!
//! ```json
//! {"owner": "<base58>", "nonces": [{"index": 0, "address": "<base58>", "value": "<base58>",
//!   "close": {"unlocks_at": 0, "window_ends_at": 0}}],
//!  "vault": {"synced_at": 0, "spendable": 0, "max_intent_lifetime_secs": 0,
//!            "min_withdrawal_delay_secs": 0,
//!            "pending_withdrawal": {"amount": 0, "unlocks_at": 0, "window_ends_at": 0}}}
//! ```
//! `close` (a pending close request of that nonce) and `pending_withdrawal` are present only
//! when pending; `vault` is what a payee needs to reserve against a pending withdrawal
//! ([`crate::payee`]). Files written before these fields existed still parse.

use crate::SdkError;
use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;
use std::str::FromStr;

/// One cached nonce.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CachedNonce {
    /// Pool index (seed `toss-nonce-{index}`).
    pub index: u32,
    /// Nonce account address (base58).
    pub address: String,
    /// Its durable nonce value when cached (base58, 32 bytes).
    pub value: String,
    /// A pending close request of this nonce, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<PendingWindow>,
}

/// When a pending withdrawal or nonce close may execute: from `unlocks_at` (later if
/// settlement is paused meanwhile) until `window_ends_at`, after which it lapses.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingWindow {
    /// Unix seconds from which it may execute.
    pub unlocks_at: i64,
    /// Unix seconds after which it can no longer execute.
    pub window_ends_at: i64,
}

impl PendingWindow {
    /// True when it could execute at some moment in `[from, until]`.
    pub fn could_execute_between(&self, from: i64, until: i64) -> bool {
        self.unlocks_at <= until && self.window_ends_at >= from
    }
}

/// A pending vault withdrawal.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingWithdrawal {
    /// Lamports requested.
    pub amount: u64,
    /// Unix seconds from which it may execute.
    pub unlocks_at: i64,
    /// Unix seconds after which it lapses.
    pub window_ends_at: i64,
}

impl PendingWithdrawal {
    /// Its execution window.
    pub fn window(&self) -> PendingWindow {
        PendingWindow {
            unlocks_at: self.unlocks_at,
            window_ends_at: self.window_ends_at,
        }
    }
}

/// The owner's vault and the program bounds, as synced.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct VaultSnapshot {
    /// Cluster unix time of the sync.
    pub synced_at: i64,
    /// Lamports above the vault's rent floor (0 without a vault).
    pub spendable: u64,
    /// The program's max intent lifetime in force at `synced_at`.
    pub max_intent_lifetime_secs: i64,
    /// The shortest withdrawal delay in force or scheduled at `synced_at`: a request made after
    /// the sync cannot execute before `synced_at + this + 1`.
    #[serde(default)]
    pub min_withdrawal_delay_secs: i64,
    /// The pending withdrawal, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_withdrawal: Option<PendingWithdrawal>,
}

/// The cached pool of one owner.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PoolFile {
    /// The owner (base58).
    pub owner: String,
    /// Its nonces.
    pub nonces: Vec<CachedNonce>,
    /// The vault and bounds at the sync (absent in files written by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultSnapshot>,
}

fn bad(reason: &'static str) -> SdkError {
    SdkError::Encoding(reason)
}

impl PoolFile {
    /// Parses a pool file's text.
    pub fn parse(text: &str) -> Result<Self, SdkError> {
        serde_json::from_str(text)
            .map_err(|_| bad("pool file is not valid JSON of the pool format"))
    }

    /// The cached entry of nonce account `address`, if the pool has it.
    pub fn entry_of(&self, address: &Pubkey) -> Option<&CachedNonce> {
        let text = address.to_string();
        self.nonces.iter().find(|n| n.address == text)
    }

    /// The nonce account and value at pool `index`, checked.
    pub fn nonce(&self, index: u32) -> Result<(Pubkey, [u8; 32]), SdkError> {
        let entry = self
            .nonces
            .iter()
            .find(|n| n.index == index)
            .ok_or(bad("no nonce with that index in the pool file"))?;
        let address =
            Pubkey::from_str(&entry.address).map_err(|_| bad("nonce address is not base58"))?;
        let value: [u8; 32] = bs58::decode(&entry.value)
            .into_vec()
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(bad("nonce value is not 32 bytes of base58"))?;
        Ok((address, value))
    }
}
