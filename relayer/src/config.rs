//! Relayer configuration: a TOML file, then environment overrides, then validation.
//!
//! ```no_run
//! # use toss_relayer::config::Config;
//! # fn main() -> Result<(), toss_relayer::config::ConfigError> {
//! let config = Config::resolve(Some("relayer.toml".as_ref()), |k| std::env::var(k).ok())?;
//! # Ok(()) }
//! ```
//!
//! Every table rejects unknown keys; every key has a default (`DEFAULT_*`),
//! so an absent file means "all defaults".

use std::path::{Path, PathBuf};

use serde::Deserialize;

mod arcium;
mod defaults;
mod env;
mod noise;
mod sections;
mod types;
mod validate;

#[cfg(test)]
mod tests;

pub use arcium::*;
pub use defaults::*;
pub use env::*;
pub use noise::*;
pub use sections::{
    BatchConfig, ClusterConfig, IntakeConfig, LogConfig, ReconcileConfig, ServerConfig,
    StoreConfig, SubmitConfig, TablesConfig,
};
pub use types::{Cluster, Commitment, LogFormat, Redacted, StoreKind, Verification};

/// Errors from loading, overriding or validating the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {message}", path.display())]
    Read {
        /// File that was asked for.
        path: PathBuf,
        /// Operating-system error.
        message: String,
    },
    /// The file is not valid TOML or does not fit the schema.
    #[error("cannot parse config {source_name} at line {line}, column {column}: {message}")]
    Parse {
        /// File name (or `<string>`).
        source_name: String,
        /// 1-based line of the problem (0 if unknown).
        line: usize,
        /// 1-based column of the problem (0 if unknown).
        column: usize,
        /// The parser's message (names the offending key).
        message: String,
    },
    /// The values are individually parsable but not acceptable.
    #[error("invalid configuration: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// An environment override has an unusable value.
    #[error("environment variable {var}: {message}")]
    Env {
        /// Variable name.
        var: String,
        /// What is wrong with it (never its secret value).
        message: String,
    },
}

/// The whole relayer configuration.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[cluster]`.
    pub cluster: ClusterConfig,
    /// `[store]`.
    pub store: StoreConfig,
    /// `[intake]`.
    pub intake: IntakeConfig,
    /// `[batch]`.
    pub batch: BatchConfig,
    /// `[submit]`.
    pub submit: SubmitConfig,
    /// `[tables]`.
    pub tables: TablesConfig,
    /// `[reconcile]`.
    pub reconcile: ReconcileConfig,
    /// `[noise]`.
    pub noise: NoiseConfig,
    /// `[arcium]`.
    pub arcium: ArciumConfig,
    /// `[log]`.
    pub log: LogConfig,
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl Config {
    /// Reads `path`, or returns all defaults when `path` is `None`.
    ///
    /// Does not apply environment overrides or validate: see [`Config::resolve`].
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses TOML text; `source_name` is used in error messages.
    ///
    /// Errors carry the parser's message and position but never the text
    /// of the offending line, so secrets cannot leak into logs.
    pub fn parse(text: &str, source_name: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            ConfigError::Parse {
                source_name: source_name.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })
    }

    /// Loads `path` (or defaults), applies environment overrides and validates.
    pub fn resolve(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config::load(path)?;
        config.apply_env(env)?;
        config.validate()?;
        Ok(config)
    }
}
