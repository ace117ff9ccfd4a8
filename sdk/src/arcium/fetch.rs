//! Fetching the MXE's X25519 key through [`Cluster`]: one read ([`fetch_mxe`]), a retry loop
//! that waits until the nodes have set the key ([`wait_for_key`]), and a small time-bounded
//! cache ([`MxeKeyCache`]) for a device or a relayer that encrypts many intents under one key.

use super::account::MxeAccount;
use super::cipher::MxePublicKey;
use super::pda::{mxe_account, ARCIUM_PROGRAM_ID};
use super::ArciumError;
use crate::cluster::Cluster;
use solana_pubkey::Pubkey;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// An MXE key with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxeKey {
    /// The X25519 key.
    pub key: MxePublicKey,
    /// The `MXEAccount` address it was read from.
    pub address: Pubkey,
    /// The decoded account (cluster offset, computation definitions…).
    pub account: MxeAccount,
    /// The cluster's slot read just before the account: the account is at least this new
    /// (a device can re-read it with `minContextSlot` to check what a relayer served).
    pub slot: u64,
}

/// How [`wait_for_key`] retries: `attempts` reads in all, the delay doubling from
/// `initial_delay` up to `max_delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Reads in all (at least 1).
    pub attempts: u32,
    /// Delay after the first failed read.
    pub initial_delay: Duration,
    /// Longest delay between reads.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 8 reads over roughly 30 s (0.25, 0.5, 1, 2, 4, 8, 8 s apart).
    fn default() -> Self {
        RetryPolicy {
            attempts: 8,
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// Reads and decodes the `MXEAccount` of `mxe_program` once, checking that the Arcium program
/// owns it and that it belongs to `mxe_program`. The key may still be unset.
pub async fn fetch_mxe(
    cluster: &dyn Cluster,
    mxe_program: &Pubkey,
) -> Result<(Pubkey, MxeAccount), ArciumError> {
    let address = mxe_account(mxe_program);
    let account = cluster
        .account(&address)
        .await?
        .ok_or_else(|| ArciumError::AccountMissing(address.to_string()))?;
    if account.owner != ARCIUM_PROGRAM_ID {
        return Err(ArciumError::Account(format!(
            "owned by {}, not the Arcium program",
            account.owner
        )));
    }
    let mxe = MxeAccount::decode(&account.data)?;
    if mxe.mxe_program_id != *mxe_program {
        return Err(ArciumError::Account(
            "belongs to another MXE program".into(),
        ));
    }
    Ok((address, mxe))
}

/// Reads the MXE key, retrying while the key is unset, the account does not exist yet, or the
/// cluster call fails transiently; other errors return at once. After the last attempt the
/// last error is returned ([`ArciumError::MxeKeyUnset`] if the nodes never set the key).
pub async fn wait_for_key(
    cluster: &dyn Cluster,
    mxe_program: &Pubkey,
    policy: RetryPolicy,
) -> Result<MxeKey, ArciumError> {
    let mut delay = policy.initial_delay;
    let mut attempt = 1;
    loop {
        let result = match cluster.slot().await {
            Ok(slot) => fetch_mxe(cluster, mxe_program)
                .await
                .and_then(|(address, account)| {
                    Ok(MxeKey {
                        key: account.x25519_key()?,
                        address,
                        account,
                        slot,
                    })
                }),
            Err(e) => Err(ArciumError::Cluster(e)),
        };
        let retry = match &result {
            Ok(_) => false,
            Err(ArciumError::MxeKeyUnset | ArciumError::AccountMissing(_)) => true,
            Err(ArciumError::Cluster(e)) => e.is_transient(),
            Err(_) => false,
        };
        if !retry || attempt >= policy.attempts.max(1) {
            return result;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(policy.max_delay);
        attempt += 1;
    }
}

/// Caches the MXE key of one MXE program for `ttl`; concurrent callers share one fetch.
pub struct MxeKeyCache {
    mxe_program: Pubkey,
    ttl: Duration,
    policy: RetryPolicy,
    entry: Mutex<Option<(MxeKey, Instant)>>,
}

impl MxeKeyCache {
    /// A cache for `mxe_program`'s key, fresh for `ttl`, filled with `policy`.
    pub fn new(mxe_program: Pubkey, ttl: Duration, policy: RetryPolicy) -> MxeKeyCache {
        MxeKeyCache {
            mxe_program,
            ttl,
            policy,
            entry: Mutex::new(None),
        }
    }

    /// The cached key if fresh, else a new read (with retry) that replaces it.
    pub async fn get(&self, cluster: &dyn Cluster) -> Result<MxeKey, ArciumError> {
        let mut entry = self.entry.lock().await;
        if let Some((key, at)) = entry.as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(key.clone());
            }
        }
        let key = wait_for_key(cluster, &self.mxe_program, self.policy).await?;
        *entry = Some((key.clone(), Instant::now()));
        Ok(key)
    }

    /// The cached key, fresh or not, without touching the cluster (a device offline).
    pub async fn cached(&self) -> Option<MxeKey> {
        self.entry.lock().await.as_ref().map(|(k, _)| k.clone())
    }

    /// Drops the cached key (e.g. after the MXE rejected a computation for a stale key).
    pub async fn invalidate(&self) {
        *self.entry.lock().await = None;
    }
}
