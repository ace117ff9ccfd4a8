//! A hostile payer against the relayer's fee payer (`toss_relayer::funds`): intents its funds
//! visibly cannot cover are refused at intake for free, and a payer whose intents keep failing
//! on-chain (allowance revoked after intake) is backed off after a bounded, documented number
//! of failures. Honest payers settle throughout.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use solana_signer::Signer;
use std::collections::BTreeMap;
use toss_relayer::store::Status;
use toss_sdk::cluster::Cluster;
use toss_sdk::{wallet, Intent, SignedIntent};

const SOL: u64 = toss_relayer::local::SOL;

fn codes(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| {
                    x["error"]["code"]
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| "accepted".into())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_payer_cannot_drain_the_fee_payer() {
    let h = Harness::new().await;
    let http = &h.http;
    // Honest payers with enough funds, and a hostile SOL payer with almost nothing.
    let (honest, honest_pool) = h.payer(SOL, 8).await;
    let (hostile, hostile_pool) = h.payer(SOL / 100, 4).await;
    // A hostile token payer: an allowance it will revoke after intake.
    let mint = h.mint().await;
    let (token_payer, token_pool) = h.payer(SOL / 100, 4).await;
    let source = h.ata(&token_payer.pubkey(), &mint, 1_000_000).await;
    wallet::approve(h.cluster.as_ref(), &token_payer, &TOKEN, &source, 1_000_000)
        .await
        .unwrap();
    h.ata(&h.fee_payer.pubkey(), &mint, 0).await;
    let merchant = solana_keypair::Keypair::new().pubkey();
    h.ata(&merchant, &mint, 0).await;
    let mut cfg = config();
    cfg.intake.allowed_mints = vec![mint.to_string()];
    cfg.server.rate_limit_per_sender_per_s = 1_000_000;
    cfg.server.rate_limit_per_sender_burst = 1_000_000;
    cfg.intake.failure_backoff_strikes = 3;
    let running = h.start(cfg).await;

    // 1. 1,000 intents the hostile vault cannot cover, in bulks, mixed with honest ones.
    let now = h.now().await;
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    let mut honest_signed = Vec::new();
    for round in 0..125u32 {
        let mut items = Vec::new();
        for k in 0..8u32 {
            let i = round * 8 + k;
            let (nonce_account, nonce_value) = hostile_pool.nonce(i % 4).unwrap();
            let intent = Intent {
                sender: hostile.pubkey(),
                recipient: merchant,
                mint: None,
                amount: SOL / 2 + u64::from(i),
                nonce_account,
                nonce_value,
                expiry: now + 600,
                max_fee: 5_000,
                reference: None,
            };
            let signed = SignedIntent::sign(&hostile, &intent).unwrap();
            items.push(json!({"intent": signed.to_base64()}));
        }
        let (status, body) = running.post(http, &Value::Array(items)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for code in codes(&body) {
            *refused.entry(code).or_default() += 1;
        }
        if round % 16 == 0 && honest_signed.len() < 8 {
            let index = honest_signed.len() as u32;
            let (_, s) = h
                .sol_intent(&honest, &honest_pool, index, merchant, SOL / 100)
                .await;
            let (status, body) = running.submit(http, &s).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            honest_signed.push(s);
        }
    }
    assert_eq!(
        refused,
        BTreeMap::from([("insufficient_funds".to_string(), 1_000)]),
        "every hostile intent refused at intake"
    );
    running.settle_all().await;
    for s in &honest_signed {
        assert_eq!(running.status_of(s).await, Status::Settled);
    }

    // 2. Intents that pass intake and then fail on-chain: the allowance is revoked after
    //    intake, while submission is paused.
    assert_eq!(
        running.admin(http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    let token_intent = |index: u32, amount: u64| {
        let (nonce_account, nonce_value) = token_pool.nonce(index).unwrap();
        let intent = Intent {
            sender: token_payer.pubkey(),
            recipient: merchant,
            mint: Some(mint),
            amount,
            nonce_account,
            nonce_value,
            expiry: now + 600,
            max_fee: 0,
            reference: None,
        };
        SignedIntent::sign(&token_payer, &intent).unwrap()
    };
    let first_wave: Vec<SignedIntent> = (0..4).map(|i| token_intent(i, 1_000)).collect();
    for s in &first_wave {
        let (status, body) = running.submit(http, s).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    wallet::approve(h.cluster.as_ref(), &token_payer, &TOKEN, &source, 0)
        .await
        .unwrap();
    let fee_payer = h.fee_payer.pubkey();
    let before = h.cluster.balance(&fee_payer).await.unwrap();
    assert_eq!(
        running.admin(http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    let spent = before - h.cluster.balance(&fee_payer).await.unwrap();
    for s in &first_wave {
        let (_, body) = running.get(http, &hex::encode(s.id())).await;
        assert_eq!(body["status"], "rejected", "{body}");
        assert_eq!(body["reason"], "allowance_exceeded", "{body}");
    }
    // The documented bound: strikes + nonces - 1 failing intents, each at most one precompile
    // signature plus one whole transaction's base fee.
    let bound = (3 + 4 - 1) * 10_000;
    assert!(spent <= bound, "fee payer spent {spent} > {bound}");
    let metrics = running.relayer.ctx.metrics.sender_backoffs.get();
    assert_eq!(metrics, 1, "one back-off");
    // Backed off: even a fundable intent of that sender is refused for now (the nonces are
    // still unused, so the payer could otherwise try again and again).
    wallet::approve(h.cluster.as_ref(), &token_payer, &TOKEN, &source, 1_000_000)
        .await
        .unwrap();
    for i in 0..4 {
        let (status, body) = running.submit(http, &token_intent(i, 2_000)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"]["code"], "sender_backed_off", "{body}");
    }
    println!("hostile: 1000 refused at intake (0 lamports); 4 failed on-chain for {spent} lamports; back-off after 3 strikes");
    running.relayer.shutdown().await.unwrap();
}

/// A payer offering a fee above the program's cap must not sink the batches it joins: the
/// relayer asks `min(max_fee, cap)` (asking more fails the whole transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_above_the_program_cap_is_capped_not_fatal() {
    let h = Harness::new().await;
    let http = &h.http;
    let (payer, pool) = h.payer(SOL, 4).await;
    let merchant = solana_keypair::Keypair::new().pubkey();
    let mut cfg = config();
    cfg.intake.max_fee_lamports = 1_000_000;
    cfg.batch.max_wait_ms = 300;
    let running = h.start(cfg).await;
    assert_eq!(
        running.admin(http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    let cap = toss_relayer::local::MAX_RELAYER_FEE;
    let mut signed = Vec::new();
    for (i, max_fee) in [(0u32, cap * 4), (1, 5_000), (2, cap + 1), (3, 1_000)] {
        let (nonce_account, nonce_value) = pool.nonce(i).unwrap();
        let intent = Intent {
            sender: payer.pubkey(),
            recipient: merchant,
            mint: None,
            amount: SOL / 100,
            nonce_account,
            nonce_value,
            expiry: h.now().await + 600,
            max_fee,
            reference: None,
        };
        let s = SignedIntent::sign(&payer, &intent).unwrap();
        let (status, body) = running.submit(http, &s).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        signed.push(s);
    }
    let fee_payer = h.fee_payer.pubkey();
    let before = h.cluster.balance(&fee_payer).await.unwrap();
    assert_eq!(
        running.admin(http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    for s in &signed {
        assert_eq!(running.status_of(s).await, Status::Settled);
    }
    assert_eq!(h.cluster.balance(&merchant).await.unwrap(), 4 * (SOL / 100));
    // Fees earned: cap + 5,000 + cap + 1,000; transaction fees exactly as the cost model
    // counts them (5,000 per charged signature: one per transaction, plus one per intent in
    // the precompile form).
    let metrics = &running.relayer.ctx.metrics;
    let txs = metrics.transactions.with_label_values(&["landed"]).get();
    let paid: u64 = ["compact", "precompile"]
        .iter()
        .map(|f| metrics.settle_fees.with_label_values(&[f]).get())
        .sum();
    assert!(paid >= 5_000 * txs, "{paid} for {txs} transactions");
    let after = h.cluster.balance(&fee_payer).await.unwrap();
    let earned = 2 * cap + 6_000;
    assert_eq!(after + paid, before + earned, "{txs} transactions");
    running.relayer.shutdown().await.unwrap();
}

/// A payer cannot queue more than `[intake] max_open_per_nonce` (default) open intents on one nonce account (at
/// most one of them can settle, and each would be tried in turn ahead of later payers): the
/// next is refused `nonce_busy`, and once they are final the payer's next payment on that
/// nonce is taken again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payer_cannot_queue_many_intents_on_one_nonce() {
    const MAX_OPEN_PER_NONCE: usize = toss_relayer::config::DEFAULT_MAX_OPEN_PER_NONCE;
    let h = Harness::new().await;
    let (payer, pool) = h.payer(SOL, 1).await;
    let merchant = solana_keypair::Keypair::new().pubkey();
    // Paused: nothing settles while the intents are posted.
    let running = h.start(config()).await;
    assert_eq!(
        running.admin(&h.http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    let mut signed = Vec::new();
    for k in 0..=MAX_OPEN_PER_NONCE as u64 {
        let (_, s) = h
            .sol_intent(&payer, &pool, 0, merchant, SOL / 100 + k)
            .await;
        signed.push(s);
    }
    for s in &signed[..MAX_OPEN_PER_NONCE] {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    let (status, body) = running.submit(&h.http, &signed[MAX_OPEN_PER_NONCE]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "nonce_busy", "{body}");
    // Posting one already taken again is still its record, not a refusal.
    assert_eq!(running.submit(&h.http, &signed[0]).await.0, StatusCode::OK);
    assert_eq!(
        running.admin(&h.http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    let mut settled = 0;
    for s in &signed[..MAX_OPEN_PER_NONCE] {
        match running.status_of(s).await {
            Status::Settled => settled += 1,
            other => assert_eq!(other, Status::Conflict),
        }
    }
    assert_eq!(settled, 1, "one payment per nonce value");
    let pool = wallet::fetch_pool(h.cluster.as_ref(), &payer.pubkey())
        .await
        .unwrap();
    let (_, next) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 50).await;
    let (status, body) = running.submit(&h.http, &next).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    running.settle_all().await;
    assert_eq!(running.status_of(&next).await, Status::Settled);
    running.relayer.shutdown().await.unwrap();
}
