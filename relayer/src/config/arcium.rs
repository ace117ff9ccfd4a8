//! `[arcium]`: Arcium MXE confidential mode (`docs/arcium.md`). Off by default.

use serde::Deserialize;
use solana_pubkey::Pubkey;

/// Overrides `[arcium] mxe_program_id`.
pub const ENV_ARCIUM_MXE_PROGRAM_ID: &str = "ARCIUM_MXE_PROGRAM_ID";
/// `[arcium] enabled`.
pub const DEFAULT_ARCIUM_ENABLED: bool = false;
/// `[arcium] allow_downgrade`: never fall back to plaintext settlement unless told to.
pub const DEFAULT_ARCIUM_ALLOW_DOWNGRADE: bool = false;
/// `[arcium] key_ttl_ms`: how long a fetched MXE key is served before it is read again.
pub const DEFAULT_ARCIUM_KEY_TTL_MS: u64 = 60_000;
/// `[arcium] key_fetch_attempts`: reads per refresh while the key is unset or the RPC fails.
pub const DEFAULT_ARCIUM_KEY_FETCH_ATTEMPTS: u32 = 3;
/// `[arcium] key_retry_ms`: first delay between those reads (doubling).
pub const DEFAULT_ARCIUM_KEY_RETRY_MS: u64 = 250;

/// `[arcium]`: confidential mode.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArciumConfig {
    /// Serve the MXE key, encrypt for devices, and accept confidential (version 2) intents.
    pub enabled: bool,
    /// The program whose MXE runs the settlement circuit (base58); its `MXEAccount` is
    /// `["MXEAccount", mxe_program_id]` under the Arcium program.
    pub mxe_program_id: Option<String>,
    /// When the MXE key is unavailable, encrypt-for-me answers with the plaintext intent for
    /// direct settlement instead of refusing; every such downgrade is logged and counted.
    pub allow_downgrade: bool,
    /// How long a fetched MXE key is trusted, in ms.
    pub key_ttl_ms: u64,
    /// Reads per refresh while the key is unset or the cluster fails transiently.
    pub key_fetch_attempts: u32,
    /// First delay between those reads, in ms (doubling).
    pub key_retry_ms: u64,
}

impl Default for ArciumConfig {
    fn default() -> Self {
        ArciumConfig {
            enabled: DEFAULT_ARCIUM_ENABLED,
            mxe_program_id: None,
            allow_downgrade: DEFAULT_ARCIUM_ALLOW_DOWNGRADE,
            key_ttl_ms: DEFAULT_ARCIUM_KEY_TTL_MS,
            key_fetch_attempts: DEFAULT_ARCIUM_KEY_FETCH_ATTEMPTS,
            key_retry_ms: DEFAULT_ARCIUM_KEY_RETRY_MS,
        }
    }
}

impl ArciumConfig {
    /// The MXE program id, when set and valid.
    pub fn mxe_program(&self) -> Option<Pubkey> {
        self.mxe_program_id.as_deref()?.parse().ok()
    }

    /// Every problem with these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        match self.mxe_program_id.as_deref() {
            Some(id) if id.parse::<Pubkey>().is_err() => p.push(format!(
                "arcium.mxe_program_id {id:?} is not a base58 public key"
            )),
            None if self.enabled => p.push(format!(
                "arcium.enabled needs arcium.mxe_program_id (or {ENV_ARCIUM_MXE_PROGRAM_ID})"
            )),
            _ => {}
        }
        if self.key_ttl_ms == 0 {
            p.push("arcium.key_ttl_ms must be greater than 0".into());
        }
        if !(1..=20).contains(&self.key_fetch_attempts) {
            p.push("arcium.key_fetch_attempts must be between 1 and 20".into());
        }
        if self.key_retry_ms == 0 || self.key_retry_ms > 60_000 {
            p.push("arcium.key_retry_ms must be between 1 and 60000".into());
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use super::*;

    #[test]
    fn off_by_default_and_on_needs_a_program() -> Result<(), ConfigError> {
        let c = Config::parse("[arcium]\n", "t")?;
        assert_eq!(c.arcium, ArciumConfig::default());
        c.validate()?;
        let on = Config::parse("[arcium]\nenabled = true\n", "t")?;
        match on.validate() {
            Err(ConfigError::Invalid(p)) => {
                assert!(p.iter().any(|m| m.contains("needs arcium.mxe_program_id")))
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        let mut env = on.clone();
        let id = Pubkey::new_unique().to_string();
        env.apply_env(|k| (k == ENV_ARCIUM_MXE_PROGRAM_ID).then(|| id.clone()))?;
        env.validate()?;
        assert_eq!(env.arcium.mxe_program(), id.parse().ok());
        Ok(())
    }

    #[test]
    fn every_arcium_rule_has_a_failing_case() {
        for (text, needle) in [
            ("mxe_program_id = \"nope\"", "arcium.mxe_program_id"),
            ("key_ttl_ms = 0", "arcium.key_ttl_ms"),
            ("key_fetch_attempts = 0", "arcium.key_fetch_attempts"),
            ("key_fetch_attempts = 21", "arcium.key_fetch_attempts"),
            ("key_retry_ms = 0", "arcium.key_retry_ms"),
        ] {
            let c = Config::parse(&format!("[arcium]\n{text}\n"), "t").unwrap();
            match c.validate() {
                Err(ConfigError::Invalid(p)) => {
                    assert!(p.iter().any(|m| m.contains(needle)), "{text}: {p:?}")
                }
                other => panic!("{text}: expected Invalid, got {other:?}"),
            }
        }
        assert!(Config::parse("[arcium]\nkey = 1\n", "t").is_err());
    }
}
