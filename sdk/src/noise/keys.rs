//! The device's static X25519 key, derived from its Ed25519 root seed.
//!
//! ```text
//! okm    = HKDF-SHA512(salt = "toss-noise-x25519-v1", ikm = ed25519_seed (32 bytes),
//!                      info = "toss-noise-device:" || device_id, length = 32)
//! secret = clamp(okm)      // okm[0] &= 248; okm[31] &= 127; okm[31] |= 64
//! public = X25519(secret, 9)
//! ```
//!
//! The root is the 32-byte seed of a Solana keypair (RFC 8032's secret key), so one wallet key
//! gives every device its own Noise key, and the same (seed, device id) always gives the same
//! key: nothing else needs backing up. HKDF's salt is fixed and versioned; changing the
//! derivation means a new salt. The device id (1 to [`MAX_DEVICE_ID_LEN`] bytes of printable
//! ASCII, no spaces) goes in `info`, so two devices of one wallet never share a key.
//!
//! x25519-dalek's `StaticSecret` clamps the scalar every time it is used, so clamping here
//! changes no shared secret; it is done anyway so the stored secret is already the canonical
//! scalar that other libraries (which may not clamp on use, or check that the key is clamped)
//! expect, and so the committed test vectors show the bytes a device actually keeps.

use super::NoiseError;
use hkdf::Hkdf;
use sha2::Sha512;
use solana_keypair::Keypair;
use std::fmt;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// HKDF salt: fixed, versioned.
pub const KDF_SALT: &[u8] = b"toss-noise-x25519-v1";
/// HKDF info prefix; the device id follows it.
pub const KDF_INFO_PREFIX: &[u8] = b"toss-noise-device:";
/// Longest device id, in bytes.
pub const MAX_DEVICE_ID_LEN: usize = 64;

/// Checks a device id: 1 to [`MAX_DEVICE_ID_LEN`] bytes of printable ASCII without spaces
/// (`0x21..=0x7e`), so it needs no escaping in JSON, logs or a command line.
pub fn check_device_id(device_id: &str) -> Result<(), NoiseError> {
    if device_id.is_empty() {
        return Err(NoiseError::DeviceId("empty"));
    }
    if device_id.len() > MAX_DEVICE_ID_LEN {
        return Err(NoiseError::DeviceId("longer than 64 bytes"));
    }
    if !device_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(NoiseError::DeviceId(
            "only printable ASCII without spaces is allowed",
        ));
    }
    Ok(())
}

/// Clamps an X25519 scalar as RFC 7748 decodes it: clears the 3 low bits and the top bit,
/// sets bit 254.
pub fn clamp(scalar: &mut [u8; 32]) {
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
}

/// The clamped X25519 static secret of `device_id` under the Ed25519 root `seed`.
pub fn derive_x25519_secret(
    seed: &[u8; 32],
    device_id: &str,
) -> Result<Zeroizing<[u8; 32]>, NoiseError> {
    check_device_id(device_id)?;
    let hkdf = Hkdf::<Sha512>::new(Some(KDF_SALT), seed);
    let mut info = Vec::with_capacity(KDF_INFO_PREFIX.len() + device_id.len());
    info.extend_from_slice(KDF_INFO_PREFIX);
    info.extend_from_slice(device_id.as_bytes());
    let mut okm = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA512's limit of 255 × 64: this cannot fail.
    hkdf.expand(&info, okm.as_mut())
        .map_err(|_| NoiseError::Key("HKDF output length".into()))?;
    clamp(&mut okm);
    Ok(okm)
}

/// A device's X25519 static key pair and the id it was derived for. The secret is wiped on
/// drop and never printed (`Debug` shows the public key only).
pub struct DeviceKey {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
    device_id: String,
}

impl DeviceKey {
    /// Derives the key of `device_id` from an Ed25519 root seed.
    pub fn from_seed(seed: &[u8; 32], device_id: &str) -> Result<Self, NoiseError> {
        let secret = derive_x25519_secret(seed, device_id)?;
        let public = PublicKey::from(&StaticSecret::from(*secret)).to_bytes();
        Ok(Self {
            secret,
            public,
            device_id: device_id.to_owned(),
        })
    }

    /// Derives the key of `device_id` from a Solana keypair (its 32-byte seed).
    pub fn derive(root: &Keypair, device_id: &str) -> Result<Self, NoiseError> {
        Self::from_seed(root.secret_bytes(), device_id)
    }

    /// The X25519 public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// The clamped X25519 secret (for the Noise handshake; never log it).
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The device id the key was derived for.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKey")
            .field("public", &hex::encode(self.public))
            .field("device_id", &self.device_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}
