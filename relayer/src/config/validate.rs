//! Cross-field and format checks, reporting every problem at once.

use std::net::SocketAddr;
use std::path::Path;

use super::defaults::{
    MAX_BATCH_INTENTS_LIMIT, MAX_COMPUTE_UNIT_LIMIT, MAX_RETRIES_LIMIT, MAX_TABLES_COVER_WAIT_MS,
    MIN_ADMIN_TOKEN_LEN,
};
use super::types::StoreKind;
use super::{Config, ConfigError};

/// True if `s` is base58 for exactly 32 bytes (a Solana address).
pub(crate) fn is_address(s: &str) -> bool {
    bs58::decode(s).into_vec().is_ok_and(|v| v.len() == 32)
}

fn is_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ["http://", "https://"].iter().any(|scheme| {
        lower
            .strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
    })
}

/// A fee payer that looks like key material rather than a file path.
pub(crate) fn looks_like_inline_key(p: &Path) -> bool {
    let s = p.to_string_lossy();
    let s = s.trim();
    s.starts_with('[') || bs58::decode(s).into_vec().is_ok_and(|v| v.len() == 64)
}

struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if !ok {
            self.0.push(problem());
        }
    }
}

impl Config {
    /// Checks every rule and reports all problems together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Problems(Vec::new());
        self.validate_server(&mut p);
        self.validate_cluster(&mut p);
        self.validate_store(&mut p);
        self.validate_intake(&mut p);
        self.validate_batch(&mut p);
        self.validate_submit(&mut p);
        p.check((50..=60_000).contains(&self.tables.interval_ms), || {
            "tables.interval_ms must be 50 to 60000".into()
        });
        p.check(
            self.tables.cover_wait_ms <= MAX_TABLES_COVER_WAIT_MS,
            || format!("tables.cover_wait_ms must be 0 to {MAX_TABLES_COVER_WAIT_MS}"),
        );
        p.check(self.tables.idle_close_seconds > 0, || {
            "tables.idle_close_seconds must be greater than 0".into()
        });
        p.check(self.reconcile.sweep_interval_ms > 0, || {
            "reconcile.sweep_interval_ms must be greater than 0".into()
        });
        p.check(!self.log.filter.trim().is_empty(), || {
            "log.filter must not be empty".into()
        });
        p.0.extend(self.noise.problems(&self.server.listen));
        p.0.extend(self.arcium.problems());
        if p.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(p.0))
        }
    }

    fn validate_server(&self, p: &mut Problems) {
        let s = &self.server;
        p.check(s.listen.parse::<SocketAddr>().is_ok(), || {
            format!(
                "server.listen {:?} is not an IP:port socket address",
                s.listen
            )
        });
        p.check(s.max_body_bytes > 0, || {
            "server.max_body_bytes must be greater than 0".into()
        });
        p.check(s.max_bulk > 0, || {
            "server.max_bulk must be greater than 0".into()
        });
        for (name, v) in [
            ("rate_limit_per_ip_per_s", s.rate_limit_per_ip_per_s),
            ("rate_limit_per_ip_burst", s.rate_limit_per_ip_burst),
            ("rate_limit_per_sender_per_s", s.rate_limit_per_sender_per_s),
            ("rate_limit_per_sender_burst", s.rate_limit_per_sender_burst),
        ] {
            p.check(v > 0, || format!("server.{name} must be greater than 0"));
        }
        if let Some(token) = &s.admin_token {
            let len = token.expose().chars().count();
            p.check(len >= MIN_ADMIN_TOKEN_LEN, || {
                format!(
                    "server.admin_token must be at least {MIN_ADMIN_TOKEN_LEN} characters \
                     (it has {len})"
                )
            });
        }
    }

    fn validate_cluster(&self, p: &mut Problems) {
        let c = &self.cluster;
        if let Some(url) = &c.rpc_url {
            p.check(is_http_url(url), || {
                format!("cluster.rpc_url {url:?} must be an http:// or https:// URL")
            });
        }
        p.check(is_address(&c.program_id), || {
            format!(
                "cluster.program_id {:?} is not a base58 32-byte address",
                c.program_id
            )
        });
        let fee_payer = c.fee_payer.expose();
        p.check(!fee_payer.as_os_str().is_empty(), || {
            "cluster.fee_payer must be set to a keypair file path".into()
        });
        p.check(!looks_like_inline_key(fee_payer), || {
            "cluster.fee_payer must be the path of a keypair file, not the key itself".into()
        });
    }

    fn validate_store(&self, p: &mut Problems) {
        let s = &self.store;
        match s.kind {
            StoreKind::Sqlite => p.check(!s.path.as_os_str().is_empty(), || {
                "store.path must not be empty".into()
            }),
            StoreKind::Postgres => {
                let url = s
                    .url
                    .as_ref()
                    .map(|u| u.expose().trim())
                    .unwrap_or_default();
                p.check(!url.is_empty(), || {
                    "store.kind = \"postgres\" needs store.url (or TOSS_DATABASE_URL)".into()
                });
                // The URL's syntax and its TLS settings (sslmode, a readable sslrootcert),
                // before any connection; the message never quotes the URL (it may hold a
                // password).
                if !url.is_empty() {
                    if let Err(e) = crate::store::PgStore::check_url(url) {
                        p.check(false, || format!("store.url: {e}"));
                    }
                }
            }
        }
        p.check((1_000..=600_000).contains(&s.lease_ms), || {
            "store.lease_ms must be between 1000 and 600000".into()
        });
        if let Some(id) = &s.instance_id {
            p.check(
                !id.is_empty()
                    && id.len() <= 64
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                || "store.instance_id must be 1-64 characters of [A-Za-z0-9._-]".into(),
            );
        }
    }

    fn validate_intake(&self, p: &mut Problems) {
        let i = &self.intake;
        p.check(i.max_open_per_nonce > 0, || {
            "intake.max_open_per_nonce must be greater than 0".into()
        });
        p.check(i.max_lifetime_seconds > 0, || {
            "intake.max_lifetime_seconds must be greater than 0".into()
        });
        p.check(i.max_amount_lamports > 0, || {
            "intake.max_amount_lamports must be greater than 0".into()
        });
        p.check(i.dust_lamports <= i.max_amount_lamports, || {
            format!(
                "intake.dust_lamports ({}) must not exceed intake.max_amount_lamports ({})",
                i.dust_lamports, i.max_amount_lamports
            )
        });
        p.check(i.default_intent_expiry_seconds > 0, || {
            "intake.default_intent_expiry_seconds must be greater than 0".into()
        });
        p.check(
            i.default_intent_expiry_seconds <= i.max_lifetime_seconds,
            || {
                format!(
                    "intake.default_intent_expiry_seconds ({}) must not exceed \
                     intake.max_lifetime_seconds ({})",
                    i.default_intent_expiry_seconds, i.max_lifetime_seconds
                )
            },
        );
        for mint in &i.allowed_mints {
            p.check(is_address(mint), || {
                format!("intake.allowed_mints entry {mint:?} is not a base58 32-byte address")
            });
        }
    }

    fn validate_batch(&self, p: &mut Problems) {
        let b = &self.batch;
        p.check(b.max_wait_ms > 0, || {
            "batch.max_wait_ms must be greater than 0".into()
        });
        p.check(
            (1..=MAX_BATCH_INTENTS_LIMIT).contains(&b.max_intents),
            || format!("batch.max_intents must be between 1 and {MAX_BATCH_INTENTS_LIMIT}"),
        );
        if let Some(addr) = &b.lookup_table {
            p.check(is_address(addr), || {
                format!("batch.lookup_table {addr:?} is not a base58 32-byte address")
            });
        }
    }

    fn validate_submit(&self, p: &mut Problems) {
        let s = &self.submit;
        if let Some(limit) = s.compute_unit_limit {
            p.check((1..=MAX_COMPUTE_UNIT_LIMIT).contains(&limit), || {
                format!("submit.compute_unit_limit must be between 1 and {MAX_COMPUTE_UNIT_LIMIT}")
            });
        }
        p.check(s.max_retries <= MAX_RETRIES_LIMIT, || {
            format!(
                "submit.max_retries ({}) must be at most {MAX_RETRIES_LIMIT}",
                s.max_retries
            )
        });
        p.check(s.backoff_initial_ms > 0, || {
            "submit.backoff_initial_ms must be greater than 0".into()
        });
        p.check(s.backoff_initial_ms <= s.backoff_max_ms, || {
            "submit.backoff_initial_ms must not exceed submit.backoff_max_ms".into()
        });
        p.check(s.confirm_timeout_ms > 0, || {
            "submit.confirm_timeout_ms must be greater than 0".into()
        });
        p.check(s.in_flight_max > 0 && s.in_flight_max <= 1_024, || {
            "submit.in_flight_max must be 1 to 1024".into()
        });
        p.check(
            s.poll_interval_ms > 0 && s.poll_interval_ms <= 10_000,
            || "submit.poll_interval_ms must be 1 to 10000".into(),
        );
        p.check(
            s.breaker_failure_ratio > 0.0 && s.breaker_failure_ratio <= 1.0,
            || "submit.breaker_failure_ratio must be in (0, 1]".into(),
        );
        p.check(s.breaker_window > 0, || {
            "submit.breaker_window must be greater than 0".into()
        });
        p.check(s.breaker_cooldown_ms > 0, || {
            "submit.breaker_cooldown_ms must be greater than 0".into()
        });
    }
}
