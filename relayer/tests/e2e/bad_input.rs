//! Every client mistake gets its 4xx and JSON error code, and stores nothing.

use crate::harness::*;
use crate::settle::base64_of;
use reqwest::StatusCode;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use toss_relayer::local::SOL;
use toss_sdk::cluster::Cluster;
use toss_sdk::{Intent, SignedIntent};

fn assert_error(got: &(StatusCode, serde_json::Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{code}: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    assert!(got.1["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_its_code_and_stores_nothing() {
    let h = Harness::new().await;
    let allowed = Pubkey::new_unique();
    let mut cfg = config();
    cfg.intake.dust_lamports = 1_000;
    cfg.intake.max_amount_lamports = 10 * SOL;
    cfg.intake.max_fee_lamports = 10_000;
    cfg.intake.allowed_mints = vec![allowed.to_string()];
    cfg.server.rate_limit_per_sender_per_s = 1;
    cfg.server.rate_limit_per_sender_burst = 1;
    let running = h.start(cfg).await;
    let http = &h.http;
    let (payer, pool) = h.payer(SOL, 2).await;
    // Another payer's nonce account, named with its current value.
    let (_, victims) = h.payer(SOL, 1).await;
    let (victims_nonce, victims_value) = victims.nonce(0).unwrap();
    let merchant = Keypair::new().pubkey();
    let now = h.now().await;
    let (nonce_account, nonce_value) = pool.nonce(0).unwrap();
    let base = Intent {
        sender: payer.pubkey(),
        recipient: merchant,
        mint: None,
        amount: SOL / 10,
        nonce_account,
        nonce_value,
        expiry: now + 600,
        max_fee: 5_000,
        reference: None,
    };
    let with = |f: &dyn Fn(&mut Intent)| {
        let mut i = base.clone();
        f(&mut i);
        json!({"intent": SignedIntent::sign(&payer, &i).unwrap().to_base64()})
    };
    let good = SignedIntent::sign(&payer, &base).unwrap();

    assert_error(
        &running.post_raw(http, b"{not json".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    assert_error(
        &running.post(http, &json!({"intnt": "x"})).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    );
    assert_error(
        &running.post(http, &json!({"intent": "***"})).await,
        StatusCode::BAD_REQUEST,
        "bad_base64",
    );
    assert_error(
        &running
            .post(http, &json!({"intent": base64_of(&[1u8; 40])}))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_length",
    );
    let mut long = good.to_bytes();
    long.push(0);
    assert_error(
        &running
            .post(http, &json!({"intent": base64_of(&long)}))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_length",
    );
    let mut garbage = good.to_bytes();
    garbage[64] = 0;
    assert_error(
        &running
            .post(http, &json!({"intent": base64_of(&garbage)}))
            .await,
        StatusCode::BAD_REQUEST,
        "malformed_intent",
    );
    let mut tampered = good.to_bytes();
    *tampered.last_mut().unwrap() ^= 1;
    assert_error(
        &running
            .post(http, &json!({"intent": base64_of(&tampered)}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_signature",
    );
    // Signed by someone else than the sender.
    let forged = SignedIntent::sign_message(&Keypair::new(), base.encode().unwrap());
    assert_error(
        &running
            .post(http, &json!({"intent": forged.to_base64()}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_signature",
    );
    let unprocessable = [
        (with(&|i| i.expiry = now - 1), "expired"),
        (with(&|i| i.expiry = now + 7_200), "lifetime_too_long"),
        (with(&|i| i.amount = 999), "below_dust"),
        // Less than the rent-exempt minimum to an address that holds nothing.
        (with(&|i| i.amount = 5_000), "recipient_not_rent_exempt"),
        (with(&|i| i.amount = 10 * SOL + 1), "above_cap"),
        (with(&|i| i.max_fee = 10_001), "fee_above_cap"),
        (
            with(&|i| i.mint = Some(Pubkey::new_unique())),
            "mint_not_allowed",
        ),
        (with(&|i| i.nonce_value = [7; 32]), "stale_nonce"),
        (
            with(&|i| i.nonce_account = Pubkey::new_unique()),
            "unknown_nonce",
        ),
        (
            with(&|i| {
                i.nonce_account = victims_nonce;
                i.nonce_value = victims_value;
            }),
            "nonce_authority_mismatch",
        ),
    ];
    for (body, code) in &unprocessable {
        assert_error(
            &running.post(http, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        );
    }
    let big = vec![b' '; 17 * 1024];
    assert_error(
        &running.post_raw(http, big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
    let many: Vec<_> = (0..9)
        .map(|_| json!({"intent": good.to_base64()}))
        .collect();
    assert_error(
        &running.post(http, &json!(many)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_intents",
    );
    assert_error(
        &running.get(http, "zz").await,
        StatusCode::BAD_REQUEST,
        "bad_id",
    );
    assert_error(
        &running.get(http, &"00".repeat(32)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let status = running.admin(http, "pause", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(running.total().await, 0, "nothing stored for bad input");

    // Per sender: one intent per second with a burst of one.
    assert_eq!(running.submit(http, &good).await.0, StatusCode::ACCEPTED);
    let (_, second) = h.sol_intent(&payer, &pool, 1, merchant, SOL / 10).await;
    assert_error(
        &running.submit(http, &second).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    assert_eq!(running.total().await, 1);
    running.relayer.shutdown().await.unwrap();

    // Per IP.
    let mut cfg = config();
    cfg.server.rate_limit_per_ip_per_s = 1;
    cfg.server.rate_limit_per_ip_burst = 2;
    let running = h.start(cfg).await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(running.post(http, &json!({"intent": "***"})).await.0);
    }
    assert_eq!(
        codes[..2],
        [StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST]
    );
    assert!(
        codes[2..].contains(&StatusCode::TOO_MANY_REQUESTS),
        "{codes:?}"
    );
    // Reads have a bucket of their own (of the same size): spent submissions do not refuse
    // them, and they are limited too (each reads the store).
    let unknown = "00".repeat(32);
    let mut reads = Vec::new();
    for _ in 0..4 {
        reads.push(running.get(http, &unknown).await.0);
    }
    assert_eq!(reads[..2], [StatusCode::NOT_FOUND, StatusCode::NOT_FOUND]);
    assert!(
        reads[2..].contains(&StatusCode::TOO_MANY_REQUESTS),
        "{reads:?}"
    );
    let health = http
        .get(format!("{}/healthz", running.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // The admin switch counts against submissions (a wrong token costs a guess).
    assert_eq!(
        running.admin(http, "pause", Some("wrong")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    running.relayer.shutdown().await.unwrap();
}

/// A SOL payment smaller than the rent-exempt minimum is accepted only for a recipient it
/// leaves rent-exempt (one that exists already); to an empty address it is refused at intake
/// (the program would reject it, and such a rejection is not the payer's strike). Both kinds
/// that pass settle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_payment_needs_a_recipient_it_leaves_rent_exempt() {
    let h = Harness::new().await;
    let running = h.start(config()).await;
    let http = &h.http;
    let (payer, pool) = h.payer(SOL, 3).await;
    let minimum = h.cluster.minimum_rent(0).await.unwrap();
    let existing = toss_relayer::local::funded(&h.cluster, minimum)
        .await
        .unwrap()
        .pubkey();
    let empty = Pubkey::new_unique();
    let (_, refused) = h.sol_intent(&payer, &pool, 0, empty, 5_000).await;
    let (status, body) = running.submit(http, &refused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "recipient_not_rent_exempt");
    let (_, small) = h.sol_intent(&payer, &pool, 1, existing, 5_000).await;
    let (_, exact) = h.sol_intent(&payer, &pool, 2, empty, minimum).await;
    assert_eq!(running.submit(http, &small).await.0, StatusCode::ACCEPTED);
    assert_eq!(running.submit(http, &exact).await.0, StatusCode::ACCEPTED);
    running.settle_all().await;
    assert_eq!(
        running.status_of(&small).await,
        toss_relayer::store::Status::Settled
    );
    assert_eq!(
        running.status_of(&exact).await,
        toss_relayer::store::Status::Settled
    );
    assert_eq!(h.cluster.balance(&existing).await.unwrap(), minimum + 5_000);
    assert_eq!(h.cluster.balance(&empty).await.unwrap(), minimum);
    running.relayer.shutdown().await.unwrap();
}
