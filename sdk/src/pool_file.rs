//! The pool file a device caches before going offline (`toss nonce list` writes it): the
//! owner's nonce accounts and their current values. `toss intent create` reads it, offline.
//!
//! ```json
//! {"owner": "<base58>", "nonces": [{"index": 0, "address": "<base58>", "value": "<base58>"}]}
//! ```

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
}

/// The cached pool of one owner.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PoolFile {
    /// The owner (base58).
    pub owner: String,
    /// Its nonces.
    pub nonces: Vec<CachedNonce>,
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
