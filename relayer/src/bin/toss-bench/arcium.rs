//! `toss-bench arcium`: what Arcium confidential mode costs a payer's device per intent. One
//! confidential intent encrypts its amount (one scalar) to the MXE key under a fresh X25519
//! secret and a fresh nonce: key exchange, Rescue-Prime key derivation, Rescue key schedule,
//! one CTR block. Also the parts, and the payee's check of an opened ciphertext.

use std::time::{Duration, Instant};
use toss_sdk::arcium::values::encode;
use toss_sdk::arcium::{encrypt_fresh, ClientSecret, MxePublicKey, Nonce, Plaintext, RescueCipher};

const ROUNDS: usize = 400;

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Runs `f` `ROUNDS` times; (mean, p50, p99) in microseconds.
fn time<T>(mut f: impl FnMut() -> Result<T, String>) -> Result<(f64, f64, f64), String> {
    f()?; // warm up (parameter derivation happens once, on first use)
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        std::hint::black_box(f()?);
        samples.push(micros(start.elapsed()));
    }
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    Ok((mean, samples[ROUNDS / 2], samples[ROUNDS * 99 / 100]))
}

/// Encryption figures.
pub fn run() -> Result<serde_json::Value, String> {
    let err = |e: toss_sdk::arcium::ArciumError| e.to_string();
    let mxe_secret = ClientSecret::random().map_err(err)?;
    let mxe = MxePublicKey::new(mxe_secret.public_key()).map_err(err)?;
    let amount = [Plaintext::U64(2_500_000)];
    let four = [
        Plaintext::U64(2_500_000),
        Plaintext::Pubkey([7; 32]),
        Plaintext::U64(5_000),
    ];

    let (intent_mean, intent_p50, intent_p99) = time(|| encrypt_fresh(&mxe, &amount).map_err(err))?;
    let (four_mean, _, _) = time(|| encrypt_fresh(&mxe, &four).map_err(err))?;

    let client = ClientSecret::random().map_err(err)?;
    let (x25519, _, _) = time(|| client.shared_secret(&mxe).map_err(err))?;
    let shared = client.shared_secret(&mxe).map_err(err)?;
    let (kdf, _, _) = time(|| Ok(shared.rescue_key()))?;
    let key = shared.rescue_key();
    let (schedule, _, _) = time(|| Ok(RescueCipher::new(&key)))?;
    let cipher = RescueCipher::new(&key);
    let nonce = Nonce::random().map_err(err)?;
    let fields = encode(&amount);
    let (block, _, _) = time(|| Ok(cipher.encrypt(&fields, &nonce)))?;
    let ciphertexts = cipher.encrypt(&fields, &nonce);
    let (decrypt, _, _) = time(|| cipher.decrypt(&ciphertexts, &nonce).map_err(err))?;
    // The payee, handed the intent's client secret, re-derives and re-encrypts the claimed
    // amount and compares with the signed ciphertext.
    let (payee_check, _, _) = time(|| {
        let c = RescueCipher::for_client(&client, &mxe).map_err(err)?;
        Ok(c.encrypt(&fields, &nonce) == ciphertexts)
    })?;

    Ok(serde_json::json!({
        "encrypt_intent_us_mean": intent_mean,
        "encrypt_intent_us_p50": intent_p50,
        "encrypt_intent_us_p99": intent_p99,
        "encrypt_intents_per_s_one_core": 1e6 / intent_mean,
        "encrypt_amount_recipient_fee_us_mean": four_mean,
        "x25519_us": x25519,
        "rescue_prime_kdf_us": kdf,
        "rescue_key_schedule_us": schedule,
        "ctr_block_us": block,
        "decrypt_one_scalar_us": decrypt,
        "payee_opening_check_us": payee_check,
        "rounds": ROUNDS,
    }))
}
