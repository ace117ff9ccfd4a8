//! Device keys: the committed vectors, derivation rules, bindings, records, pattern names.

use super::super::binding::binding_message;
use super::super::keys::{check_device_id, KDF_INFO_PREFIX, KDF_SALT};
use super::super::*;
use super::{identity, pin_of};
use serde_json::Value;

const VECTORS: &str = include_str!("../../../tests/vectors/noise_keys.json");

#[test]
fn derivation_and_binding_match_the_committed_vectors() {
    let file: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(
        file["kdf"]["salt"],
        String::from_utf8_lossy(KDF_SALT).as_ref()
    );
    assert_eq!(
        file["kdf"]["info_prefix"],
        String::from_utf8_lossy(KDF_INFO_PREFIX).as_ref()
    );
    let vectors = file["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 4);
    for v in vectors {
        let seed: [u8; 32] = hex::decode(v["seed"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let device = v["device_id"].as_str().unwrap();
        let id = DeviceIdentity::from_seed(&seed, device).unwrap();
        assert_eq!(hex::encode(id.key.secret()), v["x25519_secret"], "{device}");
        assert_eq!(hex::encode(id.key.public()), v["x25519_public"], "{device}");
        let secret = derive_x25519_secret(&seed, device).unwrap();
        assert_eq!(hex::encode(*secret), v["x25519_secret"]);
        // The unclamped HKDF output clamps to the secret.
        let mut okm: [u8; 32] = hex::decode(v["hkdf_okm"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        keys::clamp(&mut okm);
        assert_eq!(hex::encode(okm), v["x25519_secret"]);
        assert_eq!(
            bs58::encode(id.binding.ed25519).into_string(),
            v["ed25519_public"]
        );
        assert_eq!(
            hex::encode(binding_message(id.key.public(), device)),
            v["binding_message"]
        );
        assert_eq!(hex::encode(id.binding.signature), v["binding_signature"]);
        id.binding.verify().unwrap();
    }
}

#[test]
fn derivation_is_per_device_and_per_root_and_clamped() {
    let a = DeviceKey::from_seed(&[7; 32], "phone").unwrap();
    let b = DeviceKey::from_seed(&[7; 32], "tablet").unwrap();
    let c = DeviceKey::from_seed(&[8; 32], "phone").unwrap();
    assert_ne!(a.public(), b.public());
    assert_ne!(a.public(), c.public());
    assert_eq!(
        a.public(),
        DeviceKey::from_seed(&[7; 32], "phone").unwrap().public()
    );
    for k in [&a, &b, &c] {
        let s = k.secret();
        assert_eq!(s[0] & 7, 0);
        assert_eq!(s[31] & 0xc0, 0x40);
    }
    assert!(!format!("{a:?}").contains(&hex::encode(a.secret())));
}

#[test]
fn device_ids_are_checked() {
    check_device_id("toss-relayer").unwrap();
    check_device_id(&"x".repeat(64)).unwrap();
    for bad in ["", "has space", "tab\t", "é", &"x".repeat(65)] {
        assert!(matches!(check_device_id(bad), Err(NoiseError::DeviceId(_))));
        assert!(DeviceKey::from_seed(&[1; 32], bad).is_err());
    }
}

#[test]
fn bindings_verify_and_every_tampering_is_refused() {
    let id = identity(3, "phone-1");
    verify_binding(&id.binding).unwrap();
    let json = id.binding.to_json_bytes();
    assert_eq!(KeyBinding::from_json_bytes(&json).unwrap(), id.binding);

    let mut b = id.binding.clone();
    b.x25519[0] ^= 1;
    assert!(matches!(b.verify(), Err(NoiseError::Binding(_))));
    let mut b = id.binding.clone();
    b.device_id = "phone-2".into();
    assert!(b.verify().is_err());
    let mut b = id.binding.clone();
    b.signature[10] ^= 0x80;
    assert!(b.verify().is_err());
    let mut b = id.binding.clone();
    b.ed25519 = identity(4, "phone-1").binding.ed25519;
    assert!(b.verify().is_err());
    // A non-canonical S (S + L) verifies under lax rules, not under verify_strict.
    let mut b = id.binding.clone();
    let l: [u8; 32] =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap()
            .try_into()
            .unwrap();
    let mut carry = 0u16;
    for (s, l) in b.signature[32..].iter_mut().zip(l) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
    assert!(b.verify().is_err());
    assert!(KeyBinding::from_json_bytes(b"{}").is_err());
    assert!(KeyBinding::from_json_bytes(b"not json").is_err());
}

#[test]
fn records_and_pins_parse_and_verify() {
    let id = identity(5, "toss-relayer");
    let record = NoiseKeyRecord::new(&id.binding);
    assert_eq!(record.protocols.len(), 4);
    assert_eq!(record.prologue, "toss-noise-v1");
    let text = serde_json::to_string(&record).unwrap();
    let pin = RelayerPin::parse(&text).unwrap();
    assert_eq!(pin, pin_of(&id));
    let hex_pin = RelayerPin::parse(&hex::encode(id.key.public())).unwrap();
    assert_eq!(hex_pin.x25519, *id.key.public());
    assert_eq!(hex_pin.ed25519, None);
    let b58 = RelayerPin::parse(&bs58::encode(id.key.public()).into_string()).unwrap();
    assert_eq!(b58.x25519, *id.key.public());
    let mut forged = record.clone();
    forged.x25519 = hex::encode(identity(6, "toss-relayer").key.public());
    assert!(RelayerPin::parse(&serde_json::to_string(&forged).unwrap()).is_err());
    assert!(RelayerPin::parse("abcd").is_err());
    assert!(RelayerPin::parse("{\"version\": 1}").is_err());
}

#[test]
fn pattern_names_and_selection_follow_the_flowchart() {
    for p in Pattern::ALL {
        assert_eq!(p.cli_name().parse::<Pattern>().unwrap(), p);
        assert_eq!(p.protocol_name().parse::<Pattern>().unwrap(), p);
        assert_eq!(
            Pattern::from_protocol_name(p.protocol_name().as_bytes()),
            Some(p)
        );
        assert!(p.protocol_name().ends_with(SUITE));
    }
    assert!("kk".parse::<Pattern>().is_err());
    let s = |known, auth, none| Situation {
        recipient_key_known: known,
        sender_auth: auth,
        no_identities: none,
    };
    assert_eq!(select_pattern(s(true, true, false)), Pattern::Ik);
    assert_eq!(select_pattern(s(true, false, false)), Pattern::N);
    assert_eq!(select_pattern(s(false, true, false)), Pattern::Xx);
    assert_eq!(select_pattern(s(false, false, false)), Pattern::Xx);
    assert_eq!(select_pattern(s(true, true, true)), Pattern::Nn);
    assert_eq!(select_pattern(s(false, false, true)), Pattern::Nn);
}

/// Prints the vector file from this code (`cargo test -p toss-sdk --lib
/// noise::tests::keys::print_vectors -- --ignored --nocapture`); the committed file was made so
/// and cross-checked against an independent HKDF/X25519/Ed25519 computation (`docs/noise.md`).
#[test]
#[ignore]
fn print_vectors() {
    use sha2::Digest;
    let cases: Vec<([u8; 32], String)> = vec![
        (std::array::from_fn(|i| i as u8), "phone-1".into()),
        (std::array::from_fn(|i| i as u8), "phone-2".into()),
        (
            sha2::Sha256::digest(b"toss-noise test vector 2").into(),
            "toss-relayer".into(),
        ),
        ([0xff; 32], "a".into()),
        ([0x42; 32], format!("device-{}", "x".repeat(57))),
    ];
    let vectors: Vec<Value> = cases
        .iter()
        .map(|(seed, dev)| {
            let id = DeviceIdentity::from_seed(seed, dev).unwrap();
            let hk = hkdf::Hkdf::<sha2::Sha512>::new(Some(KDF_SALT), seed);
            let mut okm = [0u8; 32];
            hk.expand(&[KDF_INFO_PREFIX, dev.as_bytes()].concat(), &mut okm)
                .unwrap();
            serde_json::json!({
                "seed": hex::encode(seed),
                "device_id": dev,
                "hkdf_okm": hex::encode(okm),
                "x25519_secret": hex::encode(id.key.secret()),
                "x25519_public": hex::encode(id.key.public()),
                "ed25519_public": bs58::encode(id.binding.ed25519).into_string(),
                "binding_message": hex::encode(binding_message(id.key.public(), dev)),
                "binding_signature": hex::encode(id.binding.signature),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "description": "TOSS Noise device keys: x25519_secret = clamp(HKDF-SHA512(salt, ikm = Ed25519 seed, info = info_prefix || device_id, 32)); x25519_public = X25519(x25519_secret, 9); binding_signature = Ed25519(seed, binding_tag || x25519_public || device_id). Strings are ASCII; seed, keys, messages and signatures are hex; ed25519_public is base58.",
        "kdf": {"hash": "SHA-512", "salt": "toss-noise-x25519-v1", "info_prefix": "toss-noise-device:", "length": 32},
        "binding_tag": "toss-noise-binding-v1",
        "vectors": vectors,
    });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap());
}
