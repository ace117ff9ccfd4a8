//! The relayer's error enum (module boundaries; `anyhow` only in `main`).

use crate::config::ConfigError;
use crate::store::StoreError;
use toss_sdk::cluster::ClusterError;
use toss_sdk::SdkError;

/// Errors that stop a relayer operation. Messages never contain key material or full URLs.
#[derive(Debug, thiserror::Error)]
pub enum RelayerError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The durable store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cluster failed or refused.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// An SDK operation failed.
    #[error(transparent)]
    Sdk(#[from] SdkError),
    /// A key file or address is unusable.
    #[error("{0}")]
    Key(String),
    /// Binding or serving the HTTP listener failed.
    #[error("http server: {0}")]
    Server(String),
    /// Another live process holds this instance id (`[store] instance_id`; with SQLite, the
    /// database file).
    #[error("instance id {0} is held by another running relayer process (with SQLite: the database file is in use); stop it first, or give this one another [store] instance_id")]
    InstanceInUse(String),
    /// Anything else, described in one line.
    #[error("{0}")]
    Other(String),
}
