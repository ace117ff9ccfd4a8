//! Arcium's client cipher: X25519 with the MXE's key, the shared secret hashed into a Rescue
//! key, and the Rescue block cipher in counter mode.
//!
//! - **Key exchange**: X25519 (RFC 7748) between the client's secret and the MXE's public key
//!   (`utility_pubkeys.x25519_pubkey` of the `MXEAccount`). A non-contributory result (the MXE
//!   key is a low-order point) is refused.
//! - **Key derivation** (NIST SP 800-56C rev. 2, section 4, option 1, with the Rescue-Prime hash
//!   as H, one repetition): `key = H([1, Z, 5])`, the counter 1, the shared secret Z as one field
//!   element (its 32 little-endian bytes; X25519 output is always below p), and `FixedInfo` = L
//!   = 5, the key length in field elements.
//! - **CTR mode** (NIST SP 800-38A, 6.5): block i of the keystream is `E_key([nonce, i, 0, 0, 0])`,
//!   where the 16-byte nonce is read as a little-endian `u128`; ciphertext = plaintext +
//!   keystream (field addition), one canonical 32-byte little-endian ciphertext per scalar.
//!   Decryption subtracts. A nonce must never repeat under one key: [`Nonce::random`] draws a
//!   fresh one per encryption. Outputs of an Arcium circuit for the same owner come back under
//!   the next nonce ([`Nonce::next`]).

use super::field::Fe;
use super::params::CIPHER_WIDTH;
use super::rescue::{rescue_prime_hash, RescueBlockCipher};
use super::ArciumError;
use zeroize::Zeroize;

/// The MXE's X25519 public key. All-zero means "not generated yet" and is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MxePublicKey([u8; 32]);

impl MxePublicKey {
    /// The key from its 32 bytes; [`ArciumError::MxeKeyUnset`] when they are all zero.
    pub fn new(bytes: [u8; 32]) -> Result<MxePublicKey, ArciumError> {
        if bytes == [0; 32] {
            return Err(ArciumError::MxeKeyUnset);
        }
        Ok(MxePublicKey(bytes))
    }

    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}

/// A client X25519 secret (normally fresh per intent: [`ClientSecret::random`]). Zeroized on
/// drop (x25519-dalek's `StaticSecret` does that); its `Debug` does not print it.
#[derive(Clone)]
pub struct ClientSecret(x25519_dalek::StaticSecret);

impl ClientSecret {
    /// A secret from the operating system's random source.
    pub fn random() -> Result<ClientSecret, ArciumError> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| ArciumError::Random(e.to_string()))?;
        let secret = ClientSecret::from_bytes(bytes);
        bytes.zeroize();
        Ok(secret)
    }

    /// A secret from 32 bytes (clamped as X25519 specifies when used).
    pub fn from_bytes(bytes: [u8; 32]) -> ClientSecret {
        ClientSecret(x25519_dalek::StaticSecret::from(bytes))
    }

    /// The secret's 32 bytes (for an [`super::Opening`] handed to a payee; never log them).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key, which travels with the ciphertexts.
    pub fn public_key(&self) -> [u8; 32] {
        x25519_dalek::PublicKey::from(&self.0).to_bytes()
    }

    /// The X25519 shared secret with the MXE; refuses a non-contributory (low-order) result.
    pub fn shared_secret(&self, mxe: &MxePublicKey) -> Result<SharedSecret, ArciumError> {
        let shared = self
            .0
            .diffie_hellman(&x25519_dalek::PublicKey::from(mxe.to_bytes()));
        if !shared.was_contributory() {
            return Err(ArciumError::LowOrderMxeKey);
        }
        Ok(SharedSecret(shared.to_bytes()))
    }
}

impl core::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// An X25519 shared secret (the u-coordinate, 32 little-endian bytes). Zeroized on drop.
#[derive(Clone)]
pub struct SharedSecret([u8; 32]);

impl SharedSecret {
    /// Wraps raw shared-secret bytes (e.g. from the MXE side in tests).
    pub fn from_bytes(bytes: [u8; 32]) -> SharedSecret {
        SharedSecret(bytes)
    }

    /// The bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Derives the Rescue key: `RescuePrimeHash([1, Z, 5])` (SP 800-56C option 1).
    pub fn rescue_key(&self) -> RescueKey {
        // X25519 output is canonical (< p), so this is the exact value Z.
        let z = Fe::from_bytes_mod_p(&self.0);
        let mut message = [Fe::ONE, z, Fe::from_u64(CIPHER_WIDTH as u64)];
        let key = RescueKey(rescue_prime_hash(&message));
        message.zeroize();
        key
    }
}

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

/// A Rescue key: five field elements. Zeroized on drop.
#[derive(Clone)]
pub struct RescueKey([Fe; CIPHER_WIDTH]);

impl RescueKey {
    /// The key from five elements.
    pub fn from_elements(elements: [Fe; CIPHER_WIDTH]) -> RescueKey {
        RescueKey(elements)
    }

    /// The five elements (for cross-checks and test vectors).
    pub fn elements(&self) -> [Fe; CIPHER_WIDTH] {
        self.0
    }
}

impl Drop for RescueKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for RescueKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RescueKey(..)")
    }
}

/// A 16-byte CTR nonce (little-endian `u128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nonce(pub [u8; 16]);

impl Nonce {
    /// A fresh nonce from the operating system's random source.
    pub fn random() -> Result<Nonce, ArciumError> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).map_err(|e| ArciumError::Random(e.to_string()))?;
        Ok(Nonce(bytes))
    }

    /// The nonce Arcium uses for a circuit's outputs to the same owner: this one plus 1
    /// (wrapping at 2^128).
    pub fn next(&self) -> Nonce {
        Nonce(u128::from_le_bytes(self.0).wrapping_add(1).to_le_bytes())
    }

    fn element(&self) -> Fe {
        Fe::from_u128(u128::from_le_bytes(self.0))
    }
}

/// The Rescue cipher in CTR mode under one key.
pub struct RescueCipher {
    block: RescueBlockCipher,
}

impl RescueCipher {
    /// The cipher under `key`.
    pub fn new(key: &RescueKey) -> RescueCipher {
        RescueCipher {
            block: RescueBlockCipher::new(&key.0),
        }
    }

    /// The cipher for a client secret and the MXE's key (key exchange + derivation).
    pub fn for_client(
        secret: &ClientSecret,
        mxe: &MxePublicKey,
    ) -> Result<RescueCipher, ArciumError> {
        Ok(RescueCipher::new(&secret.shared_secret(mxe)?.rescue_key()))
    }

    fn keystream(&self, nonce: &Nonce, len: usize, mut each: impl FnMut(usize, Fe)) {
        let n = nonce.element();
        for (block_index, start) in (0..len).step_by(CIPHER_WIDTH).enumerate() {
            let counter = [
                n,
                Fe::from_u64(block_index as u64),
                Fe::ZERO,
                Fe::ZERO,
                Fe::ZERO,
            ];
            let mut stream = self.block.encrypt_block(&counter);
            for (offset, &k) in stream.iter().take(len - start).enumerate() {
                each(start + offset, k);
            }
            stream.zeroize();
        }
    }

    /// Encrypts field elements: one 32-byte ciphertext per element.
    pub fn encrypt(&self, plaintext: &[Fe], nonce: &Nonce) -> Vec<[u8; 32]> {
        let mut out = vec![[0u8; 32]; plaintext.len()];
        self.keystream(nonce, plaintext.len(), |i, k| {
            out[i] = (plaintext[i] + k).to_bytes()
        });
        out
    }

    /// Decrypts ciphertexts; [`ArciumError::NonCanonicalCiphertext`] names the first one that
    /// is not a canonical field element (≥ p).
    pub fn decrypt(&self, ciphertext: &[[u8; 32]], nonce: &Nonce) -> Result<Vec<Fe>, ArciumError> {
        let elements = ciphertext
            .iter()
            .enumerate()
            .map(|(index, c)| {
                Fe::from_canonical_bytes(c).ok_or(ArciumError::NonCanonicalCiphertext { index })
            })
            .collect::<Result<Vec<Fe>, _>>()?;
        let mut out = vec![Fe::ZERO; elements.len()];
        self.keystream(nonce, elements.len(), |i, k| out[i] = elements[i] - k);
        Ok(out)
    }
}
