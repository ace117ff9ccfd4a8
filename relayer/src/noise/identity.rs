//! The relayer's Noise identity. Its X25519 static key is derived like any device's
//! (`toss_sdk::noise::keys`): HKDF-SHA512 from the Ed25519 seed of `[noise] identity` (a
//! keypair file) or, by default, of the fee payer, with `[noise] device_id`; the binding is
//! signed by that Ed25519 key. Defaulting to the fee payer lets a client pin the relayer by
//! the address it already sees on-chain (the fee payer of every settle transaction), and
//! needs no second secret; a separate identity keeps the Noise key when the fee payer
//! rotates. Changing `device_id` rotates the Noise key. Key material is never logged: only
//! the public record is.

use crate::config::NoiseConfig;
use crate::RelayerError;
use solana_keypair::Keypair;
use toss_sdk::noise::{DeviceIdentity, NoiseKeyRecord};

/// The relayer's static key with its binding, and the record it publishes.
#[derive(Debug)]
pub struct NoiseIdentity {
    /// The X25519 key and the Ed25519 binding.
    pub device: DeviceIdentity,
    /// The signed record (`GET /v1/noise/key`, `toss-relayer keys show`).
    pub record: NoiseKeyRecord,
}

/// Derives the relayer's Noise identity from `[noise] identity` or else `fee_payer`.
pub fn load_identity(
    config: &NoiseConfig,
    fee_payer: &Keypair,
) -> Result<NoiseIdentity, RelayerError> {
    let separate = match &config.identity {
        Some(path) => Some(
            toss_sdk::keys::read_keypair_file(path.expose())
                .map_err(|e| RelayerError::Key(format!("noise.identity: {e}")))?,
        ),
        None => None,
    };
    let root = separate.as_ref().unwrap_or(fee_payer);
    let device = DeviceIdentity::derive(root, &config.device_id)
        .map_err(|e| RelayerError::Key(format!("noise.device_id: {e}")))?;
    let record = NoiseKeyRecord::new(&device.binding);
    Ok(NoiseIdentity { device, record })
}
