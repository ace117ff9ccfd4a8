//! `toss-relayer demo`: the whole product on the embedded default. An in-process cluster runs
//! the real program, a SQLite store lives in a temp dir, the real HTTP server listens on
//! 127.0.0.1, and a crowd of offline payers pays merchants: vaults and nonce pools are set up
//! online, intents are signed offline, handed to the relayer over HTTP, batched and settled.
//! The scenario includes a double spend on one nonce, an intent that expires before it can
//! settle, and a payer whose vault is too poor (refused at intake); every outcome is checked
//! against balances.

use crate::config::{Config, Verification};
use crate::local::{self, SOL};
use crate::service::Relayer;
use crate::store::{SqliteStore, Status, Store};
use crate::RelayerError;
use serde::Serialize;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use toss_sdk::cluster::{Cluster, LocalCluster, LocalProgram};
use toss_sdk::instructions::sol_intent_metas;
use toss_sdk::pack::{self, Form, PackItem};
use toss_sdk::{wallet, Intent, SignedIntent};

/// What to run.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Offline payers.
    pub payers: usize,
    /// Nonce accounts per payer (one intent each).
    pub nonces: u32,
    /// Merchants paid.
    pub merchants: usize,
    /// The program as the cluster runs it.
    pub program: LocalProgram,
    /// Settle with v0 transactions and address lookup tables.
    pub lookup_table: bool,
    /// With `lookup_table`: the relayer creates and extends its own tables as intents arrive
    /// (`tables.manage`); without: the tables are made beforehand with every account the
    /// intents use (an operator's table, `batch.lookup_table`).
    pub managed_tables: bool,
    /// Include the double spend, the expired intent and the poor payer (and pause the relayer
    /// while they are handed in, so the short-lived intent expires before settlement).
    pub scenario: bool,
    /// Intents per `POST /v1/intents` (1: one request per intent, as a wallet hands one in;
    /// more: bulk arrays, as a merchant forwards what it collected offline).
    pub per_request: usize,
    /// Most intents per settle transaction (`batch.max_intents`; 1 settles one per
    /// transaction, the baseline batching is measured against).
    pub max_intents: usize,
    /// Store on PostgreSQL at this URL (its schema should be fresh) instead of a SQLite file.
    pub database_url: Option<String>,
    /// Relayer instances sharing the store, each with its own fee payer, intents handed to
    /// them in turn (more than one needs `database_url`).
    pub instances: usize,
    /// Settle form (`submit.verification`).
    pub verification: Verification,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            payers: 8,
            nonces: 4,
            merchants: 3,
            program: local::pick_program(None),
            lookup_table: true,
            managed_tables: true,
            scenario: true,
            per_request: 1,
            max_intents: crate::config::DEFAULT_BATCH_MAX_INTENTS,
            database_url: None,
            instances: 1,
            verification: crate::config::DEFAULT_VERIFICATION,
        }
    }
}

/// The demo's outcome (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// Intents handed to the relayer (all acknowledged but the refused ones).
    pub intents: u64,
    /// Intents settled on-chain.
    pub settled: u64,
    /// Intents the program rejected.
    pub rejected: u64,
    /// Intents refused at intake because the payer's vault cannot cover them (nothing stored,
    /// no fee spent).
    pub refused: u64,
    /// Intents that lost their nonce to an earlier one.
    pub conflicts: u64,
    /// Intents that expired before they could settle.
    pub expired: u64,
    /// Settle transactions that landed.
    pub transactions: u64,
    /// Settled intents per landed transaction.
    pub intents_per_tx: f64,
    /// The settle form setting (`auto`, `compact`, `precompile`).
    pub verification: String,
    /// Landed settle transactions by form (`compact`, `precompile`).
    pub transactions_by_form: std::collections::BTreeMap<String, u64>,
    /// What the landed settle transactions cost the fee payers (base + priority fee), lamports.
    pub fees_lamports: u64,
    /// `fees_lamports` ÷ settled intents: what one payment cost the relayer.
    pub lamports_per_payment: f64,
    /// Share of packed intents whose accounts were all in a lookup table.
    pub table_coverage: f64,
    /// Active lookup tables the relayers made for themselves.
    pub managed_tables: u64,
    /// Rent the relayers' own lookup tables lock, lamports.
    pub table_rent_lamports: u64,
    /// From the first submission to the last final state, ms.
    pub elapsed_ms: u64,
    /// Cluster setup (vaults, nonce pools, lookup table), ms.
    pub setup_ms: u64,
    /// Every merchant's balance equals the sum of its settled intents.
    pub balances_ok: bool,
    /// v0 transactions with a lookup table were used.
    pub lookup_table: bool,
    /// How the program ran.
    pub program: String,
    /// Final intents by `status: reason` (why each non-settled intent ended where it did).
    pub outcomes: std::collections::BTreeMap<String, u64>,
}

struct Payer {
    key: Keypair,
    pool: toss_sdk::pool_file::PoolFile,
}

/// A cluster with funded payers, their offline intents and the relayer's lookup tables.
struct World {
    cluster: Arc<LocalCluster>,
    fee_payer: Keypair,
    merchants: Vec<Pubkey>,
    intents: Vec<SignedIntent>,
    poor_intents: Vec<SignedIntent>,
    short_lived: Option<[u8; 32]>,
    tables: Vec<solana_message::AddressLookupTableAccount>,
    setup_ms: u64,
    program_text: String,
    now: i64,
}

/// Sets up the cluster, the payers (vaults, nonce pools) and their signed intents.
async fn setup(opts: &DemoOptions) -> Result<World, RelayerError> {
    let setup_started = Instant::now();
    let program_text = local::describe(&opts.program);
    let (cluster, fee_payer) = local::start(opts.program.clone()).await?;
    let cluster = Arc::new(cluster);
    let merchants: Vec<Pubkey> = (0..opts.merchants.max(1))
        .map(|_| Keypair::new().pubkey())
        .collect();
    let mut payers = Vec::with_capacity(opts.payers);
    for p in 0..opts.payers {
        let key = local::funded(&cluster, 3 * SOL).await?;
        // The scenario's poor payer keeps almost nothing in its vault.
        let deposit = if opts.scenario && p == 3 {
            SOL / 10
        } else {
            2 * SOL
        };
        wallet::deposit(cluster.as_ref(), &key, deposit).await?;
        wallet::open_nonces(cluster.as_ref(), &key, 0..opts.nonces).await?;
        let pool = wallet::fetch_pool(cluster.as_ref(), &key.pubkey()).await?;
        payers.push(Payer { key, pool });
    }
    // Offline: every payer signs one intent per nonce from its cached pool.
    let now = cluster.unix_time().await?;
    let mut intents: Vec<SignedIntent> = Vec::new();
    let mut poor_intents: Vec<SignedIntent> = Vec::new();
    let mut short_lived = None;
    for (p, payer) in payers.iter().enumerate() {
        for i in 0..opts.nonces {
            let (nonce_account, nonce_value) = payer.pool.nonce(i)?;
            let poor = opts.scenario && p == 3 && i == 0;
            let expires_soon = opts.scenario && p == 2 && i == 0;
            let intent = Intent {
                sender: payer.key.pubkey(),
                recipient: merchants[(p + i as usize) % merchants.len()],
                mint: None,
                amount: if poor {
                    SOL
                } else {
                    SOL / 100 + (p as u64) * 1_000 + u64::from(i)
                },
                nonce_account,
                nonce_value,
                expiry: if expires_soon { now + 2 } else { now + 600 },
                max_fee: 5_000,
                reference: None,
            };
            let signed = SignedIntent::sign(&payer.key, &intent)?;
            if expires_soon {
                short_lived = Some(signed.id());
            }
            if poor {
                poor_intents.push(signed);
            } else {
                intents.push(signed);
            }
        }
    }
    if opts.scenario && payers.len() > 1 {
        // A double spend: payer 1 signs a second intent on the nonce it already used.
        let payer = &payers[1];
        let (nonce_account, nonce_value) = payer.pool.nonce(0)?;
        let intent = Intent {
            sender: payer.key.pubkey(),
            recipient: merchants[merchants.len() - 1],
            mint: None,
            amount: SOL / 50,
            nonce_account,
            nonce_value,
            expiry: now + 600,
            max_fee: 5_000,
            reference: None,
        };
        intents.push(SignedIntent::sign(&payer.key, &intent)?);
    }
    let tables = if opts.lookup_table && !opts.managed_tables {
        lookup_tables(&cluster, &fee_payer, &intents).await?
    } else {
        Vec::new()
    };
    let setup_ms = setup_started.elapsed().as_millis() as u64;
    Ok(World {
        cluster,
        fee_payer,
        merchants,
        intents,
        poor_intents,
        short_lived,
        tables,
        setup_ms,
        program_text,
        now,
    })
}

/// Runs the demo (or, with `instances` > 1 on PostgreSQL, several relayers sharing its work).
pub async fn run(opts: DemoOptions) -> Result<DemoReport, RelayerError> {
    let World {
        cluster,
        fee_payer,
        merchants,
        intents,
        poor_intents,
        short_lived,
        tables,
        setup_ms,
        program_text,
        now,
    } = setup(&opts).await?;

    // The relayers, on a SQLite file in a temp dir (or PostgreSQL) and random local ports.
    let dir = tempfile::tempdir().map_err(|e| RelayerError::Other(e.to_string()))?;
    let token = hex::encode(Keypair::new().pubkey().to_bytes());
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.server.admin_token = Some(crate::config::Redacted::new(token.clone()));
    config.server.rate_limit_per_ip_per_s = 100_000;
    config.server.rate_limit_per_ip_burst = 100_000;
    config.intake.max_lifetime_seconds = local::MAX_INTENT_LIFETIME_SECS as u64;
    config.batch.max_wait_ms = 50;
    config.batch.max_intents = opts.max_intents.max(1);
    config.submit.verification = opts.verification;
    config.reconcile.sweep_interval_ms = 250;
    let instances = opts.instances.max(1);
    if instances > 1 && opts.database_url.is_none() {
        return Err(RelayerError::Other(
            "several instances share a PostgreSQL store: give a database URL".into(),
        ));
    }
    let mut relayers = Vec::with_capacity(instances);
    let mut stores: Vec<Arc<dyn Store>> = Vec::with_capacity(instances);
    for i in 0..instances {
        let store: Arc<dyn Store> = match &opts.database_url {
            Some(url) => Arc::new(crate::store::PgStore::connect(url).await?),
            None => Arc::new(SqliteStore::open(dir.path().join("relayer.sqlite"))?),
        };
        // The first instance pays with the lookup tables' authority; the others with their
        // own funded fee payers.
        let payer = if i == 0 {
            fee_payer.insecure_clone()
        } else {
            local::funded(&cluster, 20 * SOL).await?
        };
        let mut config = config.clone();
        config.store.instance_id = Some(format!("demo-{i}"));
        config.tables.manage = opts.lookup_table && opts.managed_tables;
        config.tables.state_path = Some(dir.path().join(format!("tables-{i}.json")));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| RelayerError::Server(e.to_string()))?;
        let relayer = Relayer::new(Arc::new(config), cluster.clone(), store.clone(), payer)?
            .with_lookup_tables(tables.clone())
            .start(listener)
            .await?;
        relayers.push(relayer);
        stores.push(store);
    }
    let store = stores[0].clone();
    let urls: Vec<String> = relayers.iter().map(|r| r.url()).collect();
    let url = urls[0].clone();
    let http = reqwest::Client::new();
    let started = Instant::now();
    if opts.scenario {
        for url in &urls {
            admin(&http, url, &token, "pause").await?;
        }
    }
    submit_all(&http, &urls, &intents, opts.per_request).await?;
    // The poor payer's intent: refused at intake, before it can cost the fee payer anything.
    let mut refused = 0;
    for s in &poor_intents {
        let r = http
            .post(format!("{url}/v1/intents"))
            .json(&serde_json::json!({ "intent": s.to_base64() }))
            .send()
            .await
            .map_err(|e| RelayerError::Other(format!("submit: {e}")))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        if status != reqwest::StatusCode::UNPROCESSABLE_ENTITY
            || !text.contains("insufficient_funds")
        {
            return Err(RelayerError::Other(format!(
                "the poor payer's intent was not refused at intake: {status} {text}"
            )));
        }
        refused += 1;
    }
    if opts.scenario {
        if short_lived.is_some() {
            // Let the short-lived intent expire while submission is paused.
            let until = now + 3;
            while crate::now_ms() / 1000 <= until {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        for url in &urls {
            admin(&http, url, &token, "resume").await?;
        }
    }
    wait_final(store.as_ref(), Duration::from_secs(120)).await?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let counts = store.counts().await?;
    let landed: u64 = relayers
        .iter()
        .map(|r| {
            r.ctx
                .metrics
                .transactions
                .with_label_values(&["landed"])
                .get()
        })
        .sum();
    let mut transactions_by_form = std::collections::BTreeMap::new();
    let mut fees_lamports = 0;
    let (mut covered, mut uncovered, mut managed_tables, mut table_rent_lamports) = (0, 0, 0, 0);
    for r in &relayers {
        let m = &r.ctx.metrics;
        covered += m.table_coverage.with_label_values(&["yes"]).get();
        uncovered += m.table_coverage.with_label_values(&["no"]).get();
        managed_tables += m.lookup_tables.with_label_values(&["active"]).get() as u64;
        table_rent_lamports += m.lookup_table_rent.get() as u64;
        for form in [Form::Compact, Form::Precompile] {
            let label = [form.as_str()];
            let n = r.ctx.metrics.landed_by_form.with_label_values(&label).get();
            if n > 0 {
                *transactions_by_form
                    .entry(form.as_str().to_owned())
                    .or_insert(0) += n;
            }
            fees_lamports += r.ctx.metrics.settle_fees.with_label_values(&label).get();
        }
    }
    let mut outcomes = std::collections::BTreeMap::new();
    for s in &intents {
        if let Some(r) = store.get(s.id()).await? {
            let key = match &r.reason {
                Some(reason) if r.status != Status::Settled => format!("{}: {reason}", r.status),
                _ => r.status.to_string(),
            };
            *outcomes.entry(key).or_insert(0) += 1;
        }
    }
    if refused > 0 {
        outcomes.insert("refused: insufficient_funds".into(), refused);
    }
    let balances_ok =
        check_balances(cluster.as_ref(), store.as_ref(), &intents, &merchants).await?;
    for relayer in relayers {
        relayer.shutdown().await?;
    }
    let get = |s: Status| counts.get(&s).copied().unwrap_or(0);
    let settled = get(Status::Settled);
    Ok(DemoReport {
        intents: (intents.len() + poor_intents.len()) as u64,
        settled,
        rejected: get(Status::Rejected),
        refused,
        conflicts: get(Status::Conflict),
        expired: get(Status::Expired),
        transactions: landed,
        intents_per_tx: if landed == 0 {
            0.0
        } else {
            settled as f64 / landed as f64
        },
        verification: opts.verification.as_str().to_owned(),
        transactions_by_form,
        fees_lamports,
        lamports_per_payment: if settled == 0 {
            0.0
        } else {
            fees_lamports as f64 / settled as f64
        },
        table_coverage: covered as f64 / (covered + uncovered).max(1) as f64,
        managed_tables,
        table_rent_lamports,
        elapsed_ms,
        setup_ms,
        balances_ok,
        lookup_table: opts.lookup_table,
        program: program_text,
        outcomes,
    })
}

/// SOL intents as the packer takes them.
fn pack_items(intents: &[SignedIntent]) -> Result<Vec<PackItem>, RelayerError> {
    Ok(intents
        .iter()
        .map(|s| {
            let intent = s.intent()?;
            Ok(PackItem {
                signed: s.clone(),
                metas: sol_intent_metas(&intent),
                fee: intent.max_fee,
                nonce: intent.nonce_account,
            })
        })
        .collect::<Result<_, toss_sdk::SdkError>>()?)
}

/// Creates and fills the relayer's lookup tables (256 addresses each) with every account the
/// intents use.
pub async fn lookup_tables(
    cluster: &LocalCluster,
    authority: &Keypair,
    intents: &[SignedIntent],
) -> Result<Vec<solana_message::AddressLookupTableAccount>, RelayerError> {
    let items = pack_items(intents)?;
    let addresses = pack::lookup_table_addresses(&authority.pubkey(), &items);
    let mut keys = Vec::new();
    for table_addresses in addresses.chunks(256) {
        cluster.next_slot().await?;
        let recent_slot = cluster.slot().await?.saturating_sub(1);
        let (create, table) =
            pack::create_lookup_table_ix(&authority.pubkey(), &authority.pubkey(), recent_slot);
        wallet::send(cluster, authority, &[create], &[]).await?;
        for chunk in table_addresses.chunks(20) {
            let ix = pack::extend_lookup_table_ix(
                &table,
                &authority.pubkey(),
                &authority.pubkey(),
                chunk.to_vec(),
            );
            wallet::send(cluster, authority, &[ix], &[]).await?;
        }
        keys.push(table);
    }
    cluster.next_slot().await?;
    let mut tables = Vec::with_capacity(keys.len());
    for table in keys {
        let data = cluster
            .account(&table)
            .await?
            .ok_or_else(|| RelayerError::Other("lookup table missing".into()))?
            .data;
        tables.push(pack::lookup_table_account(table, &data)?);
    }
    Ok(tables)
}

async fn admin(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    action: &str,
) -> Result<(), RelayerError> {
    let r = http
        .post(format!("{url}/v1/admin/{action}"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| RelayerError::Other(format!("admin {action}: {e}")))?;
    if !r.status().is_success() {
        return Err(RelayerError::Other(format!(
            "admin {action}: {}",
            r.status()
        )));
    }
    Ok(())
}

/// Posts every intent (8 concurrent clients, spread over `urls` in turn), each answered 202.
async fn submit_all(
    http: &reqwest::Client,
    urls: &[String],
    intents: &[SignedIntent],
    per_request: usize,
) -> Result<(), RelayerError> {
    // The first intent of a nonce goes in before any second one (first received wins).
    let mut seen = std::collections::HashSet::new();
    let (first, later): (Vec<&SignedIntent>, Vec<&SignedIntent>) = intents.iter().partition(|s| {
        s.intent()
            .map(|i| seen.insert(i.nonce_account))
            .unwrap_or(true)
    });
    let per_request = per_request.max(1);
    for wave in [first, later] {
        let mut tasks = tokio::task::JoinSet::new();
        for (k, chunk) in wave.chunks(wave.len().div_ceil(8).max(1)).enumerate() {
            let bodies: Vec<serde_json::Value> = chunk
                .chunks(per_request)
                .map(|group| {
                    let mut items: Vec<serde_json::Value> = group
                        .iter()
                        .map(|s| serde_json::json!({ "intent": s.to_base64() }))
                        .collect();
                    match (per_request, items.pop()) {
                        (1, Some(one)) => one,
                        (_, last) => {
                            items.extend(last);
                            serde_json::Value::Array(items)
                        }
                    }
                })
                .collect();
            let http = http.clone();
            let url = format!("{}/v1/intents", urls[k % urls.len()]);
            tasks.spawn(async move {
                for body in bodies {
                    let r = http
                        .post(&url)
                        .json(&body)
                        .send()
                        .await
                        .map_err(|e| RelayerError::Other(format!("submit: {e}")))?;
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    if !accepted(status, &text, body.is_array()) {
                        return Err(RelayerError::Other(format!("submit: {status} {text}")));
                    }
                }
                Ok::<(), RelayerError>(())
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.map_err(|e| RelayerError::Other(e.to_string()))??;
        }
    }
    Ok(())
}

/// A single intent is accepted with 202; a bulk answer is 200 with every result `created`.
fn accepted(status: reqwest::StatusCode, text: &str, bulk: bool) -> bool {
    if !bulk {
        return status == reqwest::StatusCode::ACCEPTED;
    }
    status == reqwest::StatusCode::OK
        && serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| {
                v["results"]
                    .as_array()
                    .map(|r| r.iter().all(|x| x["created"] == true))
            })
            .unwrap_or(false)
}

/// Waits until no intent is pending, queued or submitted.
pub async fn wait_final(store: &dyn Store, limit: Duration) -> Result<(), RelayerError> {
    let deadline = Instant::now() + limit;
    loop {
        let counts = store.counts().await?;
        let open: u64 = Status::NON_FINAL
            .iter()
            .map(|s| counts.get(s).copied().unwrap_or(0))
            .sum();
        if open == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(RelayerError::Other(format!(
                "{open} intents still not final after {} s",
                limit.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Each merchant holds exactly the amounts of its settled intents.
async fn check_balances(
    cluster: &dyn Cluster,
    store: &dyn Store,
    intents: &[SignedIntent],
    merchants: &[Pubkey],
) -> Result<bool, RelayerError> {
    let mut expected: HashMap<Pubkey, u64> = merchants.iter().map(|m| (*m, 0)).collect();
    for s in intents {
        if let Some(r) = store.get(s.id()).await? {
            if r.status == Status::Settled {
                let intent = s.intent()?;
                *expected.entry(intent.recipient).or_default() += intent.amount;
            }
        }
    }
    for (merchant, want) in expected {
        if cluster.balance(&merchant).await? != want {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The bank-only ceiling of [`run`]'s settlement: the same kind of intents, packed as the
/// relayer packs them (same packer, budget, lookup tables and `max_intents`), signed in
/// advance and sent straight to the bank by 8 tasks: no HTTP, store, batcher or confirmation
/// loop. What a relayer that cost nothing could reach on this bank.
#[derive(Clone, Debug, Serialize)]
pub struct BankOnlyReport {
    /// Intents settled.
    pub intents: u64,
    /// Transactions sent (every one landed without error).
    pub transactions: u64,
    /// Intents per transaction.
    pub intents_per_tx: f64,
    /// From the first send to the last answer, ms.
    pub elapsed_ms: u64,
    /// Intents settled per second.
    pub settled_per_s: f64,
}

/// Measures [`BankOnlyReport`] on a cluster of its own set up like [`run`]'s.
pub async fn bank_only(opts: DemoOptions) -> Result<BankOnlyReport, RelayerError> {
    use solana_message::{v0, VersionedMessage};
    use solana_transaction::versioned::VersionedTransaction;
    let opts = DemoOptions {
        scenario: false,
        ..opts
    };
    let w = setup(&opts).await?;
    let payer = w.fee_payer.pubkey();
    let items = pack_items(&w.intents)?;
    let submit = crate::config::SubmitConfig {
        verification: opts.verification,
        ..Default::default()
    };
    let groups: Vec<_> =
        crate::forms::plan(&submit, &payer, &items, &w.tables, opts.max_intents.max(1))?
            .into_iter()
            .map(|p| p.instructions)
            .collect();
    let (blockhash, _) = w.cluster.latest_blockhash().await?;
    let mut txs = Vec::with_capacity(groups.len());
    for ixs in &groups {
        let message = v0::Message::try_compile(&payer, ixs, &w.tables, blockhash)
            .map_err(|e| RelayerError::Other(format!("v0 message: {e}")))?;
        txs.push(
            VersionedTransaction::try_new(VersionedMessage::V0(message), &[&w.fee_payer])
                .map_err(|e| RelayerError::Other(format!("signing: {e}")))?,
        );
    }
    let txs = Arc::new(txs);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (txs, next, cluster) = (txs.clone(), next.clone(), w.cluster.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(tx) = txs.get(i) else { break };
                cluster.send(tx).await?;
            }
            Ok::<(), RelayerError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| RelayerError::Other(e.to_string()))??;
    }
    let elapsed = started.elapsed();
    let signatures: Vec<_> = txs.iter().map(|t| t.signatures[0]).collect();
    for chunk in signatures.chunks(256) {
        for (sig, status) in chunk.iter().zip(w.cluster.statuses(chunk).await?) {
            match status {
                Some(s) if s.err.is_none() => {}
                other => {
                    return Err(RelayerError::Other(format!(
                        "bank-only transaction {sig} did not settle: {other:?}"
                    )))
                }
            }
        }
    }
    let intents = w.intents.len() as u64;
    Ok(BankOnlyReport {
        intents,
        transactions: txs.len() as u64,
        intents_per_tx: intents as f64 / txs.len().max(1) as f64,
        elapsed_ms: elapsed.as_millis() as u64,
        settled_per_s: intents as f64 / elapsed.as_secs_f64().max(1e-9),
    })
}

/// What one full settle transaction of each form costs on the cluster (`toss-bench pack`).
#[derive(Clone, Debug, Serialize)]
pub struct FormCost {
    /// `compact` or `precompile`.
    pub form: String,
    /// SOL intents in the full transaction (every account in a lookup table).
    pub intents: usize,
    /// Compute units the settle instruction consumed.
    pub units: u64,
    /// `units` ÷ `intents`.
    pub units_per_intent: f64,
    /// The compute-unit limit the relayer asked for.
    pub limit: u32,
    /// Serialized size, bytes.
    pub bytes: usize,
    /// Base fee ÷ intents, lamports.
    pub lamports_per_intent: f64,
}

/// Settles one full v0 transaction of distinct-payer SOL intents (all accounts in a table)
/// in `form` on a fresh cluster running `program`, and reads the compute units the program
/// consumed from the logs.
pub async fn form_cost(program: LocalProgram, form: Form) -> Result<FormCost, RelayerError> {
    use solana_message::{v0, VersionedMessage};
    use solana_transaction::versioned::VersionedTransaction;
    let opts = DemoOptions {
        payers: 12,
        nonces: 1,
        merchants: 12,
        program,
        lookup_table: true,
        managed_tables: false,
        scenario: false,
        ..Default::default()
    };
    let w = setup(&opts).await?;
    let payer = w.fee_payer.pubkey();
    let items = pack_items(&w.intents)?;
    let submit = crate::config::SubmitConfig {
        verification: match form {
            Form::Compact => Verification::Compact,
            Form::Precompile => Verification::Precompile,
        },
        ..Default::default()
    };
    let planned = crate::forms::plan(&submit, &payer, &items, &w.tables, 64)?;
    let full = planned
        .into_iter()
        .next()
        .ok_or_else(|| RelayerError::Other("nothing packed".into()))?;
    let (blockhash, last_valid) = w.cluster.latest_blockhash().await?;
    let message = v0::Message::try_compile(&payer, &full.instructions, &w.tables, blockhash)
        .map_err(|e| RelayerError::Other(format!("v0 message: {e}")))?;
    let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[&w.fee_payer])
        .map_err(|e| RelayerError::Other(format!("signing: {e}")))?;
    let bytes = pack::v0_size(&payer, &full.instructions, &w.tables);
    let (signature, status) = w
        .cluster
        .send_and_confirm(&tx, last_valid, Duration::from_secs(30))
        .await?
        .ok_or_else(|| RelayerError::Other("the full transaction did not land".into()))?;
    if let Some(e) = status.err {
        return Err(RelayerError::Other(format!(
            "the full transaction failed: {e}"
        )));
    }
    let logs = w.cluster.logs(&signature).await?.unwrap_or_default();
    let prefix = format!("Program {} consumed ", toss_intent_processor::ID);
    let units = logs
        .iter()
        .find_map(|l| {
            l.strip_prefix(&prefix)?
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .ok_or_else(|| RelayerError::Other("no compute units in the logs".into()))?;
    let intents = full.items.len();
    let refs: Vec<&PackItem> = full.items.iter().map(|&i| &items[i]).collect();
    let limit = crate::forms::budget(&submit, &refs, form).units(intents);
    let base = pack::LAMPORTS_PER_SIGNATURE * form.charged_signatures(intents);
    Ok(FormCost {
        form: form.as_str().to_owned(),
        intents,
        units,
        units_per_intent: units as f64 / intents.max(1) as f64,
        limit,
        bytes,
        lamports_per_intent: base as f64 / intents.max(1) as f64,
    })
}
