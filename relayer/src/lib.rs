//! The TOSS relayer: a library with a thin binary (`toss-relayer run|demo|config validate`).
//!
//! Data flows one way through modules that each have one job:
//!
//! ```text
//! api (HTTP intake), noise (Noise intake) -> validate -> store (acknowledge after commit)
//!   -> batch (pack by bytes, one intent per nonce) -> submit (sign, send, confirm, retry)
//!   -> reconcile (per-intent outcome from the program's events; expiry; crash resume)
//! ```
//!
//! [`service::Relayer`] wires them together on any [`toss_sdk::cluster::Cluster`] and
//! [`store::Store`]; [`demo`] runs the whole thing on the in-process cluster.

#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod addresses;
pub mod api;
pub mod arcium;
pub mod batch;
pub mod breaker;
pub mod chain_rules;
pub mod claims;
pub mod config;
pub mod ctx;
#[cfg(feature = "local-cluster")]
pub mod demo;
pub mod error;
pub mod fault;
pub mod forms;
pub mod funds;
pub mod intake;
#[cfg(feature = "local-cluster")]
pub mod local;
pub mod logging;
pub mod metrics;
pub mod noise;
pub mod reads;
pub mod recipients;
pub mod reconcile;
pub mod refusal;
pub mod service;
pub mod store;
pub mod submit;
pub mod tables;
pub mod validate;
pub mod watcher;

pub use error::RelayerError;
pub use service::{Relayer, RelayerHandle};

/// Current unix time in milliseconds (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
