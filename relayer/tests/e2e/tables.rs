//! The relayer's own lookup tables (`[tables] manage`): made from the intents it holds, packed
//! against once active (8 compact SOL intents per transaction), bounded by the rent limit,
//! deactivated and closed when idle, with the rent back to the fee payer.

use crate::harness::*;
use reqwest::StatusCode;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::time::Duration;
use toss_relayer::local::SOL;
use toss_relayer::store::Status;
use toss_relayer::tables::Keeper;
use toss_sdk::cluster::Cluster;
use toss_sdk::SignedIntent;

/// `n` payers with one nonce each, each signing one SOL intent to its own merchant.
async fn intents(h: &Harness, n: usize) -> Vec<SignedIntent> {
    let mut out = Vec::new();
    for _ in 0..n {
        let (payer, pool) = h.payer(SOL, 1).await;
        let (_, s) = h
            .sol_intent(&payer, &pool, 0, Keypair::new().pubkey(), SOL / 100)
            .await;
        out.push(s);
    }
    out
}

fn gauge(running: &Running, state: &str) -> i64 {
    running
        .relayer
        .ctx
        .metrics
        .lookup_tables
        .with_label_values(&[state])
        .get()
}

fn coverage(running: &Running) -> (u64, u64) {
    let m = &running.relayer.ctx.metrics.table_coverage;
    (
        m.with_label_values(&["yes"]).get(),
        m.with_label_values(&["no"]).get(),
    )
}

/// The harness' config with the keeper on (a pass every 100 ms), its state file at `state`.
fn managed(state: std::path::PathBuf) -> toss_relayer::config::Config {
    let mut cfg = config();
    cfg.tables.manage = true;
    cfg.tables.interval_ms = 100;
    cfg.tables.state_path = Some(state);
    cfg
}

/// Hands in every intent; each is acknowledged.
async fn submit_each(h: &Harness, running: &Running, signed: &[SignedIntent]) {
    for s in signed {
        let (status, body) = running.submit(&h.http, s).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Ten payers' intents held while the relayer is paused: the keeper puts every account in
/// its own table; once resumed, all ten settle in two compact transactions with every intent
/// covered (625 lamports of base fee per payment in the full one). Idle, the table is
/// deactivated, and closed once the cluster lets it go: the rent returns to the fee payer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relayer_keeps_its_own_lookup_tables() {
    let h = Harness::new().await;
    let signed = intents(&h, 10).await;
    let state = h.dir.path().join("tables.json");
    let mut cfg = managed(state.clone());
    cfg.tables.idle_close_seconds = 2;
    cfg.submit.verification = toss_relayer::config::Verification::Compact;
    let fee_payer = h.fee_payer.pubkey();
    let before = h.cluster.balance(&fee_payer).await.unwrap();
    let running = h.start(cfg).await;
    assert_eq!(
        running.admin(&h.http, "pause", Some(ADMIN)).await,
        StatusCode::OK
    );
    submit_each(&h, &running, &signed).await;
    // Every account of the ten intents (4 each, and the settle instruction's own): usable.
    let ctx = running.relayer.ctx.clone();
    wait_for("the table to cover every intent", || {
        ctx.metrics.lookup_table_addresses.get() >= 40
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gauge(&running, "active"), 1);
    let addresses = ctx.metrics.lookup_table_addresses.get() as usize;
    assert!((42..=46).contains(&addresses), "{addresses}");
    let rent = ctx.metrics.lookup_table_rent.get() as u64;
    let expected_rent = h
        .cluster
        .minimum_rent(toss_sdk::pack::lookup_table_len(addresses))
        .await
        .unwrap();
    assert_eq!(rent, expected_rent);
    let listed = Keeper::open(&state).unwrap().registry().tables.clone();
    assert_eq!(listed.len(), 1, "the state file names the table");
    let table: Pubkey = listed[0].address.parse().unwrap();
    assert!(h.cluster.account(&table).await.unwrap().is_some());

    assert_eq!(
        running.admin(&h.http, "resume", Some(ADMIN)).await,
        StatusCode::OK
    );
    running.settle_all().await;
    for s in &signed {
        assert_eq!(running.status_of(s).await, Status::Settled);
    }
    assert_eq!(coverage(&running), (10, 0), "every packed intent covered");
    let metrics = &ctx.metrics;
    let landed = metrics.landed_by_form.with_label_values(&["compact"]).get();
    assert_eq!(landed, 2, "8 + 2 intents");
    assert_eq!(
        metrics.settle_fees.with_label_values(&["compact"]).get(),
        10_000,
        "5,000 lamports per transaction, 1,000 per payment"
    );

    // Idle for 2 s: deactivated (no longer packed against), then closed once 513 slots
    // passed; the rent comes back.
    wait_for("the idle table's deactivation", || {
        gauge(&running, "deactivating") == 1
    })
    .await;
    assert!(
        ctx.packing.tables().is_empty(),
        "not packed against any more"
    );
    // The in-process cluster only moves to a new slot when told. A warp usually lets the
    // table go at once; when the deactivation's slot is still among the slot hashes the warp
    // carries over (seen on a loaded machine), slots are advanced one by one until 512 newer
    // ones pushed it out, as a real cluster does in ~3 minutes.
    h.cluster.warp_ahead(600).await.unwrap();
    let closed = || async { h.cluster.account(&table).await.unwrap().is_none() };
    for _ in 0..1_000 {
        if closed().await {
            break;
        }
        h.cluster.next_slot().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if !closed().await {
        let data = h.cluster.account(&table).await.unwrap().unwrap().data;
        let at = u64::from_le_bytes(data[4..12].try_into().unwrap());
        panic!(
            "the table is not closed: deactivated at slot {at}, now {}; gauges active {} deactivating {}",
            h.cluster.slot().await.unwrap(),
            gauge(&running, "active"),
            gauge(&running, "deactivating")
        );
    }
    wait_for("the state file to forget the table", || {
        Keeper::open(&state)
            .map(|k| k.registry().tables.is_empty())
            .unwrap_or(false)
    })
    .await;
    assert_eq!(ctx.metrics.lookup_table_rent.get(), 0);
    // The fee payer got its rent back: what it spent is transaction fees (settle, create,
    // extend, deactivate, close, and here each close tried before the cluster let the table
    // go: 5,000 lamports a pass while the slots were advanced one by one) less the fees it
    // earned, never the table's rent (~12,000,000 lamports for 44 addresses).
    let after = h.cluster.balance(&fee_payer).await.unwrap();
    let moved = i128::from(before) - i128::from(after);
    assert!(moved.abs() < 2_000_000, "before {before}, after {after}");
    running.relayer.shutdown().await.unwrap();
}

/// Ten new payers' intents arrive in one burst at a running relayer (not paused): the
/// batcher holds them (`tables.cover_wait_ms`) until the keeper has put their accounts in its
/// table, and they settle in two covered compact transactions instead of three or four
/// uncovered ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_new_payers_waits_for_the_table_and_settles_covered() {
    let h = Harness::new().await;
    let signed = intents(&h, 10).await;
    let mut cfg = managed(h.dir.path().join("tables.json"));
    cfg.tables.cover_wait_ms = 20_000;
    // A keeper pass may cover the first intents of the burst before the rest have arrived:
    // covered ones then wait (for company, as any short transaction does) long enough for
    // the rest to join them, so the count of transactions does not depend on timing.
    cfg.batch.max_wait_ms = 3_000;
    cfg.submit.verification = toss_relayer::config::Verification::Compact;
    let running = h.start(cfg).await;
    let ctx = running.relayer.ctx.clone();
    // The keeper's first pass (no intents yet) says it has room.
    wait_for("the keeper's first pass", || {
        ctx.packing
            .keeper_has_room
            .load(std::sync::atomic::Ordering::SeqCst)
    })
    .await;
    let started = std::time::Instant::now();
    submit_each(&h, &running, &signed).await;
    running.settle_all().await;
    let took = started.elapsed();
    for s in &signed {
        assert_eq!(running.status_of(s).await, Status::Settled);
    }
    assert_eq!(coverage(&running), (10, 0), "every packed intent covered");
    assert_eq!(
        ctx.metrics
            .landed_by_form
            .with_label_values(&["compact"])
            .get(),
        2,
        "8 + 2 intents"
    );
    assert!(
        took < Duration::from_secs(15),
        "settled once covered, not after the whole wait: {took:?}"
    );
    assert_eq!(ctx.metrics.waiting_for_tables.get(), 0);
    running.relayer.shutdown().await.unwrap();
}

/// A rent limit below one table: no table is made, and the intents still settle, uncovered,
/// in smaller transactions, without waiting for coverage that cannot come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intents_settle_uncovered_when_the_rent_limit_allows_no_table() {
    let h = Harness::new().await;
    let signed = intents(&h, 4).await;
    let mut cfg = managed(h.dir.path().join("tables.json"));
    cfg.tables.max_rent_lamports = 1_000_000;
    cfg.tables.cover_wait_ms = 60_000;
    let running = h.start(cfg).await;
    let started = std::time::Instant::now();
    submit_each(&h, &running, &signed).await;
    running.settle_all().await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "a keeper at its rent limit holds nothing back: {took:?}"
    );
    for s in &signed {
        assert_eq!(running.status_of(s).await, Status::Settled);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gauge(&running, "active"), 0);
    assert_eq!(running.relayer.ctx.metrics.lookup_table_rent.get(), 0);
    assert_eq!(coverage(&running), (0, 4));
    running.relayer.shutdown().await.unwrap();
}
