//! Environment overrides, applied on top of the file.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::types::{Cluster, Redacted};
use super::{Config, ConfigError};

/// Overrides `[cluster] cluster` (a moniker).
pub const ENV_SOLANA_CLUSTER: &str = "SOLANA_CLUSTER";
/// Overrides `[cluster] rpc_url`.
pub const ENV_SOLANA_RPC_URL: &str = "SOLANA_RPC_URL";
/// Overrides `[cluster] program_id`.
pub const ENV_TOSS_PROGRAM_ID: &str = "TOSS_PROGRAM_ID";
/// Overrides `[cluster] fee_payer` (a keypair file path, never the key).
pub const ENV_TOSS_FEE_PAYER: &str = "TOSS_FEE_PAYER";
/// Overrides `[submit] max_retries`.
pub const ENV_MAX_SETTLEMENT_RETRIES: &str = "MAX_SETTLEMENT_RETRIES";
/// Overrides `[intake] default_intent_expiry_seconds`.
pub const ENV_DEFAULT_INTENT_EXPIRY_SECONDS: &str = "DEFAULT_INTENT_EXPIRY_SECONDS";
/// Overrides `[server] admin_token`.
pub const ENV_TOSS_ADMIN_TOKEN: &str = "TOSS_ADMIN_TOKEN";
/// Overrides `[store] path`.
pub const ENV_TOSS_STORE_PATH: &str = "TOSS_STORE_PATH";
/// Sets `[store] url` and selects the PostgreSQL backend.
pub const ENV_TOSS_DATABASE_URL: &str = "TOSS_DATABASE_URL";
/// Overrides `[store] instance_id`.
pub const ENV_TOSS_INSTANCE_ID: &str = "TOSS_INSTANCE_ID";
/// Used to expand a leading `~` in paths.
pub const ENV_HOME: &str = "HOME";

fn parse_num<T: FromStr>(var: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| ConfigError::Env {
        var: var.to_owned(),
        message: format!("{value:?} is not a valid number: {e}"),
    })
}

/// Replaces a leading `~` with `home`; other paths are returned unchanged.
pub fn expand_home(path: &Path, home: Option<&str>) -> PathBuf {
    let (Some(home), Ok(rest)) = (home, path.strip_prefix("~")) else {
        return path.to_path_buf();
    };
    if rest.as_os_str().is_empty() {
        PathBuf::from(home)
    } else {
        Path::new(home).join(rest)
    }
}

impl Config {
    /// Applies the environment overrides read through `env`, then expands a
    /// leading `~` in `cluster.fee_payer`, `store.path` and `noise.identity` using `HOME`.
    ///
    /// Variables that are unset or empty are ignored. Tests pass a closure
    /// over a map; the binary passes `|k| std::env::var(k).ok()`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |var: &str| {
            env(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        if let Some(v) = get(ENV_SOLANA_CLUSTER) {
            self.cluster.cluster = v.parse::<Cluster>().map_err(|message| ConfigError::Env {
                var: ENV_SOLANA_CLUSTER.to_owned(),
                message,
            })?;
        }
        if let Some(v) = get(ENV_SOLANA_RPC_URL) {
            self.cluster.rpc_url = Some(v);
        }
        if let Some(v) = get(ENV_TOSS_PROGRAM_ID) {
            self.cluster.program_id = v;
        }
        if let Some(v) = get(ENV_TOSS_FEE_PAYER) {
            self.cluster.fee_payer = Redacted::new(PathBuf::from(v));
        }
        if let Some(v) = get(ENV_MAX_SETTLEMENT_RETRIES) {
            self.submit.max_retries = parse_num(ENV_MAX_SETTLEMENT_RETRIES, &v)?;
        }
        if let Some(v) = get(ENV_DEFAULT_INTENT_EXPIRY_SECONDS) {
            self.intake.default_intent_expiry_seconds =
                parse_num(ENV_DEFAULT_INTENT_EXPIRY_SECONDS, &v)?;
        }
        if let Some(v) = get(ENV_TOSS_ADMIN_TOKEN) {
            self.server.admin_token = Some(Redacted::new(v));
        }
        if let Some(v) = get(super::ENV_ARCIUM_MXE_PROGRAM_ID) {
            self.arcium.mxe_program_id = Some(v);
        }
        if let Some(v) = get(ENV_TOSS_STORE_PATH) {
            self.store.path = PathBuf::from(v);
        }
        if let Some(v) = get(ENV_TOSS_DATABASE_URL) {
            self.store.kind = super::types::StoreKind::Postgres;
            self.store.url = Some(Redacted::new(v));
        }
        if let Some(v) = get(ENV_TOSS_INSTANCE_ID) {
            self.store.instance_id = Some(v);
        }

        let home = get(ENV_HOME);
        let fee_payer = expand_home(self.cluster.fee_payer.expose(), home.as_deref());
        self.cluster.fee_payer = Redacted::new(fee_payer);
        self.store.path = expand_home(&self.store.path, home.as_deref());
        if let Some(identity) = &self.noise.identity {
            let path = expand_home(identity.expose(), home.as_deref());
            self.noise.identity = Some(Redacted::new(path));
        }
        Ok(())
    }
}
