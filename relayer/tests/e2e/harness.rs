//! A relayer on the in-process cluster (the real program), a SQLite file in a temp dir, and
//! real HTTP on 127.0.0.1, with helpers to make payers, intents and requests.

use reqwest::StatusCode;
use serde_json::Value;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::sync::Arc;
use std::time::Duration;
use toss_relayer::config::{Config, Redacted};
use toss_relayer::local::{self, SOL};
use toss_relayer::store::{SqliteStore, Status, Store};
use toss_relayer::{Relayer, RelayerHandle};
use toss_sdk::cluster::{Cluster, LocalCluster, LocalProgram};
use toss_sdk::pool_file::PoolFile;
use toss_sdk::{wallet, Intent, SignedIntent};

pub const TOKEN: Pubkey = spl_token_2022_interface::inline_spl_token::ID;
pub const ADMIN: &str = "0123456789abcdef0123456789abcdef-admin";

/// A test config: fast batching, short timeouts, an admin token.
pub fn config() -> Config {
    let mut c = Config::default();
    c.server.admin_token = Some(Redacted::new(ADMIN.to_string()));
    c.server.rate_limit_per_ip_per_s = 10_000;
    c.server.rate_limit_per_ip_burst = 10_000;
    c.server.max_bulk = 8;
    c.server.max_body_bytes = 16 * 1024;
    c.intake.max_lifetime_seconds = 3_600;
    c.batch.max_wait_ms = 20;
    c.reconcile.sweep_interval_ms = 100;
    c.submit.confirm_timeout_ms = 3_000;
    c.submit.backoff_initial_ms = 10;
    c.submit.backoff_max_ms = 200;
    c.submit.breaker_cooldown_ms = 300;
    c.submit.breaker_window = 10;
    // Fee-payer balances are checked to the lamport: tables only where a test asks for them.
    c.tables.manage = false;
    c
}

pub struct Harness {
    pub cluster: Arc<LocalCluster>,
    pub fee_payer: Keypair,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

pub struct Running {
    pub relayer: RelayerHandle,
    pub store: Arc<dyn Store>,
    pub url: String,
}

impl Harness {
    pub async fn new() -> Self {
        let (cluster, fee_payer) = local::start(LocalProgram::Native).await.expect("cluster");
        Self {
            cluster: Arc::new(cluster),
            fee_payer,
            dir: tempfile::tempdir().expect("tempdir"),
            http: reqwest::Client::new(),
        }
    }

    /// Starts a relayer on this harness's SQLite file over `cluster`.
    pub async fn start_on(&self, config: Config, cluster: Arc<dyn Cluster>) -> Running {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(self.dir.path().join("relayer.sqlite")).expect("store"));
        self.start_with(config, cluster, store, self.fee_payer.insecure_clone())
            .await
    }

    /// Starts a relayer on `store` over `cluster`, paying with `fee_payer`.
    pub async fn start_with(
        &self,
        config: Config,
        cluster: Arc<dyn Cluster>,
        store: Arc<dyn Store>,
        fee_payer: Keypair,
    ) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let relayer = Relayer::new(Arc::new(config), cluster, store.clone(), fee_payer)
            .expect("relayer")
            .start(listener)
            .await
            .expect("start");
        let url = relayer.url();
        Running {
            relayer,
            store,
            url,
        }
    }

    pub async fn start(&self, config: Config) -> Running {
        self.start_on(config, self.cluster.clone()).await
    }

    /// A payer with `deposit` in its vault and `nonces` pool nonces.
    pub async fn payer(&self, deposit: u64, nonces: u32) -> (Keypair, PoolFile) {
        let key = local::funded(&self.cluster, deposit + SOL)
            .await
            .expect("fund");
        wallet::deposit(self.cluster.as_ref(), &key, deposit)
            .await
            .expect("deposit");
        wallet::open_nonces(self.cluster.as_ref(), &key, 0..nonces)
            .await
            .expect("nonces");
        let pool = wallet::fetch_pool(self.cluster.as_ref(), &key.pubkey())
            .await
            .expect("pool");
        (key, pool)
    }

    pub async fn now(&self) -> i64 {
        self.cluster.unix_time().await.expect("time")
    }

    /// A SOL intent on pool nonce `index`.
    pub async fn sol_intent(
        &self,
        payer: &Keypair,
        pool: &PoolFile,
        index: u32,
        recipient: Pubkey,
        amount: u64,
    ) -> (Intent, SignedIntent) {
        let (nonce_account, nonce_value) = pool.nonce(index).expect("nonce");
        let intent = Intent {
            sender: payer.pubkey(),
            recipient,
            mint: None,
            amount,
            nonce_account,
            nonce_value,
            expiry: self.now().await + 600,
            max_fee: 5_000,
            reference: None,
        };
        let signed = SignedIntent::sign(payer, &intent).expect("sign");
        (intent, signed)
    }

    /// A mint of SPL Token with 6 decimals, authority the faucet.
    pub async fn mint(&self) -> Pubkey {
        use spl_token_2022_interface::instruction as token_ix;
        let mint = Keypair::new();
        let faucet = self.cluster.faucet();
        let len = 82; // SPL Token `Mint::LEN`
        let rent = self.cluster.minimum_rent(len).await.expect("rent");
        let ixs = vec![
            solana_system_interface::instruction::create_account(
                &faucet.pubkey(),
                &mint.pubkey(),
                rent,
                len as u64,
                &TOKEN,
            ),
            token_ix::initialize_mint2(&TOKEN, &mint.pubkey(), &faucet.pubkey(), None, 6)
                .expect("mint"),
        ];
        wallet::send(self.cluster.as_ref(), faucet, &ixs, &[&mint])
            .await
            .expect("mint created");
        mint.pubkey()
    }

    /// `owner`'s associated token account for `mint`, created, holding `amount`.
    pub async fn ata(&self, owner: &Pubkey, mint: &Pubkey, amount: u64) -> Pubkey {
        use spl_token_2022_interface::instruction as token_ix;
        let faucet = self.cluster.faucet();
        let ata = toss_relayer::batch::associated_token_address(owner, mint, &TOKEN);
        let mut ixs = vec![Instruction {
            program_id: toss_relayer::batch::ASSOCIATED_TOKEN_PROGRAM_ID,
            accounts: vec![
                AccountMeta::new(faucet.pubkey(), true),
                AccountMeta::new(ata, false),
                AccountMeta::new_readonly(*owner, false),
                AccountMeta::new_readonly(*mint, false),
                AccountMeta::new_readonly(solana_system_interface::program::ID, false),
                AccountMeta::new_readonly(TOKEN, false),
            ],
            data: vec![1],
        }];
        if amount > 0 {
            ixs.push(
                token_ix::mint_to(&TOKEN, mint, &ata, &faucet.pubkey(), &[], amount)
                    .expect("mint_to"),
            );
        }
        wallet::send(self.cluster.as_ref(), faucet, &ixs, &[])
            .await
            .expect("ata");
        ata
    }

    pub async fn token_balance(&self, account: &Pubkey) -> u64 {
        let data = self
            .cluster
            .account(account)
            .await
            .expect("account")
            .expect("exists")
            .data;
        u64::from_le_bytes(data[64..72].try_into().expect("amount"))
    }
}

impl Running {
    pub async fn post(&self, http: &reqwest::Client, body: &Value) -> (StatusCode, Value) {
        let r = http
            .post(format!("{}/v1/intents", self.url))
            .json(body)
            .send()
            .await
            .expect("post");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, http: &reqwest::Client, body: Vec<u8>) -> (StatusCode, Value) {
        let r = http
            .post(format!("{}/v1/intents", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn submit(
        &self,
        http: &reqwest::Client,
        signed: &SignedIntent,
    ) -> (StatusCode, Value) {
        self.post(http, &serde_json::json!({"intent": signed.to_base64()}))
            .await
    }

    pub async fn get(&self, http: &reqwest::Client, id: &str) -> (StatusCode, Value) {
        let r = http
            .get(format!("{}/v1/intents/{id}", self.url))
            .send()
            .await
            .expect("get");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The text of `GET /metrics`.
    pub async fn metrics_text(&self, http: &reqwest::Client) -> String {
        http.get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn admin(
        &self,
        http: &reqwest::Client,
        action: &str,
        token: Option<&str>,
    ) -> StatusCode {
        let mut req = http.post(format!("{}/v1/admin/{action}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("admin").status()
    }

    /// Waits until every stored intent is final.
    pub async fn settle_all(&self) {
        if let Err(e) =
            toss_relayer::demo::wait_final(self.store.as_ref(), Duration::from_secs(60)).await
        {
            // Say which intents are stuck, and where, before failing.
            let open = self.store.nonfinal().await.unwrap_or_default();
            let stuck: Vec<String> = open
                .iter()
                .map(|r| {
                    format!(
                        "{} {} batch {:?} nonce {} reason {:?}",
                        hex::encode(r.id),
                        r.status,
                        r.batch_id,
                        hex::encode(r.nonce_account),
                        r.reason
                    )
                })
                .collect();
            let batches = self.store.unfinished_batches().await.unwrap_or_default();
            panic!(
                "every intent final: {e}; not final: {stuck:#?}; unfinished batches: {:?}; \
                 busy nonces: {}; active batches: {:?}",
                batches
                    .iter()
                    .map(|b| (b.batch_id, b.state))
                    .collect::<Vec<_>>(),
                self.relayer
                    .ctx
                    .claims
                    .busy_nonces
                    .lock()
                    .map(|b| b.len())
                    .unwrap_or(0),
                self.relayer
                    .ctx
                    .claims
                    .active_batches
                    .lock()
                    .map(|a| a.clone())
                    .ok(),
            );
        }
    }

    pub async fn status_of(&self, signed: &SignedIntent) -> Status {
        self.store
            .get(signed.id())
            .await
            .expect("store")
            .expect("stored")
            .status
    }

    pub async fn total(&self) -> u64 {
        self.store.counts().await.expect("counts").values().sum()
    }
}

/// False until `signed`'s expiry has passed on the wall clock (true while waiting is needed).
pub fn not_expired_yet(signed: &SignedIntent) -> bool {
    let expiry = signed.intent().expect("intent").expiry;
    toss_relayer::now_ms() / 1000 <= expiry
}
