//! [`Cluster`] over a JSON-RPC node (`solana-rpc-client`, nonblocking).

use super::{Cluster, ClusterError, ClusterResult, TxStatus};
use async_trait::async_trait;
use solana_account::Account;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_types::config::{RpcSendTransactionConfig, RpcTransactionConfig};
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, TransactionConfirmationStatus, UiTransactionEncoding,
};
use std::time::Duration;

/// The RPC URL for a Solana CLI moniker (`devnet`, `testnet`, `mainnet-beta`, `localhost`), or
/// `url` itself when it already is an http(s) URL. `None` for anything else.
pub fn url_for(moniker_or_url: &str) -> Option<String> {
    let url = match moniker_or_url {
        "d" | "devnet" => "https://api.devnet.solana.com",
        "t" | "testnet" => "https://api.testnet.solana.com",
        "m" | "mainnet" | "mainnet-beta" => "https://api.mainnet-beta.solana.com",
        "l" | "localhost" | "localnet" | "local" => "http://127.0.0.1:8899",
        other if other.starts_with("http://") || other.starts_with("https://") => other,
        _ => return None,
    };
    Some(url.to_string())
}

/// A JSON-RPC node. Reads and preflight use `commitment`; sends skip no checks.
pub struct RpcCluster {
    client: RpcClient,
    commitment: CommitmentConfig,
}

impl RpcCluster {
    /// A client for `url` at `confirmed` commitment with a 30 s request timeout.
    pub fn new(url: &str) -> Self {
        Self::with_commitment(url, CommitmentConfig::confirmed(), Duration::from_secs(30))
    }

    /// A client for `url` at `commitment` with a request `timeout`.
    pub fn with_commitment(url: &str, commitment: CommitmentConfig, timeout: Duration) -> Self {
        Self {
            client: RpcClient::new_with_timeout_and_commitment(
                url.to_string(),
                timeout,
                commitment,
            ),
            commitment,
        }
    }

    /// The node's URL.
    pub fn url(&self) -> String {
        self.client.url()
    }
}

impl RpcCluster {
    /// `getSignatureStatuses` (with `searchTransactionHistory` when `history`), at most 256
    /// signatures per call.
    async fn read_statuses(
        &self,
        signatures: &[Signature],
        history: bool,
    ) -> ClusterResult<Vec<Option<TxStatus>>> {
        let mut out = Vec::with_capacity(signatures.len());
        for chunk in signatures.chunks(256) {
            let response = if history {
                self.client.get_signature_statuses_with_history(chunk).await
            } else {
                self.client.get_signature_statuses(chunk).await
            }
            .map_err(map_err)?;
            out.extend(response.value.into_iter().map(|s| {
                s.map(|s| TxStatus {
                    slot: s.slot,
                    confirmed: matches!(
                        s.confirmation_status,
                        Some(TransactionConfirmationStatus::Confirmed)
                            | Some(TransactionConfirmationStatus::Finalized)
                    ) || (s.confirmation_status.is_none() && s.confirmations.is_none()),
                    err: s.err,
                })
            }));
        }
        Ok(out)
    }
}

fn map_err(err: ClientError) -> ClusterError {
    if let Some(tx_err) = err.get_transaction_error() {
        return ClusterError::Refused(tx_err);
    }
    match err.kind() {
        ErrorKind::Io(_) | ErrorKind::Reqwest(_) | ErrorKind::Middleware(_) => {
            // Redacted: the URL may carry an API key.
            ClusterError::Transport(redact(&err.to_string()))
        }
        _ => ClusterError::Other(redact(&err.to_string())),
    }
}

/// Drops anything that looks like a URL from an error message (RPC URLs often embed keys).
fn redact(message: &str) -> String {
    message
        .split_whitespace()
        .map(|w| if w.contains("://") { "<url>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

#[async_trait]
impl Cluster for RpcCluster {
    async fn latest_blockhash(&self) -> ClusterResult<(Hash, u64)> {
        self.client
            .get_latest_blockhash_with_commitment(self.commitment)
            .await
            .map_err(map_err)
    }

    async fn block_height(&self) -> ClusterResult<u64> {
        self.client
            .get_block_height_with_commitment(self.commitment)
            .await
            .map_err(map_err)
    }

    async fn slot(&self) -> ClusterResult<u64> {
        self.client
            .get_slot_with_commitment(self.commitment)
            .await
            .map_err(map_err)
    }

    async fn send(&self, tx: &VersionedTransaction) -> ClusterResult<Signature> {
        let config = RpcSendTransactionConfig {
            skip_preflight: false,
            preflight_commitment: Some(self.commitment.commitment),
            encoding: Some(UiTransactionEncoding::Base64),
            // The caller owns retries (it re-signs on expiry and checks statuses first).
            max_retries: Some(0),
            min_context_slot: None,
        };
        self.client
            .send_transaction_with_config(tx, config)
            .await
            .map_err(map_err)
    }

    async fn statuses(&self, signatures: &[Signature]) -> ClusterResult<Vec<Option<TxStatus>>> {
        self.read_statuses(signatures, false).await
    }

    async fn statuses_with_history(
        &self,
        signatures: &[Signature],
    ) -> ClusterResult<Vec<Option<TxStatus>>> {
        self.read_statuses(signatures, true).await
    }

    async fn logs(&self, signature: &Signature) -> ClusterResult<Option<Vec<String>>> {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Base64),
            commitment: Some(CommitmentConfig {
                commitment: match self.commitment.commitment {
                    CommitmentLevel::Processed => CommitmentLevel::Confirmed,
                    other => other,
                },
            }),
            max_supported_transaction_version: Some(0),
        };
        match self
            .client
            .get_transaction_with_config(signature, config)
            .await
        {
            Ok(tx) => Ok(match tx.transaction.meta.map(|m| m.log_messages) {
                Some(OptionSerializer::Some(logs)) => Some(logs),
                _ => None,
            }),
            // getTransaction answers `null` (a JSON error for the client) while not yet visible.
            Err(e) if matches!(e.kind(), ErrorKind::SerdeJson(_)) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn accounts(&self, keys: &[Pubkey]) -> ClusterResult<Vec<Option<Account>>> {
        let mut out = Vec::with_capacity(keys.len());
        // getMultipleAccounts takes at most 100 addresses per call.
        for chunk in keys.chunks(100) {
            let response = self
                .client
                .get_multiple_accounts_with_commitment(chunk, self.commitment)
                .await
                .map_err(map_err)?;
            out.extend(response.value);
        }
        Ok(out)
    }

    async fn minimum_rent(&self, len: usize) -> ClusterResult<u64> {
        self.client
            .get_minimum_balance_for_rent_exemption(len)
            .await
            .map_err(map_err)
    }

    async fn unix_time(&self) -> ClusterResult<i64> {
        let account = self
            .account(&solana_sdk_ids::sysvar::clock::ID)
            .await?
            .ok_or_else(|| ClusterError::Other("clock sysvar missing".into()))?;
        // Clock layout: slot, epoch_start_timestamp, epoch, leader_schedule_epoch,
        // unix_timestamp (each 8 bytes, little endian).
        account
            .data
            .get(32..40)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
            .ok_or_else(|| ClusterError::Other("clock sysvar too short".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monikers_resolve_like_the_solana_cli() {
        assert_eq!(
            url_for("devnet").as_deref(),
            Some("https://api.devnet.solana.com")
        );
        assert_eq!(
            url_for("mainnet-beta").as_deref(),
            Some("https://api.mainnet-beta.solana.com")
        );
        assert_eq!(
            url_for("localhost").as_deref(),
            Some("http://127.0.0.1:8899")
        );
        assert_eq!(
            url_for("http://127.0.0.1:9"),
            Some("http://127.0.0.1:9".into())
        );
        assert_eq!(url_for("ftp://x"), None);
        assert_eq!(url_for("devnett"), None);
    }

    #[test]
    fn errors_never_carry_urls() {
        assert_eq!(
            redact("error sending request for url (https://rpc.example/?api-key=SECRET)"),
            "error sending request for url <url>"
        );
    }
}
