//! `[noise]`: the Noise endpoint (a TCP listener speaking Noise; `docs/noise.md`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::types::Redacted;

/// `[noise] enabled`.
pub const DEFAULT_NOISE_ENABLED: bool = false;
/// `[noise] listen`.
pub const DEFAULT_NOISE_LISTEN: &str = "127.0.0.1:8081";
/// `[noise] handshake_timeout_ms`: the whole handshake, from accept to the last message.
pub const DEFAULT_NOISE_HANDSHAKE_TIMEOUT_MS: u64 = 5_000;
/// `[noise] idle_timeout_ms`: longest wait for the next message after the handshake.
pub const DEFAULT_NOISE_IDLE_TIMEOUT_MS: u64 = 60_000;
/// `[noise] max_message_bytes`: the Noise limit.
pub const DEFAULT_NOISE_MAX_MESSAGE_BYTES: usize = 65_535;
/// `[noise] max_sessions_per_ip`.
pub const DEFAULT_NOISE_MAX_SESSIONS_PER_IP: usize = 16;
/// `[noise] max_sessions`: open sessions (handshakes included) from all clients together.
pub const DEFAULT_NOISE_MAX_SESSIONS: usize = 1_024;
/// `[noise] device_id`: the device id the relayer's static key is derived for.
pub const DEFAULT_NOISE_DEVICE_ID: &str = "toss-relayer";
/// Smallest accepted `[noise] max_message_bytes` (a handshake message with a binding fits).
pub const MIN_NOISE_MESSAGE_BYTES: usize = 1_024;
/// Largest accepted `[noise] max_message_bytes` (a Noise message is at most 65,535 bytes).
pub const MAX_NOISE_MESSAGE_BYTES: usize = 65_535;

/// `[noise]`: the Noise endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// Serve the Noise endpoint.
    pub enabled: bool,
    /// Socket address to listen on (`IP:port`).
    pub listen: String,
    /// Longest time from accepting a connection to the end of its handshake, in ms.
    pub handshake_timeout_ms: u64,
    /// Longest wait for the next message of an established session, in ms.
    pub idle_timeout_ms: u64,
    /// Largest frame (one Noise message) accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most concurrent sessions (including handshakes) from one client IP.
    pub max_sessions_per_ip: usize,
    /// Most concurrent sessions (including handshakes) from all clients together: bounds the
    /// endpoint's sockets and buffers whatever the number of client addresses.
    pub max_sessions: usize,
    /// Device id the relayer's X25519 key is derived for (change it to rotate the key).
    pub device_id: String,
    /// Keypair file of the Ed25519 identity the Noise key is derived from and signed by;
    /// unset: the fee payer's.
    pub identity: Option<Redacted<PathBuf>>,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            enabled: DEFAULT_NOISE_ENABLED,
            listen: DEFAULT_NOISE_LISTEN.to_owned(),
            handshake_timeout_ms: DEFAULT_NOISE_HANDSHAKE_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_NOISE_IDLE_TIMEOUT_MS,
            max_message_bytes: DEFAULT_NOISE_MAX_MESSAGE_BYTES,
            max_sessions_per_ip: DEFAULT_NOISE_MAX_SESSIONS_PER_IP,
            max_sessions: DEFAULT_NOISE_MAX_SESSIONS,
            device_id: DEFAULT_NOISE_DEVICE_ID.to_owned(),
            identity: None,
        }
    }
}

impl NoiseConfig {
    /// Every problem with these settings (`server_listen` is the HTTP address, which the
    /// Noise listener must not reuse).
    pub fn problems(&self, server_listen: &str) -> Vec<String> {
        let mut p = Vec::new();
        let mut check = |ok: bool, problem: String| {
            if !ok {
                p.push(problem);
            }
        };
        check(
            self.listen.parse::<SocketAddr>().is_ok(),
            format!(
                "noise.listen {:?} is not an IP:port socket address",
                self.listen
            ),
        );
        let port_zero = self
            .listen
            .parse::<SocketAddr>()
            .is_ok_and(|a| a.port() == 0);
        check(
            !self.enabled || port_zero || self.listen != server_listen,
            "noise.listen must differ from server.listen".into(),
        );
        check(
            self.handshake_timeout_ms > 0,
            "noise.handshake_timeout_ms must be greater than 0".into(),
        );
        check(
            self.idle_timeout_ms > 0,
            "noise.idle_timeout_ms must be greater than 0".into(),
        );
        check(
            (MIN_NOISE_MESSAGE_BYTES..=MAX_NOISE_MESSAGE_BYTES).contains(&self.max_message_bytes),
            format!(
                "noise.max_message_bytes must be between {MIN_NOISE_MESSAGE_BYTES} and \
                 {MAX_NOISE_MESSAGE_BYTES} (the Noise limit)"
            ),
        );
        check(
            self.max_sessions_per_ip > 0,
            "noise.max_sessions_per_ip must be greater than 0".into(),
        );
        check(
            self.max_sessions > 0,
            "noise.max_sessions must be greater than 0".into(),
        );
        if let Err(e) = toss_sdk::noise::keys::check_device_id(&self.device_id) {
            check(false, format!("noise.device_id: {e}"));
        }
        if let Some(path) = &self.identity {
            check(
                !path.expose().as_os_str().is_empty(),
                "noise.identity must be a keypair file path when set".into(),
            );
            check(
                !super::validate::looks_like_inline_key(path.expose()),
                "noise.identity must be the path of a keypair file, not the key itself".into(),
            );
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use super::*;

    fn problems_of(text: &str) -> Vec<String> {
        match Config::parse(text, "t.toml").map(|c| c.validate()) {
            Ok(Err(ConfigError::Invalid(p))) => p,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_off_and_valid() -> Result<(), ConfigError> {
        let c = Config::parse("[noise]\n", "t")?;
        assert_eq!(c.noise, NoiseConfig::default());
        assert!(!c.noise.enabled);
        assert_eq!(c.noise.max_message_bytes, 65_535);
        c.validate()?;
        let on = Config::parse(
            "[noise]\nenabled = true\nlisten = \"127.0.0.1:0\"\nmax_sessions_per_ip = 2\n",
            "t",
        )?;
        on.validate()?;
        assert_eq!(on.noise.max_sessions_per_ip, 2);
        Ok(())
    }

    #[test]
    fn every_noise_rule_has_a_failing_case() {
        for (text, needle) in [
            ("listen = \"nowhere\"", "noise.listen"),
            (
                "enabled = true\nlisten = \"127.0.0.1:8080\"",
                "must differ from server.listen",
            ),
            ("handshake_timeout_ms = 0", "noise.handshake_timeout_ms"),
            ("idle_timeout_ms = 0", "noise.idle_timeout_ms"),
            ("max_message_bytes = 65536", "noise.max_message_bytes"),
            ("max_message_bytes = 100", "noise.max_message_bytes"),
            ("max_sessions_per_ip = 0", "noise.max_sessions_per_ip"),
            ("max_sessions = 0", "noise.max_sessions must"),
            ("device_id = \"has space\"", "noise.device_id"),
            ("device_id = \"\"", "noise.device_id"),
            ("identity = \"[1,2,3]\"", "noise.identity must be the path"),
            (
                "identity = \"\"",
                "noise.identity must be a keypair file path",
            ),
        ] {
            let problems = problems_of(&format!("[noise]\n{text}\n"));
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "{text}: {problems:?}"
            );
        }
    }

    #[test]
    fn unknown_noise_keys_are_refused_and_identity_is_redacted() {
        match Config::parse("[noise]\nmax_clients = 3\n", "t.toml") {
            Err(e @ ConfigError::Parse { .. }) => assert!(e.to_string().contains("max_clients")),
            other => panic!("expected a parse error, got {other:?}"),
        }
        let mut c = Config::parse("[noise]\nidentity = \"~/noise.json\"\n", "t").unwrap();
        assert!(!format!("{c:?}").contains("noise.json"));
        c.apply_env(|k| (k == "HOME").then(|| "/home/op".to_string()))
            .unwrap();
        assert_eq!(
            c.noise.identity.as_ref().map(|p| p.expose().clone()),
            Some(PathBuf::from("/home/op/noise.json"))
        );
    }
}
