//! The relayer's published key record and the pin a client keeps.
//!
//! A relayer publishes its Noise key the way a device does: an X25519 key derived from its
//! Ed25519 identity, with the binding signature. `GET /v1/noise/key` and `toss-relayer keys
//! show` print this record; a client that stores it (or just its `x25519` field) can use `IK`
//! or `N`, and check in `XX` that it reached the same relayer:
//!
//! ```json
//! {"version": 1, "ed25519": "<base58>", "x25519": "<hex>", "device_id": "toss-relayer",
//!  "signature": "<hex>", "prologue": "toss-noise-v1",
//!  "protocols": ["Noise_IK_25519_ChaChaPoly_SHA256", "Noise_XX_…", "Noise_N_…", "Noise_NN_…"]}
//! ```

use super::binding::KeyBinding;
use super::{NoiseError, Pattern, PROLOGUE};
use serde::{Deserialize, Serialize};

/// Version of the record format.
pub const RECORD_VERSION: u8 = 1;

/// A relayer's signed Noise key record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseKeyRecord {
    /// Format version ([`RECORD_VERSION`]).
    pub version: u8,
    /// The relayer's Ed25519 identity, base58.
    pub ed25519: String,
    /// The relayer's X25519 static key, hex.
    pub x25519: String,
    /// The device id the key was derived for.
    pub device_id: String,
    /// The binding signature, hex.
    pub signature: String,
    /// The Noise prologue, as text.
    pub prologue: String,
    /// The full Noise protocol names the endpoint speaks.
    pub protocols: Vec<String>,
}

impl NoiseKeyRecord {
    /// The record of `binding`, naming every protocol and the prologue.
    pub fn new(binding: &KeyBinding) -> Self {
        Self {
            version: RECORD_VERSION,
            ed25519: bs58::encode(binding.ed25519).into_string(),
            x25519: hex::encode(binding.x25519),
            device_id: binding.device_id.clone(),
            signature: hex::encode(binding.signature),
            prologue: String::from_utf8_lossy(PROLOGUE).into_owned(),
            protocols: Pattern::ALL
                .iter()
                .map(|p| p.protocol_name().to_owned())
                .collect(),
        }
    }

    /// The binding the record carries, verified, and checked to be this protocol version.
    pub fn verified_binding(&self) -> Result<KeyBinding, NoiseError> {
        if self.version != RECORD_VERSION {
            return Err(NoiseError::Record(format!(
                "version {} (this client speaks {RECORD_VERSION})",
                self.version
            )));
        }
        if self.prologue.as_bytes() != PROLOGUE {
            return Err(NoiseError::Record("another prologue".into()));
        }
        let binding = KeyBinding::from_parts(
            &self.ed25519,
            &self.x25519,
            &self.device_id,
            &self.signature,
        )?;
        binding.verify()?;
        Ok(binding)
    }
}

/// What a client pins of a relayer: its X25519 static key, and its Ed25519 identity when it
/// was taken from a signed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayerPin {
    /// The relayer's X25519 static key.
    pub x25519: [u8; 32],
    /// The relayer's Ed25519 identity, when known.
    pub ed25519: Option<[u8; 32]>,
}

impl RelayerPin {
    /// Parses a pin: the X25519 key as 64 hex characters or base58, or a key record (JSON,
    /// whose binding must verify).
    pub fn parse(text: &str) -> Result<Self, NoiseError> {
        let t = text.trim();
        if t.starts_with('{') {
            let record: NoiseKeyRecord = serde_json::from_str(t)
                .map_err(|e| NoiseError::Record(format!("not a key record: {e}")))?;
            let binding = record.verified_binding()?;
            return Ok(Self {
                x25519: binding.x25519,
                ed25519: Some(binding.ed25519),
            });
        }
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            bs58::decode(t).into_vec().ok()
        };
        let x25519 = bytes
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| {
                NoiseError::Key(
                    "a relayer key is 32 bytes as 64 hex characters or base58, or a key record"
                        .into(),
                )
            })?;
        Ok(Self {
            x25519,
            ed25519: None,
        })
    }
}
