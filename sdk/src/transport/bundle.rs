//! A bundle: several signed intents as one payload, to carry over BLE, NFC or QR parts.
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 1 | version `1` |
//! | 1 | 2 | intent count `N` (`u16`, 1 to 200) |
//! | 3 | … | `N` entries: length `L` (`u16`), then `L` bytes of [`SignedIntent::to_bytes`] |
//!
//! The bundle has no checksum of its own: the transport frame carrying it has one, and every
//! intent carries its signature.

use super::FrameError;
use crate::SignedIntent;

/// The bundle version this SDK writes and reads.
pub const VERSION: u8 = 1;
/// Most intents in one bundle (a full bundle of the largest intents stays under 64 KiB).
pub const MAX_INTENTS: usize = 200;
/// Bytes before the first entry.
pub const HEADER_LEN: usize = 3;

/// Encodes 1 to [`MAX_INTENTS`] signed intents.
pub fn encode(intents: &[SignedIntent]) -> Result<Vec<u8>, FrameError> {
    if intents.is_empty() {
        return Err(FrameError::EmptyBundle);
    }
    let count = u16::try_from(intents.len())
        .ok()
        .filter(|&n| usize::from(n) <= MAX_INTENTS)
        .ok_or(FrameError::Oversized {
            len: intents.len(),
            max: MAX_INTENTS,
        })?;
    let mut out = vec![VERSION];
    out.extend_from_slice(&count.to_le_bytes());
    for signed in intents {
        let bytes = signed.to_bytes();
        let len = u16::try_from(bytes.len()).map_err(|_| FrameError::Oversized {
            len: bytes.len(),
            max: usize::from(u16::MAX),
        })?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// Decodes a bundle; every entry must be a well-formed signed intent ([`SignedIntent::from_bytes`]).
/// Signatures are not checked here: see [`decode_verified`].
pub fn decode(bytes: &[u8]) -> Result<Vec<SignedIntent>, FrameError> {
    let truncated = |expected| FrameError::Truncated {
        expected,
        actual: bytes.len(),
    };
    let version = *bytes.first().ok_or(truncated(HEADER_LEN))?;
    if version != VERSION {
        return Err(FrameError::UnsupportedVersion(version));
    }
    let count = usize::from(super::read_u16(bytes, 1).ok_or(truncated(HEADER_LEN))?);
    if count == 0 {
        return Err(FrameError::EmptyBundle);
    }
    if count > MAX_INTENTS {
        return Err(FrameError::Oversized {
            len: count,
            max: MAX_INTENTS,
        });
    }
    let mut at = HEADER_LEN;
    let mut intents = Vec::with_capacity(count);
    for index in 0..count {
        let len = usize::from(super::read_u16(bytes, at).ok_or(truncated(at + 2))?);
        let start = at + 2;
        let entry = bytes
            .get(start..start + len)
            .ok_or(truncated(start + len))?;
        let signed = SignedIntent::from_bytes(entry)
            .map_err(|reason| FrameError::Intent { index, reason })?;
        intents.push(signed);
        at = start + len;
    }
    if bytes.len() > at {
        return Err(FrameError::TrailingBytes {
            expected: at,
            actual: bytes.len(),
        });
    }
    Ok(intents)
}

/// Decodes a bundle and verifies every signature ([`SignedIntent::verify`], the precompile's
/// strict rules); the first intent that fails is reported with its position.
pub fn decode_verified(bytes: &[u8]) -> Result<Vec<SignedIntent>, FrameError> {
    let intents = decode(bytes)?;
    for (index, signed) in intents.iter().enumerate() {
        signed
            .verify()
            .map_err(|reason| FrameError::Intent { index, reason })?;
    }
    Ok(intents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Intent, SdkError};
    use solana_keypair::Keypair;
    use solana_pubkey::Pubkey;
    use solana_signer::Signer;

    fn signed(amount: u64) -> SignedIntent {
        let kp = Keypair::new();
        let intent = Intent {
            sender: kp.pubkey(),
            recipient: Pubkey::new_unique(),
            mint: None,
            amount,
            nonce_account: Pubkey::new_unique(),
            nonce_value: [9; 32],
            expiry: 1_900_000_000,
            max_fee: 5_000,
            reference: None,
        };
        SignedIntent::sign(&kp, &intent).unwrap()
    }

    #[test]
    fn ten_intents_round_trip_and_verify() {
        let intents: Vec<_> = (1..=10).map(signed).collect();
        let bytes = encode(&intents).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN + 10 * (2 + 224));
        assert_eq!(&bytes[..5], &[1, 10, 0, 224, 0]);
        assert_eq!(decode_verified(&bytes).unwrap(), intents);
    }

    #[test]
    fn counts_out_of_range_are_refused() {
        assert_eq!(encode(&[]), Err(FrameError::EmptyBundle));
        let many = vec![signed(1); MAX_INTENTS + 1];
        let err = || FrameError::Oversized {
            len: MAX_INTENTS + 1,
            max: MAX_INTENTS,
        };
        assert_eq!(encode(&many), Err(err()));
        assert_eq!(decode(&[1, 0, 0]), Err(FrameError::EmptyBundle));
        assert_eq!(decode(&[1, 201, 0]), Err(err()));
    }

    #[test]
    fn malformed_bundles_are_refused() {
        let bytes = encode(&[signed(1), signed(2)]).unwrap();
        let truncated = |expected, actual| FrameError::Truncated { expected, actual };
        assert_eq!(decode(&[]), Err(truncated(HEADER_LEN, 0)));
        assert_eq!(decode(&[1, 2]), Err(truncated(HEADER_LEN, 2)));
        assert_eq!(decode(&bytes[..4]), Err(truncated(5, 4)));
        assert_eq!(decode(&bytes[..100]), Err(truncated(229, 100)));
        let mut long = bytes.clone();
        long.push(0);
        let err = FrameError::TrailingBytes {
            expected: bytes.len(),
            actual: bytes.len() + 1,
        };
        assert_eq!(decode(&long), Err(err));
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(decode(&v2), Err(FrameError::UnsupportedVersion(2)));
    }

    #[test]
    fn bad_entries_are_reported_with_their_index() {
        let mut bytes = encode(&[signed(1), signed(2)]).unwrap();
        // Entry 1's intent magic.
        let magic = HEADER_LEN + 2 + 224 + 2 + 64;
        bytes[magic] ^= 1;
        assert!(matches!(
            decode(&bytes),
            Err(FrameError::Intent {
                index: 1,
                reason: SdkError::Intent(_)
            })
        ));
        let mut bytes = encode(&[signed(1), signed(2)]).unwrap();
        // Entry 0's signature.
        bytes[HEADER_LEN + 2] ^= 1;
        assert!(decode(&bytes).is_ok(), "structure is fine");
        let err = FrameError::Intent {
            index: 0,
            reason: SdkError::BadSignature,
        };
        assert_eq!(decode_verified(&bytes), Err(err));
    }
}
