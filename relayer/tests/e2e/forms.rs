//! The settle forms through the whole relayer: `submit.verification` = compact, precompile, and
//! auto (which follows the priority fee); the compact form's rejections reach the right intent.

use crate::harness::*;
use crate::noise::metric;
use reqwest::StatusCode;
use solana_keypair::Keypair;
use solana_signer::Signer;
use toss_relayer::config::Verification;
use toss_relayer::local::SOL;
use toss_relayer::store::Status;
use toss_sdk::cluster::Cluster;
use toss_sdk::instructions::sol_intent_metas;
use toss_sdk::pack::{settle_instructions, ComputeBudget, PackItem};
use toss_sdk::{wallet, Intent, SignedIntent};

/// SOL (with and without a reference) and token intents settle in the form asked for, every
/// balance exact, and only that form's transactions land; `auto` sends compact without a
/// priority fee and precompile when compute units are dear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_form_settles_sol_and_token_intents() {
    for (verification, price, form) in [
        (Verification::Compact, 0, "compact"),
        (Verification::Precompile, 0, "precompile"),
        (Verification::Auto, 0, "compact"),
        (Verification::Auto, 1_000_000, "precompile"),
    ] {
        let h = Harness::new().await;
        let (payer, pool) = h.payer(2 * SOL, 6).await;
        let mint = h.mint().await;
        let source = h.ata(&payer.pubkey(), &mint, 1_000_000_000).await;
        wallet::approve(h.cluster.as_ref(), &payer, &TOKEN, &source, 500_000_000)
            .await
            .unwrap();
        let merchant = Keypair::new().pubkey();
        let merchant_ata = h.ata(&merchant, &mint, 0).await;
        h.ata(&h.fee_payer.pubkey(), &mint, 0).await;
        let mut cfg = config();
        cfg.intake.allowed_mints = vec![mint.to_string()];
        cfg.submit.verification = verification;
        cfg.submit.compute_unit_price_micro_lamports = price;
        cfg.batch.max_wait_ms = 200;
        let running = h.start(cfg).await;
        let now = h.now().await;
        let mut signed = Vec::new();
        for i in 0..6u32 {
            let (nonce_account, nonce_value) = pool.nonce(i).unwrap();
            let token = i >= 4;
            let intent = Intent {
                sender: payer.pubkey(),
                recipient: merchant,
                mint: token.then_some(mint),
                amount: if token {
                    1_000_000
                } else {
                    SOL / 20 + u64::from(i)
                },
                nonce_account,
                nonce_value,
                expiry: now + 600,
                max_fee: 1_000,
                reference: (i % 2 == 1).then_some([i as u8; 32]),
            };
            signed.push(SignedIntent::sign(&payer, &intent).unwrap());
        }
        for s in &signed {
            let (status, body) = running.submit(&h.http, s).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        }
        running.settle_all().await;
        for s in &signed {
            assert_eq!(
                running.status_of(s).await,
                Status::Settled,
                "{verification:?}"
            );
        }
        let sol: u64 = (0..4).map(|i| SOL / 20 + i).sum();
        assert_eq!(h.cluster.balance(&merchant).await.unwrap(), sol);
        assert_eq!(h.token_balance(&merchant_ata).await, 2_000_000);
        let text = running.metrics_text(&h.http).await;
        let landed = |f: &str| {
            metric(
                &text,
                &format!("toss_settle_transactions_landed_total{{form=\"{f}\"}}"),
            )
        };
        let other = if form == "compact" {
            "precompile"
        } else {
            "compact"
        };
        assert!(landed(form) >= 1.0, "{verification:?} at {price}: {text}");
        assert_eq!(landed(other), 0.0, "{verification:?} at {price}: {text}");
        let fees = metric(
            &text,
            &format!("toss_settle_fees_lamports_total{{form=\"{form}\"}}"),
        );
        assert!(fees >= 5_000.0 * landed(form), "{fees}");
        running.relayer.shutdown().await.unwrap();
    }
}

/// An intent whose nonce another transaction used after the relayer acknowledged it: the
/// compact form cannot rebuild its bytes and names it by nonce account; the relayer rejects
/// exactly that intent (`stale_nonce`), and its neighbour in the batch settles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compact_rejection_reaches_the_intent_on_that_nonce() {
    let h = Harness::new().await;
    let (payer, pool) = h.payer(2 * SOL, 2).await;
    let merchant = Keypair::new().pubkey();
    let mut cfg = config();
    cfg.submit.verification = Verification::Compact;
    let running = h.start(cfg).await;
    assert_eq!(
        running.admin(&h.http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    let (_, victim) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    let (_, neighbour) = h.sol_intent(&payer, &pool, 1, merchant, SOL / 10 + 1).await;
    for s in [&victim, &neighbour] {
        let (status, body) = running.submit(&h.http, s).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    // The payer spends nonce 0 elsewhere (another relayer settles a different intent on it).
    let (nonce_account, nonce_value) = pool.nonce(0).unwrap();
    let elsewhere = Intent {
        sender: payer.pubkey(),
        recipient: Keypair::new().pubkey(),
        mint: None,
        amount: SOL / 50,
        nonce_account,
        nonce_value,
        expiry: h.now().await + 600,
        max_fee: 5_000,
        reference: None,
    };
    let other_relayer = toss_relayer::local::funded(&h.cluster, SOL).await.unwrap();
    let item = PackItem {
        signed: SignedIntent::sign(&payer, &elsewhere).unwrap(),
        metas: sol_intent_metas(&elsewhere),
        fee: 0,
        nonce: nonce_account,
    };
    let ixs = settle_instructions(&other_relayer.pubkey(), &[&item], &ComputeBudget::default());
    wallet::send(h.cluster.as_ref(), &other_relayer, &ixs, &[])
        .await
        .unwrap();
    assert_eq!(
        running.admin(&h.http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    let record = running.store.get(victim.id()).await.unwrap().unwrap();
    assert_eq!(record.status, Status::Rejected);
    assert_eq!(record.reason.as_deref(), Some("stale_nonce"));
    assert!(
        record.signature.is_some(),
        "rejected by a landed transaction"
    );
    assert_eq!(running.status_of(&neighbour).await, Status::Settled);
    assert_eq!(h.cluster.balance(&merchant).await.unwrap(), SOL / 10 + 1);
    let text = running.metrics_text(&h.http).await;
    assert!(
        metric(
            &text,
            "toss_settle_transactions_landed_total{form=\"compact\"}"
        ) >= 1.0
    );
    running.relayer.shutdown().await.unwrap();
}
