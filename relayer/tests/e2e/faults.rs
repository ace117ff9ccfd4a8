//! Failure: a crash mid-batch and a restart on the same SQLite file; an unreliable cluster
//! (errors, timeouts, dropped sends) and a dead one (the circuit breaker).

use crate::harness::*;
use reqwest::StatusCode;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use toss_relayer::breaker::BreakerState;
use toss_relayer::fault::{Faults, FaultyCluster};
use toss_relayer::local::SOL;
use toss_relayer::store::Actor;
use toss_relayer::store::Status;
use toss_sdk::cluster::Cluster;
use toss_sdk::SignedIntent;

/// `payers` × `nonces` SOL intents to a few merchants.
pub async fn crowd(h: &Harness, payers: usize, nonces: u32) -> (Vec<SignedIntent>, Vec<Pubkey>) {
    let merchants: Vec<Pubkey> = (0..3).map(|_| Keypair::new().pubkey()).collect();
    let mut intents = Vec::new();
    for p in 0..payers {
        let (payer, pool) = h.payer(SOL, nonces).await;
        for i in 0..nonces {
            let m = merchants[(p + i as usize) % merchants.len()];
            let (_, s) = h
                .sol_intent(&payer, &pool, i, m, SOL / 100 + i as u64)
                .await;
            intents.push(s);
        }
    }
    (intents, merchants)
}

/// Every intent is final, each settled one exactly once, and merchants hold exactly that.
pub async fn assert_settled_once(
    h: &Harness,
    running: &Running,
    intents: &[SignedIntent],
    merchants: &[Pubkey],
) {
    let mut expected: HashMap<Pubkey, u64> = merchants.iter().map(|m| (*m, 0)).collect();
    for s in intents {
        let record = running
            .store
            .get(s.id())
            .await
            .unwrap()
            .expect("acknowledged is stored");
        assert_eq!(record.status, Status::Settled, "{:?}", record.reason);
        let settles = running
            .store
            .audit(s.id())
            .await
            .unwrap()
            .iter()
            .filter(|a| a.to == Status::Settled)
            .count();
        assert_eq!(settles, 1);
        let intent = s.intent().unwrap();
        *expected.entry(intent.recipient).or_default() += intent.amount;
    }
    for (m, want) in expected {
        assert_eq!(
            h.cluster.balance(&m).await.unwrap(),
            want,
            "merchant paid exactly once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_batch_finishes_everything_once() {
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 4, 3).await;
    // Every send is dropped: batches are recorded as sent but never land.
    let dropping: Arc<dyn Cluster> = Arc::new(FaultyCluster::new(
        h.cluster.clone(),
        Faults {
            drop_per_mille: 1_000,
            ..Default::default()
        },
        7,
    ));
    let running = h.start_on(config(), dropping).await;
    for s in &intents {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    // Wait until batches are in flight, then crash.
    loop {
        let counts = running.store.counts().await.unwrap();
        if counts[&Status::Submitted] > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.relayer.abort();
    // A new process on the same file and a healthy cluster: everything acknowledged settles.
    let running = h.start(config()).await;
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_then_restart_resumes() {
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 2, 3).await;
    let running = h.start(config()).await;
    for s in &intents {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    running.relayer.shutdown().await.unwrap();
    let running = h.start(config()).await;
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreliable_cluster_retries_until_everything_settles() {
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 4, 3).await;
    let faulty = Arc::new(FaultyCluster::new(
        h.cluster.clone(),
        Faults {
            error_per_mille: 150,
            timeout_per_mille: 50,
            drop_per_mille: 150,
            timeout: Duration::from_millis(100),
        },
        42,
    ));
    let mut cfg = config();
    cfg.submit.max_retries = 20;
    cfg.submit.breaker_failure_ratio = 0.9;
    let running = h.start_on(cfg, faulty.clone()).await;
    for s in &intents {
        // Intake reads nonces through the faulty cluster too: 503 is retried by the client.
        loop {
            let (status, body) = running.submit(&h.http, s).await;
            if status == StatusCode::ACCEPTED || status == StatusCode::OK {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            assert_eq!(body["error"]["code"], "cluster_unavailable");
        }
    }
    running.settle_all().await;
    assert!(faulty.injected() > 0);
    assert_settled_once(&h, &running, &intents, &merchants).await;
    running.relayer.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_cluster_trips_the_breaker_which_recovers() {
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 2, 2).await;
    let faulty = Arc::new(FaultyCluster::new(h.cluster.clone(), Faults::default(), 1));
    let running = h.start_on(config(), faulty.clone()).await;
    assert_eq!(
        running.admin(&h.http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    for s in &intents {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    faulty.set_down(true);
    assert_eq!(
        running.admin(&h.http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    let breaker = running.relayer.ctx.flow.breaker.clone();
    // Submission fails until the breaker opens.
    let mut waited = 0;
    while breaker.trips() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 500, "breaker never opened");
    }
    assert_ne!(breaker.state(), BreakerState::Closed);
    let health: serde_json::Value = h
        .http
        .get(format!("{}/healthz", running.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(health["breaker"], "closed");
    faulty.set_down(false);
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    running.relayer.shutdown().await.unwrap();
}

/// A cluster outage longer than every retry round (batches both unsent and already sent when
/// it starts) never turns a payment that can still settle into a final state: each round that
/// runs out of retries leaves the batch to the sweeper, and once the cluster is back every
/// intent settles exactly once, none ever `rejected` on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_running_out_never_reject_a_payment_that_can_still_settle() {
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 4, 3).await;
    let faulty = Arc::new(FaultyCluster::new(h.cluster.clone(), Faults::default(), 5));
    let mut cfg = config();
    cfg.submit.max_retries = 1;
    cfg.submit.confirm_timeout_ms = 300;
    cfg.batch.max_intents = 2;
    let running = h.start_on(cfg, faulty.clone()).await;
    // Sends are lost first, so some batches are recorded as sent when the outage starts.
    faulty.set_dropping(true);
    for s in &intents {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    let mut waited = 0;
    while running.store.counts().await.unwrap()[&Status::Submitted] == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
        assert!(waited < 1_000, "nothing was sent");
    }
    faulty.set_down(true);
    let exhausted = || {
        running
            .relayer
            .ctx
            .metrics
            .transactions
            .with_label_values(&["retries_exhausted"])
            .get()
    };
    let mut waited = 0;
    while exhausted() < 6 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 1_500, "only {} rounds ran out", exhausted());
    }
    let counts = running.store.counts().await.unwrap();
    assert_eq!(counts.get(&Status::Rejected).copied().unwrap_or(0), 0);
    faulty.set_down(false);
    faulty.set_dropping(false);
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    for s in &intents {
        let audit = running.store.audit(s.id()).await.unwrap();
        assert!(audit.iter().all(|a| a.to != Status::Rejected), "{audit:?}");
    }
    eprintln!(
        "retry rounds that ran out during the outage, all resumed: {}",
        exhausted()
    );
    running.relayer.shutdown().await.unwrap();
}

/// Many batches in flight cost one status poll per tick between them, not one each: the
/// watcher asks for every signature in one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_status_poll_covers_every_batch_in_flight() {
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 6, 3).await;
    let faulty = Arc::new(FaultyCluster::new(h.cluster.clone(), Faults::default(), 3));
    faulty.set_dropping(true);
    let mut cfg = config();
    // One intent per transaction: 18 batches in flight at once.
    cfg.batch.max_intents = 1;
    cfg.submit.in_flight_max = 64;
    cfg.submit.poll_interval_ms = 100;
    cfg.submit.max_retries = 50;
    cfg.submit.confirm_timeout_ms = 30_000;
    let running = h.start_on(cfg, faulty.clone()).await;
    for s in &intents {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    let watcher = &running.relayer.ctx.watcher;
    let mut waited = 0;
    while watcher.len() < intents.len() {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
        assert!(waited < 1_000, "only {} batches in flight", watcher.len());
    }
    let before = faulty.status_calls();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let calls = faulty.status_calls() - before;
    // A watcher tick is at most two requests (statuses, then again for the expired ones), ten
    // ticks a second; each send adds one check and every expired batch re-signs (one check of
    // its earlier signatures): well under one poll per batch per tick, which would be 180+.
    assert!(
        faulty.widest_status_call() >= intents.len() as u64,
        "one request asked for {} signatures",
        faulty.widest_status_call()
    );
    eprintln!(
        "status requests in one second with {} batches in flight: {calls}",
        intents.len()
    );
    assert!(calls < 100, "{calls} status requests in one second");
    faulty.set_dropping(false);
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    running.relayer.shutdown().await.unwrap();
}

/// A node whose recent status cache has forgotten the transactions (they landed long before
/// the relayer looked: a long stall, an outage, a restart): only its history knows them. The
/// relayer must find them there before signing anew; otherwise the second transaction lands
/// too and reports every intent `rejected: stale_nonce` though it settled (found by the
/// real-validator RPC-fault drill).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landing_forgotten_by_the_status_cache_is_found_in_history_not_sent_again() {
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 3, 2).await;
    let faulty = Arc::new(FaultyCluster::new(h.cluster.clone(), Faults::default(), 5));
    faulty.set_forgetful(true);
    let mut cfg = config();
    cfg.submit.poll_interval_ms = 100;
    cfg.submit.confirm_timeout_ms = 60_000;
    let running = h.start_on(cfg, faulty.clone()).await;
    for s in &intents {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    // One signature per batch: nothing was signed anew.
    for s in &intents {
        let record = running.store.get(s.id()).await.unwrap().expect("stored");
        let batch = record.batch_id.expect("batched");
        let signatures = running.store.batch_signatures(batch).await.unwrap();
        assert_eq!(
            signatures.len(),
            1,
            "batch {batch} was signed again: {signatures:?}"
        );
    }
    running.relayer.shutdown().await.unwrap();
}

/// Pauses submission, submits `intents` over HTTP and opens one batch of them directly in the
/// store under `lease`, as a batcher would, without any task to send it; returns its id.
async fn paused_with_open_batch(
    h: &Harness,
    running: &Running,
    intents: &[SignedIntent],
    lease: &toss_relayer::store::Lease,
) -> i64 {
    assert_eq!(
        running.admin(&h.http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    for s in intents {
        assert_eq!(running.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    let ids: Vec<[u8; 32]> = intents.iter().map(|s| s.id()).collect();
    running
        .store
        .open_batches(vec![ids], Actor::Batcher, lease)
        .await
        .unwrap()[0]
        .expect("the batch's intents were claimable")
}

/// A batch an instance opened and then died without sending (its lease lapses) is taken over
/// by the sweeper, dropped, and its intents go back to `pending`: they settle, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsent_batch_left_behind_is_dropped_and_its_intents_settle() {
    use toss_relayer::store::BatchState;
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 1, 2).await;
    let running = h.start(config()).await;
    // What a dead instance leaves: an open batch, its intents queued, no signature, and a
    // lease nobody renews.
    let dead = toss_relayer::store::Lease::new("dead-instance", 1);
    let batch = paused_with_open_batch(&h, &running, &intents, &dead).await;
    assert_eq!(
        running.admin(&h.http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    let dropped = running.store.get_batch(batch).await.unwrap().unwrap();
    assert_eq!(dropped.state, BatchState::Dropped);
    assert_eq!(dropped.error.as_deref(), Some("never sent"));
    for s in &intents {
        let audit = running.store.audit(s.id()).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|a| a.actor == "sweeper" && a.reason.as_deref() == Some("batch never sent")),
            "{audit:?}"
        );
    }
    running.relayer.shutdown().await.unwrap();
}

/// A sent batch of 8 intents (what the compact form fits in one transaction) whose
/// transaction never landed, resumed by an instance that only sends the precompile form
/// (3 per transaction): it is not put on the wire too large (the node would answer `too
/// large` to every send until the intents expired); it is dropped and its intents packed
/// again, and they settle once (found by the real-validator suite's SIGKILL restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_batch_too_large_for_the_current_form_is_packed_again() {
    use toss_relayer::config::Verification;
    use toss_relayer::store::{BatchState, Transition};
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 4, 2).await;
    let mut cfg = config();
    cfg.submit.verification = Verification::Precompile;
    let running = h.start(cfg).await;
    let dead = toss_relayer::store::Lease::new("dead-instance", 1);
    let batch = paused_with_open_batch(&h, &running, &intents, &dead).await;
    // Its one signature: recorded, never broadcast, its blockhash long expired.
    let signature = solana_signature::Signature::from([7u8; 64]).to_string();
    let submitted: Vec<Transition> = intents
        .iter()
        .map(|s| {
            Transition::new(s.id(), Status::Submitted, Actor::Submitter)
                .signature(signature.clone())
                .batch(batch)
                .bump_attempts()
        })
        .collect();
    let recorded = running
        .store
        .mark_batch_sent_with(
            batch,
            signature,
            solana_hash::Hash::default().to_string(),
            0,
            &dead,
            submitted,
        )
        .await
        .unwrap();
    assert!(recorded.is_some(), "the dead instance's send was recorded");
    assert_eq!(
        running.admin(&h.http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    let dropped = running.store.get_batch(batch).await.unwrap().unwrap();
    assert_eq!(dropped.state, BatchState::Dropped);
    assert!(
        dropped
            .error
            .as_deref()
            .is_some_and(|e| e.contains("packed again")),
        "{:?}",
        dropped.error
    );
    assert_eq!(
        running.store.batch_signatures(batch).await.unwrap().len(),
        1
    );
    running.relayer.shutdown().await.unwrap();
}

/// The sweeper never resumes a sent batch that a live task holds, however the timing falls:
/// its claim is atomic, so while the batch is held a sweep leaves it alone; once the holder
/// lets go, one sweep takes it over and its intents settle, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeper_leaves_a_held_batch_alone_and_resumes_it_once_released() {
    use solana_signature::Signature;
    use toss_relayer::store::{Status, Transition};
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 1, 2).await;
    let running = h.start(config()).await;
    // A batch as a live task leaves it mid-flight: sent under a signature that never lands,
    // on a blockhash that has already expired, its intents submitted.
    let ctx = running.relayer.ctx.clone();
    let batch = paused_with_open_batch(&h, &running, &intents, &ctx.lease).await;
    let ids: Vec<[u8; 32]> = intents.iter().map(|s| s.id()).collect();
    assert!(ctx.claims.claim_batch(batch));
    let signature = Signature::from([7u8; 64]).to_string();
    let submitted: Vec<Transition> = ids
        .iter()
        .map(|id| Transition::new(*id, Status::Submitted, Actor::Submitter).signature(&signature))
        .collect();
    running
        .store
        .mark_batch_sent_with(
            batch,
            signature,
            "11111111111111111111111111111111".into(),
            0,
            &ctx.lease,
            submitted,
        )
        .await
        .unwrap()
        .expect("batch marked sent");
    // Held: a sweep starts nothing, and the claim is still the holder's.
    let (batches, mut handed) = tokio::sync::mpsc::unbounded_channel();
    toss_relayer::claims::sweep(&ctx, &batches).await.unwrap();
    assert!(
        handed.try_recv().is_err(),
        "the sweeper took over a held batch"
    );
    assert!(!ctx.claims.claim_batch(batch));
    // Released (the task ended and let its lease go): exactly one sweep (this one or the
    // relayer's own) resumes it.
    ctx.claims.unclaim_batch(batch);
    running
        .store
        .release_leases(&ctx.lease.owner, vec![batch])
        .await
        .unwrap();
    assert_eq!(
        running.admin(&h.http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    toss_relayer::claims::sweep(&ctx, &running.relayer.batches().unwrap())
        .await
        .unwrap();
    running.settle_all().await;
    assert_settled_once(&h, &running, &intents, &merchants).await;
    running.relayer.shutdown().await.unwrap();
}

/// A payer's next payment on the same nonce account, signed over the value the first
/// settlement advanced it to, is acknowledged while that settlement is still being reconciled
/// (its logs not found yet). It is the payer's next payment, not a loser of the nonce: both
/// settle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_payment_on_a_nonce_is_no_conflict_with_the_last() {
    let h = Harness::new().await;
    let (payer, pool) = h.payer(SOL, 1).await;
    let merchant = Keypair::new().pubkey();
    let faulty = Arc::new(FaultyCluster::new(h.cluster.clone(), Faults::default(), 7));
    faulty.set_logs_hidden(true);
    let running = h.start_on(config(), faulty.clone()).await;
    let (_, first) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    assert_eq!(
        running.submit(&h.http, &first).await.0,
        StatusCode::ACCEPTED
    );
    let (_, signed_over) = pool.nonce(0).expect("nonce");
    let mut advanced = None;
    for _ in 0..400 {
        let now = toss_sdk::wallet::fetch_pool(h.cluster.as_ref(), &payer.pubkey())
            .await
            .expect("pool");
        if now.nonce(0).expect("nonce").1 != signed_over {
            advanced = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let advanced = advanced.expect("the first payment landed");
    let (_, next) = h.sol_intent(&payer, &advanced, 0, merchant, SOL / 20).await;
    let (status, body) = running.submit(&h.http, &next).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        running.status_of(&first).await,
        Status::Submitted,
        "still being reconciled"
    );
    faulty.set_logs_hidden(false);
    running.settle_all().await;
    assert_eq!(running.status_of(&first).await, Status::Settled);
    let record = running.store.get(next.id()).await.unwrap().expect("stored");
    assert_eq!(record.status, Status::Settled, "{:?}", record.reason);
    assert_eq!(
        h.cluster.balance(&merchant).await.unwrap(),
        SOL / 10 + SOL / 20
    );
    running.relayer.shutdown().await.unwrap();
}

/// A failed nonce read refuses (503) only the intents it was needed for: in one bulk request
/// with the cluster down, an intent on a nonce whose current value intake has just read is
/// accepted; one on a nonce never read is `cluster_unavailable`, and accepted once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_nonce_read_refuses_only_the_intents_that_needed_it() {
    let h = Harness::new().await;
    let (payer, pool) = h.payer(SOL, 2).await;
    let merchant = Pubkey::new_unique();
    let (_, first) = h.sol_intent(&payer, &pool, 0, merchant, 1_000_000).await;
    let (_, again) = h.sol_intent(&payer, &pool, 0, merchant, 2_000_000).await;
    let (_, other) = h.sol_intent(&payer, &pool, 1, merchant, 3_000_000).await;
    let faulty = Arc::new(FaultyCluster::new(h.cluster.clone(), Faults::default(), 7));
    let mut cfg = config();
    cfg.intake.nonce_cache_ttl_ms = 60_000;
    let running = h.start_on(cfg, faulty.clone()).await;
    assert_eq!(
        running.admin(&h.http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    assert_eq!(
        running.submit(&h.http, &first).await.0,
        StatusCode::ACCEPTED
    );
    faulty.set_down(true);
    // The same nonce named with a value intake has not seen: it needs the read, and must not
    // drag `again` (whose value is the cached, current one) down with it.
    let mut stale = again.intent().unwrap();
    stale.nonce_value = [9; 32];
    let stale = SignedIntent::sign(&payer, &stale).unwrap();
    let bulk = serde_json::json!([
        {"intent": stale.to_base64()},
        {"intent": again.to_base64()},
        {"intent": other.to_base64()},
    ]);
    let (status, body) = running.post(&h.http, &bulk).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["results"][0]["error"]["code"], "cluster_unavailable",
        "{body}"
    );
    assert_eq!(body["results"][1]["created"], true, "{body}");
    assert_eq!(
        body["results"][2]["error"]["code"], "cluster_unavailable",
        "{body}"
    );
    faulty.set_down(false);
    assert_eq!(
        running.submit(&h.http, &other).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(running.total().await, 3);
    running.relayer.shutdown().await.unwrap();
}

/// SQLite is one process per file: a second relayer on the file of a running one (under any
/// instance id) waits `lease_ms` for it to exit, then refuses to start; once the first
/// stopped, it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_relayer_on_a_running_ones_sqlite_file_is_refused() {
    let h = Harness::new().await;
    let mut cfg = config();
    cfg.store.lease_ms = 1_000;
    let first = h.start(cfg.clone()).await;
    let mut other = cfg.clone();
    other.store.instance_id = Some("another-id".into());
    let store: Arc<dyn toss_relayer::store::Store> = Arc::new(
        toss_relayer::store::SqliteStore::open(h.dir.path().join("relayer.sqlite")).unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = toss_relayer::Relayer::new(
        Arc::new(other),
        h.cluster.clone(),
        store,
        h.fee_payer.insecure_clone(),
    )
    .unwrap()
    .start(listener)
    .await;
    assert!(
        matches!(refused, Err(toss_relayer::RelayerError::InstanceInUse(_))),
        "a second relayer ran on one SQLite file"
    );
    first.relayer.shutdown().await.unwrap();
    let again = h.start(cfg).await;
    again.relayer.shutdown().await.unwrap();
}
