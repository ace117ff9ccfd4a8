//! Base45 (RFC 9285): bytes as text in the QR alphanumeric alphabet, which QR codes store at
//! 5.5 bits per character, so one byte costs 8.25 bits in the code (base64 in byte mode: 10.7).
//!
//! Two bytes `a, b` become `n = a * 256 + b` written as three characters `c d e` with
//! `n = c + 45 * d + 2025 * e`; a final single byte becomes two characters `c d`.

use super::FrameError;

/// The 45 characters, by value.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Encodes bytes as base45 text.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut push = |value: usize| out.push(char::from(ALPHABET[value % 45]));
    for pair in bytes.chunks(2) {
        match *pair {
            [a, b] => {
                let n = usize::from(a) * 256 + usize::from(b);
                push(n);
                push(n / 45);
                push(n / 2025);
            }
            [a] => {
                push(usize::from(a));
                push(usize::from(a) / 45);
            }
            _ => {}
        }
    }
    out
}

/// Marks a byte outside the alphabet in [`VALUES`].
const INVALID: u8 = u8::MAX;

/// Character value by byte, [`INVALID`] outside the alphabet.
const VALUES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The value of one base45 character.
fn value(c: u8) -> Result<u32, FrameError> {
    match VALUES[usize::from(c)] {
        INVALID => Err(FrameError::Base45("character outside the alphabet")),
        v => Ok(u32::from(v)),
    }
}

/// Decodes base45 text; refuses characters outside the alphabet, a dangling character, and
/// groups whose value exceeds what they encode (65535 for three, 255 for two).
pub fn decode(text: &str) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::with_capacity(text.len() / 3 * 2 + 1);
    for group in text.as_bytes().chunks(3) {
        let mut n = 0u32;
        for (&c, weight) in group.iter().zip([1, 45, 2025]) {
            n += value(c)? * weight;
        }
        match group.len() {
            3 => {
                let pair = u16::try_from(n).map_err(|_| FrameError::Base45("group over 65535"))?;
                out.extend_from_slice(&pair.to_be_bytes());
            }
            2 => out.push(u8::try_from(n).map_err(|_| FrameError::Base45("group over 255"))?),
            _ => return Err(FrameError::Base45("dangling character")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode("").unwrap(), b"");
    }

    #[test]
    fn malformed_text_is_refused() {
        assert_eq!(decode("GGW"), Err(FrameError::Base45("group over 65535")));
        assert_eq!(
            decode(":;"),
            Err(FrameError::Base45("character outside the alphabet"))
        );
        assert_eq!(
            decode("ab"),
            Err(FrameError::Base45("character outside the alphabet"))
        );
        assert_eq!(decode("::"), Err(FrameError::Base45("group over 255")));
        assert_eq!(
            decode("BB8A"),
            Err(FrameError::Base45("dangling character"))
        );
    }
}
