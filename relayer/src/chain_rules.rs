//! What intake checks against the chain itself rather than against the relayer's own
//! settings: the program's config account (the lifetime bound in force, `Config::bounds_at`)
//! and the cluster's clock. Read at start and refreshed at most every [`REFRESH`]; between
//! reads the cluster clock is extrapolated from the local monotonic clock.
//!
//! Without it, intake measured an intent's lifetime against the relayer's
//! `[intake] max_lifetime_seconds` and the local wall clock, while the program measures it
//! against its config and the cluster's `Clock`: an intent the program rejects
//! (`lifetime_too_long`) was acknowledged and then cost the fee payer a transaction.

use solana_pubkey::Pubkey;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toss_intent_processor::state::Config;
use toss_sdk::cluster::Cluster;

/// How often the config and the cluster clock are read again.
pub const REFRESH: Duration = Duration::from_secs(10);

/// How far ahead [`ChainRules::fee_cap`] looks for a scheduled lower cap (seconds).
pub const FEE_CAP_LOOKAHEAD: i64 = 300;

/// One read of the chain.
#[derive(Clone, Debug)]
struct Reading {
    at: Instant,
    cluster_unix: i64,
    config: Option<Config>,
}

/// The program's rules as last read from the chain.
pub struct ChainRules {
    cluster: Arc<dyn Cluster>,
    reading: Mutex<Option<Reading>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl ChainRules {
    /// Rules read from `cluster` (nothing read yet: call [`ChainRules::refresh`]).
    pub fn new(cluster: Arc<dyn Cluster>) -> Self {
        Self {
            cluster,
            reading: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Reads the config account and the cluster clock now. The config may be missing (program
    /// not initialized yet): intake then applies its own settings only.
    pub async fn refresh(&self) -> Result<(), toss_sdk::cluster::ClusterError> {
        let _one = self.refreshing.lock().await;
        let cluster_unix = self.cluster.unix_time().await?;
        let config = self
            .cluster
            .account(&Config::ADDRESS)
            .await?
            .and_then(|a| Config::decode(&a.data));
        if let Ok(mut r) = self.reading.lock() {
            *r = Some(Reading {
                at: Instant::now(),
                cluster_unix,
                config,
            });
        }
        Ok(())
    }

    /// Refreshes when the last reading is older than [`REFRESH`] (one caller at a time; the
    /// others go on with the reading they have). A failed read keeps the old reading.
    pub async fn refresh_if_stale(&self) {
        let stale = self
            .reading
            .lock()
            .map(|r| r.as_ref().is_none_or(|r| r.at.elapsed() >= REFRESH))
            .unwrap_or(true);
        if stale && self.refreshing.try_lock().is_ok() {
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "cannot read the program config or cluster clock");
            }
        }
    }

    fn reading(&self) -> Option<Reading> {
        self.reading.lock().ok().and_then(|r| r.clone())
    }

    /// The cluster's unix time now (extrapolated from the last reading), if read.
    pub fn cluster_now(&self) -> Option<i64> {
        self.reading().map(|r| {
            r.cluster_unix
                .saturating_add(i64::try_from(r.at.elapsed().as_secs()).unwrap_or(i64::MAX))
        })
    }

    /// The program's max intent lifetime in force at cluster time `now`, if the config was read.
    pub fn max_lifetime(&self, now: i64) -> Option<i64> {
        self.reading()
            .and_then(|r| r.config)
            .map(|c| c.bounds_at(now).max_intent_lifetime_secs)
    }

    /// `Config::expiry_horizon`: intents expiring no later than this settle whatever the
    /// lifetime bound in force (they were acceptable under a longer one, since lowered).
    pub fn expiry_horizon(&self) -> Option<i64> {
        self.reading()?.config.map(|c| c.expiry_horizon)
    }

    /// The highest relayer fee (lamports) the program lets a SOL intent pay now and over the
    /// next [`FEE_CAP_LOOKAHEAD`] (a scheduled lower cap may take effect while a batch is in
    /// flight), if the config was read. The batcher asks `min(max_fee, this)`: asking more
    /// fails the whole transaction (`FeeExceedsCap`), so one payer offering a fee above the
    /// cap could otherwise sink every batch it joins.
    pub fn fee_cap(&self) -> Option<u64> {
        let now = self.cluster_now()?;
        let config = self.reading()?.config?;
        Some(
            config.bounds_at(now).max_relayer_fee.min(
                config
                    .bounds_at(now.saturating_add(FEE_CAP_LOOKAHEAD))
                    .max_relayer_fee,
            ),
        )
    }

    /// The config's address and what intake uses of it (for `/healthz` and the start log).
    pub fn summary(&self) -> serde_json::Value {
        let address: Pubkey = Config::ADDRESS;
        match self.reading() {
            None => serde_json::json!({"address": address.to_string(), "read": false}),
            Some(r) => {
                let now = self.cluster_now().unwrap_or(r.cluster_unix);
                serde_json::json!({
                    "address": address.to_string(),
                    "read": r.config.is_some(),
                    "cluster_unix_time": now,
                    "max_intent_lifetime_secs": r.config.as_ref().map(|c| c.bounds_at(now).max_intent_lifetime_secs),
                    "max_relayer_fee": r.config.as_ref().map(|c| c.bounds_at(now).max_relayer_fee),
                    "paused": r.config.as_ref().map(|c| c.paused),
                    "bounds_change_at": r.config.as_ref().map(|c| c.bounds_change_at).filter(|at| *at != 0),
                })
            }
        }
    }
}
