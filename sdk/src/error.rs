//! The SDK's error enum. Messages are one line, fit for a CLI, and never contain key material.

use thiserror::Error;

/// Everything the SDK can refuse.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SdkError {
    /// A keypair file could not be read or written.
    #[error("keypair file {path}: {reason}")]
    KeypairFile { path: String, reason: String },
    /// An amount given as text is not acceptable.
    #[error("invalid amount {input:?}: {reason}")]
    Amount { input: String, reason: &'static str },
    /// Intent bytes do not decode.
    #[error("invalid intent: {0}")]
    Intent(String),
    /// A signed intent's wire form is malformed.
    #[error("invalid signed intent: {0}")]
    Encoding(&'static str),
    /// The signature does not verify under the precompile's (strict) rules.
    #[error("signature does not verify for the intent's sender")]
    BadSignature,
    /// A cluster call failed.
    #[error("{0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    /// A transaction landed but failed.
    #[error("transaction {signature} failed: {reason}")]
    TxFailed { signature: String, reason: String },
    /// A transaction did not land before its blockhash expired or the timeout passed.
    #[error("transaction {0} did not confirm in time")]
    NotConfirmed(String),
    /// An account is missing or not what was expected.
    #[error("{0}")]
    Account(String),
}

impl From<toss_intent_processor::error::TossError> for SdkError {
    fn from(e: toss_intent_processor::error::TossError) -> Self {
        SdkError::Intent(e.to_string())
    }
}
