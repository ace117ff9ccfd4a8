//! Cluster access behind one trait, so the CLI, the relayer and the tests run the same code
//! against a JSON-RPC node ([`RpcCluster`]) or the in-process bank running the real program
//! (`LocalCluster`, cargo feature `local-cluster`).

mod rpc;
pub use rpc::{url_for, RpcCluster};

#[cfg(feature = "local-cluster")]
// program-test 3.1 marks its whole API deprecated (a future "unstable API" gate).
#[allow(deprecated)]
mod local;
#[cfg(feature = "local-cluster")]
pub use local::{add_program, process_native, LocalCluster, LocalProgram};

use async_trait::async_trait;
use solana_account::Account;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

/// Why a cluster call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// The node could not be reached or answered garbage: worth retrying.
    #[error("cluster unreachable: {0}")]
    Transport(String),
    /// The call timed out: worth retrying (check the signature status before resending).
    #[error("cluster call timed out")]
    Timeout,
    /// The node refused the transaction before executing it (preflight / sanitization), e.g.
    /// `BlockhashNotFound`. The transaction did not land.
    #[error("transaction refused: {0}")]
    Refused(TransactionError),
    /// Anything else the node reported.
    #[error("cluster error: {0}")]
    Other(String),
}

impl ClusterError {
    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ClusterError::Transport(_) | ClusterError::Timeout)
            || matches!(
                self,
                ClusterError::Refused(TransactionError::BlockhashNotFound)
                    | ClusterError::Refused(TransactionError::WouldExceedAccountDataBlockLimit)
                    | ClusterError::Refused(TransactionError::WouldExceedMaxBlockCostLimit)
                    | ClusterError::Refused(TransactionError::WouldExceedMaxAccountCostLimit)
            )
    }
}

/// Result of a cluster call.
pub type ClusterResult<T> = Result<T, ClusterError>;

/// A landed transaction's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxStatus {
    /// Slot it landed in.
    pub slot: u64,
    /// `None` when it succeeded; the error when it executed and failed (fees were charged).
    pub err: Option<TransactionError>,
    /// Whether it reached at least `confirmed` commitment.
    pub confirmed: bool,
}

/// What a cluster offers TOSS clients. Implementations are cheap to share (`Arc<dyn Cluster>`).
#[async_trait]
pub trait Cluster: Send + Sync {
    /// The newest blockhash and the last block height at which it is still valid.
    async fn latest_blockhash(&self) -> ClusterResult<(Hash, u64)>;

    /// The current block height (compare with a blockhash's last valid height).
    async fn block_height(&self) -> ClusterResult<u64>;

    /// The current slot at the cluster's commitment (what account reads are at least as new as).
    async fn slot(&self) -> ClusterResult<u64>;

    /// Sends a signed transaction without waiting for it to land; returns its signature.
    async fn send(&self, tx: &VersionedTransaction) -> ClusterResult<Signature>;

    /// The status of each signature (`None`: not seen, or no longer remembered). A node only
    /// remembers recent transactions here (its status cache: ~300 slots, about 2 minutes on
    /// mainnet); cheap, for polling.
    async fn statuses(&self, signatures: &[Signature]) -> ClusterResult<Vec<Option<TxStatus>>>;

    /// [`Cluster::statuses`] that also searches the node's transaction history, so a
    /// transaction that landed long ago is still found. Dearer on a real node: for deciding
    /// that a signature whose blockhash expired never landed (before signing anew), not for
    /// polling. The default asks [`Cluster::statuses`] (a cluster that forgets nothing).
    async fn statuses_with_history(
        &self,
        signatures: &[Signature],
    ) -> ClusterResult<Vec<Option<TxStatus>>> {
        self.statuses(signatures).await
    }

    /// The log messages of a landed transaction (`None` if unknown).
    async fn logs(&self, signature: &Signature) -> ClusterResult<Option<Vec<String>>>;

    /// Accounts by address (`None` where none exists).
    async fn accounts(&self, keys: &[Pubkey]) -> ClusterResult<Vec<Option<Account>>>;

    /// Lamports an account of `len` data bytes needs to be rent exempt.
    async fn minimum_rent(&self, len: usize) -> ClusterResult<u64>;

    /// The cluster's clock (unix seconds), which is what the program compares expiries to.
    async fn unix_time(&self) -> ClusterResult<i64>;

    /// Returns once the cluster's slot is past the current one, so that what was written in
    /// this slot (a lookup table's new addresses) can be used. A real cluster moves on by
    /// itself (~400 ms a slot): this polls `slot` for at most 5 s.
    async fn next_slot(&self) -> ClusterResult<()> {
        let start = self.slot().await?;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while self.slot().await? <= start && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// One account.
    async fn account(&self, key: &Pubkey) -> ClusterResult<Option<Account>> {
        Ok(self.accounts(&[*key]).await?.into_iter().next().flatten())
    }

    /// Lamports held by `key` (0 if it does not exist).
    async fn balance(&self, key: &Pubkey) -> ClusterResult<u64> {
        Ok(self.account(key).await?.map(|a| a.lamports).unwrap_or(0))
    }

    /// Sends `tx` and polls its status until it is confirmed, fails, or its blockhash expires
    /// (`last_valid_block_height`) or `timeout` passes. `Ok(None)` means it did not land in time.
    async fn send_and_confirm(
        &self,
        tx: &VersionedTransaction,
        last_valid_block_height: u64,
        timeout: std::time::Duration,
    ) -> ClusterResult<Option<(Signature, TxStatus)>> {
        let signature = self.send(tx).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(Some(status)) = self.statuses(&[signature]).await?.into_iter().next() {
                if status.confirmed || status.err.is_some() {
                    return Ok(Some((signature, status)));
                }
            }
            if tokio::time::Instant::now() >= deadline
                || self.block_height().await? > last_valid_block_height
            {
                // One last look (history too: it may have landed long before a slow poll).
                let last = self
                    .statuses_with_history(&[signature])
                    .await?
                    .into_iter()
                    .next();
                return Ok(last.flatten().map(|s| (signature, s)));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
