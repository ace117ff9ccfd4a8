//! Intake throughput: signed intents POSTed over HTTP by many concurrent clients on
//! 127.0.0.1, each acknowledged only after its durable SQLite commit (submission paused, so
//! only intake is measured), against the raw `verify_strict` rate on one core and on all
//! cores, measured in the same run; then acknowledgement latency at half the measured rate.

use rayon::prelude::*;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use toss_relayer::config::{Config, Redacted};
use toss_relayer::local::{self, SOL};
use toss_relayer::store::{PgStore, SqliteStore, Store};
use toss_relayer::Relayer;
use toss_sdk::{wallet, Intent, SignedIntent};

const PAYERS: usize = 32;
const NONCES: u32 = 4;
const INTENTS: usize = 24_000;
const CLIENTS: usize = 64;
const BULK: usize = 64;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Raw `verify_strict` over `signed` on one thread, then on all cores (rayon).
fn verify_rates(signed: &[SignedIntent]) -> (f64, f64) {
    let n = signed.len().min(8_000);
    let start = Instant::now();
    let ok = signed[..n].iter().filter(|s| s.verify().is_ok()).count();
    let one = ok as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let ok = signed.par_iter().filter(|s| s.verify().is_ok()).count();
    let all = ok as f64 / start.elapsed().as_secs_f64();
    (one, all)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Posts `bodies` with `CLIENTS` concurrent clients; returns intents per second.
async fn blast(url: &str, bodies: Vec<Value>, per_body: usize) -> Result<f64, String> {
    let http = reqwest::Client::new();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (http, bodies, next, url) =
            (http.clone(), bodies.clone(), next.clone(), url.to_owned());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let r = http.post(&url).json(body).send().await.map_err(err)?;
                if !r.status().is_success() {
                    return Err(format!(
                        "{}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    ));
                }
            }
            Ok::<(), String>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(err)??;
    }
    Ok((bodies.len() * per_body) as f64 / start.elapsed().as_secs_f64())
}

/// Runs the benchmark on SQLite and, with `postgres` (a fresh schema's URL), on PostgreSQL
/// too, with the same signed intents in the same run.
pub async fn run(postgres: Option<String>) -> Result<Value, String> {
    crate::progress::phase("payers, nonce pools and signed intents");
    let (cluster, fee_payer) = local::start(local::pick_program(None)).await.map_err(err)?;
    let cluster = Arc::new(cluster);
    let mut pools = Vec::new();
    for _ in 0..PAYERS {
        let key = local::funded(&cluster, 2 * SOL).await.map_err(err)?;
        wallet::deposit(cluster.as_ref(), &key, SOL)
            .await
            .map_err(err)?;
        wallet::open_nonces(cluster.as_ref(), &key, 0..NONCES)
            .await
            .map_err(err)?;
        let pool = wallet::fetch_pool(cluster.as_ref(), &key.pubkey())
            .await
            .map_err(err)?;
        pools.push((key, pool));
    }
    let now = toss_relayer::now_ms() / 1000;
    // Distinct intents spread over the pools' nonces (intake accepts several per nonce;
    // settlement would make all but one a conflict, but submission is paused here).
    let signed: Vec<SignedIntent> = (0..INTENTS * 2 + 4_000)
        .into_par_iter()
        .map(|i| {
            let (key, pool) = &pools[i % PAYERS];
            let (nonce_account, nonce_value) =
                pool.nonce((i / PAYERS) as u32 % NONCES).map_err(err)?;
            let intent = Intent {
                sender: key.pubkey(),
                recipient: Keypair::new().pubkey(),
                mint: None,
                // Above the rent-exempt minimum: fresh recipients need no look at intake.
                amount: 1_000_000 + i as u64,
                nonce_account,
                nonce_value,
                expiry: now + 3_000,
                max_fee: 5_000,
                reference: None,
            };
            SignedIntent::sign(key, &intent).map_err(err)
        })
        .collect::<Result<_, String>>()?;
    crate::progress::phase("raw verify_strict rate");
    let (verify_one, verify_all) = verify_rates(&signed[..16_000.min(signed.len())]);

    crate::progress::phase("intake on SQLite");
    let dir = tempfile::tempdir().map_err(err)?;
    let sqlite: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("bench.sqlite")).map_err(err)?);
    let mut out = measure(
        cluster.clone(),
        fee_payer.insecure_clone(),
        sqlite,
        &signed,
        verify_all,
    )
    .await?;
    out["verify_per_s_one_core"] = json!(verify_one);
    out["verify_per_s_all_cores"] = json!(verify_all);
    out["store"] = json!("sqlite");
    out["cores"] = json!(std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1));
    if let Some(url) = postgres {
        crate::progress::phase("intake on PostgreSQL");
        let pg: Arc<dyn Store> = Arc::new(PgStore::connect(&url).await.map_err(err)?);
        let pg_out = measure(cluster.clone(), fee_payer, pg, &signed, verify_all).await?;
        let ratio = pg_out["ingest_per_s"].as_f64().unwrap_or(0.0)
            / out["ingest_per_s"].as_f64().unwrap_or(1.0).max(1e-9);
        out["postgres"] = pg_out;
        out["postgres_vs_sqlite"] = json!(ratio);
    }
    Ok(out)
}

/// One relayer on `store` (submission paused): single and bulk intake rates, then the latency
/// curve.
async fn measure(
    cluster: Arc<toss_sdk::cluster::LocalCluster>,
    fee_payer: Keypair,
    store: Arc<dyn Store>,
    signed: &[SignedIntent],
    verify_all: f64,
) -> Result<Value, String> {
    let mut config = Config::default();
    config.server.admin_token = Some(Redacted::new("bench-admin-token-0123456789abcdef".into()));
    config.server.rate_limit_per_ip_per_s = 10_000_000;
    config.server.rate_limit_per_ip_burst = 10_000_000;
    config.server.rate_limit_per_sender_per_s = 10_000_000;
    config.server.rate_limit_per_sender_burst = 10_000_000;
    config.server.max_bulk = BULK;
    config.server.max_body_bytes = 1 << 20;
    config.intake.nonce_cache_ttl_ms = 600_000;
    // The workload spreads ~400 intents over each nonce account (distinct, unsettled):
    // intake's cost is what is measured, not the per-nonce bound.
    config.intake.max_open_per_nonce = usize::MAX;
    config.intake.max_lifetime_seconds = 3_600;
    // Intake alone is measured: no lookup-table keeper reading the queue meanwhile.
    config.tables.manage = false;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(err)?;
    let relayer = Relayer::new(Arc::new(config), cluster.clone(), store.clone(), fee_payer)
        .map_err(err)?
        .start(listener)
        .await
        .map_err(err)?;
    relayer.ctx.set_paused(true);
    let url = format!("{}/v1/intents", relayer.url());
    let body = |s: &SignedIntent| json!({"intent": s.to_base64()});
    let (single, rest) = signed.split_at(INTENTS / 4);
    let (bulk, rest) = rest.split_at(INTENTS);
    // One intent per request.
    let single_rate = blast(&url, single.iter().map(body).collect(), 1).await?;
    // Bulk requests of BULK intents.
    let bulk_bodies: Vec<Value> = bulk
        .chunks(BULK)
        .map(|c| Value::Array(c.iter().map(body).collect()))
        .collect();
    let bulk_rate = blast(&url, bulk_bodies, BULK).await?;

    // Acknowledgement latency, open loop (one request per tick), at a tenth, a quarter and
    // half of the single-request rate; the headline p50/p99 are at half.
    let http = reqwest::Client::new();
    let mut curve = Vec::new();
    let mut rest = rest.iter();
    let mut lat = Vec::new();
    for share in [0.1, 0.25, 0.5] {
        let target = (single_rate * share).max(1.0);
        let gap = Duration::from_secs_f64(1.0 / target);
        let mut tasks = tokio::task::JoinSet::new();
        let start = Instant::now();
        for (i, s) in rest.by_ref().take((target * 2.0) as usize).enumerate() {
            let due = start + gap.mul_f64(i as f64);
            tokio::time::sleep_until(due.into()).await;
            let (http, url, b) = (http.clone(), url.clone(), body(s));
            tasks.spawn(async move {
                let t = Instant::now();
                let r = http.post(&url).json(&b).send().await.map_err(err)?;
                if !r.status().is_success() {
                    return Err(format!("{}", r.status()));
                }
                Ok::<f64, String>(t.elapsed().as_secs_f64() * 1e3)
            });
        }
        lat.clear();
        while let Some(r) = tasks.join_next().await {
            lat.push(r.map_err(err)??);
        }
        lat.sort_by(f64::total_cmp);
        curve.push(json!({
            "per_s": target,
            "p50_ms": percentile(&lat, 0.50),
            "p99_ms": percentile(&lat, 0.99),
        }));
    }
    let target = single_rate / 2.0;
    lat.sort_by(f64::total_cmp);
    let stored: u64 = store.counts().await.map_err(err)?.values().sum();
    relayer.abort();
    let ingest = single_rate.max(bulk_rate);
    Ok(json!({
        "ingest_per_s": ingest,
        "ingest_single_per_s": single_rate,
        "ingest_bulk_per_s": bulk_rate,
        "bulk_size": BULK,
        "clients": CLIENTS,
        "ratio": ingest / verify_all,
        "ratio_single": single_rate / verify_all,
        "half_load_per_s": target,
        "p50_ms": percentile(&lat, 0.50),
        "p99_ms": percentile(&lat, 0.99),
        "latency_curve": curve,
        "stored": stored,
    }))
}
