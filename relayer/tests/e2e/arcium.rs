//! Confidential mode (`[arcium]`) on the in-process cluster with a fixture `MXEAccount`
//! (Arcium's program cannot run here): the MXE key served with its address and slot,
//! encrypt-for-me over HTTP and Noise (what comes back hides the amount and the MXE decrypts
//! it), signed confidential intents validated and refused without being stored, the unset-key
//! and missing-account paths, and the downgrade, which then settles in plaintext.

use crate::harness::*;
use crate::noise::{fetch_pin, metric, metrics, noise_addr, noise_config, noise_submit, options};
use base64::Engine as _;
use serde_json::{json, Value};
use solana_account::Account;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use toss_relayer::config::Config;
use toss_relayer::local::SOL;
use toss_relayer::store::Status;
use toss_sdk::arcium::account::{MxeStatus, UtilityKeys, UtilityPubkeys};
use toss_sdk::arcium::pda::{mxe_account, ARCIUM_PROGRAM_ID};
use toss_sdk::arcium::{
    values, ClientSecret, ConfidentialIntent, MxeAccount, MxePublicKey, Opening, RescueCipher,
    SignedConfidentialIntent,
};
use toss_sdk::cluster::Cluster;
use toss_sdk::noise::{DeviceIdentity, Pattern};
use toss_sdk::{Intent, SignedIntent};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 string"))
        .expect("base64")
}

/// An `MXEAccount` for `mxe_program` with `key` (`None`: the nodes have not set it yet).
fn mxe_fixture(mxe_program: &Pubkey, key: Option<[u8; 32]>) -> Account {
    let keys = UtilityPubkeys {
        x25519_pubkey: key.unwrap_or([0; 32]),
        ed25519_verifying_key: [0xbb; 32],
        elgamal_pubkey: [0xcc; 32],
        pubkey_validity_proof: [0xdd; 64],
    };
    let account = MxeAccount {
        cluster: 7,
        keygen_offset: 1,
        key_recovery_init_offset: 2,
        mxe_program_id: *mxe_program,
        authority: None,
        utility_pubkeys: match key {
            Some(_) => UtilityKeys::Set(keys),
            None => UtilityKeys::Unset(keys, vec![true, false]),
        },
        lut_offset_slot: 0,
        computation_definitions: vec![toss_sdk::arcium::pda::comp_def_offset(
            "settle_confidential",
        )],
        status: MxeStatus::Active,
        bump: 255,
        recovery_rewards: None,
    };
    Account {
        lamports: 10_000_000,
        data: account.encode(),
        owner: ARCIUM_PROGRAM_ID,
        executable: false,
        rent_epoch: 0,
    }
}

fn arcium_config(base: Config, mxe_program: &Pubkey, allow_downgrade: bool) -> Config {
    let mut c = base;
    c.arcium.enabled = true;
    c.arcium.mxe_program_id = Some(mxe_program.to_string());
    c.arcium.allow_downgrade = allow_downgrade;
    c.arcium.key_fetch_attempts = 2;
    c.arcium.key_retry_ms = 5;
    c.arcium.key_ttl_ms = 200;
    c
}

async fn get(h: &Harness, url: &str) -> (u16, Value) {
    let r = h.http.get(url).send().await.expect("get");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn encrypt(h: &Harness, running: &Running, intent: &Intent) -> (u16, Value) {
    let r = h
        .http
        .post(format!("{}/v1/arcium/encrypt", running.url))
        .json(&json!({"intent": b64(&intent.encode().expect("encode"))}))
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// What the MXE does: decrypt the amount with its secret and the client key in the intent.
fn mxe_decrypts(mxe_secret: &ClientSecret, c: &ConfidentialIntent) -> u64 {
    let client = MxePublicKey::new(c.client_pubkey).expect("client key");
    let cipher = RescueCipher::for_client(mxe_secret, &client).expect("cipher");
    let fields = cipher
        .decrypt(&[c.amount_ciphertext], &c.nonce)
        .expect("decrypt");
    values::decode_u64(&fields[0], 0).expect("u64")
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_mode_serves_the_key_encrypts_and_validates() {
    let h = Harness::new().await;
    let mxe_program = Pubkey::new_unique();
    let mxe_secret = ClientSecret::from_bytes([0x42; 32]);
    let mxe_key = MxePublicKey::new(mxe_secret.public_key()).unwrap();
    h.cluster
        .set_account(
            &mxe_account(&mxe_program),
            mxe_fixture(&mxe_program, Some(mxe_key.to_bytes())),
        )
        .await;
    let running = h
        .start(arcium_config(noise_config(), &mxe_program, false))
        .await;

    // The key, with the account it came from and a slot to check it at.
    let (status, served) = get(&h, &format!("{}/v1/arcium/mxe-key", running.url)).await;
    assert_eq!(status, 200, "{served}");
    assert_eq!(served["x25519_pubkey"], hex::encode(mxe_key.to_bytes()));
    assert_eq!(served["mxe_account"], mxe_account(&mxe_program).to_string());
    assert_eq!(served["mxe_program_id"], mxe_program.to_string());
    assert_eq!(served["cluster_offset"], 7);
    assert!(served["slot"].as_u64().is_some());

    // Encrypt-for-me: the version-2 bytes hide the amount; the MXE decrypts it; the opening
    // proves it to the payee.
    let (payer, pool) = h.payer(2 * SOL, 3).await;
    let merchant = Keypair::new().pubkey();
    let amount = 0x0123_4567_89ab_cdef_u64 % (SOL / 2) + 1_000_003;
    let (plain, _) = h.sol_intent(&payer, &pool, 0, merchant, amount).await;
    let (status, sealed) = encrypt(&h, &running, &plain).await;
    assert_eq!(status, 200, "{sealed}");
    assert_eq!(sealed["version"], 2);
    assert_eq!(sealed["downgraded"], false);
    let message = unb64(&sealed["message"]);
    let confidential = ConfidentialIntent::decode(&message).expect("version 2");
    assert_eq!(confidential.sender, payer.pubkey());
    assert_eq!(confidential.nonce_account, plain.nonce_account);
    assert!(!message.windows(8).any(|w| w == amount.to_le_bytes()));
    assert_eq!(mxe_decrypts(&mxe_secret, &confidential), amount);
    let opening = Opening::from_bytes(&unb64(&sealed["opening"])).expect("opening");
    assert_eq!(opening.amount, amount);
    confidential
        .check_opening(&opening, &mxe_key)
        .expect("opening matches");
    assert_eq!(
        sealed["id"],
        hex::encode(toss_intent_processor::intent::intent_id(&message))
    );

    // The same over Noise (XX), as a device without the cipher would ask.
    let addr = noise_addr(&running);
    let (_, pin) = fetch_pin(&h, &running).await;
    let me = DeviceIdentity::derive(&payer, "wallet-1").unwrap();
    let ask = json!({"op": "arcium_encrypt", "intent": b64(&plain.encode().unwrap())});
    let answer = noise_submit(&addr, &options(Pattern::Xx, &me, pin), &ask)
        .await
        .expect("two-way");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let over_noise = ConfidentialIntent::decode(&unb64(&answer.body["message"])).unwrap();
    assert_eq!(mxe_decrypts(&mxe_secret, &over_noise), amount);
    assert_ne!(
        over_noise.client_pubkey, confidential.client_pubkey,
        "fresh secret"
    );
    let key_op = noise_submit(
        &addr,
        &options(Pattern::Xx, &me, pin),
        &json!({"op": "arcium_mxe_key"}),
    )
    .await
    .expect("two-way");
    assert_eq!(key_op.body["x25519_pubkey"], served["x25519_pubkey"]);
    let unknown = noise_submit(
        &addr,
        &options(Pattern::Xx, &me, pin),
        &json!({"op": "nope"}),
    )
    .await
    .expect("two-way");
    assert_eq!(unknown.status, 400);
    assert_eq!(error_code(&unknown.body), "unknown_op");

    // A signed confidential intent passes every check, and is refused without being stored:
    // the deployed program cannot settle it.
    let signed = SignedConfidentialIntent::sign_message(&payer, message.clone());
    let before = running.total().await;
    let (status, v) = running
        .post(&h.http, &json!({"intent": b64(&signed.to_bytes())}))
        .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(error_code(&v), "confidential_settlement_unavailable");
    assert_eq!(running.total().await, before, "nothing stored");
    let (status, _) = running.get(&h.http, &hex::encode(signed.id())).await;
    assert_eq!(status, 404);

    // Each check refuses with its own code.
    let mut forged = signed.to_bytes();
    forged[3] ^= 1;
    let mut stale = confidential.clone();
    stale.nonce_value = [9; 32];
    let mut expired = confidential.clone();
    expired.expiry = h.now().await - 1;
    let mut greedy = confidential.clone();
    greedy.max_fee = u64::MAX;
    let mut noncanonical = message.clone();
    let ct = 8 + 32 + 32 + 32 + 16;
    noncanonical[ct..ct + 32].copy_from_slice(&[0xff; 32]);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (forged, 422, "bad_signature"),
        (
            SignedConfidentialIntent::sign(&payer, &stale).to_bytes(),
            422,
            "stale_nonce",
        ),
        (
            SignedConfidentialIntent::sign(&payer, &expired).to_bytes(),
            422,
            "expired",
        ),
        (
            SignedConfidentialIntent::sign(&payer, &greedy).to_bytes(),
            422,
            "fee_above_cap",
        ),
        (
            SignedConfidentialIntent::sign_message(&payer, noncanonical).to_bytes(),
            400,
            "malformed_intent",
        ),
        (
            SignedConfidentialIntent::sign(&Keypair::new(), &confidential).to_bytes(),
            422,
            "bad_signature",
        ),
    ];
    for (bytes, want_status, want_code) in cases {
        let (status, v) = running.post(&h.http, &json!({"intent": b64(&bytes)})).await;
        assert_eq!(
            (status.as_u16(), error_code(&v)),
            (want_status, want_code),
            "{v}"
        );
    }
    assert_eq!(running.total().await, before, "nothing stored");

    // Encrypt-for-me applies the intake rules first.
    let mut too_big = plain.clone();
    too_big.amount = u64::MAX;
    let (status, v) = encrypt(&h, &running, &too_big).await;
    assert_eq!((status, error_code(&v)), (422, "above_cap"));
    let r = h
        .http
        .post(format!("{}/v1/arcium/encrypt", running.url))
        .json(&json!({"intent": b64(&[1, 2, 3])}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let m = metrics(&h, &running).await;
    assert_eq!(
        metric(
            &m,
            "toss_arcium_confidential_submissions_total{outcome=\"valid\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "toss_arcium_confidential_submissions_total{outcome=\"bad_signature\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(&m, "toss_arcium_encryptions_total{outcome=\"encrypted\"}"),
        2.0
    );
    assert_eq!(metric(&m, "toss_arcium_encrypt_seconds_count"), 2.0);
    assert!(metric(&m, "toss_arcium_encrypt_seconds_sum") > 0.0);
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unset_key_refuses_unless_downgrade_is_allowed() {
    let h = Harness::new().await;
    let mxe_program = Pubkey::new_unique();
    let (payer, pool) = h.payer(2 * SOL, 2).await;
    let merchant = Keypair::new().pubkey();
    let (plain, _) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 4).await;

    // No MXEAccount at all, then one whose key the nodes have not set.
    let strict = h.start(arcium_config(config(), &mxe_program, false)).await;
    let (status, v) = get(&h, &format!("{}/v1/arcium/mxe-key", strict.url)).await;
    assert_eq!((status, error_code(&v)), (503, "mxe_account_missing"));
    h.cluster
        .set_account(&mxe_account(&mxe_program), mxe_fixture(&mxe_program, None))
        .await;
    let (status, v) = get(&h, &format!("{}/v1/arcium/mxe-key", strict.url)).await;
    assert_eq!((status, error_code(&v)), (503, "mxe_key_unset"));
    let (status, v) = encrypt(&h, &strict, &plain).await;
    assert_eq!((status, error_code(&v)), (503, "mxe_key_unset"));
    let m = metrics(&h, &strict).await;
    assert_eq!(
        metric(&m, "toss_arcium_downgrades_total{reason=\"mxe_key_unset\"}"),
        0.0
    );
    assert_eq!(
        metric(&m, "toss_arcium_encryptions_total{outcome=\"refused\"}"),
        1.0
    );
    strict.relayer.shutdown().await.unwrap();

    // Downgrade allowed: the intent comes back as it was, counted, and settles in plaintext.
    let lenient = h.start(arcium_config(config(), &mxe_program, true)).await;
    let (status, v) = encrypt(&h, &lenient, &plain).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["downgraded"], true);
    assert_eq!(v["version"], 1);
    assert_eq!(v["reason"], "mxe_key_unset");
    assert_eq!(unb64(&v["message"]), plain.encode().unwrap());
    let m = metrics(&h, &lenient).await;
    assert_eq!(
        metric(&m, "toss_arcium_downgrades_total{reason=\"mxe_key_unset\"}"),
        1.0
    );
    let signed = SignedIntent::sign_message(&payer, unb64(&v["message"]));
    let (status, _) = lenient.submit(&h.http, &signed).await;
    assert_eq!(status, 202);
    lenient.settle_all().await;
    assert_eq!(lenient.status_of(&signed).await, Status::Settled);
    assert_eq!(h.cluster.balance(&merchant).await.unwrap(), SOL / 4);

    // Once the nodes set the key (and the cache expires), the same relayer encrypts again.
    let mxe_secret = ClientSecret::from_bytes([0x24; 32]);
    let key = MxePublicKey::new(mxe_secret.public_key()).unwrap();
    h.cluster
        .set_account(
            &mxe_account(&mxe_program),
            mxe_fixture(&mxe_program, Some(key.to_bytes())),
        )
        .await;
    let (plain2, _) = h.sol_intent(&payer, &pool, 1, merchant, 777_777).await;
    let (status, v) = encrypt(&h, &lenient, &plain2).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["downgraded"], false);
    let c = ConfidentialIntent::decode(&unb64(&v["message"])).unwrap();
    assert_eq!(mxe_decrypts(&mxe_secret, &c), 777_777);
    lenient.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_mode_off_refuses_its_endpoints_and_intents() {
    let h = Harness::new().await;
    let running = h.start(config()).await;
    let (status, v) = get(&h, &format!("{}/v1/arcium/mxe-key", running.url)).await;
    assert_eq!((status, error_code(&v)), (404, "arcium_disabled"));
    let (payer, pool) = h.payer(SOL, 1).await;
    let (plain, _) = h
        .sol_intent(&payer, &pool, 0, Pubkey::new_unique(), SOL / 10)
        .await;
    let (status, v) = encrypt(&h, &running, &plain).await;
    assert_eq!((status, error_code(&v)), (404, "arcium_disabled"));
    let mxe = MxePublicKey::new(ClientSecret::from_bytes([5; 32]).public_key()).unwrap();
    let (c, _) = ConfidentialIntent::encrypt(&plain, &mxe).unwrap();
    let signed = SignedConfidentialIntent::sign(&payer, &c);
    let (status, v) = running
        .post(&h.http, &json!({"intent": b64(&signed.to_bytes())}))
        .await;
    assert_eq!(
        (status.as_u16(), error_code(&v)),
        (422, "confidential_disabled")
    );
    assert_eq!(running.total().await, 0);
    running.relayer.shutdown().await.unwrap();
}
