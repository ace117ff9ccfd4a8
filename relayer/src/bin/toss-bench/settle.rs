//! End-to-end settlement rate on the in-process cluster (HTTP intake, SQLite or PostgreSQL
//! with one or more relayers, batching into v0 transactions with a lookup table,
//! confirmation, reconciliation), against two ceilings measured in the same run: the same
//! kind of intents packed as the relayer packs them, signed in advance and sent straight to
//! the bank (`bank_only_*`), and plain single-transfer transactions.

use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::Instant;
use toss_relayer::demo::{self, DemoOptions};
use toss_relayer::local::{self, SOL};
use toss_sdk::cluster::Cluster;
use toss_sdk::wallet;

const SENDERS: usize = 8;
const TRANSFERS_EACH: usize = 250;
/// Intents per bulk request (a merchant forwarding what it collected offline).
const PER_REQUEST: usize = 32;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn bank_transfers_per_s() -> Result<f64, String> {
    let (cluster, _) = local::start(local::pick_program(None)).await.map_err(err)?;
    let cluster = std::sync::Arc::new(cluster);
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        senders.push(local::funded(&cluster, 10 * SOL).await.map_err(err)?);
    }
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for sender in senders {
        let cluster = cluster.clone();
        tasks.spawn(async move {
            for _ in 0..TRANSFERS_EACH {
                let to = Keypair::new().pubkey();
                wallet::transfer(cluster.as_ref(), &sender, &to, SOL / 100)
                    .await
                    .map_err(err)?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(err)??;
    }
    let rate = (SENDERS * TRANSFERS_EACH) as f64 / start.elapsed().as_secs_f64();
    let _ = cluster.block_height().await;
    Ok(rate)
}

fn demo_options(max_intents: usize, nonces: u32) -> DemoOptions {
    DemoOptions {
        payers: 64,
        nonces,
        merchants: 8,
        lookup_table: true,
        // Tables made beforehand with every account: the packing ceiling, run to run.
        managed_tables: false,
        scenario: false,
        per_request: PER_REQUEST,
        max_intents,
        ..Default::default()
    }
}

async fn settle_rate(opts: DemoOptions) -> Result<(f64, demo::DemoReport), String> {
    let report = demo::run(opts).await.map_err(err)?;
    if !report.balances_ok || report.settled != report.intents {
        return Err(format!("settlement incomplete: {report:?}"));
    }
    let rate = report.settled as f64 / (report.elapsed_ms.max(1) as f64 / 1e3);
    Ok((rate, report))
}

/// Runs the benchmark: end to end on SQLite, the same intents one per transaction, the
/// bank-only ceiling and plain transfers, all in this run; with `postgres` (a function giving
/// a fresh schema's URL) also end to end on PostgreSQL with 1..=`instances` relayers.
pub async fn run<F, Fut>(
    postgres: Option<F>,
    instances: usize,
    nonces: u32,
) -> Result<Value, String>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    let max = toss_relayer::config::DEFAULT_BATCH_MAX_INTENTS;
    crate::progress::phase("settle end to end on SQLite");
    let (settled_per_s, report) = settle_rate(demo_options(max, nonces)).await?;
    // The same intents in the precompile form: what the compact form saves.
    crate::progress::phase("settle end to end on SQLite, precompile form");
    let (precompile_per_s, precompile) = settle_rate(DemoOptions {
        verification: toss_relayer::config::Verification::Precompile,
        ..demo_options(max, nonces)
    })
    .await?;
    // The same intents, one per transaction: what batching saves.
    crate::progress::phase("the same intents one per transaction");
    let (unbatched_per_s, _) = settle_rate(demo_options(1, nonces)).await?;
    crate::progress::phase("bank-only ceiling");
    let bank_only = demo::bank_only(demo_options(max, nonces))
        .await
        .map_err(err)?;
    crate::progress::phase("plain transfers");
    let bank = bank_transfers_per_s().await?;
    let mut pg = Vec::new();
    if let Some(url_for) = postgres {
        for n in 1..=instances.max(1) {
            crate::progress::phase(&format!("settle on PostgreSQL, {n} instance(s)"));
            let url = url_for(n).await?;
            let opts = DemoOptions {
                database_url: Some(url),
                instances: n,
                ..demo_options(max, nonces)
            };
            let (rate, r) = settle_rate(opts).await?;
            pg.push(json!({
                "instances": n,
                "settled_per_s": rate,
                "vs_sqlite": rate / settled_per_s,
                "bank_only_ratio": rate / bank_only.settled_per_s,
                "intents_per_tx": r.intents_per_tx,
                "elapsed_ms": r.elapsed_ms,
            }));
        }
    }
    Ok(json!({
        "settled_per_s": settled_per_s,
        "bank_only_settled_per_s": bank_only.settled_per_s,
        "bank_only_ratio": settled_per_s / bank_only.settled_per_s,
        "bank_only_intents_per_tx": bank_only.intents_per_tx,
        "bank_transfers_per_s": bank,
        "ratio": settled_per_s / bank,
        "unbatched_settled_per_s": unbatched_per_s,
        "batching_gain": settled_per_s / unbatched_per_s,
        "intents": report.intents,
        "transactions": report.transactions,
        "intents_per_tx": report.intents_per_tx,
        "transactions_by_form": report.transactions_by_form,
        "lamports_per_payment": report.lamports_per_payment,
        "settled_per_s_precompile": precompile_per_s,
        "intents_per_tx_precompile": precompile.intents_per_tx,
        "lamports_per_payment_precompile": precompile.lamports_per_payment,
        "elapsed_ms": report.elapsed_ms,
        "program": report.program,
        "per_request": PER_REQUEST,
        "bank_transfers": SENDERS * TRANSFERS_EACH,
        "postgres": pg,
    }))
}
