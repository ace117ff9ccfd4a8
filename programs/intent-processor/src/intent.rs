//! The canonical intent: the exact bytes a payer signs offline and the program verifies.
//!
//! One intent has exactly one encoding. All integers are little-endian, all fields fixed width:
//!
//! | offset | size | field                                                             |
//! |-------:|-----:|-------------------------------------------------------------------|
//! | 0      | 5    | magic `FF 54 4F 53 53` (`0xFF` then `"TOSS"`)                     |
//! | 5      | 1    | format version, `1`                                               |
//! | 6      | 1    | kind: `0` = SOL, `1` = SPL token                                  |
//! | 7      | 1    | flags: bit 0 = reference present; all other bits must be zero     |
//! | 8      | 32   | sender: the Ed25519 public key that signs                         |
//! | 40     | 32   | recipient (wallet address; for tokens, the owner of the destination) |
//! | 72     | 32   | mint: present only when kind = 1                                  |
//! | +0     | 8    | amount (`u64`, lamports or token base units), never zero          |
//! | +8     | 32   | nonce account (a system durable-nonce account)                    |
//! | +40    | 32   | nonce value: the nonce account's durable nonce when signed        |
//! | +72    | 8    | expiry (`i64`, unix seconds; the intent is void after it)         |
//! | +80    | 8    | max relayer fee (`u64`, same unit as amount)                      |
//! | +88    | 32   | reference: present only when flag bit 0 is set (Solana Pay style) |
//!
//! Lengths: SOL 160 bytes, SOL with reference 192, token 192, token with reference 224.
//!
//! The leading `0xFF` can never start a Solana transaction message: a first byte with the top bit
//! set marks a versioned message, and version 127 does not exist (the same trick as Solana's
//! off-chain message signing). The sender sits at a fixed offset (8) so the Ed25519 precompile's
//! public-key offset can point into the message instead of repeating the key.
//!
//! The intent id is SHA-256 of the canonical bytes ([`intent_id`]). This module uses only `core`
//! and `alloc`, so it runs on-chain and off-chain alike.

use crate::error::TossError;
use anchor_lang::prelude::Pubkey;

/// First five bytes of every intent.
pub const MAGIC: [u8; 5] = [0xFF, b'T', b'O', b'S', b'S'];
/// The only format version this build understands.
pub const VERSION: u8 = 1;
/// Bytes before the sender.
pub const HEADER_LEN: usize = 8;
/// Offset of the sender (the signing public key) inside the intent.
pub const SENDER_OFFSET: usize = HEADER_LEN;
/// Flag bit: a 32-byte reference ends the intent.
pub const FLAG_REFERENCE: u8 = 0b0000_0001;
/// Length of a SOL intent without reference.
pub const SOL_INTENT_LEN: usize = HEADER_LEN + 32 + 32 + 8 + 32 + 32 + 8 + 8;
/// Length of a token intent without reference.
pub const TOKEN_INTENT_LEN: usize = SOL_INTENT_LEN + 32;
/// Bytes a reference adds.
pub const REFERENCE_LEN: usize = 32;
/// Longest encoding (token intent with reference).
pub const MAX_INTENT_LEN: usize = TOKEN_INTENT_LEN + REFERENCE_LEN;

/// What an intent moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum IntentKind {
    /// Lamports from the sender's vault.
    Sol = 0,
    /// SPL tokens of one mint, through the sender's allowance.
    Token = 1,
}

/// A decoded intent. `mint` is `Some` exactly for token intents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    /// The payer; the Ed25519 key that signs these bytes.
    pub sender: Pubkey,
    /// Who is paid (a wallet address).
    pub recipient: Pubkey,
    /// The token mint; `None` for SOL.
    pub mint: Option<Pubkey>,
    /// Lamports (SOL) or token base units; never zero.
    pub amount: u64,
    /// The durable nonce account this intent consumes.
    pub nonce_account: Pubkey,
    /// The nonce account's durable nonce at signing time.
    pub nonce_value: [u8; 32],
    /// Unix seconds after which the intent never settles.
    pub expiry: i64,
    /// Most the relayer may take, in the unit of `amount`.
    pub max_fee: u64,
    /// Optional 32-byte reference (Solana Pay convention) to match payments to orders.
    pub reference: Option<[u8; 32]>,
}

/// SHA-256 of canonical intent bytes: the id every component keys on.
pub fn intent_id(canonical: &[u8]) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[canonical]).to_bytes()
}

/// The encoded length announced by an intent's header, checked against magic, version, kind
/// and flags. Lets a reader size the message before decoding it.
pub fn encoded_len_from_header(bytes: &[u8]) -> Result<usize, TossError> {
    let header = bytes.get(..HEADER_LEN).ok_or(TossError::MalformedIntent)?;
    if header[..5] != MAGIC {
        return Err(TossError::MalformedIntent);
    }
    if header[5] != VERSION {
        return Err(TossError::UnsupportedIntentVersion);
    }
    let base = match header[6] {
        0 => SOL_INTENT_LEN,
        1 => TOKEN_INTENT_LEN,
        _ => return Err(TossError::UnsupportedIntentKind),
    };
    match header[7] {
        0 => Ok(base),
        FLAG_REFERENCE => Ok(base + REFERENCE_LEN),
        _ => Err(TossError::MalformedIntent),
    }
}

/// Reads fixed-width fields front to back; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], TossError> {
        let end = self.at.checked_add(N).ok_or(TossError::MalformedIntent)?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(TossError::MalformedIntent)?;
        self.at = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
    fn pubkey(&mut self) -> Result<Pubkey, TossError> {
        Ok(Pubkey::new_from_array(self.take::<32>()?))
    }
    fn u64(&mut self) -> Result<u64, TossError> {
        Ok(u64::from_le_bytes(self.take::<8>()?))
    }
    fn i64(&mut self) -> Result<i64, TossError> {
        Ok(i64::from_le_bytes(self.take::<8>()?))
    }
}

impl Intent {
    /// SOL or token.
    pub fn kind(&self) -> IntentKind {
        if self.mint.is_some() {
            IntentKind::Token
        } else {
            IntentKind::Sol
        }
    }

    /// Length of this intent's canonical encoding.
    pub fn encoded_len(&self) -> usize {
        let base = match self.kind() {
            IntentKind::Sol => SOL_INTENT_LEN,
            IntentKind::Token => TOKEN_INTENT_LEN,
        };
        base + if self.reference.is_some() {
            REFERENCE_LEN
        } else {
            0
        }
    }

    /// Writes the canonical bytes into `out` and returns their length. Fails when `out` is too
    /// short or the amount is zero (such an intent could never be decoded).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, TossError> {
        if self.amount == 0 {
            return Err(TossError::ZeroAmount);
        }
        let len = self.encoded_len();
        let out = out.get_mut(..len).ok_or(TossError::MalformedIntent)?;
        let mut at = 0usize;
        let mut put = |field: &[u8]| {
            out[at..at + field.len()].copy_from_slice(field);
            at += field.len();
        };
        put(&MAGIC);
        put(&[VERSION, self.kind() as u8]);
        put(&[if self.reference.is_some() {
            FLAG_REFERENCE
        } else {
            0
        }]);
        put(self.sender.as_ref());
        put(self.recipient.as_ref());
        if let Some(mint) = &self.mint {
            put(mint.as_ref());
        }
        put(&self.amount.to_le_bytes());
        put(self.nonce_account.as_ref());
        put(&self.nonce_value);
        put(&self.expiry.to_le_bytes());
        put(&self.max_fee.to_le_bytes());
        if let Some(reference) = &self.reference {
            put(reference);
        }
        Ok(len)
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Result<alloc::vec::Vec<u8>, TossError> {
        let mut out = alloc::vec![0u8; self.encoded_len()];
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Decodes canonical bytes. Rejects a wrong magic, version, kind or flags, a zero amount,
    /// and any missing or trailing byte.
    pub fn decode(bytes: &[u8]) -> Result<Self, TossError> {
        let len = encoded_len_from_header(bytes)?;
        if bytes.len() != len {
            return Err(TossError::MalformedIntent);
        }
        let mut r = Reader {
            bytes,
            at: HEADER_LEN,
        };
        let sender = r.pubkey()?;
        let recipient = r.pubkey()?;
        let mint = if bytes[6] == IntentKind::Token as u8 {
            Some(r.pubkey()?)
        } else {
            None
        };
        let amount = r.u64()?;
        if amount == 0 {
            return Err(TossError::ZeroAmount);
        }
        let intent = Intent {
            sender,
            recipient,
            mint,
            amount,
            nonce_account: r.pubkey()?,
            nonce_value: r.take::<32>()?,
            expiry: r.i64()?,
            max_fee: r.u64()?,
            reference: if bytes[7] & FLAG_REFERENCE != 0 {
                Some(r.take::<32>()?)
            } else {
                None
            },
        };
        debug_assert_eq!(r.at, len);
        Ok(intent)
    }

    /// The intent id: SHA-256 of the canonical bytes.
    pub fn id(&self) -> Result<[u8; 32], TossError> {
        let mut buf = [0u8; MAX_INTENT_LEN];
        let len = self.encode_into(&mut buf)?;
        Ok(intent_id(&buf[..len]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(mint: Option<Pubkey>, reference: Option<[u8; 32]>) -> Intent {
        Intent {
            sender: Pubkey::new_from_array([1; 32]),
            recipient: Pubkey::new_from_array([2; 32]),
            mint,
            amount: 1_500_000_000,
            nonce_account: Pubkey::new_from_array([3; 32]),
            nonce_value: [4; 32],
            expiry: 1_800_000_000,
            max_fee: 5_000,
            reference,
        }
    }

    #[test]
    fn lengths_match_the_documented_layout() {
        assert_eq!(SOL_INTENT_LEN, 160);
        assert_eq!(TOKEN_INTENT_LEN, 192);
        assert_eq!(MAX_INTENT_LEN, 224);
        for (intent, len) in [
            (sample(None, None), 160),
            (sample(None, Some([9; 32])), 192),
            (sample(Some(Pubkey::new_from_array([8; 32])), None), 192),
            (
                sample(Some(Pubkey::new_from_array([8; 32])), Some([9; 32])),
                224,
            ),
        ] {
            let bytes = intent.encode().unwrap();
            assert_eq!(bytes.len(), len);
            assert_eq!(encoded_len_from_header(&bytes).unwrap(), len);
            assert_eq!(Intent::decode(&bytes).unwrap(), intent);
            assert_eq!(
                &bytes[SENDER_OFFSET..SENDER_OFFSET + 32],
                intent.sender.as_ref()
            );
        }
    }

    #[test]
    fn golden_bytes_of_a_sol_intent() {
        let bytes = sample(None, None).encode().unwrap();
        assert_eq!(&bytes[..8], &[0xFF, b'T', b'O', b'S', b'S', 1, 0, 0]);
        assert_eq!(&bytes[72..80], &1_500_000_000u64.to_le_bytes());
        assert_eq!(&bytes[80..112], &[3; 32]);
        assert_eq!(&bytes[112..144], &[4; 32]);
        assert_eq!(&bytes[144..152], &1_800_000_000i64.to_le_bytes());
        assert_eq!(&bytes[152..160], &5_000u64.to_le_bytes());
    }

    #[test]
    fn decode_rejects_every_malformation() {
        let good = sample(None, None).encode().unwrap();
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(Intent::decode(&trailing), Err(TossError::MalformedIntent));
        assert_eq!(
            Intent::decode(&good[..good.len() - 1]),
            Err(TossError::MalformedIntent)
        );
        assert_eq!(Intent::decode(&good[..4]), Err(TossError::MalformedIntent));
        let mut bad = good.clone();
        bad[0] = 0x7F;
        assert_eq!(Intent::decode(&bad), Err(TossError::MalformedIntent));
        let mut bad = good.clone();
        bad[5] = 2;
        assert_eq!(
            Intent::decode(&bad),
            Err(TossError::UnsupportedIntentVersion)
        );
        let mut bad = good.clone();
        bad[6] = 2;
        assert_eq!(Intent::decode(&bad), Err(TossError::UnsupportedIntentKind));
        let mut bad = good.clone();
        bad[7] = 0b10;
        assert_eq!(Intent::decode(&bad), Err(TossError::MalformedIntent));
        let mut bad = good;
        bad[72..80].copy_from_slice(&0u64.to_le_bytes());
        assert_eq!(Intent::decode(&bad), Err(TossError::ZeroAmount));
    }

    #[test]
    fn id_is_sha256_of_the_canonical_bytes() {
        let intent = sample(None, None);
        let bytes = intent.encode().unwrap();
        assert_eq!(intent.id().unwrap(), intent_id(&bytes));
        // SHA-256("abc"), FIPS 180-2 test vector: the hash really is SHA-256.
        assert_eq!(intent_id(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
    }
}
