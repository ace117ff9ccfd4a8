//! Fetching the MXE key through the `Cluster` trait: retry until the nodes set the key, give up
//! with `MxeKeyUnset`, refuse foreign accounts, and cache.

use crate::account::fixture;
use async_trait::async_trait;
use solana_account::Account;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use toss_sdk::arcium::fetch::{wait_for_key, MxeKeyCache, RetryPolicy};
use toss_sdk::arcium::pda::{mxe_account, ARCIUM_PROGRAM_ID};
use toss_sdk::arcium::ArciumError;
use toss_sdk::cluster::{Cluster, ClusterError, ClusterResult, TxStatus};

/// Serves one MXE account whose key becomes set after `set_after` reads; the first read may
/// fail transiently.
struct FakeCluster {
    program: Pubkey,
    owner: Pubkey,
    set_after: u32,
    flaky_first: bool,
    reads: AtomicU32,
    log: Mutex<Vec<Pubkey>>,
}

impl FakeCluster {
    fn new(program: Pubkey, set_after: u32) -> FakeCluster {
        FakeCluster {
            program,
            owner: ARCIUM_PROGRAM_ID,
            set_after,
            flaky_first: false,
            reads: AtomicU32::new(0),
            log: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl Cluster for FakeCluster {
    async fn latest_blockhash(&self) -> ClusterResult<(Hash, u64)> {
        Err(ClusterError::Other("unused".into()))
    }
    async fn block_height(&self) -> ClusterResult<u64> {
        Err(ClusterError::Other("unused".into()))
    }
    async fn send(&self, _: &VersionedTransaction) -> ClusterResult<Signature> {
        Err(ClusterError::Other("unused".into()))
    }
    async fn statuses(&self, _: &[Signature]) -> ClusterResult<Vec<Option<TxStatus>>> {
        Err(ClusterError::Other("unused".into()))
    }
    async fn logs(&self, _: &Signature) -> ClusterResult<Option<Vec<String>>> {
        Err(ClusterError::Other("unused".into()))
    }
    async fn accounts(&self, keys: &[Pubkey]) -> ClusterResult<Vec<Option<Account>>> {
        let n = self.reads.fetch_add(1, Ordering::SeqCst);
        self.log.lock().unwrap().extend_from_slice(keys);
        if self.flaky_first && n == 0 {
            return Err(ClusterError::Timeout);
        }
        let key = (n >= self.set_after).then_some([0x77; 32]);
        Ok(keys
            .iter()
            .map(|k| {
                (*k == mxe_account(&self.program)).then(|| Account {
                    lamports: 1,
                    data: fixture(&self.program, key),
                    owner: self.owner,
                    executable: false,
                    rent_epoch: 0,
                })
            })
            .collect())
    }
    async fn minimum_rent(&self, _: usize) -> ClusterResult<u64> {
        Err(ClusterError::Other("unused".into()))
    }
    async fn slot(&self) -> ClusterResult<u64> {
        Ok(4_242)
    }
    async fn unix_time(&self) -> ClusterResult<i64> {
        Err(ClusterError::Other("unused".into()))
    }
}

fn quick(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    }
}

#[tokio::test]
async fn waits_until_the_nodes_set_the_key() {
    let program = Pubkey::new_unique();
    let mut cluster = FakeCluster::new(program, 3);
    cluster.flaky_first = true;
    let key = wait_for_key(&cluster, &program, quick(10)).await.unwrap();
    assert_eq!(key.key.to_bytes(), [0x77; 32]);
    assert_eq!(key.address, mxe_account(&program));
    assert_eq!(key.account.cluster, 7);
    assert_eq!(cluster.reads.load(Ordering::SeqCst), 4);
    assert!(cluster
        .log
        .lock()
        .unwrap()
        .iter()
        .all(|k| *k == mxe_account(&program)));
}

#[tokio::test]
async fn gives_up_with_unset_after_the_last_attempt() {
    let program = Pubkey::new_unique();
    let cluster = FakeCluster::new(program, u32::MAX);
    let err = wait_for_key(&cluster, &program, quick(3))
        .await
        .unwrap_err();
    assert_eq!(err, ArciumError::MxeKeyUnset);
    assert_eq!(cluster.reads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn refuses_accounts_the_arcium_program_does_not_own_or_of_another_mxe() {
    let program = Pubkey::new_unique();
    let mut cluster = FakeCluster::new(program, 0);
    cluster.owner = Pubkey::new_unique();
    let err = wait_for_key(&cluster, &program, quick(5))
        .await
        .unwrap_err();
    assert!(matches!(err, ArciumError::Account(m) if m.contains("not the Arcium program")));
    assert_eq!(cluster.reads.load(Ordering::SeqCst), 1, "not retried");
    // An account that does not exist (an MXE program with no MXE) is retried, then reported.
    let other = Pubkey::new_unique();
    let cluster = FakeCluster::new(program, 0);
    let err = wait_for_key(&cluster, &other, quick(2)).await.unwrap_err();
    assert!(matches!(err, ArciumError::AccountMissing(_)));
}

#[tokio::test]
async fn cache_serves_fresh_keys_without_reading() {
    let program = Pubkey::new_unique();
    let cluster = FakeCluster::new(program, 0);
    let cache = MxeKeyCache::new(program, Duration::from_secs(60), quick(2));
    assert!(cache.cached().await.is_none());
    let a = cache.get(&cluster).await.unwrap();
    let b = cache.get(&cluster).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(cluster.reads.load(Ordering::SeqCst), 1);
    cache.invalidate().await;
    cache.get(&cluster).await.unwrap();
    assert_eq!(cluster.reads.load(Ordering::SeqCst), 2);
    // A zero TTL reads every time.
    let eager = MxeKeyCache::new(program, Duration::ZERO, quick(2));
    eager.get(&cluster).await.unwrap();
    eager.get(&cluster).await.unwrap();
    assert_eq!(cluster.reads.load(Ordering::SeqCst), 4);
}
