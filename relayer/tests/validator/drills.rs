//! Reliability drills against the real validator, each with a figures line:
//!
//! - **kill**: `toss-relayer run` SIGKILLed at a random moment while intents pour in, then
//!   restarted on the same store and address, `cycles` times; clients retry what was not
//!   acknowledged (as a wallet does). Every acknowledged intent must settle once.
//! - **faults**: the RPC proxy fails, stalls or loses 30 % of the relayer's requests for the
//!   whole drill; every valid, funded intent must settle (none may end `rejected` because the
//!   cluster misbehaved).
//! - **load**: 64 clients hand in intents at a fixed total rate; the only answers allowed are
//!   2xx and 429; acknowledgement latency p50/p99; every acknowledged intent settles.
//! - **database**: the relayer on PostgreSQL (a cluster of the drill's own, started with
//!   `scripts/pg`), the server crashed (`-m immediate`) while intents pour in and started
//!   again: intake answers 503 meanwhile, nothing acknowledged is lost, everything settles.
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
        let keys: Vec<Keypair> = (0..count).map(|_| Keypair::new()).collect();
        let lamports = 1 + u64::from(nonces) / 100;
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
                let deposit = SOL / 10 + u64::from(nonces) * 1_100_000;
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

/// Posts until the relayer acknowledges (202 or 200), retrying refused connections (the
/// relayer is restarting), 503 and 429 every 100 ms, as a wallet would; any other answer
/// fails the drill.
async fn post_until_acked(
    http: &reqwest::Client,
    url: &str,
    signed: &SignedIntent,
    limit: Duration,
) -> Answer {
    let started = Instant::now();
    let mut attempts = 0;
    let mut seen: HashMap<String, u32> = HashMap::new();
    loop {
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
            Some(other) => panic!("intent {} answered {other}", hex::encode(signed.id())),
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
    let signed: Arc<Vec<SignedIntent>> = Arc::new(sent.iter().map(|s| s.signed.clone()).collect());
    let url = url.to_owned();
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut set = JoinSet::new();
        for c in 0..clients {
            let (http, url, signed) = (http.clone(), url.clone(), signed.clone());
            set.spawn(async move {
                let mut out = Vec::new();
                for s in signed.iter().skip(c).step_by(clients) {
                    out.push(post_until_acked(&http, &url, s, Duration::from_secs(180)).await);
                }
                out
            });
        }
        set.join_all().await.into_iter().flatten().collect()
    })
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

/// The kill drill (see the module docs). Returns its figures line.
pub async fn kill(g: &Ground<'_>, scale: &Scale) -> String {
    let started = Instant::now();
    let mut payers = g.payers(scale.kill_payers, scale.kill_per_payer).await;
    let before = g.before(&payers).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut relayer = g.setup.start_at(100, "auto", &listen).await;
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
        in_flight += count_in(&g.setup.store, &ids, "submitted");
        relayer = g.setup.start_at(101 + cycle, "auto", &listen).await;
        recoveries.push(killed.elapsed().as_millis() as i64);
        let answers = clients.await.expect("clients");
        retried += answers.iter().filter(|a| a.attempts > 1).count();
        let statuses = relayer
            .wait_final(
                &wave.iter().map(|s| s.signed.clone()).collect::<Vec<_>>(),
                Duration::from_secs(300),
            )
            .await;
        finals.push(killed.elapsed().as_millis() as i64);
        for (s, st) in wave.iter().zip(&statuses) {
            assert_eq!(
                st["status"],
                "settled",
                "kill drill cycle {cycle}: {} {st}\n{}",
                hex::encode(s.signed.id()),
                relayer.log_tail()
            );
        }
        all.extend(wave);
    }
    account_for(g.chain, &relayer, &all, &before, &HashMap::new()).await;
    drop(relayer);
    recoveries.sort_unstable();
    finals.sort_unstable();
    format!(
        "kill drill ({}): {} cycles, {} intents acknowledged, {} settled once on chain, 0 lost, \
         0 twice; {in_flight} in flight at the kills, {retried} retried by clients; restart to \
         healthy p50 {} ms max {} ms; kill to wave final p50 {} ms max {} ms; {:.1} s",
        scale.name,
        scale.kill_cycles,
        all.len(),
        all.len(),
        percentile(&recoveries, 0.5),
        recoveries.last().copied().unwrap_or(0),
        percentile(&finals, 0.5),
        finals.last().copied().unwrap_or(0),
        started.elapsed().as_secs_f64(),
    )
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
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The database drill (see the module docs). Returns its figures line and the intents it
/// settled (through the PostgreSQL store, not the suite's SQLite file).
pub async fn database(g: &Ground<'_>, scale: &Scale) -> (String, Vec<[u8; 32]>) {
    let base = drill_pg("start");
    let schema = format!("drill_{}_{}", std::process::id(), toss_relayer::now_ms());
    let url = toss_relayer::store::PgStore::schema_url(&base, &schema)
        .await
        .expect("drill schema");
    let setup = Setup {
        database_url: Some(url),
        ..g.setup.clone()
    };
    let per_payer = scale.db_intents.div_ceil(8) as u32;
    let payers = g.payers(8, per_payer).await;
    let before = g.before(&payers).await;
    let wave = g.wave(&payers, per_payer, 11_000).await;
    let relayer = setup.start_with(400, "auto").await;
    let started = Instant::now();
    let clients = submit_retrying(&relayer.url, &wave, 8);
    // Down while the wave pours in: some acknowledged before, some refused meanwhile.
    let http = reqwest::Client::new();
    let acked_before = loop {
        let mut n = 0;
        for s in &wave {
            n += usize::from(relayer_has(&http, &relayer.url, &s.signed.id()).await);
        }
        if n >= wave.len() / 4 || started.elapsed() > Duration::from_secs(60) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drill_pg("crash");
    let down = Instant::now();
    let mut refused = 0usize;
    while down.elapsed() < scale.db_outage {
        // What a wallet sees meanwhile: 503, never a 2xx for an intent that was not stored.
        let probe = &wave[wave.len() - 1].signed;
        let r = post(&http, &relayer.url, probe).await;
        if r.status == Some(StatusCode::SERVICE_UNAVAILABLE) {
            refused += 1;
        }
        assert_ne!(
            r.status,
            Some(StatusCode::ACCEPTED),
            "acknowledged while the store was down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drill_pg("start");
    let back = Instant::now();
    let answers = clients.await.expect("clients");
    let acked_s = back.elapsed().as_secs_f64();
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
            "database drill: {} {st}\n{}",
            hex::encode(s.signed.id()),
            relayer.log_tail()
        );
    }
    let final_s = back.elapsed().as_secs_f64();
    account_for(g.chain, &relayer, &wave, &before, &HashMap::new()).await;
    let retried = answers.iter().filter(|a| a.attempts > 1).count();
    drop(relayer);
    let line = format!(
        "database drill ({}): PostgreSQL crashed (-m immediate) for {:.1} s under load; \
         {acked_before}+ acknowledged before the crash; {refused} probes answered 503 \
         meanwhile, 0 acknowledged; {} intents, {retried} \
         retried by clients, all acknowledged {acked_s:.1} s and all settled once {final_s:.1} s \
         after the restart",
        scale.name,
        scale.db_outage.as_secs_f64(),
        wave.len(),
    );
    (line, wave.iter().map(|s| s.signed.id()).collect())
}

/// True when the relayer knows the intent (`GET /v1/intents/{id}` answers 200).
async fn relayer_has(http: &reqwest::Client, url: &str, id: &[u8; 32]) -> bool {
    http.get(format!("{url}/v1/intents/{}", hex::encode(id)))
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
}
