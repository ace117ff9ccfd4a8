//! Seeds of the fuzz corpora (`fuzz/corpus/<target>/seed-*`): one valid input of every shape
//! each target takes, so libFuzzer starts from inputs that get past the first checks. They
//! are regenerated with `TOSS_WRITE_FUZZ_SEEDS=1 cargo test -p toss-tests --test fuzz_seeds`;
//! without it this test checks that every committed seed is still what the code produces
//! (the deterministic ones) and still decodes (all of them), so a format change cannot
//! silently leave the fuzzers starting from inputs that no longer parse.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use toss_intent_processor::ed25519::Precompile;
use toss_intent_processor::intent::Intent;
use toss_sdk::noise::{DeviceIdentity, Handshake, InitiatorOptions, Pattern, RelayerPin};
use toss_sdk::transport::{ble, bundle, nfc, qr};
use toss_sdk::SignedIntent;
use toss_tests::client::instructions_sysvar_bytes;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn writing() -> bool {
    std::env::var("TOSS_WRITE_FUZZ_SEEDS").is_ok_and(|v| v == "1")
}

/// Writes `seed` (when regenerating) or checks it against the committed file.
fn seed(target: &str, name: &str, bytes: &[u8], deterministic: bool) {
    let dir = corpus(target);
    let path = dir.join(format!("seed-{name}"));
    if writing() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, bytes).unwrap();
        return;
    }
    let committed = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (TOSS_WRITE_FUZZ_SEEDS=1)", path.display()));
    if deterministic {
        assert_eq!(committed, bytes, "{} is stale", path.display());
    }
}

fn intents() -> Vec<SignedIntent> {
    let payer = Keypair::new_from_array([3; 32]);
    let make = |mint: Option<Pubkey>, reference: Option<[u8; 32]>, n: u8| {
        let intent = Intent {
            sender: payer.pubkey(),
            recipient: Pubkey::new_from_array([n; 32]),
            mint,
            amount: 1_000_000 + u64::from(n),
            nonce_account: Pubkey::new_from_array([n + 100; 32]),
            nonce_value: [n + 50; 32],
            expiry: 1_900_000_000,
            max_fee: 5_000,
            reference,
        };
        SignedIntent::sign(&payer, &intent).unwrap()
    };
    let mint = Some(Pubkey::new_from_array([9; 32]));
    vec![
        make(None, None, 1),
        make(None, Some([7; 32]), 2),
        make(mint, None, 3),
        make(mint, Some([8; 32]), 4),
    ]
}

#[test]
fn fuzz_corpora_start_from_valid_inputs() {
    let signed = intents();
    let b64 = |s: &SignedIntent| base64::engine::general_purpose::STANDARD.encode(s.to_bytes());

    // intent_decode: canonical bytes, signed bytes, base64, URI.
    for (i, s) in signed.iter().enumerate() {
        seed("intent_decode", &format!("intent-{i}"), &s.message, true);
        seed("intent_decode", &format!("signed-{i}"), &s.to_bytes(), true);
        assert!(Intent::decode(&s.message).is_ok());
    }
    seed("intent_decode", "base64", b64(&signed[0]).as_bytes(), true);
    seed("intent_decode", "uri", signed[1].to_uri().as_bytes(), true);

    // instructions_sysvar: compute budget, precompile (1 and 4 signatures), settle.
    for n in [1usize, 4] {
        let precompile = toss_sdk::precompile::precompile_ix(&signed[..n]);
        let settle = solana_instruction::Instruction {
            program_id: toss_intent_processor::ID,
            accounts: vec![],
            data: vec![0; 16],
        };
        let budget =
            solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
                100_000,
            );
        let data = instructions_sysvar_bytes(&[budget, precompile, settle], 2);
        let p = Precompile::load_preceding(&data, 2).unwrap();
        assert_eq!(p.count(), n);
        seed(
            "instructions_sysvar",
            &format!("precompile-{n}"),
            &data,
            true,
        );
    }

    // transport_frames: BLE frames of a bundle (length-prefixed, as the target reads them),
    // an NFC record, QR parts (one per line).
    let payload = bundle::encode(&signed).unwrap();
    let mut stream = Vec::new();
    for frame in ble::split(&payload, 185).unwrap() {
        stream.push(u8::try_from(frame.len()).unwrap());
        stream.extend(frame);
    }
    seed("transport_frames", "ble", &stream, true);
    seed(
        "transport_frames",
        "nfc",
        &nfc::encode(&payload).unwrap(),
        true,
    );
    let parts = qr::intent_parts(&signed).unwrap().join("\n");
    seed("transport_frames", "qr", parts.as_bytes(), true);
    seed("transport_frames", "bundle", &payload, true);

    // intake_body: the single and the bulk form.
    let one = serde_json::json!({ "intent": b64(&signed[0]) });
    let bulk: Vec<_> = signed
        .iter()
        .map(|s| serde_json::json!({ "intent": b64(s) }))
        .collect();
    seed("intake_body", "one", one.to_string().as_bytes(), true);
    seed(
        "intake_body",
        "bulk",
        serde_json::Value::from(bulk).to_string().as_bytes(),
        true,
    );

    // config_file: the example configuration.
    let example = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../relayer/relayer.example.toml"),
    )
    .unwrap();
    seed("config_file", "example", &example, true);

    // noise_messages: a selector byte (the pattern) and the initiator's first message in the
    // first third (ephemeral keys are random: these seeds are checked for presence only).
    let relayer = DeviceIdentity::from_seed(&[7; 32], "relayer").unwrap();
    let device = DeviceIdentity::from_seed(&[9; 32], "device").unwrap();
    for (i, pattern) in Pattern::ALL.iter().enumerate() {
        let pin = RelayerPin {
            x25519: *relayer.key.public(),
            ed25519: None,
        };
        let opts = InitiatorOptions {
            pattern: *pattern,
            identity: matches!(pattern, Pattern::Ik | Pattern::Xx).then_some(&device),
            relayer: matches!(pattern, Pattern::Ik | Pattern::N).then_some(pin),
        };
        let mut client = Handshake::initiator(&opts).unwrap();
        let first = client.write_message().unwrap();
        let mut input = vec![u8::try_from(i).unwrap()];
        input.extend(&first);
        input.extend(vec![0u8; 2 * first.len()]);
        seed("noise_messages", pattern.name(), &input, false);
    }
}
