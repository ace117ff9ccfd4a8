//! The validator seen through JSON-RPC only: funding, SPL mints and token accounts, balances,
//! nonce values, and every settlement the program ever logged (read back from the chain,
//! not from the relayer).

use serde_json::{json, Value};
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use toss_intent_processor::nonce::read_nonce;
use toss_sdk::cluster::{Cluster, RpcCluster};
use toss_sdk::events::{outcomes, Outcome};
use toss_sdk::wallet;

/// SPL Token (the classic program the validator ships in its genesis).
pub const TOKEN: Pubkey = spl_token_2022_interface::inline_spl_token::ID;

/// One landed program transaction and the outcomes it logged.
pub struct Landed {
    /// Its signature.
    pub signature: Signature,
    /// `IntentSettled` / `IntentRejected`, in log order.
    pub outcomes: Vec<Outcome>,
}

/// JSON-RPC access to the validator.
pub struct Chain {
    /// The SDK's RPC cluster.
    pub cluster: Arc<RpcCluster>,
    url: String,
    http: reqwest::Client,
    /// Pays for setup (the genesis mint).
    pub bank: Keypair,
}

impl Chain {
    /// A client for `url`, paying setup with `bank`.
    pub fn new(url: &str, bank: Keypair) -> Self {
        Self {
            cluster: Arc::new(RpcCluster::new(url)),
            url: url.to_string(),
            http: reqwest::Client::new(),
            bank,
        }
    }

    async fn rpc(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let v: Value = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .expect("rpc")
            .json()
            .await
            .expect("rpc json");
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    /// Sends `lamports` from the bank to each of `to`, several per transaction.
    pub async fn fund(&self, to: &[Pubkey], lamports: u64) {
        for chunk in to.chunks(16) {
            let ixs: Vec<Instruction> = chunk
                .iter()
                .map(|k| {
                    solana_system_interface::instruction::transfer(&self.bank.pubkey(), k, lamports)
                })
                .collect();
            wallet::send(self.cluster.as_ref(), &self.bank, &ixs, &[])
                .await
                .expect("fund");
        }
    }

    /// A new SPL Token mint with 6 decimals, authority the bank.
    pub async fn mint(&self) -> Pubkey {
        use spl_token_2022_interface::instruction as token_ix;
        let mint = Keypair::new();
        let len = 82; // SPL Token `Mint::LEN`
        let rent = self.cluster.minimum_rent(len).await.expect("rent");
        let ixs = vec![
            solana_system_interface::instruction::create_account(
                &self.bank.pubkey(),
                &mint.pubkey(),
                rent,
                len as u64,
                &TOKEN,
            ),
            token_ix::initialize_mint2(&TOKEN, &mint.pubkey(), &self.bank.pubkey(), None, 6)
                .expect("mint"),
        ];
        wallet::send(self.cluster.as_ref(), &self.bank, &ixs, &[&mint])
            .await
            .expect("mint created");
        mint.pubkey()
    }

    /// `owner`'s associated token account for `mint` (created), with `amount` minted to it.
    pub async fn ata(&self, owner: &Pubkey, mint: &Pubkey, amount: u64) -> Pubkey {
        use spl_token_2022_interface::instruction as token_ix;
        let ata = toss_relayer::batch::associated_token_address(owner, mint, &TOKEN);
        let mut ixs = vec![Instruction {
            program_id: toss_relayer::batch::ASSOCIATED_TOKEN_PROGRAM_ID,
            accounts: vec![
                AccountMeta::new(self.bank.pubkey(), true),
                AccountMeta::new(ata, false),
                AccountMeta::new_readonly(*owner, false),
                AccountMeta::new_readonly(*mint, false),
                AccountMeta::new_readonly(solana_system_interface::program::ID, false),
                AccountMeta::new_readonly(TOKEN, false),
            ],
            data: vec![1], // CreateIdempotent
        }];
        if amount > 0 {
            ixs.push(
                token_ix::mint_to(&TOKEN, mint, &ata, &self.bank.pubkey(), &[], amount)
                    .expect("mint_to"),
            );
        }
        wallet::send(self.cluster.as_ref(), &self.bank, &ixs, &[])
            .await
            .expect("ata");
        ata
    }

    /// Lamports of each account (0 when missing).
    pub async fn balances(&self, keys: &[Pubkey]) -> Vec<u64> {
        self.cluster
            .accounts(keys)
            .await
            .expect("accounts")
            .into_iter()
            .map(|a| a.map(|a| a.lamports).unwrap_or(0))
            .collect()
    }

    /// Token amount held by each SPL token account.
    pub async fn token_balances(&self, keys: &[Pubkey]) -> Vec<u64> {
        self.cluster
            .accounts(keys)
            .await
            .expect("accounts")
            .into_iter()
            .map(|a| {
                let data = a.expect("token account exists").data;
                u64::from_le_bytes(data[64..72].try_into().expect("amount"))
            })
            .collect()
    }

    /// The stored durable nonce of each nonce account.
    pub async fn nonce_values(&self, keys: &[Pubkey]) -> HashMap<Pubkey, [u8; 32]> {
        let accounts = self.cluster.accounts(keys).await.expect("accounts");
        keys.iter()
            .zip(accounts)
            .map(|(k, a)| {
                let a = a.expect("nonce account exists");
                let state = read_nonce(&a.data).expect("initialized nonce");
                (*k, state.durable_nonce)
            })
            .collect()
    }

    /// Every successful transaction that mentions `program`, oldest first, with its outcomes.
    pub async fn program_transactions(&self, program: &Pubkey) -> Vec<Landed> {
        let mut signatures = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let mut config = json!({"limit": 1000, "commitment": "confirmed"});
            if let Some(b) = &before {
                config["before"] = json!(b);
            }
            let page = self
                .rpc(
                    "getSignaturesForAddress",
                    json!([program.to_string(), config]),
                )
                .await;
            let page = page.as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                break;
            }
            for entry in &page {
                if entry["err"].is_null() {
                    signatures.push(entry["signature"].as_str().expect("sig").to_string());
                }
            }
            before = page
                .last()
                .and_then(|e| e["signature"].as_str())
                .map(str::to_string);
        }
        signatures.reverse();
        let mut landed = Vec::with_capacity(signatures.len());
        for s in signatures {
            let signature = Signature::from_str(&s).expect("signature");
            let logs = self
                .cluster
                .logs(&signature)
                .await
                .expect("logs")
                .expect("landed transaction has logs");
            landed.push(Landed {
                signature,
                outcomes: outcomes(&logs),
            });
        }
        landed
    }
}
