//! `toss arcium encrypt|decrypt`: Arcium's client cipher by hand, for debugging and for
//! cross-checking against other implementations. Both print hex, one scalar per line (or one
//! JSON object with `--output json`).

use crate::Output;
use clap::{Args, Subcommand};
use solana_pubkey::Pubkey;
use std::str::FromStr;
use toss_sdk::arcium::values::encode;
use toss_sdk::arcium::{ClientSecret, Fe, MxePublicKey, Nonce, Plaintext, RescueCipher};

#[derive(Subcommand)]
pub(crate) enum ArciumCommand {
    /// Encrypts values to an MXE key. VALUE: a decimal integer below 2^128 (one scalar), a
    /// base58 public key (two scalars, lo and hi; write `pubkey:` before one made of digits
    /// only, such as 111…1), or 0x + 64 hex digits (a raw field element, little-endian).
    /// Prints one 32-byte little-endian ciphertext per scalar.
    Encrypt {
        #[command(flatten)]
        keys: KeyArgs,
        /// Values to encrypt, in order.
        #[arg(required = true, value_name = "VALUE")]
        values: Vec<String>,
    },
    /// Decrypts ciphertexts (64 hex digits each). Prints one 32-byte little-endian plaintext
    /// scalar per line.
    Decrypt {
        #[command(flatten)]
        keys: KeyArgs,
        /// Ciphertexts, in order.
        #[arg(required = true, value_name = "CIPHERTEXT")]
        ciphertexts: Vec<String>,
    },
}

#[derive(Args)]
pub(crate) struct KeyArgs {
    /// The MXE's X25519 public key (64 hex digits).
    #[arg(long, value_name = "HEX")]
    mxe_key: String,
    /// The client's X25519 secret (64 hex digits).
    #[arg(long, value_name = "HEX")]
    secret: String,
    /// The 16-byte CTR nonce (32 hex digits).
    #[arg(long, value_name = "HEX")]
    nonce: String,
}

fn hex_array<const N: usize>(text: &str, what: &str) -> Result<[u8; N], String> {
    let bytes = hex::decode(text.trim()).map_err(|_| format!("{what} is not hex"))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{what} must be {N} bytes ({} hex digits)", 2 * N))
}

fn value(text: &str, position: usize) -> Result<Plaintext, String> {
    let text = text.trim();
    let pubkey =
        |t: &str| {
            Pubkey::from_str(t).map(|p| Plaintext::Pubkey(p.to_bytes())).map_err(|_| {
            format!("value {position} is not an integer, a base58 public key or 0x + 64 hex digits")
        })
        };
    if let Some(key) = text.strip_prefix("pubkey:") {
        return pubkey(key);
    }
    if let Some(raw) = text.strip_prefix("0x") {
        let bytes = hex_array::<32>(raw, &format!("value {position}"))?;
        return Fe::from_canonical_bytes(&bytes)
            .map(Plaintext::Field)
            .ok_or_else(|| format!("value {position} is not below the field modulus"));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u128>()
            .map(Plaintext::U128)
            .map_err(|_| format!("value {position} does not fit 128 bits"));
    }
    pubkey(text)
}

fn cipher(keys: &KeyArgs) -> Result<(RescueCipher, ClientSecret, Nonce), String> {
    let mxe =
        MxePublicKey::new(hex_array(&keys.mxe_key, "--mxe-key")?).map_err(|e| e.to_string())?;
    let secret = ClientSecret::from_bytes(hex_array(&keys.secret, "--secret")?);
    let nonce = Nonce(hex_array(&keys.nonce, "--nonce")?);
    let cipher = RescueCipher::for_client(&secret, &mxe).map_err(|e| e.to_string())?;
    Ok((cipher, secret, nonce))
}

fn print(
    lines: Vec<String>,
    key: &str,
    secret: &ClientSecret,
    nonce: &Nonce,
    output: Output,
) -> String {
    match output {
        Output::Text => lines.join("\n"),
        Output::Json => {
            let mut object = serde_json::Map::new();
            object.insert(
                "client_pubkey".into(),
                hex::encode(secret.public_key()).into(),
            );
            object.insert("nonce".into(), hex::encode(nonce.0).into());
            object.insert(key.into(), lines.into());
            serde_json::Value::Object(object).to_string()
        }
    }
}

/// Runs one `toss arcium` command.
pub(crate) fn run(command: ArciumCommand, output: Output) -> Result<String, String> {
    match command {
        ArciumCommand::Encrypt { keys, values } => {
            let (cipher, secret, nonce) = cipher(&keys)?;
            let plaintexts = values
                .iter()
                .enumerate()
                .map(|(i, v)| value(v, i))
                .collect::<Result<Vec<_>, _>>()?;
            let lines = cipher
                .encrypt(&encode(&plaintexts), &nonce)
                .iter()
                .map(hex::encode)
                .collect();
            Ok(print(lines, "ciphertexts", &secret, &nonce, output))
        }
        ArciumCommand::Decrypt { keys, ciphertexts } => {
            let (cipher, secret, nonce) = cipher(&keys)?;
            let parsed = ciphertexts
                .iter()
                .enumerate()
                .map(|(i, c)| hex_array::<32>(c, &format!("ciphertext {i}")))
                .collect::<Result<Vec<_>, _>>()?;
            let lines = cipher
                .decrypt(&parsed, &nonce)
                .map_err(|e| e.to_string())?
                .iter()
                .map(|f| hex::encode(f.to_bytes()))
                .collect();
            Ok(print(lines, "plaintexts", &secret, &nonce, output))
        }
    }
}
