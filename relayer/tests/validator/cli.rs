//! The `toss` CLI as a process against the validator (`-u http://127.0.0.1:PORT`), the way a
//! payer uses it: keygen, setup (vault deposit, token allowance on a real SPL mint, nonce
//! pool), `nonce list`, offline `intent create`, `submit` and `status` against the relayer.

use crate::chain::Chain;
use crate::service::Service;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

const SOL: u64 = 1_000_000_000;

fn toss_bin() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_toss-relayer")).with_file_name("toss");
    assert!(
        path.exists(),
        "build the toss CLI first: cargo build --workspace"
    );
    path
}

/// Runs `toss ARGS` and returns stdout; panics with stderr on a non-zero exit.
fn toss(rpc: &str, keypair: &Path, args: &[&str]) -> String {
    let out = Command::new(toss_bin())
        .arg("-u")
        .arg(rpc)
        .arg("-k")
        .arg(keypair)
        .args(args)
        .env_remove("SOLANA_RPC_URL")
        .env_remove("TOSS_RELAYER_URL")
        .output()
        .expect("run toss");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "toss {args:?} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The CLI walk-through. Returns (intents settled through the CLI, seconds it took).
pub async fn walk_through(
    chain: &Chain,
    relayer: &Service,
    mint: &Pubkey,
    dir: &Path,
) -> (usize, f64) {
    let started = Instant::now();
    let rpc = chain_url(chain);
    let key = dir.join("cli-payer.json");
    let made = json(&toss(
        &rpc,
        &key,
        &[
            "--output",
            "json",
            "keygen",
            "--outfile",
            key.to_str().unwrap(),
        ],
    ));
    let payer = Pubkey::from_str(made["pubkey"].as_str().unwrap()).unwrap();
    let merchant = Keypair::new().pubkey();
    chain.fund(&[payer, merchant], 5 * SOL).await;
    let payer_ata = chain.ata(&payer, mint, 1_000_000_000).await;
    let merchant_ata = chain.ata(&merchant, mint, 0).await;

    let pool = dir.join("cli-pool.json");
    let setup = json(&toss(
        &rpc,
        &key,
        &[
            "--output",
            "json",
            "setup",
            "--deposit",
            "2",
            "--nonces",
            "4",
            "--token-account",
            &payer_ata.to_string(),
            "--allowance",
            "100000000",
            "--pool",
            pool.to_str().unwrap(),
        ],
    ));
    assert!(setup.is_object(), "{setup}");
    let listed = json(&toss(
        &rpc,
        &key,
        &[
            "--output",
            "json",
            "nonce",
            "list",
            "--pool",
            pool.to_str().unwrap(),
        ],
    ));
    let nonces = listed["pool"]["nonces"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert_eq!(nonces, 4, "{listed}");

    // Offline from here: the pool file is all the device has.
    let sol = json(&toss(
        "http://127.0.0.1:9", // unreachable on purpose: intent create never goes online
        &key,
        &[
            "--output",
            "json",
            "intent",
            "create",
            "--pool",
            pool.to_str().unwrap(),
            "--nonce-index",
            "0",
            "--to",
            &merchant.to_string(),
            "--amount",
            "0.25",
            "--expires-in",
            "600",
        ],
    ));
    let token = json(&toss(
        "http://127.0.0.1:9",
        &key,
        &[
            "--output",
            "json",
            "intent",
            "create",
            "--pool",
            pool.to_str().unwrap(),
            "--nonce-index",
            "1",
            "--to",
            &merchant.to_string(),
            "--amount",
            "12.5",
            "--mint",
            &mint.to_string(),
            "--decimals",
            "6",
            "--expires-in",
            "600",
        ],
    ));
    let before_sol = chain.balances(&[merchant]).await[0];
    let mut ids = Vec::new();
    for intent in [&sol, &token] {
        let uri = intent["uri"].as_str().unwrap();
        toss(&rpc, &key, &["intent", "verify", uri]);
        let answer = json(&toss(
            &rpc,
            &key,
            &["--output", "json", "submit", uri, "--relayer", &relayer.url],
        ));
        assert_eq!(answer["status"], "pending", "{answer}");
        ids.push(answer["id"].as_str().unwrap().to_string());
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    for id in &ids {
        loop {
            let s = json(&toss(
                &rpc,
                &key,
                &["--output", "json", "status", id, "--relayer", &relayer.url],
            ));
            match s["status"].as_str().unwrap_or_default() {
                "settled" => break,
                "pending" | "queued" | "submitted" => {}
                other => panic!("CLI intent {id} ended {other}: {s}"),
            }
            assert!(
                Instant::now() < deadline,
                "CLI intent {id} not settled: {s}\n{}",
                relayer.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    // Read back from the chain: the merchant got exactly what was signed; both nonces moved.
    assert_eq!(chain.balances(&[merchant]).await[0], before_sol + SOL / 4);
    assert_eq!(chain.token_balances(&[merchant_ata]).await[0], 12_500_000);
    let pool_after = toss_sdk::wallet::fetch_pool(chain.cluster.as_ref(), &payer)
        .await
        .unwrap();
    for (i, cached) in pool_after.nonces.iter().enumerate().take(2) {
        let signed_value = [&sol, &token][i]["nonce_value"].as_str().unwrap();
        assert_ne!(cached.value, signed_value, "nonce {i} advanced");
    }
    (ids.len(), started.elapsed().as_secs_f64())
}

fn chain_url(chain: &Chain) -> String {
    chain.cluster.url()
}
