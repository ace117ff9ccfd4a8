//! Key bindings: the root identity's Ed25519 signature over a device's X25519 key.
//!
//! ```text
//! message   = "toss-noise-binding-v1" || x25519_public (32 bytes) || device_id (ASCII)
//! signature = Ed25519-Sign(root seed, message)          // RFC 8032, deterministic
//! ```
//!
//! The tag and the key have fixed lengths and the device id comes last, so the message parses
//! one way only. Verification is `verify_strict` (canonical `S`, no small-order `A` or `R`),
//! the rule the intent signatures follow too.
//!
//! JSON form (handshake payloads, `GET /v1/noise/key`):
//! `{"ed25519": "<base58>", "x25519": "<hex>", "device_id": "<ascii>", "signature": "<hex>"}`.

use super::keys::{check_device_id, DeviceKey};
use super::NoiseError;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;

/// Domain tag at the start of every signed binding message.
pub const BINDING_TAG: &[u8] = b"toss-noise-binding-v1";

/// The bytes a binding signs.
pub fn binding_message(x25519: &[u8; 32], device_id: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(BINDING_TAG.len() + 32 + device_id.len());
    m.extend_from_slice(BINDING_TAG);
    m.extend_from_slice(x25519);
    m.extend_from_slice(device_id.as_bytes());
    m
}

/// A signed statement "root `ed25519` uses X25519 key `x25519` on device `device_id`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBinding {
    /// The root identity (an Ed25519 public key, i.e. a Solana address).
    pub ed25519: [u8; 32],
    /// The device's X25519 static public key.
    pub x25519: [u8; 32],
    /// The device id the key was derived for.
    pub device_id: String,
    /// Ed25519 signature over [`binding_message`].
    pub signature: [u8; 64],
}

/// The JSON shape of a binding.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingJson {
    ed25519: String,
    x25519: String,
    device_id: String,
    signature: String,
}

fn hex_array<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], NoiseError> {
    hex::decode(text.trim())
        .ok()
        .and_then(|v| <[u8; N]>::try_from(v).ok())
        .ok_or(NoiseError::Binding(what))
}

impl KeyBinding {
    /// Signs `key`'s binding with the root seed it was derived from.
    pub fn sign(seed: &[u8; 32], key: &DeviceKey) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let signature = signing
            .sign(&binding_message(key.public(), key.device_id()))
            .to_bytes();
        Self {
            ed25519: signing.verifying_key().to_bytes(),
            x25519: *key.public(),
            device_id: key.device_id().to_owned(),
            signature,
        }
    }

    /// Checks the device id and the signature (`verify_strict`).
    pub fn verify(&self) -> Result<(), NoiseError> {
        check_device_id(&self.device_id).map_err(|_| NoiseError::Binding("invalid device id"))?;
        let key = VerifyingKey::from_bytes(&self.ed25519)
            .map_err(|_| NoiseError::Binding("the Ed25519 key is not a valid point"))?;
        key.verify_strict(
            &binding_message(&self.x25519, &self.device_id),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| NoiseError::Binding("the signature does not verify"))
    }

    /// The JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "ed25519": bs58::encode(self.ed25519).into_string(),
            "x25519": hex::encode(self.x25519),
            "device_id": self.device_id,
            "signature": hex::encode(self.signature),
        })
    }

    /// The JSON form as bytes (a handshake payload).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses the JSON form (does not verify: see [`KeyBinding::verify`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, NoiseError> {
        let j: BindingJson = serde_json::from_slice(bytes)
            .map_err(|_| NoiseError::Binding("not a binding JSON object"))?;
        Self::from_parts(&j.ed25519, &j.x25519, &j.device_id, &j.signature)
    }

    /// Builds a binding from its text fields (base58, hex, ascii, hex).
    pub fn from_parts(
        ed25519: &str,
        x25519: &str,
        device_id: &str,
        signature: &str,
    ) -> Result<Self, NoiseError> {
        let ed25519 = bs58::decode(ed25519.trim())
            .into_vec()
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or(NoiseError::Binding("ed25519 is not 32 bytes of base58"))?;
        Ok(Self {
            ed25519,
            x25519: hex_array(x25519, "x25519 is not 32 bytes of hex")?,
            device_id: device_id.to_owned(),
            signature: hex_array(signature, "signature is not 64 bytes of hex")?,
        })
    }
}

/// Verifies `binding` (see [`KeyBinding::verify`]).
pub fn verify_binding(binding: &KeyBinding) -> Result<(), NoiseError> {
    binding.verify()
}

/// What a party with a static key holds: the key and its signed binding.
#[derive(Debug)]
pub struct DeviceIdentity {
    /// The X25519 static key pair.
    pub key: DeviceKey,
    /// The root's signature over it.
    pub binding: KeyBinding,
}

impl DeviceIdentity {
    /// Derives the key of `device_id` from `root` and signs its binding.
    pub fn derive(root: &Keypair, device_id: &str) -> Result<Self, NoiseError> {
        Self::from_seed(root.secret_bytes(), device_id)
    }

    /// Derives the key of `device_id` from an Ed25519 root seed and signs its binding.
    pub fn from_seed(seed: &[u8; 32], device_id: &str) -> Result<Self, NoiseError> {
        let key = DeviceKey::from_seed(seed, device_id)?;
        let binding = KeyBinding::sign(seed, &key);
        Ok(Self { key, binding })
    }
}
