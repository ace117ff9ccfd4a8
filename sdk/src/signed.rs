//! Signed intents and their wire forms.
//!
//! Bytes: the 64-byte Ed25519 signature, then the intent's canonical bytes (nothing else; the
//! intent's own header gives its length, so trailing bytes are refused). Text: standard base64
//! of those bytes (the relayer API). URI for QR codes: `toss:` followed by the same bytes in
//! URL-safe base64 without padding, e.g. `toss:3q2-7w…`.

use crate::SdkError;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use solana_keypair::Keypair;
use toss_intent_processor::intent::{intent_id, Intent};

/// The URI scheme of a signed intent.
pub const URI_SCHEME: &str = "toss:";
/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// The Ed25519 signature (RFC 8032, deterministic) of `keypair` over `message`.
pub fn sign_bytes(keypair: &Keypair, message: &[u8]) -> [u8; 64] {
    let secret: [u8; 32] = keypair.secret_bytes().to_owned();
    SigningKey::from_bytes(&secret).sign(message).to_bytes()
}

/// Verifies under the on-chain precompile's rules (`verify_strict`: canonical `S`, no
/// small-order keys or `R`), for intents of any version.
pub fn verify_strict(
    sender: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
) -> Result<(), SdkError> {
    let key = VerifyingKey::from_bytes(sender).map_err(|_| SdkError::BadSignature)?;
    key.verify_strict(message, &Signature::from_bytes(signature))
        .map_err(|_| SdkError::BadSignature)
}

/// An intent's canonical bytes and the sender's Ed25519 signature over them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIntent {
    /// Canonical intent bytes.
    pub message: Vec<u8>,
    /// Ed25519 signature over `message` by the intent's sender.
    pub signature: [u8; 64],
}

impl SignedIntent {
    /// Signs `intent` with the sender's keypair (RFC 8032 Ed25519, deterministic).
    pub fn sign(keypair: &Keypair, intent: &Intent) -> Result<Self, SdkError> {
        Ok(Self::sign_message(keypair, intent.encode()?))
    }

    /// Signs arbitrary bytes (tests use it to forge malformed intents).
    pub fn sign_message(keypair: &Keypair, message: Vec<u8>) -> Self {
        let signature = sign_bytes(keypair, &message);
        Self { message, signature }
    }

    /// The decoded intent.
    pub fn intent(&self) -> Result<Intent, SdkError> {
        Ok(Intent::decode(&self.message)?)
    }

    /// The intent id (SHA-256 of the canonical bytes).
    pub fn id(&self) -> [u8; 32] {
        intent_id(&self.message)
    }

    /// Decodes the intent and verifies the signature under the same rules as the on-chain
    /// precompile (`verify_strict`: canonical `S`, no small-order keys or `R`), which batch or
    /// cofactored verification would not enforce.
    pub fn verify(&self) -> Result<Intent, SdkError> {
        let intent = self.intent()?;
        verify_strict(&intent.sender.to_bytes(), &self.message, &self.signature)?;
        Ok(intent)
    }

    /// `signature || intent bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        [&self.signature[..], &self.message].concat()
    }

    /// Parses `signature || intent bytes`; the intent must decode exactly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SdkError> {
        if bytes.len() < SIGNATURE_LEN {
            return Err(SdkError::Encoding("shorter than a signature"));
        }
        let (signature, message) = bytes.split_at(SIGNATURE_LEN);
        Intent::decode(message)?;
        Ok(Self {
            message: message.to_vec(),
            signature: signature
                .try_into()
                .map_err(|_| SdkError::Encoding("signature"))?,
        })
    }

    /// Standard base64 of [`SignedIntent::to_bytes`].
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.to_bytes())
    }

    /// Parses [`SignedIntent::to_base64`].
    pub fn from_base64(text: &str) -> Result<Self, SdkError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| SdkError::Encoding("not base64"))?;
        Self::from_bytes(&bytes)
    }

    /// `toss:` URI (URL-safe base64, no padding) for QR codes and links.
    pub fn to_uri(&self) -> String {
        format!(
            "{URI_SCHEME}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.to_bytes())
        )
    }

    /// Parses [`SignedIntent::to_uri`].
    pub fn from_uri(uri: &str) -> Result<Self, SdkError> {
        let body = uri
            .trim()
            .strip_prefix(URI_SCHEME)
            .ok_or(SdkError::Encoding("not a toss: URI"))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SdkError::Encoding("not URL-safe base64"))?;
        Self::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use solana_pubkey::Pubkey;
    use solana_signer::Signer;

    fn intent(sender: Pubkey, amount: u64, reference: Option<[u8; 32]>) -> Intent {
        Intent {
            sender,
            recipient: Pubkey::new_from_array([2; 32]),
            mint: None,
            amount,
            nonce_account: Pubkey::new_from_array([3; 32]),
            nonce_value: [4; 32],
            expiry: 1_900_000_000,
            max_fee: 5_000,
            reference,
        }
    }

    proptest! {
        #[test]
        fn wire_forms_round_trip(amount in 1..u64::MAX, reference in proptest::option::of(any::<[u8; 32]>())) {
            let kp = Keypair::new();
            let signed = SignedIntent::sign(&kp, &intent(kp.pubkey(), amount, reference)).unwrap();
            prop_assert_eq!(signed.verify().unwrap().amount, amount);
            prop_assert_eq!(&SignedIntent::from_bytes(&signed.to_bytes()).unwrap(), &signed);
            prop_assert_eq!(&SignedIntent::from_base64(&signed.to_base64()).unwrap(), &signed);
            prop_assert_eq!(&SignedIntent::from_uri(&signed.to_uri()).unwrap(), &signed);
        }

        #[test]
        fn any_flipped_bit_is_refused(byte in 0usize..224, bit in 0u8..8) {
            let kp = Keypair::new();
            let signed = SignedIntent::sign(&kp, &intent(kp.pubkey(), 42, None)).unwrap();
            let mut bytes = signed.to_bytes();
            let at = byte % bytes.len();
            bytes[at] ^= 1 << bit;
            let outcome = SignedIntent::from_bytes(&bytes).and_then(|s| s.verify());
            prop_assert!(outcome.is_err());
        }
    }

    #[test]
    fn another_key_does_not_verify() {
        let (kp, other) = (Keypair::new(), Keypair::new());
        let signed = SignedIntent::sign(&other, &intent(kp.pubkey(), 1, None)).unwrap();
        assert_eq!(signed.verify(), Err(SdkError::BadSignature));
    }

    #[test]
    fn malformed_wire_forms_are_refused() {
        assert!(SignedIntent::from_bytes(&[0; 10]).is_err());
        assert!(SignedIntent::from_base64("not base64!").is_err());
        assert!(SignedIntent::from_uri("solana:abc").is_err());
        let kp = Keypair::new();
        let signed = SignedIntent::sign(&kp, &intent(kp.pubkey(), 1, None)).unwrap();
        let mut long = signed.to_bytes();
        long.push(0);
        assert!(SignedIntent::from_bytes(&long).is_err(), "trailing byte");
        assert!(signed.to_uri().starts_with("toss:"));
    }
}
