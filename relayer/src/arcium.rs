//! Confidential mode (Arcium MXE), relayer side (`[arcium]`, `docs/arcium.md`):
//!
//! - the MXE key, read from the `MXEAccount` through the cluster with retry and cached
//!   (`GET /v1/arcium/mxe-key` serves it with its account address and slot);
//! - encrypt-for-me: a device that cannot encrypt hands over a plaintext (version 1) intent
//!   and gets back the version-2 bytes to sign and their opening (the SDK's own code, so the
//!   result is what the device would have made);
//! - the downgrade: when the MXE key is unavailable and `allow_downgrade` is set, the intent
//!   comes back as it was, for direct settlement, with a warning log and
//!   `toss_arcium_downgrades_total{reason}`; otherwise it is refused;
//! - intake of signed version-2 intents: signature (strict), well-formed ciphertext and client
//!   key, expiry, lifetime, fee cap, mint, nonce value. The program's confidential-settlement
//!   instruction needs Arcium's toolchain and is not deployed (`docs/arcium.md`), so a valid
//!   confidential intent is answered `422 confidential_settlement_unavailable` and **not
//!   stored**: acknowledging it would promise a settlement this relayer cannot make.

use crate::metrics::Metrics;
use crate::refusal::Code;
use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts};
use solana_pubkey::Pubkey;
use std::time::{Duration, Instant};
use toss_sdk::arcium::fetch::{MxeKey, MxeKeyCache, RetryPolicy};
use toss_sdk::arcium::{ArciumError, ConfidentialIntent, Opening};
use toss_sdk::cluster::Cluster;
use toss_sdk::Intent;

use crate::config::ArciumConfig;

/// Confidential mode's Prometheus metrics (prefix `toss_`).
pub struct ArciumMetrics {
    /// `arcium_encrypt_seconds`: one intent's encryption (key exchange, derivation, CTR).
    pub encrypt_seconds: Histogram,
    /// `arcium_confidential_submissions_total{outcome}`: signed version-2 intents received,
    /// by outcome (`valid` or the refusal code).
    pub submissions: IntCounterVec,
    /// `arcium_encryptions_total{outcome}`: encrypt-for-me requests (`encrypted`,
    /// `downgraded`, `refused`).
    pub encryptions: IntCounterVec,
    /// `arcium_downgrades_total{reason}`: intents handed back for plaintext settlement.
    pub downgrades: IntCounterVec,
    /// `arcium_mxe_key_reads_total{outcome}`: MXE key lookups (`ok` or the error code).
    pub key_reads: IntCounterVec,
}

impl ArciumMetrics {
    fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let encrypt_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "arcium_encrypt_seconds",
                "Seconds to encrypt one intent to the MXE",
            )
            .buckets(vec![0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.1]),
        )?;
        let submissions = IntCounterVec::new(
            Opts::new(
                "arcium_confidential_submissions_total",
                "Signed confidential intents received, by outcome",
            ),
            &["outcome"],
        )?;
        let encryptions = IntCounterVec::new(
            Opts::new(
                "arcium_encryptions_total",
                "Encrypt-for-me requests, by outcome",
            ),
            &["outcome"],
        )?;
        let downgrades = IntCounterVec::new(
            Opts::new(
                "arcium_downgrades_total",
                "Intents handed back for plaintext settlement, by reason",
            ),
            &["reason"],
        )?;
        let key_reads = IntCounterVec::new(
            Opts::new("arcium_mxe_key_reads_total", "MXE key lookups, by outcome"),
            &["outcome"],
        )?;
        metrics.register(Box::new(encrypt_seconds.clone()))?;
        metrics.register(Box::new(submissions.clone()))?;
        metrics.register(Box::new(encryptions.clone()))?;
        metrics.register(Box::new(downgrades.clone()))?;
        metrics.register(Box::new(key_reads.clone()))?;
        Ok(Self {
            encrypt_seconds,
            submissions,
            encryptions,
            downgrades,
            key_reads,
        })
    }
}

/// What encrypt-for-me returns.
pub enum Sealed {
    /// The amount encrypted: the version-2 intent to sign, its opening, and the key used.
    Encrypted {
        /// The confidential intent (unsigned).
        intent: ConfidentialIntent,
        /// The amount and one-time client secret, for the payee.
        opening: Opening,
        /// The MXE key it was encrypted to.
        key: Box<MxeKey>,
    },
    /// The MXE key is unavailable and the configuration allows it: the plaintext intent, for
    /// direct settlement.
    Downgraded {
        /// The intent as given.
        intent: Intent,
        /// Why (an error code of [`key_error_code`]).
        reason: Code,
    },
}

/// The stable code of an MXE key failure.
pub fn key_error_code(e: &ArciumError) -> Code {
    match e {
        ArciumError::MxeKeyUnset => Code::MxeKeyUnset,
        ArciumError::LowOrderMxeKey | ArciumError::Account(_) => Code::MxeAccountInvalid,
        ArciumError::AccountMissing(_) => Code::MxeAccountMissing,
        _ => Code::MxeUnavailable,
    }
}

/// Confidential mode of one relayer.
pub struct Confidential {
    /// The program whose MXE runs the settlement circuit.
    pub mxe_program: Pubkey,
    allow_downgrade: bool,
    cache: MxeKeyCache,
    /// Its metrics.
    pub metrics: ArciumMetrics,
}

impl Confidential {
    /// Confidential mode as configured; `None` when `[arcium] enabled = false`.
    pub fn new(config: &ArciumConfig, metrics: &Metrics) -> Result<Option<Self>, String> {
        if !config.enabled {
            return Ok(None);
        }
        let mxe_program = config
            .mxe_program()
            .ok_or("arcium.mxe_program_id is missing or invalid")?;
        let policy = RetryPolicy {
            attempts: config.key_fetch_attempts.max(1),
            initial_delay: Duration::from_millis(config.key_retry_ms),
            max_delay: Duration::from_millis(config.key_retry_ms.saturating_mul(8)),
        };
        Ok(Some(Self {
            mxe_program,
            allow_downgrade: config.allow_downgrade,
            cache: MxeKeyCache::new(
                mxe_program,
                Duration::from_millis(config.key_ttl_ms),
                policy,
            ),
            metrics: ArciumMetrics::register(metrics).map_err(|e| e.to_string())?,
        }))
    }

    /// The MXE key (cached for `key_ttl_ms`; read with retry otherwise).
    pub async fn key(&self, cluster: &dyn Cluster) -> Result<MxeKey, ArciumError> {
        let result = self.cache.get(cluster).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => key_error_code(e).as_str(),
        };
        self.metrics.key_reads.with_label_values(&[outcome]).inc();
        result
    }

    /// Encrypt-for-me: `intent`'s amount encrypted to the MXE with a fresh secret and nonce
    /// (off the async threads), or the downgrade when the key is unavailable and allowed.
    pub async fn seal(&self, cluster: &dyn Cluster, intent: Intent) -> Result<Sealed, ArciumError> {
        let key = match self.key(cluster).await {
            Ok(key) => key,
            Err(e) if self.allow_downgrade && is_unavailable(&e) => {
                let reason = key_error_code(&e);
                tracing::warn!(
                    reason = reason.as_str(),
                    sender = %intent.sender,
                    "confidentiality downgrade: the MXE key is unavailable, the intent is handed back for plaintext settlement"
                );
                self.metrics
                    .downgrades
                    .with_label_values(&[reason.as_str()])
                    .inc();
                self.metrics
                    .encryptions
                    .with_label_values(&["downgraded"])
                    .inc();
                return Ok(Sealed::Downgraded { intent, reason });
            }
            Err(e) => {
                self.metrics
                    .encryptions
                    .with_label_values(&["refused"])
                    .inc();
                return Err(e);
            }
        };
        let mxe = key.key;
        let started = Instant::now();
        let sealed =
            tokio::task::spawn_blocking(move || ConfidentialIntent::encrypt(&intent, &mxe))
                .await
                .map_err(|e| ArciumError::Random(format!("encryption task failed: {e}")))?;
        self.metrics
            .encrypt_seconds
            .observe(started.elapsed().as_secs_f64());
        let (intent, opening) = sealed?;
        self.metrics
            .encryptions
            .with_label_values(&["encrypted"])
            .inc();
        Ok(Sealed::Encrypted {
            intent,
            opening,
            key: Box::new(key),
        })
    }
}

/// True for key failures a downgrade covers: every way the MXE key can be unusable (unset,
/// account missing or invalid, cluster unreachable). A failing random source is not one: it
/// is a local fault, and falling back would hide it.
fn is_unavailable(e: &ArciumError) -> bool {
    matches!(
        e,
        ArciumError::MxeKeyUnset
            | ArciumError::AccountMissing(_)
            | ArciumError::Cluster(_)
            | ArciumError::Account(_)
            | ArciumError::LowOrderMxeKey
    )
}
