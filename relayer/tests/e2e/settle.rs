//! Settlement paths: SOL and token intents, idempotency, bulk, double spend, expiry, a poor
//! vault, an intent that fails its whole transaction, pause/resume, metrics.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::Duration;
use toss_relayer::local::SOL;
use toss_relayer::store::Status;
use toss_sdk::cluster::Cluster;
use toss_sdk::{Intent, SignedIntent};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sol_and_token_intents_settle_and_resubmission_is_idempotent() {
    let h = Harness::new().await;
    let (payer, pool) = h.payer(2 * SOL, 5).await;
    // Tokens: the payer's ATA holds 1000, the program may spend 500 of it.
    let mint = h.mint().await;
    let source = h.ata(&payer.pubkey(), &mint, 1_000_000_000).await;
    toss_sdk::wallet::approve(h.cluster.as_ref(), &payer, &TOKEN, &source, 500_000_000)
        .await
        .unwrap();
    let merchant = Keypair::new().pubkey();
    let merchant_ata = h.ata(&merchant, &mint, 0).await;
    let fee_ata = h.ata(&h.fee_payer.pubkey(), &mint, 0).await;
    let mut cfg = config();
    cfg.intake.allowed_mints = vec![mint.to_string()];
    let running = h.start(cfg).await;

    let mut sol = Vec::new();
    for i in 0..3 {
        let (_, s) = h
            .sol_intent(&payer, &pool, i, merchant, SOL / 10 + u64::from(i))
            .await;
        sol.push(s);
    }
    let mut token = Vec::new();
    for i in 3..5 {
        let (nonce_account, nonce_value) = pool.nonce(i).unwrap();
        let intent = Intent {
            sender: payer.pubkey(),
            recipient: merchant,
            mint: Some(mint),
            amount: 100_000_000,
            nonce_account,
            nonce_value,
            expiry: h.now().await + 600,
            max_fee: 1_000,
            reference: None,
        };
        token.push(SignedIntent::sign(&payer, &intent).unwrap());
    }
    for s in sol.iter().chain(&token) {
        let (status, body) = running.submit(&h.http, s).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["id"], hex::encode(s.id()));
        assert_eq!(body["status"], "pending");
    }
    // The same intent again: 200 with its current record, nothing new stored.
    let (status, body) = running.submit(&h.http, &sol[0]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], hex::encode(sol[0].id()));
    assert_eq!(running.total().await, 5);

    running.settle_all().await;
    for s in sol.iter().chain(&token) {
        let (status, body) = running.get(&h.http, &hex::encode(s.id())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "settled", "{body}");
        assert!(body["signature"].as_str().is_some_and(|s| s.len() > 60));
        assert!(body["slot"].as_u64().is_some());
    }
    let sol_paid: u64 = (0..3).map(|i| SOL / 10 + i).sum();
    assert_eq!(h.cluster.balance(&merchant).await.unwrap(), sol_paid);
    assert_eq!(h.token_balance(&merchant_ata).await, 200_000_000);
    assert_eq!(h.token_balance(&fee_ata).await, 2_000);
    assert_eq!(h.token_balance(&source).await, 1_000_000_000 - 200_002_000);
    // Resubmitting a settled intent is still idempotent (its nonce moved on; no 4xx).
    let (status, body) = running.submit(&h.http, &sol[1]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "settled");
    // Bulk: the array form answers per item.
    let (p2, pool2) = h.payer(SOL, 2).await;
    let (_, a) = h.sol_intent(&p2, &pool2, 0, merchant, SOL / 100).await;
    let (_, b) = h.sol_intent(&p2, &pool2, 1, merchant, SOL / 100).await;
    let mut tampered = b.to_bytes();
    *tampered.last_mut().unwrap() ^= 1;
    let tampered = base64_of(&tampered);
    let (status, body) = running
        .post(
            &h.http,
            &json!([{"intent": a.to_base64()}, {"intent": tampered}, {"intent": sol[2].to_base64()}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r = body["results"].as_array().unwrap();
    assert_eq!(r[0]["created"], true);
    assert_eq!(r[1]["error"]["code"], "bad_signature");
    assert_eq!(r[2]["created"], false);
    running.settle_all().await;
    assert_eq!(running.status_of(&a).await, Status::Settled);
    // Metrics saw it all.
    let text = h
        .http
        .get(format!("{}/metrics", running.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    use crate::noise::metric;
    assert_eq!(metric(&text, "toss_intents_accepted_total"), 6.0, "{text}");
    assert_eq!(
        metric(&text, "toss_intents_final_total{status=\"settled\"}"),
        6.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "toss_intents_refused_total{code=\"bad_signature\"}"),
        1.0
    );
    assert_eq!(metric(&text, "toss_settlement_latency_seconds_count"), 6.0);
    // Every series names the instance that exported it.
    let instance = &running.relayer.ctx.lease.owner;
    assert!(text.contains(&format!(
        "toss_intents_accepted_total{{instance=\"{instance}\"}} 6"
    )));
    assert!(text.contains("toss_batch_size_intents_count"));
    let health: serde_json::Value = h
        .http
        .get(format!("{}/healthz", running.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["intents"]["settled"], 6);
    running.relayer.shutdown().await.unwrap();
}

pub fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_spend_expiry_poor_vault_and_isolation() {
    let h = Harness::new().await;
    let http = &h.http;
    let (payer, pool) = h.payer(SOL, 5).await;
    let (poor, poor_pool) = h.payer(SOL / 100, 1).await;
    let merchant = Keypair::new().pubkey();
    let other = Keypair::new().pubkey();
    // Two intents on nonce 0: the first received wins, the second is a conflict.
    let (_, first) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    let (_, second) = h.sol_intent(&payer, &pool, 0, other, SOL / 5).await;
    // Expires before submission resumes.
    let (nonce_account, nonce_value) = pool.nonce(1).unwrap();
    let short = SignedIntent::sign(
        &payer,
        &Intent {
            sender: payer.pubkey(),
            recipient: merchant,
            mint: None,
            amount: SOL / 10,
            nonce_account,
            nonce_value,
            expiry: h.now().await + 2,
            max_fee: 5_000,
            reference: None,
        },
    )
    .unwrap();
    // The vault cannot cover it: refused at intake, before it can cost the fee payer anything.
    let (_, too_big) = h.sol_intent(&poor, &poor_pool, 0, merchant, SOL / 2).await;
    // A token intent whose recipient closes its token account after intake accepted it: the
    // program rejects it alone (`destination_unavailable`) and its neighbours settle in the
    // same transaction. (Intake refuses one whose account is missing already.)
    let mint = h.mint().await;
    let source = h.ata(&payer.pubkey(), &mint, 1_000).await;
    toss_sdk::wallet::approve(h.cluster.as_ref(), &payer, &TOKEN, &source, 1_000)
        .await
        .unwrap();
    h.ata(&h.fee_payer.pubkey(), &mint, 0).await;
    let leaving = Keypair::new();
    let leaving_ata = h.ata(&leaving.pubkey(), &mint, 0).await;
    let (nonce_account, nonce_value) = pool.nonce(2).unwrap();
    let orphan = SignedIntent::sign(
        &payer,
        &Intent {
            sender: payer.pubkey(),
            recipient: leaving.pubkey(),
            mint: Some(mint),
            amount: 10,
            nonce_account,
            nonce_value,
            expiry: h.now().await + 600,
            max_fee: 0,
            reference: None,
        },
    )
    .unwrap();
    let (_, neighbour) = h.sol_intent(&payer, &pool, 3, merchant, SOL / 10).await;
    let clock_sysvar =
        solana_pubkey::Pubkey::from_str_const("SysvarC1ock11111111111111111111111111111111");
    let (_, culprit) = h.sol_intent(&payer, &pool, 4, clock_sysvar, SOL / 10).await;
    let mut cfg = config();
    cfg.intake.allowed_mints = vec![mint.to_string()];
    let running = h.start(cfg).await;
    assert_eq!(
        running.admin(http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    for s in [&neighbour, &first, &second, &short, &orphan] {
        let (status, body) = running.submit(http, s).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let (status, body) = running.submit(http, &too_big).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_funds", "{body}");
    // A recipient the runtime never lets a program write (a sysvar) is refused at intake.
    let (status, body) = running.submit(http, &culprit).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "reserved_recipient", "{body}");
    // The recipient closes its token account while the intent waits.
    let faucet = h.cluster.faucet();
    let close = spl_token_2022_interface::instruction::close_account(
        &TOKEN,
        &leaving_ata,
        &faucet.pubkey(),
        &leaving.pubkey(),
        &[],
    )
    .unwrap();
    toss_sdk::wallet::send(h.cluster.as_ref(), faucet, &[close], &[&leaving])
        .await
        .unwrap();
    // Paused: nothing moves.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(running.status_of(&first).await, Status::Pending);
    assert_eq!(
        running.admin(http, "resume", None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        running.admin(http, "resume", Some("wrong")).await,
        StatusCode::UNAUTHORIZED
    );
    while not_expired_yet(&short) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        running.admin(http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    assert_eq!(running.status_of(&first).await, Status::Settled);
    assert_eq!(running.status_of(&second).await, Status::Conflict);
    assert_eq!(running.status_of(&short).await, Status::Expired);
    assert_eq!(running.status_of(&neighbour).await, Status::Settled);
    let (status, _) = running.get(http, &hex::encode(too_big.id())).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing stored for a refused intent"
    );
    let (_, body) = running.get(http, &hex::encode(orphan.id())).await;
    assert_eq!(body["status"], "rejected", "{body}");
    assert_eq!(body["reason"], "destination_unavailable", "{body}");
    let trail = running.store.audit(neighbour.id()).await.unwrap();
    assert_eq!(trail.last().unwrap().to, Status::Settled);
    assert_eq!(
        h.cluster.balance(&merchant).await.unwrap(),
        SOL / 5,
        "first + neighbour"
    );
    assert_eq!(h.cluster.balance(&other).await.unwrap(), 0);
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_program_holds_intents_until_it_resumes() {
    use toss_sdk::instructions::config_set_paused_ix;
    let h = Harness::new().await;
    let (payer, pool) = h.payer(SOL, 2).await;
    let merchant = Keypair::new().pubkey();
    let admin = h.cluster.upgrade_authority().insecure_clone();
    let set_paused = |paused: bool| {
        let admin = admin.insecure_clone();
        let cluster = h.cluster.clone();
        async move {
            toss_sdk::wallet::send(
                cluster.as_ref(),
                &admin,
                &[config_set_paused_ix(&admin.pubkey(), paused)],
                &[],
            )
            .await
            .unwrap();
        }
    };
    set_paused(true).await;
    let running = h.start(config()).await;
    let (_, a) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    let (_, b) = h.sol_intent(&payer, &pool, 1, merchant, SOL / 10).await;
    for s in [&a, &b] {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    // The batch fails with `Paused`: no intent is blamed, both wait.
    let mut waited = 0;
    loop {
        let trail = running.store.audit(a.id()).await.unwrap();
        if trail
            .iter()
            .any(|t| t.reason.as_deref() == Some("program paused: waiting"))
        {
            break;
        }
        waited += 1;
        assert!(waited < 200, "{trail:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for s in [&a, &b] {
        assert!(!running.status_of(s).await.is_final());
    }
    set_paused(false).await;
    running.settle_all().await;
    assert_eq!(running.status_of(&a).await, Status::Settled);
    assert_eq!(running.status_of(&b).await, Status::Settled);
    assert_eq!(h.cluster.balance(&merchant).await.unwrap(), SOL / 5);
    running.relayer.shutdown().await.unwrap();
}

/// A token payment to a recipient with no token account for the mint, or a frozen one, is
/// refused at intake (`recipient_token_account_unusable`: the program would reject it, for
/// free or as a strike against an honest payer); once the recipient has a usable account the
/// same intent is accepted and settles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_payment_needs_the_recipients_token_account() {
    let h = Harness::new().await;
    let (payer, pool) = h.payer(SOL, 1).await;
    let mint = h.mint().await;
    let source = h.ata(&payer.pubkey(), &mint, 1_000_000).await;
    toss_sdk::wallet::approve(h.cluster.as_ref(), &payer, &TOKEN, &source, 1_000_000)
        .await
        .unwrap();
    h.ata(&h.fee_payer.pubkey(), &mint, 0).await;
    let merchant = Keypair::new().pubkey();
    let mut cfg = config();
    cfg.intake.allowed_mints = vec![mint.to_string()];
    let running = h.start(cfg).await;
    let (nonce_account, nonce_value) = pool.nonce(0).unwrap();
    let intent = Intent {
        sender: payer.pubkey(),
        recipient: merchant,
        mint: Some(mint),
        amount: 250_000,
        nonce_account,
        nonce_value,
        expiry: h.now().await + 600,
        max_fee: 1_000,
        reference: None,
    };
    let signed = SignedIntent::sign(&payer, &intent).unwrap();
    let (status, body) = running.submit(&h.http, &signed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "recipient_token_account_unusable");
    assert_eq!(running.total().await, 0);
    let merchant_ata = h.ata(&merchant, &mint, 0).await;
    let (status, body) = running.submit(&h.http, &signed).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    running.settle_all().await;
    assert_eq!(running.status_of(&signed).await, Status::Settled);
    assert_eq!(h.token_balance(&merchant_ata).await, 250_000);
    running.relayer.shutdown().await.unwrap();
}
