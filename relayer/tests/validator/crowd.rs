//! The scenario: deploy, CLI walk-through, a crowd of payers, a crash, a lost transaction;
//! then one accounting of the whole run against the chain.

use crate::chain::{Chain, TOKEN};
use crate::node::Validator;
use crate::proxy::Proxy;
use crate::service::{open_store, Service, Setup};
use crate::{cli, deploy, drills};
use reqwest::StatusCode;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use toss_sdk::cluster::Cluster;
use toss_sdk::events::Outcome;
use toss_sdk::pool_file::PoolFile;
use toss_sdk::{wallet, Intent, SignedIntent};

pub(crate) const SOL: u64 = 1_000_000_000;
/// Payers spending SOL from their vaults, and pool nonces each.
const SOL_PAYERS: usize = 6;
const SOL_NONCES: u32 = 40;
/// Payers spending an SPL token allowance, and pool nonces each.
const TOKEN_PAYERS: usize = 2;
const TOKEN_NONCES: u32 = 20;
const MERCHANTS: usize = 5;
/// Intents signed for the crash phase (per SOL payer).
const CRASH_PER_PAYER: u32 = 10;
/// How long any phase may take to reach final states.
const FINAL_LIMIT: Duration = Duration::from_secs(300);

pub(crate) struct Payer {
    pub(crate) key: Keypair,
    /// The payer's token account (token payers only).
    pub(crate) ata: Option<Pubkey>,
    pub(crate) pool: PoolFile,
}

/// One intent the suite handed in, and what it expects.
pub(crate) struct Sent {
    pub(crate) signed: SignedIntent,
    pub(crate) intent: Intent,
    /// The status it must end in.
    pub(crate) expect: &'static str,
}

pub(crate) fn sign(
    payer: &Payer,
    index: u32,
    to: Pubkey,
    mint: Option<Pubkey>,
    amount: u64,
    expiry: i64,
) -> (SignedIntent, Intent) {
    let (nonce_account, nonce_value) = payer.pool.nonce(index).expect("pool nonce");
    let intent = Intent {
        sender: payer.key.pubkey(),
        recipient: to,
        mint,
        amount,
        nonce_account,
        nonce_value,
        expiry,
        max_fee: 5_000,
        reference: None,
    };
    (
        SignedIntent::sign(&payer.key, &intent).expect("sign"),
        intent,
    )
}

/// Funds and sets up payers in parallel (deposit, pool, allowance).
async fn payers(chain: &Chain, mint: &Pubkey) -> Vec<Payer> {
    let keys: Vec<Keypair> = (0..SOL_PAYERS + TOKEN_PAYERS)
        .map(|_| Keypair::new())
        .collect();
    chain
        .fund(
            &keys.iter().map(Signer::pubkey).collect::<Vec<_>>(),
            3 * SOL,
        )
        .await;
    let mut atas = Vec::new();
    for key in &keys[SOL_PAYERS..] {
        atas.push(chain.ata(&key.pubkey(), mint, 1_000_000_000).await);
    }
    let mut set = JoinSet::new();
    for (i, key) in keys.into_iter().enumerate() {
        let cluster = chain.cluster.clone();
        let ata = i.checked_sub(SOL_PAYERS).map(|t| atas[t]);
        set.spawn(async move {
            let (deposit, nonces) = if ata.is_some() {
                (SOL / 100, TOKEN_NONCES)
            } else {
                (2 * SOL, SOL_NONCES)
            };
            wallet::deposit(cluster.as_ref(), &key, deposit)
                .await
                .expect("deposit");
            wallet::open_nonces(cluster.as_ref(), &key, 0..nonces)
                .await
                .expect("nonces");
            if let Some(ata) = ata {
                wallet::approve(cluster.as_ref(), &key, &TOKEN, &ata, 500_000_000)
                    .await
                    .expect("allowance");
            }
            let pool = wallet::fetch_pool(cluster.as_ref(), &key.pubkey())
                .await
                .expect("pool");
            assert_eq!(pool.nonces.len() as u32, nonces);
            (i, Payer { key, ata, pool })
        });
    }
    let mut out: Vec<(usize, Payer)> = set.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, p)| p).collect()
}

/// Hands `sent` in over HTTP from `clients` concurrent clients; every one must be acknowledged.
async fn submit_all(relayer: &Arc<Service>, sent: &[Sent], clients: usize) {
    let signed: Arc<Vec<SignedIntent>> = Arc::new(sent.iter().map(|s| s.signed.clone()).collect());
    let mut set = JoinSet::new();
    for c in 0..clients {
        let relayer = relayer.clone();
        let signed = signed.clone();
        set.spawn(async move {
            for s in signed.iter().skip(c).step_by(clients) {
                let (code, body) = relayer.submit(s).await;
                assert_eq!(code, StatusCode::ACCEPTED, "{body}");
            }
        });
    }
    set.join_all().await;
}

/// Balances the suite checks: merchants' lamports and token accounts, payers' vaults and
/// token accounts, and every nonce value.
pub(crate) struct Snapshot {
    lamports: HashMap<Pubkey, u64>,
    tokens: HashMap<Pubkey, u64>,
    nonces: HashMap<Pubkey, [u8; 32]>,
}

pub(crate) async fn snapshot(
    chain: &Chain,
    accounts: &[Pubkey],
    tokens: &[Pubkey],
    nonces: &[Pubkey],
) -> Snapshot {
    Snapshot {
        lamports: accounts
            .iter()
            .copied()
            .zip(chain.balances(accounts).await)
            .collect(),
        tokens: tokens
            .iter()
            .copied()
            .zip(chain.token_balances(tokens).await)
            .collect(),
        nonces: chain.nonce_values(nonces).await,
    }
}

/// Every settlement the program logged: intent id → (fee, signature); panics if an intent
/// settled twice.
pub(crate) async fn settlements(chain: &Chain) -> (HashMap<[u8; 32], (u64, String)>, usize) {
    let landed = chain.program_transactions(&toss_intent_processor::ID).await;
    let mut out = HashMap::new();
    let mut transactions = 0;
    for tx in &landed {
        let mut any = false;
        for o in &tx.outcomes {
            if let Outcome::Settled { id, fee, .. } = o {
                any = true;
                let previous = out.insert(*id, (*fee, tx.signature.to_string()));
                assert!(
                    previous.is_none(),
                    "intent {} settled twice on chain",
                    hex::encode(id)
                );
            }
        }
        transactions += usize::from(any);
    }
    (out, transactions)
}

/// Checks a phase against the chain: statuses as expected, and balances and nonces moved by
/// exactly what settled.
pub(crate) async fn account_for(
    chain: &Chain,
    relayer: &Service,
    sent: &[Sent],
    before: &Snapshot,
    atas: &HashMap<(Pubkey, Pubkey), Pubkey>,
) {
    let statuses = relayer
        .wait_final(
            &sent.iter().map(|s| s.signed.clone()).collect::<Vec<_>>(),
            FINAL_LIMIT,
        )
        .await;
    for (s, status) in sent.iter().zip(&statuses) {
        assert_eq!(
            status["status"],
            s.expect,
            "{} {status}",
            hex::encode(s.signed.id())
        );
    }
    let (settled, _) = settlements(chain).await;
    let lamports: Vec<Pubkey> = before.lamports.keys().copied().collect();
    let tokens: Vec<Pubkey> = before.tokens.keys().copied().collect();
    let nonces: Vec<Pubkey> = before.nonces.keys().copied().collect();
    let after = snapshot(chain, &lamports, &tokens, &nonces).await;
    let mut want_lamports = before.lamports.clone();
    let mut want_tokens = before.tokens.clone();
    let mut advanced = HashSet::new();
    for s in sent {
        let id = s.signed.id();
        let on_chain = settled.get(&id);
        assert_eq!(
            on_chain.is_some(),
            s.expect == "settled",
            "chain vs relayer for {}",
            hex::encode(id)
        );
        let Some((fee, _)) = on_chain else { continue };
        let i = &s.intent;
        advanced.insert(i.nonce_account);
        match i.mint {
            None => {
                *want_lamports
                    .get_mut(&i.recipient)
                    .expect("merchant tracked") += i.amount;
                let vault = toss_intent_processor::state::Vault::find_address(&i.sender).0;
                *want_lamports.get_mut(&vault).expect("vault tracked") -= i.amount + fee;
            }
            Some(mint) => {
                *want_tokens
                    .get_mut(&atas[&(i.recipient, mint)])
                    .expect("merchant ata") += i.amount;
                *want_tokens
                    .get_mut(&atas[&(i.sender, mint)])
                    .expect("payer ata") -= i.amount + fee;
            }
        }
    }
    assert_eq!(
        after.lamports, want_lamports,
        "lamports match the settled intents exactly"
    );
    assert_eq!(
        after.tokens, want_tokens,
        "token balances match the settled intents exactly"
    );
    for (nonce, value) in &before.nonces {
        assert_eq!(
            after.nonces[nonce] != *value,
            advanced.contains(nonce),
            "nonce {nonce} moved iff an intent on it settled"
        );
    }
}

pub(crate) fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Submit (received) to settled, in ms, for `ids`, from the relayer's audit log.
fn latencies(store: &std::path::Path, ids: &[[u8; 32]]) -> Vec<i64> {
    let db = open_store(store);
    let mut out = Vec::new();
    for id in ids {
        let ms: Option<i64> = db
            .query_row(
                "SELECT a.at_ms - i.received_at_ms FROM intents i JOIN audit_log a ON a.intent_id = i.id \
                 WHERE i.id = ?1 AND a.to_status = 'settled'",
                [id.as_slice()],
                |r| r.get(0),
            )
            .ok();
        out.extend(ms);
    }
    out.sort_unstable();
    out
}

pub async fn run(binary: PathBuf) {
    let wall = Instant::now();
    let program_id = toss_intent_processor::ID;
    let v = Validator::start(&binary).await;
    let started_s = wall.elapsed().as_secs_f64();
    let chain = Chain::new(&v.rpc_url, v.mint.insecure_clone());
    let dir = v.dir.path().to_path_buf();

    // 1. Deploy with `anchor deploy`; only the upgrade authority named by the real
    // ProgramData may initialize.
    chain.fund(&[v.authority.pubkey()], 50 * SOL).await;
    let deploy_s = deploy::anchor_deploy(&v, &chain).await;
    assert!(deploy::config(&chain).await.is_none());
    let stranger = Keypair::new();
    chain.fund(&[stranger.pubkey()], SOL).await;
    let args = toss_intent_processor::instructions::ConfigInitializeArgs {
        admin: stranger.pubkey(),
        max_intent_lifetime_secs: 3_600,
        max_relayer_fee: 50_000,
        withdrawal_delay_secs: 7_200,
        paused: false,
        withdrawal_window_secs: toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS,
    };
    let ix = toss_sdk::instructions::config_initialize_ix(&stranger.pubkey(), args);
    let refused = wallet::send(chain.cluster.as_ref(), &stranger, &[ix], &[]).await;
    assert!(refused.is_err(), "a stranger initialized the config");
    let out = deploy::migrate(
        &v,
        &[
            ("TOSS_MAX_INTENT_LIFETIME_SECS", "3600"),
            ("TOSS_WITHDRAWAL_DELAY_SECS", "7200"),
        ],
    );
    assert!(out.contains("initialized config"), "{out}");
    let config = deploy::wait_config(&chain).await;
    assert_eq!(config.admin, v.authority.pubkey());
    assert_eq!(config.max_intent_lifetime_secs, 3_600);
    assert!(deploy::migrate(&v, &[]).contains("already initialized"));

    // The relayer: fee payer, a token mint it accepts (with its fee account), the proxy.
    let fee_payer = Keypair::new();
    let fee_payer_file = dir.join("fee-payer.json");
    toss_sdk::keys::write_keypair_file(&fee_payer, &fee_payer_file).unwrap();
    chain.fund(&[fee_payer.pubkey()], 100 * SOL).await;
    let mint = chain.mint().await;
    chain.ata(&fee_payer.pubkey(), &mint, 0).await;
    let proxy = Proxy::start(&v.rpc_url).await;
    let setup = Setup {
        rpc_url: proxy.url.clone(),
        program_id,
        fee_payer: fee_payer_file,
        store: dir.join("relayer.sqlite"),
        database_url: None,
        instance_id: None,
        mints: vec![mint],
        lookup_table: None,
        dir: dir.clone(),
        cover_wait_ms: None,
    };
    let relayer = Arc::new(setup.start(0).await);

    // 2. The CLI, as a payer would use it.
    let (cli_settled, cli_s) = cli::walk_through(&chain, &relayer, &mint, &dir).await;

    // 3. The crowd.
    let setup_started = Instant::now();
    let merchants: Vec<Pubkey> = (0..MERCHANTS).map(|_| Keypair::new().pubkey()).collect();
    chain.fund(&merchants, SOL / 100).await;
    let mut atas: HashMap<(Pubkey, Pubkey), Pubkey> = HashMap::new();
    for m in &merchants {
        atas.insert((*m, mint), chain.ata(m, &mint, 0).await);
    }
    let mut payers = payers(&chain, &mint).await;
    for p in &payers {
        if let Some(ata) = p.ata {
            atas.insert((p.key.pubkey(), mint), ata);
        }
    }
    let setup_s = setup_started.elapsed().as_secs_f64();
    let vaults: Vec<Pubkey> = payers
        .iter()
        .map(|p| toss_intent_processor::state::Vault::find_address(&p.key.pubkey()).0)
        .collect();
    let lamport_accounts: Vec<Pubkey> = merchants.iter().chain(&vaults).copied().collect();
    let token_accounts: Vec<Pubkey> = atas.values().copied().collect();
    let all_nonces = |payers: &[Payer]| -> Vec<Pubkey> {
        payers
            .iter()
            .flat_map(|p| p.pool.nonces.iter().map(|n| n.address.parse().unwrap()))
            .collect()
    };
    let before = snapshot(
        &chain,
        &lamport_accounts,
        &token_accounts,
        &all_nonces(&payers),
    )
    .await;

    // An intent that expires while submission is paused.
    let now = chain.cluster.unix_time().await.unwrap();
    relayer.admin("pause").await;
    let (late, late_intent) = sign(
        &payers[0],
        SOL_NONCES - 1,
        merchants[0],
        None,
        1_000_000,
        now + 3,
    );
    assert_eq!(relayer.submit(&late).await.0, StatusCode::ACCEPTED);
    while toss_relayer::now_ms() / 1000 <= now + 4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    relayer.admin("resume").await;
    let mut crowd = vec![Sent {
        signed: late,
        intent: late_intent,
        expect: "expired",
    }];

    // A double spend: two intents on one nonce; the first stored settles, the other conflicts.
    let expiry = now + 1_800;
    for (m, expect) in [(0, "settled"), (1, "conflict")] {
        let (signed, intent) = sign(
            &payers[1],
            0,
            merchants[m],
            None,
            3_000_000 + m as u64,
            expiry,
        );
        assert_eq!(relayer.submit(&signed).await.0, StatusCode::ACCEPTED);
        crowd.push(Sent {
            signed,
            intent,
            expect,
        });
    }
    let mut bulk = Vec::new();
    for (p, payer) in payers.iter().enumerate() {
        let (nonces, mint) = match payer.ata {
            None => (SOL_NONCES, None),
            Some(_) => (TOKEN_NONCES, Some(mint)),
        };
        for index in 0..nonces {
            if (p == 0 && index == SOL_NONCES - 1) || (p == 1 && index == 0) {
                continue; // the expired intent and the double spend
            }
            let to = merchants[(p + index as usize) % MERCHANTS];
            let amount = 1_000_000 + (p as u64) * 10_000 + u64::from(index);
            let (signed, intent) = sign(payer, index, to, mint, amount, expiry);
            bulk.push(Sent {
                signed,
                intent,
                expect: "settled",
            });
        }
    }
    let crowd_started = Instant::now();
    submit_all(&relayer, &bulk, 8).await;
    let ingest_s = crowd_started.elapsed().as_secs_f64();
    crowd.extend(bulk);
    account_for(&chain, &relayer, &crowd, &before, &atas).await;
    let crowd_s = crowd_started.elapsed().as_secs_f64();
    let crowd_ids: Vec<[u8; 32]> = crowd
        .iter()
        .filter(|s| s.expect == "settled")
        .map(|s| s.signed.id())
        .collect();
    let (settled_now, _) = settlements(&chain).await;
    let crowd_txs: HashSet<&String> = crowd_ids.iter().map(|id| &settled_now[id].1).collect();
    let crowd_txs = crowd_txs.len();
    let lat = latencies(&setup.store, &crowd_ids);
    // The crowd went out in the default form (`auto`: compact without a priority fee),
    // packed against the relayer's own lookup tables as the keeper filled them.
    let compact_txs = relayer
        .metric("toss_settle_transactions_landed_total{form=\"compact\"}")
        .await;
    let precompile_txs = relayer
        .metric("toss_settle_transactions_landed_total{form=\"precompile\"}")
        .await;
    assert!(compact_txs >= 1.0, "the crowd settled in the compact form");
    assert_eq!(
        precompile_txs, 0.0,
        "auto without a priority fee: compact only"
    );
    let fees = relayer
        .metric("toss_settle_fees_lamports_total{form=\"compact\"}")
        .await;
    let covered = relayer
        .metric("toss_intents_packed_total{covered=\"yes\"}")
        .await;
    let uncovered = relayer
        .metric("toss_intents_packed_total{covered=\"no\"}")
        .await;
    let coverage = covered / (covered + uncovered).max(1.0);
    let table_rent = relayer.metric("toss_lookup_table_rent_lamports").await;
    assert!(table_rent > 0.0, "the relayer made its own lookup table");
    let settled_so_far: f64 = relayer
        .metric("toss_intents_final_total{status=\"settled\"}")
        .await;
    let lamports_per_payment = fees / settled_so_far.max(1.0);

    // 4. SIGKILL in the middle of a batch, restart on the same SQLite file.
    for p in payers.iter_mut().take(SOL_PAYERS) {
        p.pool = wallet::fetch_pool(chain.cluster.as_ref(), &p.key.pubkey())
            .await
            .unwrap();
    }
    let before = snapshot(
        &chain,
        &lamport_accounts,
        &token_accounts,
        &all_nonces(&payers),
    )
    .await;
    let mut crash = Vec::new();
    for payer in payers.iter().take(SOL_PAYERS) {
        for index in 0..CRASH_PER_PAYER {
            let to = merchants[index as usize % MERCHANTS];
            let (signed, intent) =
                sign(payer, index, to, None, 2_000_000 + u64::from(index), expiry);
            crash.push(Sent {
                signed,
                intent,
                expect: "settled",
            });
        }
    }
    submit_all(&relayer, &crash, 4).await;
    let ids: Vec<Vec<u8>> = crash.iter().map(|s| s.signed.id().to_vec()).collect();
    let count = |status: &str| -> usize {
        let db = open_store(&setup.store);
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
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("submitted") == 0 {
        assert!(Instant::now() < deadline, "no batch in flight");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let relayer = Arc::into_inner(relayer).expect("no client left");
    relayer.kill();
    let (in_flight, settled_before_kill) = (count("submitted"), count("settled"));
    assert!(settled_before_kill < crash.len(), "killed after the end");
    // Restarted in the precompile form: the batches it resumes were signed in the compact
    // form before the kill; they are checked first, then re-signed in the new form.
    let relayer = setup.start_with(1, "precompile").await;
    account_for(&chain, &relayer, &crash, &before, &atas).await;

    // 5. A lost transaction: every send is dropped until its blockhash expired.
    payers[2].pool = wallet::fetch_pool(chain.cluster.as_ref(), &payers[2].key.pubkey())
        .await
        .unwrap();
    let before = snapshot(
        &chain,
        &lamport_accounts,
        &token_accounts,
        &all_nonces(&payers[2..3]),
    )
    .await;
    proxy.switches.dropping.store(true, Ordering::SeqCst);
    let (lost, lost_intent) = sign(&payers[2], 5, merchants[4], None, 7_777_777, expiry);
    assert_eq!(relayer.submit(&lost).await.0, StatusCode::ACCEPTED);
    let dropped_at = Instant::now();
    let (first_sig, last_valid) = loop {
        let db = open_store(&setup.store);
        let row = db.query_row(
            "SELECT b.signature, b.last_valid_block_height FROM batch_signatures b \
             JOIN batch_intents i ON i.batch_id = b.batch_id WHERE i.intent_id = ?1 ORDER BY b.rowid LIMIT 1",
            [lost.id().as_slice()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        );
        if let Ok(row) = row {
            break row;
        }
        assert!(dropped_at.elapsed() < Duration::from_secs(30), "never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    while chain.cluster.block_height().await.unwrap() <= last_valid as u64 {
        assert!(
            dropped_at.elapsed() < Duration::from_secs(120),
            "blockhash never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dropped = proxy.switches.dropped.load(Ordering::SeqCst);
    assert!(dropped >= 1, "the proxy lost nothing");
    proxy.switches.dropping.store(false, Ordering::SeqCst);
    let lost_sent = [Sent {
        signed: lost.clone(),
        intent: lost_intent,
        expect: "settled",
    }];
    account_for(&chain, &relayer, &lost_sent, &before, &atas).await;
    let resigned_s = dropped_at.elapsed().as_secs_f64();
    let (settled_all, _) = settlements(&chain).await;
    let landed_sig = &settled_all[&lost.id()].1;
    assert_ne!(landed_sig, &first_sig, "landed under a new signature");
    assert!(
        relayer
            .metric("toss_settle_transactions_landed_total{form=\"compact\"}")
            .await
            == 0.0,
        "after the restart: precompile only"
    );
    let precompile_after = relayer
        .metric("toss_settle_transactions_landed_total{form=\"precompile\"}")
        .await;
    assert!(
        precompile_after >= 1.0,
        "the restarted relayer settled in the precompile form"
    );
    let first: solana_signature::Signature = first_sig.parse().unwrap();
    assert_eq!(
        chain.cluster.statuses(&[first]).await.unwrap()[0],
        None,
        "the lost send never landed"
    );
    drop(relayer);

    // The program upgraded in place with `anchor upgrade`: the config is untouched, and the
    // drills below settle hundreds of payments on the upgraded program.
    let config_before = deploy::config(&chain).await.expect("config");
    let upgrade_s = deploy::anchor_upgrade(&v, &chain).await;
    let config_after = deploy::config(&chain)
        .await
        .expect("config after the upgrade");
    assert_eq!(
        (
            config_after.admin,
            config_after.max_intent_lifetime_secs,
            config_after.paused
        ),
        (
            config_before.admin,
            config_before.max_intent_lifetime_secs,
            config_before.paused
        ),
        "the upgrade kept the config"
    );

    // 6. Drills: SIGKILL cycles under load, 30 % RPC faults, 64 clients at a fixed rate, the
    // database crashed (that one on PostgreSQL: its intents are not in the SQLite file).
    let mut elsewhere: HashSet<[u8; 32]> = HashSet::new();
    if let Some(scale) = drills::Scale::from_env() {
        // Stops the drills' own PostgreSQL cluster when the drills are over (or one fails).
        let _drill_postgres = drills::DrillPostgres;
        let ground = drills::Ground {
            chain: &chain,
            setup: &setup,
            proxy: &proxy,
            merchants: &merchants,
        };
        if scale.runs("kill") {
            println!("{}", drills::kill(&ground, &scale, false).await.0);
        }
        if scale.runs("kill-pg") {
            let (line, ids) = drills::kill(&ground, &scale, true).await;
            println!("{line}");
            elsewhere.extend(ids);
        }
        if scale.runs("faults") {
            println!("{}", drills::faults(&ground, &scale).await);
        }
        if scale.runs("load") {
            println!("{}", drills::load(&ground, &scale).await);
        }
        if scale.runs("database") {
            let (line, ids) =
                drills::database(&ground, &scale, drills::Outage::PostgresCrash).await;
            println!("{line}");
            elsewhere.extend(ids);
        }
        if scale.runs("disk") {
            let (line, ids) =
                drills::database(&ground, &scale, drills::Outage::SqliteDiskFull).await;
            println!("{line}");
            elsewhere.extend(ids);
        }
        if scale.runs("instances") {
            let (line, ids) = drills::instances(&ground, &scale).await;
            println!("{line}");
            elsewhere.extend(ids);
        }
    } else {
        println!("validator e2e: drills NOT RUN (TOSS_DRILLS=off)");
    }
    let (settled_all, transactions) = settlements(&chain).await;

    // The whole run: what the relayer calls settled is exactly what the chain settled, once.
    let db = open_store(&setup.store);
    let mut stmt = db
        .prepare("SELECT id FROM intent_state WHERE status = 'settled'")
        .unwrap();
    let mut relayer_settled: HashSet<[u8; 32]> = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|r| r.unwrap().try_into().unwrap())
        .collect();
    relayer_settled.extend(&elsewhere);
    let chain_settled: HashSet<[u8; 32]> = settled_all.keys().copied().collect();
    let only_relayer: Vec<String> = relayer_settled
        .difference(&chain_settled)
        .map(hex::encode)
        .collect();
    let only_chain: Vec<String> = chain_settled
        .difference(&relayer_settled)
        .map(hex::encode)
        .collect();
    assert!(
        only_relayer.is_empty() && only_chain.is_empty(),
        "relayer and chain disagree: settled per the relayer only {only_relayer:?}, \
         on chain only {only_chain:?}"
    );
    let open: i64 = db
        .query_row(
            "SELECT count(*) FROM intent_state WHERE status IN ('pending','queued','submitted')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(open, 0, "every acknowledged intent is final");

    let crowd_settled = crowd_ids.len();
    println!(
        "validator e2e: intents settled {} (crowd {crowd_settled} + crash {} + lost 1 + cli {cli_settled} \
         + drills {}), \
         transactions {transactions}, crowd {crowd_txs} tx ({:.2} intents/tx, {compact_txs} compact, \
         own lookup table coverage {:.0} %, {lamports_per_payment:.0} lamports per payment, \
         table rent {table_rent} lamports), after restart {precompile_after} precompile tx, \
         crowd ingest {ingest_s:.1} s, crowd final {crowd_s:.1} s, submit-to-settled p50 {} ms p99 {} ms, \
         crash: {in_flight} in flight at SIGKILL, {settled_before_kill} settled before; \
         lost tx: {dropped} sends dropped, re-signed and landed after {resigned_s:.1} s; \
         validator start {started_s:.1} s, anchor deploy {deploy_s:.1} s, anchor upgrade \
         {upgrade_s:.1} s, payer setup {setup_s:.1} s, cli {cli_s:.1} s, wall {:.1} s",
        chain_settled.len(),
        crash.len(),
        chain_settled.len() - crowd_settled - crash.len() - 1 - cli_settled,
        crowd_settled as f64 / crowd_txs.max(1) as f64,
        coverage * 100.0,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        wall.elapsed().as_secs_f64(),
    );
}
