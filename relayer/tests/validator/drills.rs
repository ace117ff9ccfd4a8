//! Reliability drills against the real validator, each with a figures line:
//!
//! - **kill**: `toss-relayer run` SIGKILLed at a random moment while intents pour in, then
//!   restarted on the same store and address, `cycles` times; clients retry what was not
//!   acknowledged (as a wallet does). Every acknowledged intent must settle once. Run on
//!   SQLite (`kill`) and on PostgreSQL (`kill-pg`).
//! - **faults**: the RPC proxy fails, stalls or loses 30 % of the relayer's requests for the
//!   whole drill; every valid, funded intent must settle (none may end `rejected` because the
//!   cluster misbehaved).
//! - **load**: 64 clients hand in intents at a fixed total rate; the only answers allowed are
//!   2xx and 429; acknowledgement latency p50/p99; every acknowledged intent settles.
//! - **database**: the relayer on PostgreSQL (a cluster of the drill's own, started with
//!   `scripts/pg`), the server crashed (`-m immediate`) while intents pour in and started
//!   again; and the relayer on SQLite with its disk full (`disk`: every write fails with
//!   `EFBIG`) and then freed: intake answers 503 meanwhile, nothing acknowledged is lost,
//!   everything settles.
//! - **instances**: three `toss-relayer run` processes on one PostgreSQL database, intents
//!   round robin; one SIGKILLed while it holds a sent batch; the other two take its batches
//!   over after the lease lapses and everything settles exactly once.
//!
//! Each drill checks the chain itself: the program's events (no intent settled twice), every
//! balance and nonce moved by exactly what settled. Scale: `TOSS_DRILLS=ci` (the default, what
//! CI runs) or `full` (the README's figures); `TOSS_DRILLS=off` skips them for quick local
//! runs (never in CI); `TOSS_DRILL_ONLY=load,database` runs only the drills named.

use crate::chain::Chain;
use crate::crowd::{account_for, percentile, settlements, sign, snapshot, Payer, Sent, SOL};
use crate::proxy::Proxy;
use crate::service::{free_port, open_store, Setup};
use reqwest::StatusCode;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use toss_relayer::store::Store as _;
use toss_sdk::cluster::Cluster;
use toss_sdk::{wallet, SignedIntent};

/// How big each drill is.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    pub name: &'static str,
    /// Kill drill: SIGKILL/restart cycles, payers, intents per payer per cycle.
    pub kill_cycles: usize,
    pub kill_payers: usize,
    pub kill_per_payer: u32,
    /// Fault drill: intents, faulty requests per thousand, stall length.
    pub fault_intents: usize,
    pub fault_per_mille: u64,
    pub stall: Duration,
    /// Load drill: clients, seconds, intents per second in total.
    pub load_clients: usize,
    pub load_seconds: u64,
    pub load_rate: u64,
    /// Database drill: intents, how long PostgreSQL stays down.
    pub db_intents: usize,
    pub db_outage: Duration,
    /// Several-instances drill: intents.
    pub instance_intents: usize,
}

impl Scale {
    /// Whether the drill `name` runs (`TOSS_DRILL_ONLY`, a comma list; all when unset).
    pub fn runs(&self, name: &str) -> bool {
        std::env::var("TOSS_DRILL_ONLY")
            .map(|only| only.split(',').any(|n| n.trim() == name))
            .unwrap_or(true)
    }

    /// From `TOSS_DRILLS` (`ci`, the default; `full`; `off`).
    pub fn from_env() -> Option<Scale> {
        match std::env::var("TOSS_DRILLS").as_deref() {
            Ok("off") => None,
            Ok("full") => Some(Scale {
                name: "full",
                kill_cycles: 20,
                kill_payers: 6,
                kill_per_payer: 10,
                fault_intents: 256,
                fault_per_mille: 300,
                stall: Duration::from_secs(12),
                load_clients: 64,
                load_seconds: 60,
                load_rate: 20,
                db_intents: 256,
                db_outage: Duration::from_secs(10),
                instance_intents: 256,
            }),
            Ok("ci") | Err(_) => Some(Scale {
                name: "ci",
                kill_cycles: 4,
                kill_payers: 4,
                kill_per_payer: 8,
                fault_intents: 64,
                fault_per_mille: 300,
                stall: Duration::from_secs(12),
                load_clients: 64,
                load_seconds: 15,
                load_rate: 10,
                db_intents: 64,
                db_outage: Duration::from_secs(5),
                instance_intents: 64,
            }),
            Ok(other) => panic!("TOSS_DRILLS={other}: use ci, full or off"),
        }
    }
}

/// What the drills share: the chain, the relayer's setup, the proxy, the merchants.
pub struct Ground<'a> {
    pub chain: &'a Chain,
    pub setup: &'a Setup,
    pub proxy: &'a Proxy,
    pub merchants: &'a [Pubkey],
}

impl Ground<'_> {
    /// SOL payers with `nonces` pool nonces each and a vault deposit.
    async fn payers(&self, count: usize, nonces: u32) -> Vec<Payer> {
        self.payers_for(count, nonces, nonces).await
    }

    /// [`Ground::payers`] whose vaults cover `spends` intents each (more than `nonces` when
    /// the pool is used again after a refresh, as the kill drill's cycles do).
    async fn payers_for(&self, count: usize, nonces: u32, spends: u32) -> Vec<Payer> {
        let keys: Vec<Keypair> = (0..count).map(|_| Keypair::new()).collect();
        let lamports = 1 + u64::from(nonces + spends) / 100;
        self.chain
            .fund(
                &keys.iter().map(Signer::pubkey).collect::<Vec<_>>(),
                lamports * SOL,
            )
            .await;
        let mut set = JoinSet::new();
        for (i, key) in keys.into_iter().enumerate() {
            let cluster = self.chain.cluster.clone();
            set.spawn(async move {
                // Every intent reserves at most ~1.03 M lamports (amount + max fee).
                let deposit = SOL / 10 + u64::from(spends) * 1_100_000;
                wallet::deposit(cluster.as_ref(), &key, deposit)
                    .await
                    .expect("deposit");
                wallet::open_nonces(cluster.as_ref(), &key, 0..nonces)
                    .await
                    .expect("nonces");
                let pool = wallet::fetch_pool(cluster.as_ref(), &key.pubkey())
                    .await
                    .expect("pool");
                (
                    i,
                    Payer {
                        key,
                        ata: None,
                        pool,
                    },
                )
            });
        }
        let mut out: Vec<(usize, Payer)> = set.join_all().await;
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, p)| p).collect()
    }

    /// Every payer's pool read again (new nonce values after settlements).
    async fn refresh(&self, payers: &mut [Payer]) {
        for p in payers {
            p.pool = wallet::fetch_pool(self.chain.cluster.as_ref(), &p.key.pubkey())
                .await
                .expect("pool");
        }
    }

    /// One intent per (payer, nonce index < `per_payer`), each to a merchant, expiring in
    /// 30 minutes; `salt` keeps amounts distinct between waves.
    async fn wave(&self, payers: &[Payer], per_payer: u32, salt: u64) -> Vec<Sent> {
        let now = self.chain.cluster.unix_time().await.expect("clock");
        let mut out = Vec::new();
        for index in 0..per_payer {
            for (p, payer) in payers.iter().enumerate() {
                let to = self.merchants[(p + index as usize) % self.merchants.len()];
                let amount = 1_000_000 + salt + u64::from(index);
                let (signed, intent) = sign(payer, index, to, None, amount, now + 1_800);
                out.push(Sent {
                    signed,
                    intent,
                    expect: "settled",
                });
            }
        }
        out
    }

    /// The lamport accounts, nonces and token accounts a snapshot of `payers` covers.
    async fn before(&self, payers: &[Payer]) -> crate::crowd::Snapshot {
        let mut lamports: Vec<Pubkey> = self.merchants.to_vec();
        lamports.extend(
            payers
                .iter()
                .map(|p| toss_intent_processor::state::Vault::find_address(&p.key.pubkey()).0),
        );
        let nonces: Vec<Pubkey> = payers
            .iter()
            .flat_map(|p| p.pool.nonces.iter().map(|n| n.address.parse().unwrap()))
            .collect();
        snapshot(self.chain, &lamports, &[], &nonces).await
    }
}

/// One client's answer to one intent.
struct Answer {
    status: Option<StatusCode>,
    /// The JSON error code of a refusal (`error.code`).
    code: Option<String>,
    latency: Duration,
    /// Attempts until acknowledged (retry drills).
    attempts: u32,
}

/// `POST /v1/intents` once.
async fn post(http: &reqwest::Client, url: &str, signed: &SignedIntent) -> Answer {
    let started = Instant::now();
    let r = http
        .post(format!("{url}/v1/intents"))
        .timeout(Duration::from_secs(30))
        .json(&serde_json::json!({"intent": signed.to_base64()}))
        .send()
        .await;
    let (status, code) = match r {
        Ok(r) => {
            let status = r.status();
            let code = if status.is_success() {
                None
            } else {
                r.json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            };
            (Some(status), code)
        }
        Err(e) => (None, Some(e.to_string())),
    };
    Answer {
        status,
        code,
        latency: started.elapsed(),
        attempts: 1,
    }
}

/// Posts until a relayer acknowledges (202 or 200), retrying refused connections (the
/// relayer is restarting or dead), 503 and 429 every 100 ms, as a wallet would; each attempt
/// goes to the next of `urls` (a wallet that knows several relayers), starting at `first`.
/// Any other answer fails the drill.
async fn post_until_acked(
    http: &reqwest::Client,
    urls: &[String],
    first: usize,
    signed: &SignedIntent,
    limit: Duration,
) -> Answer {
    let started = Instant::now();
    let mut attempts = 0;
    let mut seen: HashMap<String, u32> = HashMap::new();
    loop {
        let url = &urls[(first + attempts as usize) % urls.len()];
        attempts += 1;
        let a = post(http, url, signed).await;
        let what = format!(
            "{} {}",
            a.status.map_or(0, |s| s.as_u16()),
            a.code.as_deref().unwrap_or("")
        );
        *seen.entry(what).or_default() += 1;
        match a.status {
            Some(StatusCode::ACCEPTED | StatusCode::OK) => {
                return Answer {
                    attempts,
                    latency: started.elapsed(),
                    ..a
                }
            }
            None | Some(StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) => {}
            Some(other) => panic!(
                "intent {} answered {other} {}",
                hex::encode(signed.id()),
                a.code.as_deref().unwrap_or("")
            ),
        }
        assert!(
            started.elapsed() < limit,
            "intent {} not acknowledged after {limit:?} ({attempts} attempts: {seen:?})",
            hex::encode(signed.id())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Hands `sent` in from `clients` concurrent clients that retry until acknowledged.
fn submit_retrying(
    url: &str,
    sent: &[Sent],
    clients: usize,
) -> tokio::task::JoinHandle<Vec<Answer>> {
    submit_spread(&[url.to_owned()], sent, clients)
}

/// [`submit_retrying`] over several relayers: intent `j` goes to `urls[j % n]` first (round
/// robin), a retry to the next one.
fn submit_spread(
    urls: &[String],
    sent: &[Sent],
    clients: usize,
) -> tokio::task::JoinHandle<Vec<Answer>> {
    let signed: Arc<Vec<SignedIntent>> = Arc::new(sent.iter().map(|s| s.signed.clone()).collect());
    let urls: Arc<Vec<String>> = Arc::new(urls.to_vec());
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut set = JoinSet::new();
        for c in 0..clients {
            let (http, urls, signed) = (http.clone(), urls.clone(), signed.clone());
            set.spawn(async move {
                let mut out = Vec::new();
                for (j, s) in signed.iter().enumerate().skip(c).step_by(clients) {
                    out.push(post_until_acked(&http, &urls, j, s, Duration::from_secs(180)).await);
                }
                out
            });
        }
        set.join_all().await.into_iter().flatten().collect()
    })
}

/// Waits (up to 300 s) until every intent of `wave` is final, as `relayer` reports it, and
/// fails the drill `what` unless each one settled, showing `logs()` (the relayers' log tails).
async fn expect_settled(
    relayer: &crate::service::Service,
    wave: &[Sent],
    what: &str,
    logs: impl Fn() -> String,
) {
    let statuses = relayer
        .wait_final(
            &wave.iter().map(|s| s.signed.clone()).collect::<Vec<_>>(),
            Duration::from_secs(300),
        )
        .await;
    for (s, st) in wave.iter().zip(&statuses) {
        assert_eq!(
            st["status"],
            "settled",
            "{what}: {} {st}\n{}",
            hex::encode(s.signed.id()),
            logs()
        );
    }
}

/// A small deterministic generator (splitmix64) for the kill moments.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// Intents of `ids` in `status` in the relayer's SQLite store.
fn count_in(store: &std::path::Path, ids: &[[u8; 32]], status: &str) -> usize {
    let db = open_store(store);
    ids.iter()
        .filter(|id| {
            db.query_row(
                "SELECT status FROM intent_state WHERE id = ?1",
                [id.as_slice()],
                |r| r.get::<_, String>(0),
            )
            .is_ok_and(|s| s == status)
        })
        .count()
}

/// Intents of `ids` in `status` in the store `setup` points the relayer at.
async fn count_status(setup: &Setup, ids: &[[u8; 32]], status: &str) -> usize {
    let Some(url) = &setup.database_url else {
        return count_in(&setup.store, ids, status);
    };
    let store = toss_relayer::store::PgStore::connect(url)
        .await
        .expect("drill store");
    store
        .get_many(ids.to_vec())
        .await
        .expect("intents")
        .iter()
        .flatten()
        .filter(|r| r.status.as_str() == status)
        .count()
}

/// A fresh schema on the drill's own PostgreSQL cluster; its URL.
async fn drill_schema(name: &str) -> String {
    let base = drill_pg("start");
    let schema = format!("{name}_{}_{}", std::process::id(), toss_relayer::now_ms());
    toss_relayer::store::PgStore::schema_url(&base, &schema)
        .await
        .expect("drill schema")
}

/// The kill drill (see the module docs) on SQLite, or on PostgreSQL (`postgres`: a schema of
/// the drill's own cluster). Returns its figures line and the intents it settled.
pub async fn kill(g: &Ground<'_>, scale: &Scale, postgres: bool) -> (String, Vec<[u8; 32]>) {
    let started = Instant::now();
    let setup = if postgres {
        Setup {
            database_url: Some(drill_schema("kill").await),
            instance_id: Some("kill-pg".into()),
            ..g.setup.clone()
        }
    } else {
        g.setup.clone()
    };
    let cycles = scale.kill_cycles as u32;
    let mut payers = g
        .payers_for(
            scale.kill_payers,
            scale.kill_per_payer,
            scale.kill_per_payer * cycles,
        )
        .await;
    let before = g.before(&payers).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut relayer = setup.start_at(100, "auto", &listen).await;
    let url = relayer.url.clone();
    let mut draw = Draw(0x7055_d111);
    let mut all = Vec::new();
    let (mut recoveries, mut finals, mut in_flight, mut retried) = (vec![], vec![], 0, 0);
    for cycle in 0..scale.kill_cycles {
        if cycle > 0 {
            g.refresh(&mut payers).await;
        }
        let wave = g.wave(&payers, scale.kill_per_payer, cycle as u64).await;
        let ids: Vec<[u8; 32]> = wave.iter().map(|s| s.signed.id()).collect();
        let clients = submit_retrying(&url, &wave, 4);
        // A random moment while the wave pours in or settles.
        tokio::time::sleep(Duration::from_millis(draw.below(1_500))).await;
        relayer.kill();
        let killed = Instant::now();
        in_flight += count_status(&setup, &ids, "submitted").await;
        relayer = setup.start_at(101 + cycle, "auto", &listen).await;
        recoveries.push(killed.elapsed().as_millis() as i64);
        let answers = clients.await.expect("clients");
        retried += answers.iter().filter(|a| a.attempts > 1).count();
        expect_settled(
            &relayer,
            &wave,
            &format!("kill drill cycle {cycle}"),
            || relayer.log_tail(),
        )
        .await;
        finals.push(killed.elapsed().as_millis() as i64);
        all.extend(wave);
    }
    account_for(g.chain, &relayer, &all, &before, &HashMap::new()).await;
    drop(relayer);
    recoveries.sort_unstable();
    finals.sort_unstable();
    let line = format!(
        "kill drill ({}, {}): {} cycles, {} intents acknowledged, {} settled once on chain, 0 \
         lost, 0 twice; {in_flight} in flight at the kills, {retried} retried by clients; \
         restart to healthy p50 {} ms max {} ms; kill to wave final p50 {} ms max {} ms; {:.1} s",
        scale.name,
        if postgres { "PostgreSQL" } else { "SQLite" },
        scale.kill_cycles,
        all.len(),
        all.len(),
        percentile(&recoveries, 0.5),
        recoveries.last().copied().unwrap_or(0),
        percentile(&finals, 0.5),
        finals.last().copied().unwrap_or(0),
        started.elapsed().as_secs_f64(),
    );
    (line, all.iter().map(|s| s.signed.id()).collect())
}

/// The RPC-fault drill (see the module docs). Returns its figures line.
pub async fn faults(g: &Ground<'_>, scale: &Scale) -> String {
    let payers_n = 8;
    let per_payer = scale.fault_intents.div_ceil(payers_n) as u32;
    let payers = g.payers(payers_n, per_payer).await;
    let before = g.before(&payers).await;
    let wave = g.wave(&payers, per_payer, 7_000).await;
    let relayer = g.setup.start_with(200, "auto").await;
    let sw = &g.proxy.switches;
    sw.stall_ms
        .store(scale.stall.as_millis() as u64, Ordering::SeqCst);
    let seen = sw.requests.load(Ordering::SeqCst);
    let (failed0, stalled0, lost0) = (
        sw.failed.load(Ordering::SeqCst),
        sw.stalled.load(Ordering::SeqCst),
        sw.lost.load(Ordering::SeqCst),
    );
    sw.fault_per_mille
        .store(scale.fault_per_mille, Ordering::SeqCst);
    let started = Instant::now();
    // The breaker's openings, sampled every 250 ms.
    let openings = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let watch = {
        let (http, url, openings) = (
            reqwest::Client::new(),
            relayer.url.clone(),
            openings.clone(),
        );
        tokio::spawn(async move {
            let mut open = false;
            loop {
                let now_open = metric(&http, &url, "toss_breaker_open").await > 0.0;
                if now_open && !open {
                    openings.fetch_add(1, Ordering::SeqCst);
                }
                open = now_open;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let answers = submit_retrying(&relayer.url, &wave, 16)
        .await
        .expect("clients");
    let acked_s = started.elapsed().as_secs_f64();
    let statuses = relayer
        .wait_final(
            &wave.iter().map(|s| s.signed.clone()).collect::<Vec<_>>(),
            Duration::from_secs(600),
        )
        .await;
    let final_s = started.elapsed().as_secs_f64();
    sw.fault_per_mille.store(0, Ordering::SeqCst);
    watch.abort();
    let not_settled: Vec<String> = wave
        .iter()
        .zip(&statuses)
        .filter(|(_, st)| st["status"] != "settled")
        .map(|(s, st)| format!("{} {st}", hex::encode(s.signed.id())))
        .collect();
    assert!(
        not_settled.is_empty(),
        "fault drill: {} valid, funded intents did not settle:\n{}\n{}",
        not_settled.len(),
        not_settled.join("\n"),
        relayer.log_tail()
    );
    account_for(g.chain, &relayer, &wave, &before, &HashMap::new()).await;
    let requests = sw.requests.load(Ordering::SeqCst) - seen;
    let failed = sw.failed.load(Ordering::SeqCst) - failed0;
    let stalled = sw.stalled.load(Ordering::SeqCst) - stalled0;
    let lost = sw.lost.load(Ordering::SeqCst) - lost0;
    // As whole numbers (an empty sum of f64 is -0.0).
    let r = &relayer;
    let m = |s: &'static str| async move { r.metric(s).await.max(0.0) as u64 };
    let (send_errors, expired, exhausted, rpc_errors) = (
        m("toss_transactions_total{outcome=\"send_error\"}").await,
        m("toss_transactions_total{outcome=\"expired\"}").await,
        m("toss_transactions_total{outcome=\"retries_exhausted\"}").await,
        m("toss_rpc_errors_total").await,
    );
    let landed = m("toss_transactions_total{outcome=\"landed\"}").await;
    let retried = answers.iter().filter(|a| a.attempts > 1).count();
    drop(relayer);
    format!(
        "fault drill ({}): {} intents, {} settled once, 0 rejected; RPC requests {requests}, \
         faulty {} ({:.0} %: {failed} answered 503, {stalled} stalled {} s, {lost} sends lost); \
         relayer: {landed} tx landed, {send_errors} send errors, {expired} blockhashes expired \
         and re-signed, {exhausted} rounds out of retries (resumed), {rpc_errors} RPC errors, \
         breaker opened {} times; \
         intake: {retried} intents retried by clients; all acknowledged {acked_s:.1} s, all \
         final {final_s:.1} s",
        scale.name,
        wave.len(),
        wave.len(),
        failed + stalled + lost,
        (failed + stalled + lost) as f64 * 100.0 / requests.max(1) as f64,
        scale.stall.as_secs(),
        openings.load(Ordering::SeqCst),
    )
}

/// One series of `GET /metrics` summed over its instance labels (0 when absent).
async fn metric(http: &reqwest::Client, url: &str, series: &str) -> f64 {
    let Ok(r) = http.get(format!("{url}/metrics")).send().await else {
        return 0.0;
    };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(series) && l[series.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// The load drill (see the module docs). Returns its figures line.
pub async fn load(g: &Ground<'_>, scale: &Scale) -> String {
    let total = (scale.load_seconds * scale.load_rate) as usize;
    let payers_n = 10;
    let per_payer = total.div_ceil(payers_n) as u32;
    let payers = g.payers(payers_n, per_payer).await;
    let before = g.before(&payers).await;
    let mut wave = g.wave(&payers, per_payer, 9_000).await;
    wave.truncate(total);
    let relayer = g.setup.start_with(300, "auto").await;
    let signed: Arc<Vec<SignedIntent>> = Arc::new(wave.iter().map(|s| s.signed.clone()).collect());
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let period = Duration::from_secs(1) / scale.load_rate as u32;
    let http = reqwest::Client::new();
    let mut set = JoinSet::new();
    for c in 0..scale.load_clients {
        let (http, url, signed) = (http.clone(), relayer.url.clone(), signed.clone());
        let clients = scale.load_clients;
        set.spawn(async move {
            let mut out = Vec::new();
            for k in (c..signed.len()).step_by(clients) {
                tokio::time::sleep_until(start + period * k as u32).await;
                out.push((k, post(&http, &url, &signed[k]).await));
            }
            out
        });
    }
    let mut answers: Vec<(usize, Answer)> = set.join_all().await.into_iter().flatten().collect();
    let sent_s = (tokio::time::Instant::now() - start).as_secs_f64();
    answers.sort_by_key(|(k, _)| *k);
    let mut codes: HashMap<String, usize> = HashMap::new();
    for (_, a) in &answers {
        let code = match (a.status, &a.code) {
            (Some(s), None) => s.as_u16().to_string(),
            (Some(s), Some(c)) => format!("{} {c}", s.as_u16()),
            (None, c) => format!("error {}", c.as_deref().unwrap_or("")),
        };
        *codes.entry(code).or_default() += 1;
    }
    let bad: Vec<(&String, &usize)> = codes
        .iter()
        .filter(|(c, _)| !(c.as_str() == "200" || c.as_str() == "202" || c.starts_with("429")))
        .collect();
    assert!(
        bad.is_empty(),
        "load drill: answers other than 2xx/429: {bad:?}"
    );
    let acked: Vec<Sent> = answers
        .iter()
        .zip(wave)
        .filter(|((_, a), _)| a.status.is_some_and(|s| s.is_success()))
        .map(|(_, s)| s)
        .collect();
    let mut lat: Vec<i64> = answers
        .iter()
        .map(|(_, a)| a.latency.as_micros() as i64)
        .collect();
    lat.sort_unstable();
    let statuses = relayer
        .wait_final(
            &acked.iter().map(|s| s.signed.clone()).collect::<Vec<_>>(),
            Duration::from_secs(600),
        )
        .await;
    let final_s = (tokio::time::Instant::now() - start).as_secs_f64();
    for (s, st) in acked.iter().zip(&statuses) {
        assert_eq!(
            st["status"],
            "settled",
            "load drill: {} {st}",
            hex::encode(s.signed.id())
        );
    }
    // Only acknowledged intents count; a 429'd one was never taken and may not settle.
    let acked_ids: std::collections::HashSet<[u8; 32]> =
        acked.iter().map(|s| s.signed.id()).collect();
    let (settled, _) = settlements(g.chain).await;
    let settled_here = acked_ids
        .iter()
        .filter(|id| settled.contains_key(*id))
        .count();
    assert_eq!(
        settled_here,
        acked.len(),
        "every acknowledged intent settled on chain"
    );
    account_for(g.chain, &relayer, &acked, &before, &HashMap::new()).await;
    drop(relayer);
    format!(
        "load drill ({}): {} clients, {} intents at {}/s over {sent_s:.1} s; answers {:?}; \
         acknowledgement p50 {:.1} ms p99 {:.1} ms max {:.1} ms; {} acknowledged, all settled \
         once, all final {final_s:.1} s after the first",
        scale.name,
        scale.load_clients,
        answers.len(),
        scale.load_rate,
        {
            let mut c: Vec<_> = codes.into_iter().collect();
            c.sort();
            c
        },
        percentile(&lat, 0.5) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
        acked.len(),
    )
}

/// Whether a drill started the drills' own PostgreSQL cluster (so [`DrillPostgres`] stops it).
static DRILL_PG_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Held over the drills: when dropped (at the end, or while a failed drill unwinds) it stops
/// the drills' own PostgreSQL cluster if one of them started it, so no server is left running
/// after the suite.
pub struct DrillPostgres;

impl Drop for DrillPostgres {
    fn drop(&mut self) {
        if !DRILL_PG_STARTED.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg");
        match std::process::Command::new(script)
            .arg("stop")
            .env("TOSS_PG_CLUSTER", "tossdrill")
            .env("TOSS_PG_PORT", "54333")
            .output()
        {
            Ok(out) if out.status.success() => {}
            // No panic here: this may run while a drill's failure unwinds.
            Ok(out) => eprintln!(
                "drills: stopping their PostgreSQL cluster failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("drills: scripts/pg stop: {e}"),
        }
    }
}

/// Runs `scripts/pg <cmd>` on the drill's own PostgreSQL cluster (so crashing it disturbs no
/// other suite); returns what it printed on stdout.
fn drill_pg(cmd: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg");
    let out = std::process::Command::new(script)
        .arg(cmd)
        .env("TOSS_PG_CLUSTER", "tossdrill")
        .env("TOSS_PG_PORT", "54333")
        .output()
        .expect("scripts/pg runs");
    assert!(
        out.status.success(),
        "scripts/pg {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if cmd == "start" {
        DRILL_PG_STARTED.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// How the database drill takes the store away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outage {
    /// The relayer on PostgreSQL; the server crashed (`-m immediate`), then started again.
    PostgresCrash,
    /// The relayer on SQLite; its disk "fills up": a file-size limit of one byte (`prlimit
    /// --fsize`, with `SIGXFSZ` ignored) makes every write fail with `EFBIG`, then is lifted.
    SqliteDiskFull,
}

/// Sets the relayer process' soft file-size limit (`prlimit --fsize=<soft>:`; the hard limit
/// stays, so lifting it again needs no privilege).
fn fsize(pid: u32, limit: &str) {
    let out = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--fsize={limit}:"))
        .output()
        .expect("prlimit (util-linux) runs");
    assert!(
        out.status.success(),
        "prlimit --fsize={limit}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The database drill (see the module docs), with the store taken away as `outage` says.
/// Returns its figures line and the intents it settled (through a store of its own, not the
/// suite's SQLite file).
pub async fn database(g: &Ground<'_>, scale: &Scale, outage: Outage) -> (String, Vec<[u8; 32]>) {
    let setup = match outage {
        Outage::PostgresCrash => Setup {
            database_url: Some(drill_schema("drill").await),
            ..g.setup.clone()
        },
        Outage::SqliteDiskFull => Setup {
            store: g.setup.dir.join("disk-drill.sqlite"),
            instance_id: Some("disk".into()),
            ..g.setup.clone()
        },
    };
    let per_payer = scale.db_intents.div_ceil(8) as u32;
    let payers = g.payers(8, per_payer).await;
    let before = g.before(&payers).await;
    let salt = if outage == Outage::PostgresCrash {
        11_000
    } else {
        13_000
    };
    let wave = g.wave(&payers, per_payer, salt).await;
    let relayer = match outage {
        Outage::PostgresCrash => setup.start_with(400, "auto").await,
        Outage::SqliteDiskFull => setup.start_disk_limitable(450).await,
    };
    // Half the wave acknowledged (and settling) before the store goes away; the other half
    // handed in while it is away: refused with 503 until it is back, never acknowledged
    // unstored.
    let (early, late) = wave.split_at(wave.len() / 2);
    let mut answers = submit_retrying(&relayer.url, early, 8)
        .await
        .expect("clients");
    let acked_before = answers.len();
    let http = reqwest::Client::new();
    match outage {
        Outage::PostgresCrash => {
            drill_pg("crash");
        }
        Outage::SqliteDiskFull => fsize(relayer.pid(), "1"),
    }
    let down = Instant::now();
    let clients = submit_retrying(&relayer.url, late, 8);
    let mut refused = 0usize;
    let mut seen: HashMap<String, u32> = HashMap::new();
    while down.elapsed() < scale.db_outage {
        // What a wallet sees meanwhile: 503, never a 2xx for an intent that was not stored.
        let probe = &wave[wave.len() - 1].signed; // the last of `late`
        let r = post(&http, &relayer.url, probe).await;
        if r.status == Some(StatusCode::SERVICE_UNAVAILABLE) {
            refused += 1;
        }
        *seen
            .entry(format!(
                "{} {}",
                r.status.map_or(0, |s| s.as_u16()),
                r.code.as_deref().unwrap_or("")
            ))
            .or_default() += 1;
        assert_ne!(
            r.status,
            Some(StatusCode::ACCEPTED),
            "acknowledged while the store was down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        refused > 0,
        "no probe was refused while the store was down: {seen:?}\n{}",
        relayer.log_tail()
    );
    let back = Instant::now();
    match outage {
        Outage::PostgresCrash => {
            drill_pg("start");
        }
        Outage::SqliteDiskFull => fsize(relayer.pid(), "unlimited"),
    }
    answers.extend(clients.await.expect("clients"));
    let acked_s = back.elapsed().as_secs_f64();
    expect_settled(
        &relayer,
        &wave,
        &format!("database drill ({outage:?})"),
        || relayer.log_tail(),
    )
    .await;
    let final_s = back.elapsed().as_secs_f64();
    account_for(g.chain, &relayer, &wave, &before, &HashMap::new()).await;
    let retried = answers.iter().filter(|a| a.attempts > 1).count();
    // On the full disk the relayer's own log could not be written either: it dropped those
    // lines and kept working.
    let lines_lost = relayer.metric("toss_log_lines_lost_total").await;
    if outage == Outage::SqliteDiskFull {
        assert!(lines_lost > 0.0, "the log was on the full disk too");
    }
    drop(relayer);
    let what = match outage {
        Outage::PostgresCrash => "PostgreSQL crashed (-m immediate)",
        Outage::SqliteDiskFull => "SQLite disk full (every write EFBIG)",
    };
    let line = format!(
        "database drill ({}): {what} for {:.1} s under load; \
         {acked_before} acknowledged before; {refused} probes answered 503 \
         meanwhile, 0 acknowledged; {lines_lost} log lines lost; {} intents, {retried} \
         retried by clients, all acknowledged {acked_s:.1} s and all settled once {final_s:.1} s \
         after it was brought back",
        scale.name,
        scale.db_outage.as_secs_f64(),
        wave.len(),
    );
    (line, wave.iter().map(|s| s.signed.id()).collect())
}

/// The several-instances drill: three `toss-relayer run` processes on one PostgreSQL
/// database (the drill's own cluster), each with its own fee payer and instance id; intents
/// go round robin to all three (a client that finds one dead moves to the next). The first
/// instance is SIGKILLed the moment it holds a batch it has sent but not finished; the other
/// two must take its batches over once their leases lapse, read the recorded signatures first,
/// and finish everything exactly once. Returns its figures line and the intents it settled.
pub async fn instances(g: &Ground<'_>, scale: &Scale) -> (String, Vec<[u8; 32]>) {
    const N: usize = 3;
    let started = Instant::now();
    let url = drill_schema("instances").await;
    let mut setups = Vec::new();
    let mut fee_payers = Vec::new();
    for i in 0..N {
        let key = Keypair::new();
        let file = g.setup.dir.join(format!("fee-payer-instance-{i}.json"));
        toss_sdk::keys::write_keypair_file(&key, &file).expect("fee payer file");
        fee_payers.push(key.pubkey());
        setups.push(Setup {
            database_url: Some(url.clone()),
            instance_id: Some(format!("drill-{i}")),
            fee_payer: file,
            // Each instance keeps its own tables: with the wait for coverage, the instance
            // whose keeper covers a burst first claims all of it, and the victim may never
            // hold a sent batch to be killed with. This drill is about takeovers, not fees.
            cover_wait_ms: Some(0),
            ..g.setup.clone()
        });
    }
    g.chain.fund(&fee_payers, 20 * SOL).await;
    for (payer, mint) in fee_payers.iter().zip(g.setup.mints.iter().cycle()) {
        g.chain.ata(payer, mint, 0).await;
    }
    let per_payer = scale.instance_intents.div_ceil(8) as u32;
    let payers = g.payers(8, per_payer).await;
    let before = g.before(&payers).await;
    let wave = g.wave(&payers, per_payer, 12_000).await;
    let mut relayers = Vec::new();
    for (i, setup) in setups.iter().enumerate() {
        relayers.push(setup.start_with(500 + i, "auto").await);
    }
    let urls: Vec<String> = relayers.iter().map(|r| r.url.clone()).collect();
    let store = toss_relayer::store::PgStore::connect(&url)
        .await
        .expect("drill store");
    let posted = Instant::now();
    let clients = submit_spread(&urls, &wave, 12);
    // Kill the victim at a random moment of the load, as soon as it drives a batch it has
    // already sent.
    tokio::time::sleep(Duration::from_millis(Draw(0x1257_a9ce).below(2_000))).await;
    let sent_by_victim = || async {
        store
            .unfinished_batches()
            .await
            .expect("batches")
            .iter()
            .filter(|b| b.signature.is_some() && b.owner.as_deref() == Some("drill-0"))
            .map(|b| b.batch_id)
            .collect::<Vec<i64>>()
    };
    let victim_batches: Vec<i64> = loop {
        if !sent_by_victim().await.is_empty() {
            // Freeze it, let a statement already on the wire commit, and read again: a batch
            // the victim finished between the first read and the kill is not one it was
            // killed holding (CI once saw exactly that race).
            relayers[0].freeze(true);
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sent = sent_by_victim().await;
            if !sent.is_empty() {
                break sent;
            }
            relayers[0].freeze(false);
        }
        assert!(
            posted.elapsed() < Duration::from_secs(120),
            "instance drill-0 never held a sent batch in 120 s:\n{}",
            relayers[0].log_tail()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let victim = relayers.remove(0);
    let owned: usize = {
        let all = store.unfinished_batches().await.expect("batches");
        all.iter()
            .filter(|b| b.owner.as_deref() == Some("drill-0"))
            .map(|b| b.intent_ids.len())
            .sum()
    };
    victim.kill();
    let killed = Instant::now();
    let answers = clients.await.expect("clients");
    let acked_s = posted.elapsed().as_secs_f64();
    let retried = answers.iter().filter(|a| a.attempts > 1).count();
    expect_settled(&relayers[0], &wave, "instances drill", || {
        format!(
            "--- drill-1\n{}\n--- drill-2\n{}",
            relayers[0].log_tail(),
            relayers[1].log_tail()
        )
    })
    .await;
    let final_s = killed.elapsed().as_secs_f64();
    account_for(g.chain, &relayers[0], &wave, &before, &HashMap::new()).await;
    // The victim's batches: finished by a survivor that took them over after the lease.
    let mut taken = 0;
    for id in &victim_batches {
        let b = store
            .get_batch(*id)
            .await
            .expect("batch")
            .expect("batch row");
        assert!(
            b.state.is_final(),
            "batch {id} of drill-0 left {:?}",
            b.state
        );
        assert_ne!(b.owner.as_deref(), Some("drill-0"), "batch {id}");
        taken += usize::from(b.takeovers >= 1);
    }
    assert_eq!(
        taken,
        victim_batches.len(),
        "every sent batch of drill-0 taken over"
    );
    assert!(
        store
            .unfinished_batches()
            .await
            .expect("batches")
            .is_empty(),
        "batches left unfinished"
    );
    let mut takeovers = 0.0;
    let mut landed = Vec::new();
    for r in &relayers {
        takeovers += r.metric("toss_lease_takeovers_total").await;
        landed.push(
            r.metric("toss_settle_transactions_landed_total{form=\"compact\"}")
                .await
                + r.metric("toss_settle_transactions_landed_total{form=\"precompile\"}")
                    .await,
        );
    }
    assert!(takeovers >= 1.0, "the survivors counted their takeovers");
    drop(relayers);
    let line = format!(
        "instances drill ({}): {N} toss-relayer processes on one PostgreSQL, {} intents round \
         robin, {retried} retried by clients after the kill; drill-0 SIGKILLed holding {} sent \
         batch(es) ({owned} intents in its batches); {takeovers} lease takeovers by the others, \
         who landed {landed:?} transactions; all acknowledged {acked_s:.1} s after the first post, \
         all settled once on chain {final_s:.1} s after the kill; {:.1} s",
        scale.name,
        wave.len(),
        victim_batches.len(),
        started.elapsed().as_secs_f64(),
    );
    (line, wave.iter().map(|s| s.signed.id()).collect())
}
