//! Value types used by the configuration sections.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// A Solana cluster moniker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Cluster {
    /// A local validator (`localnet`, `local`, `localhost`).
    Localnet,
    /// Devnet.
    Devnet,
    /// Testnet.
    Testnet,
    /// Mainnet beta (`mainnet-beta`, `mainnet`).
    MainnetBeta,
    /// An in-process bank for tests; no RPC endpoint.
    LocalInprocess,
}

impl Cluster {
    /// The canonical moniker.
    pub fn as_str(self) -> &'static str {
        match self {
            Cluster::Localnet => "localnet",
            Cluster::Devnet => "devnet",
            Cluster::Testnet => "testnet",
            Cluster::MainnetBeta => "mainnet-beta",
            Cluster::LocalInprocess => "local-inprocess",
        }
    }

    /// The public RPC endpoint used when `rpc_url` is not set.
    pub fn default_rpc_url(self) -> Option<&'static str> {
        match self {
            Cluster::Localnet => Some("http://127.0.0.1:8899"),
            Cluster::Devnet => Some("https://api.devnet.solana.com"),
            Cluster::Testnet => Some("https://api.testnet.solana.com"),
            Cluster::MainnetBeta => Some("https://api.mainnet-beta.solana.com"),
            Cluster::LocalInprocess => None,
        }
    }
}

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cluster {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "localnet" | "local" | "localhost" => Ok(Cluster::Localnet),
            "devnet" => Ok(Cluster::Devnet),
            "testnet" => Ok(Cluster::Testnet),
            "mainnet-beta" | "mainnet" => Ok(Cluster::MainnetBeta),
            "local-inprocess" => Ok(Cluster::LocalInprocess),
            _ => Err(format!(
                "unknown cluster {s:?}; expected localnet, local, localhost, devnet, testnet, \
                 mainnet-beta, mainnet or local-inprocess"
            )),
        }
    }
}

impl TryFrom<String> for Cluster {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Commitment level used for reads and confirmations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Commitment {
    /// Processed by the connected node.
    Processed,
    /// Voted on by a supermajority.
    Confirmed,
    /// Rooted.
    Finalized,
}

/// `[submit] verification`: which settle form the relayer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Per batch, the cheaper form by the cost model (base fee + priority fee × compute
    /// units); with no priority fee that is the compact form.
    Auto,
    /// Always `intent_settle_compact` (the program verifies the signatures).
    Compact,
    /// Always the Ed25519 precompile and `intent_settle`.
    Precompile,
}

impl FromStr for Verification {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Verification::Auto),
            "compact" => Ok(Verification::Compact),
            "precompile" => Ok(Verification::Precompile),
            _ => Err(format!(
                "unknown verification {s:?}; expected auto, compact or precompile"
            )),
        }
    }
}

impl Verification {
    /// `auto`, `compact` or `precompile`, as configured.
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Auto => "auto",
            Verification::Compact => "compact",
            Verification::Precompile => "precompile",
        }
    }
}

/// Storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// A local SQLite file (`[store] path`).
    Sqlite,
    /// A PostgreSQL database (`[store] url`), shareable by several instances.
    Postgres,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A value that `Debug` never shows (admin token, fee payer path).
///
/// Deserialization errors do not echo the value either.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Redacted<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Redacted).map_err(|_| {
            serde::de::Error::custom("invalid value for a secret setting (value not shown)")
        })
    }
}

impl<T> Redacted<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The value itself; take care not to log it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
