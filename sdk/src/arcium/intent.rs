//! Confidential intents (format version 2): the amount encrypted to the MXE **before** the
//! payer signs, so neither the precompile instruction nor anything else on the wire carries it
//! in plaintext. Layout and rationale: `docs/arcium.md`, "Confidential intent".
//!
//! Same canonical rules as version 1 (fixed width, little-endian, exactly one encoding, id =
//! SHA-256 of the bytes); after the mint come the client's X25519 public key (fresh per
//! intent), the 16-byte CTR nonce (fresh per intent) and the amount's ciphertext (one canonical
//! field element), then the same public tail as version 1.
//!
//! An [`Opening`] (the amount and the intent's one-time client secret) travels next to the
//! signed bytes on the offline channel so the payee can check what was encrypted without the
//! MXE ([`ConfidentialIntent::check_opening`]).

use super::cipher::{ClientSecret, MxePublicKey, Nonce, RescueCipher};
use super::field::Fe;
use super::values;
use super::{ArciumError, Plaintext};
use crate::signed::{sign_bytes, verify_strict};
use crate::SdkError;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use subtle::ConstantTimeEq;
use toss_intent_processor::intent::{intent_id, Intent, FLAG_REFERENCE, MAGIC};

/// The confidential format version.
pub const VERSION: u8 = 2;
/// Bytes the confidential fields (client key, nonce, amount ciphertext) take.
pub const CONFIDENTIAL_FIELDS_LEN: usize = 32 + 16 + 32;
/// A SOL confidential intent without reference.
pub const SOL_LEN: usize = 8 + 32 + 32 + CONFIDENTIAL_FIELDS_LEN + 32 + 32 + 8 + 8;
/// A token confidential intent without reference.
pub const TOKEN_LEN: usize = SOL_LEN + 32;
/// Bytes a reference adds.
pub const REFERENCE_LEN: usize = 32;
/// The longest encoding.
pub const MAX_LEN: usize = TOKEN_LEN + REFERENCE_LEN;
/// Bytes of an Ed25519 signature (the signed wire form is `signature || intent`).
pub const SIGNATURE_LEN: usize = 64;

/// A decoded confidential intent. Everything but the amount is public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfidentialIntent {
    /// The payer; the Ed25519 key that signs these bytes.
    pub sender: Pubkey,
    /// Who is paid.
    pub recipient: Pubkey,
    /// The token mint; `None` for SOL.
    pub mint: Option<Pubkey>,
    /// The client's X25519 public key for this intent.
    pub client_pubkey: [u8; 32],
    /// The CTR nonce of the amount's encryption.
    pub nonce: Nonce,
    /// The amount (`u64`) encrypted to the MXE: one canonical field element.
    pub amount_ciphertext: [u8; 32],
    /// The durable nonce account this intent consumes.
    pub nonce_account: Pubkey,
    /// The nonce account's durable nonce at signing time.
    pub nonce_value: [u8; 32],
    /// Unix seconds after which the intent never settles.
    pub expiry: i64,
    /// Most the relayer may take (public: paid from the public vault).
    pub max_fee: u64,
    /// Optional 32-byte reference (Solana Pay convention).
    pub reference: Option<[u8; 32]>,
}

/// What the payer hands the payee next to a confidential intent: the claimed amount and the
/// intent's one-time client secret (it decrypts nothing but this intent). Never logged.
#[derive(Clone)]
pub struct Opening {
    /// The encrypted amount in plaintext.
    pub amount: u64,
    /// The client secret whose public key the intent carries.
    pub client_secret: ClientSecret,
}

/// Bytes of an opening's wire form: the amount (`u64` LE) then the client secret.
pub const OPENING_LEN: usize = 40;

impl Opening {
    /// `amount (8, LE) || client secret (32)`: what travels to the payee next to the intent.
    pub fn to_bytes(&self) -> [u8; OPENING_LEN] {
        let mut out = [0u8; OPENING_LEN];
        out[..8].copy_from_slice(&self.amount.to_le_bytes());
        out[8..].copy_from_slice(&self.client_secret.to_bytes());
        out
    }

    /// Parses [`Opening::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Opening, SdkError> {
        if bytes.len() != OPENING_LEN {
            return Err(SdkError::Encoding("an opening is 40 bytes"));
        }
        Ok(Opening {
            amount: u64::from_le_bytes(array(&bytes[..8])),
            client_secret: ClientSecret::from_bytes(array(&bytes[8..])),
        })
    }
}

impl core::fmt::Debug for Opening {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Opening(..)")
    }
}

/// The version-2 bytes an `intent` would have, with the given confidential fields.
fn confidential_from(
    intent: &Intent,
    client_pubkey: [u8; 32],
    nonce: Nonce,
    amount_ciphertext: [u8; 32],
) -> ConfidentialIntent {
    ConfidentialIntent {
        sender: intent.sender,
        recipient: intent.recipient,
        mint: intent.mint,
        client_pubkey,
        nonce,
        amount_ciphertext,
        nonce_account: intent.nonce_account,
        nonce_value: intent.nonce_value,
        expiry: intent.expiry,
        max_fee: intent.max_fee,
        reference: intent.reference,
    }
}

/// True when `key` is a low-order X25519 point (any encoding): a key exchange with it does not
/// depend on the other side's secret. A clamped scalar is a multiple of the cofactor 8, so it
/// maps exactly the small-order points to zero.
pub fn is_low_order_x25519(key: &[u8; 32]) -> bool {
    let probe = x25519_dalek::StaticSecret::from([0x55; 32]);
    !probe
        .diffie_hellman(&x25519_dalek::PublicKey::from(*key))
        .was_contributory()
}

impl ConfidentialIntent {
    /// Encrypts `intent`'s amount to the MXE with a fresh client secret and nonce and returns
    /// the confidential intent (to be signed) and its opening.
    pub fn encrypt(
        intent: &Intent,
        mxe: &MxePublicKey,
    ) -> Result<(ConfidentialIntent, Opening), ArciumError> {
        Self::encrypt_with(intent, mxe, ClientSecret::random()?, Nonce::random()?)
    }

    /// [`ConfidentialIntent::encrypt`] with a given secret and nonce (vectors, tests). A nonce
    /// must never repeat under one secret.
    pub fn encrypt_with(
        intent: &Intent,
        mxe: &MxePublicKey,
        client_secret: ClientSecret,
        nonce: Nonce,
    ) -> Result<(ConfidentialIntent, Opening), ArciumError> {
        if intent.amount == 0 {
            return Err(ArciumError::OutOfRange {
                index: 0,
                kind: "non-zero u64",
            });
        }
        let cipher = RescueCipher::for_client(&client_secret, mxe)?;
        let ciphertext = cipher.encrypt(&values::encode(&[Plaintext::U64(intent.amount)]), &nonce);
        let confidential =
            confidential_from(intent, client_secret.public_key(), nonce, ciphertext[0]);
        Ok((
            confidential,
            Opening {
                amount: intent.amount,
                client_secret,
            },
        ))
    }

    /// The payee's offline check: the opening's secret is the one whose public key the intent
    /// carries, and encrypting the claimed amount under it and the signed nonce gives the signed
    /// ciphertext (compared in constant time). Needs the MXE key the payee cached.
    pub fn check_opening(&self, opening: &Opening, mxe: &MxePublicKey) -> Result<(), ArciumError> {
        if opening.client_secret.public_key() != self.client_pubkey {
            return Err(ArciumError::OpeningMismatch);
        }
        let cipher = RescueCipher::for_client(&opening.client_secret, mxe)?;
        let expected = cipher.encrypt(&[Fe::from_u64(opening.amount)], &self.nonce);
        if opening.amount == 0 || !bool::from(expected[0].ct_eq(&self.amount_ciphertext)) {
            return Err(ArciumError::OpeningMismatch);
        }
        Ok(())
    }

    /// Length of the canonical encoding.
    pub fn encoded_len(&self) -> usize {
        let base = if self.mint.is_some() {
            TOKEN_LEN
        } else {
            SOL_LEN
        };
        base + if self.reference.is_some() {
            REFERENCE_LEN
        } else {
            0
        }
    }

    /// The canonical bytes (what the payer signs).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(u8::from(self.mint.is_some()));
        out.push(if self.reference.is_some() {
            FLAG_REFERENCE
        } else {
            0
        });
        out.extend_from_slice(self.sender.as_ref());
        out.extend_from_slice(self.recipient.as_ref());
        if let Some(mint) = &self.mint {
            out.extend_from_slice(mint.as_ref());
        }
        out.extend_from_slice(&self.client_pubkey);
        out.extend_from_slice(&self.nonce.0);
        out.extend_from_slice(&self.amount_ciphertext);
        out.extend_from_slice(self.nonce_account.as_ref());
        out.extend_from_slice(&self.nonce_value);
        out.extend_from_slice(&self.expiry.to_le_bytes());
        out.extend_from_slice(&self.max_fee.to_le_bytes());
        if let Some(reference) = &self.reference {
            out.extend_from_slice(reference);
        }
        out
    }

    /// The length a version-2 header announces (magic, version, kind and flags checked).
    pub fn len_from_header(bytes: &[u8]) -> Result<usize, SdkError> {
        let header = bytes
            .get(..8)
            .ok_or_else(|| SdkError::Intent("shorter than an intent header".into()))?;
        if header[..5] != MAGIC {
            return Err(SdkError::Intent("bad magic".into()));
        }
        if header[5] != VERSION {
            return Err(SdkError::Intent(format!(
                "version {} is not the confidential version {VERSION}",
                header[5]
            )));
        }
        let base = match header[6] {
            0 => SOL_LEN,
            1 => TOKEN_LEN,
            k => return Err(SdkError::Intent(format!("unknown intent kind {k}"))),
        };
        match header[7] {
            0 => Ok(base),
            FLAG_REFERENCE => Ok(base + REFERENCE_LEN),
            f => Err(SdkError::Intent(format!("unknown flags {f:#04x}"))),
        }
    }

    /// Decodes canonical bytes: exact length, canonical ciphertext, a client key that is not a
    /// low-order point. (Whether the plaintext is a `u64` can only be known inside the MPC.)
    pub fn decode(bytes: &[u8]) -> Result<ConfidentialIntent, SdkError> {
        let len = Self::len_from_header(bytes)?;
        if bytes.len() != len {
            return Err(SdkError::Intent(format!(
                "confidential intent is {} bytes, its header says {len}",
                bytes.len()
            )));
        }
        let mut at = 8usize;
        let mut take = |n: usize| {
            let field = &bytes[at..at + n];
            at += n;
            field
        };
        let key = |b: &[u8]| Pubkey::new_from_array(array(b));
        let sender = key(take(32));
        let recipient = key(take(32));
        let mint = (bytes[6] == 1).then(|| key(take(32)));
        let client_pubkey: [u8; 32] = array(take(32));
        let nonce = Nonce(array(take(16)));
        let amount_ciphertext: [u8; 32] = array(take(32));
        let nonce_account = key(take(32));
        let nonce_value: [u8; 32] = array(take(32));
        let expiry = i64::from_le_bytes(array(take(8)));
        let max_fee = u64::from_le_bytes(array(take(8)));
        let reference = (bytes[7] == FLAG_REFERENCE).then(|| array(take(32)));
        if Fe::from_canonical_bytes(&amount_ciphertext).is_none() {
            return Err(SdkError::Intent(
                "amount ciphertext is not a canonical field element".into(),
            ));
        }
        if is_low_order_x25519(&client_pubkey) {
            return Err(SdkError::Intent(
                "client x25519 key is a low-order point".into(),
            ));
        }
        Ok(ConfidentialIntent {
            sender,
            recipient,
            mint,
            client_pubkey,
            nonce,
            amount_ciphertext,
            nonce_account,
            nonce_value,
            expiry,
            max_fee,
            reference,
        })
    }
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

/// A confidential intent's canonical bytes and the sender's Ed25519 signature over them. Wire
/// form: `signature || intent bytes`, as for version 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedConfidentialIntent {
    /// Canonical version-2 bytes.
    pub message: Vec<u8>,
    /// Ed25519 signature over `message` by the intent's sender.
    pub signature: [u8; 64],
}

impl SignedConfidentialIntent {
    /// Signs `intent` with the sender's keypair.
    pub fn sign(keypair: &Keypair, intent: &ConfidentialIntent) -> SignedConfidentialIntent {
        Self::sign_message(keypair, intent.encode())
    }

    /// Signs arbitrary bytes (tests forge malformed intents with it).
    pub fn sign_message(keypair: &Keypair, message: Vec<u8>) -> SignedConfidentialIntent {
        let signature = sign_bytes(keypair, &message);
        SignedConfidentialIntent { message, signature }
    }

    /// The intent id (SHA-256 of the canonical bytes).
    pub fn id(&self) -> [u8; 32] {
        intent_id(&self.message)
    }

    /// Decodes and verifies under the precompile's rules (`verify_strict`).
    pub fn verify(&self) -> Result<ConfidentialIntent, SdkError> {
        let intent = ConfidentialIntent::decode(&self.message)?;
        verify_strict(&intent.sender.to_bytes(), &self.message, &self.signature)?;
        Ok(intent)
    }

    /// `signature || intent bytes`.
    pub fn to_bytes(&self) -> Vec<u8> {
        [&self.signature[..], &self.message].concat()
    }

    /// Parses `signature || intent bytes`; the intent must decode exactly.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedConfidentialIntent, SdkError> {
        if bytes.len() < SIGNATURE_LEN {
            return Err(SdkError::Encoding("shorter than a signature"));
        }
        let (signature, message) = bytes.split_at(SIGNATURE_LEN);
        ConfidentialIntent::decode(message)?;
        Ok(SignedConfidentialIntent {
            message: message.to_vec(),
            signature: array(signature),
        })
    }
}
