//! `tests/vectors/arcium_rescue.json`, produced with Arcium's own implementation (crate
//! `arcis-compiler` 0.16.0, see `docs/arcium.md`): X25519, key derivation, CTR encryption and
//! decryption, value layout and the Rescue-Prime hash, byte for byte.

use crate::unhex;
use serde_json::Value;
use toss_sdk::arcium::rescue::rescue_prime_hash;
use toss_sdk::arcium::values::{decode_pubkey, decode_u128, decode_u64, encode};
use toss_sdk::arcium::{ClientSecret, Fe, MxePublicKey, Nonce, Plaintext, RescueCipher};

fn vectors() -> Value {
    serde_json::from_str(include_str!("../vectors/arcium_rescue.json")).expect("vectors parse")
}

fn fe(s: &Value) -> Fe {
    Fe::from_canonical_bytes(&unhex(s.as_str().expect("hex string"))).expect("canonical")
}

fn plaintext(p: &Value) -> Plaintext {
    let value = p["value"].as_str().expect("value");
    match p["kind"].as_str().expect("kind") {
        "u64" => Plaintext::U64(value.parse().expect("u64")),
        "u128" => Plaintext::U128(value.parse().expect("u128")),
        "pubkey" => Plaintext::Pubkey(unhex(value)),
        "field" => Plaintext::Field(Fe::from_canonical_bytes(&unhex(value)).expect("field")),
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn vectors_cover_what_the_issue_asks() {
    let v = vectors();
    let cases = v["cases"].as_array().expect("cases");
    let count = |key: &str| {
        let mut seen: Vec<&str> = cases.iter().filter_map(|c| c[key].as_str()).collect();
        seen.sort();
        seen.dedup();
        seen.len()
    };
    assert!(count("client_secret") >= 3 && count("mxe_secret") >= 3 && count("nonce") >= 4);
    let all: Vec<Plaintext> = cases
        .iter()
        .flat_map(|c| {
            c["plaintexts"]
                .as_array()
                .expect("plaintexts")
                .iter()
                .map(plaintext)
        })
        .collect();
    for wanted in [
        Plaintext::U64(0),
        Plaintext::U64(1),
        Plaintext::U64(u64::MAX),
        Plaintext::U128(u128::MAX),
        Plaintext::Pubkey([0xff; 32]),
        Plaintext::Field(-Fe::ONE),
    ] {
        assert!(all.contains(&wanted), "{wanted:?} missing");
    }
    assert!(cases
        .iter()
        .any(|c| c["ciphertexts"].as_array().map_or(0, Vec::len) > 10));
}

#[test]
fn key_exchange_and_derivation_match_arcium() {
    for (i, c) in vectors()["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .enumerate()
    {
        let client = ClientSecret::from_bytes(unhex(c["client_secret"].as_str().unwrap()));
        assert_eq!(
            hex::encode(client.public_key()),
            c["client_pubkey"],
            "case {i}"
        );
        let mxe_secret = ClientSecret::from_bytes(unhex(c["mxe_secret"].as_str().unwrap()));
        assert_eq!(
            hex::encode(mxe_secret.public_key()),
            c["mxe_pubkey"],
            "case {i}"
        );
        let mxe = MxePublicKey::new(unhex(c["mxe_pubkey"].as_str().unwrap())).unwrap();
        let shared = client.shared_secret(&mxe).unwrap();
        assert_eq!(
            hex::encode(shared.to_bytes()),
            c["shared_secret"],
            "case {i}"
        );
        let key: Vec<String> = shared
            .rescue_key()
            .elements()
            .iter()
            .map(|f| hex::encode(f.to_bytes()))
            .collect();
        let expected: Vec<String> = c["rescue_key"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        assert_eq!(key, expected, "case {i}");
    }
}

#[test]
fn encryption_and_decryption_match_arcium_byte_for_byte() {
    for (i, c) in vectors()["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .enumerate()
    {
        let client = ClientSecret::from_bytes(unhex(c["client_secret"].as_str().unwrap()));
        let mxe = MxePublicKey::new(unhex(c["mxe_pubkey"].as_str().unwrap())).unwrap();
        let cipher = RescueCipher::for_client(&client, &mxe).unwrap();
        let nonce = Nonce(unhex(c["nonce"].as_str().unwrap()));
        let values: Vec<Plaintext> = c["plaintexts"]
            .as_array()
            .unwrap()
            .iter()
            .map(plaintext)
            .collect();
        let fields = encode(&values);
        let expected_fields: Vec<Fe> = c["plaintext_fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(fe)
            .collect();
        assert_eq!(fields, expected_fields, "layout, case {i}");
        let ciphertexts = cipher.encrypt(&fields, &nonce);
        let expected: Vec<[u8; 32]> = c["ciphertexts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| unhex(s.as_str().unwrap()))
            .collect();
        assert_eq!(ciphertexts, expected, "encrypt, case {i}");
        let decrypted = cipher.decrypt(&expected, &nonce).unwrap();
        assert_eq!(decrypted, fields, "decrypt, case {i}");
        // Typed decoding gives the values back.
        let mut at = 0;
        for v in &values {
            let back = match v {
                Plaintext::U64(_) => Plaintext::U64(decode_u64(&decrypted[at], at).unwrap()),
                Plaintext::U128(_) => Plaintext::U128(decode_u128(&decrypted[at], at).unwrap()),
                Plaintext::Pubkey(_) => Plaintext::Pubkey(
                    decode_pubkey(&decrypted[at], &decrypted[at + 1], at).unwrap(),
                ),
                other => *other,
            };
            assert_eq!(&back, v, "case {i}");
            at += v.scalars();
        }
    }
}

#[test]
fn rescue_prime_hash_matches_arcium() {
    for (i, h) in vectors()["rescue_prime_hash"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let message: Vec<Fe> = h["message"].as_array().unwrap().iter().map(fe).collect();
        let digest: Vec<Fe> = h["digest"].as_array().unwrap().iter().map(fe).collect();
        assert_eq!(rescue_prime_hash(&message).to_vec(), digest, "hash {i}");
    }
}
