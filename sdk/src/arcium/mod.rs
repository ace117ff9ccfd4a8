//! Arcium MXE confidential mode, client side: values encrypted to an MXE's X25519 key with
//! Arcium's scheme, the `MXEAccount` that publishes that key, and the Arcium PDAs a
//! queue-computation transaction names.
//!
//! Written here from Arcium's published scheme (Arcium's own crates are GPL-3.0 and are not a
//! dependency): X25519 → Rescue-Prime key derivation → Rescue in CTR mode over GF(2^255 − 19)
//! ([`cipher`]), with the parameters derived as the scheme specifies ([`params`]). The test
//! vectors in `sdk/tests/vectors/arcium_rescue.json` were produced with Arcium's reference
//! implementation and are matched byte for byte. Design: `docs/arcium.md`.
//!
//! - [`field`]: constant-time arithmetic mod 2^255 − 19.
//! - [`params`], [`rescue`]: Rescue parameters, permutation, Rescue-Prime hash, key schedule.
//! - [`cipher`]: key exchange, key derivation, CTR encrypt/decrypt.
//! - [`values`]: u64 / u128 / bool / public key ↔ field elements (Arcis layout).
//! - [`intent`]: confidential intents (format version 2), signing, the payee's opening check.
//! - [`queue`]: the queue-computation transaction of the confidential-settlement instruction.
//! - [`account`], [`pda`], [`fetch`]: the `MXEAccount`, Arcium's PDAs, fetching the MXE key
//!   through [`crate::cluster::Cluster`] with retry and a cache.

pub mod account;
pub mod cipher;
pub mod fetch;
pub mod field;
pub mod intent;
pub mod params;
pub mod pda;
pub mod queue;
pub mod rescue;
pub mod values;

pub use account::MxeAccount;
pub use cipher::{ClientSecret, MxePublicKey, Nonce, RescueCipher, RescueKey, SharedSecret};
pub use field::Fe;
pub use intent::{ConfidentialIntent, Opening, SignedConfidentialIntent};
pub use values::Plaintext;

/// Everything that can go wrong in confidential mode. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArciumError {
    /// The MXE's X25519 key is not set yet (the nodes have not generated it): all zero, or the
    /// account's `utility_pubkeys` is still `Unset`.
    #[error("the MXE's x25519 key is not set yet (the MXE nodes have not generated it)")]
    MxeKeyUnset,
    /// The MXE key is a low-order point: the key exchange would not depend on our secret.
    #[error("the MXE's x25519 key is a low-order point")]
    LowOrderMxeKey,
    /// A ciphertext is not a canonical field element (its value is p = 2^255 − 19 or more).
    #[error("ciphertext {index} is not a canonical field element (>= 2^255 - 19)")]
    NonCanonicalCiphertext {
        /// Position of the ciphertext.
        index: usize,
    },
    /// A decrypted scalar does not fit the expected type.
    #[error("decrypted scalar {index} does not fit a {kind}")]
    OutOfRange {
        /// Position of the scalar.
        index: usize,
        /// The expected type.
        kind: &'static str,
    },
    /// An opening (claimed amount and client secret) does not match the confidential intent.
    #[error("the opening does not match the intent's client key and amount ciphertext")]
    OpeningMismatch,
    /// The system random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// An `MXEAccount` could not be decoded.
    #[error("MXEAccount: {0}")]
    Account(String),
    /// No `MXEAccount` exists at the address.
    #[error("no MXEAccount at {0}")]
    AccountMissing(String),
    /// A cluster call failed.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// Ciphertexts with what a receiver needs to decrypt them with the MXE: the client's X25519
/// public key and the nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encrypted {
    /// The client's (ephemeral) X25519 public key.
    pub client_pubkey: [u8; 32],
    /// The CTR nonce.
    pub nonce: Nonce,
    /// One 32-byte little-endian ciphertext per scalar.
    pub ciphertexts: Vec<[u8; 32]>,
}

/// Encrypts `values` to the MXE with a fresh client secret and a fresh nonce (what a payer's
/// device does for each confidential intent). Returns the ciphertexts and the secret, which
/// the payer may hand to the payee to prove what was encrypted (see `docs/arcium.md`).
pub fn encrypt_fresh(
    mxe: &MxePublicKey,
    values: &[Plaintext],
) -> Result<(Encrypted, ClientSecret), ArciumError> {
    let secret = ClientSecret::random()?;
    let nonce = Nonce::random()?;
    let cipher = RescueCipher::for_client(&secret, mxe)?;
    let encrypted = Encrypted {
        client_pubkey: secret.public_key(),
        nonce,
        ciphertexts: cipher.encrypt(&values::encode(values), &nonce),
    };
    Ok((encrypted, secret))
}
