//! The program's real deploy path on the validator, as users run it: `anchor deploy` uploads
//! the deployable `.so` through the upgradeable loader (a real ProgramData account names the
//! upgrade authority), `anchor migrate` runs `migrations/deploy.ts` (through the official
//! Anchor TS client and `ts-node`, from the root `package.json`) to initialize the config,
//! and `anchor upgrade` replaces the program later in the run.
//!
//! `anchor` is `$TOSS_ANCHOR`, else `anchor` on `PATH` or in `~/.cargo/bin` (anchor-cli 1.0.2,
//! installed by `scripts/install-validator`).

use crate::chain::Chain;
use crate::node::Validator;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use toss_intent_processor::state::Config;

/// Installs the workspace's locked Node dependencies when they are missing (`npm ci` at the
/// root): the official Anchor TS client and `ts-node`, which `anchor migrate` runs the
/// deploy script with.
fn ensure_node_modules() {
    let dir = workspace();
    if dir.join("node_modules/@anchor-lang/core").is_dir()
        && dir.join("node_modules/.bin/ts-node").exists()
    {
        return;
    }
    let ok = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "npm ci in the workspace root failed (node and npm are needed for anchor migrate)"
    );
}

/// `anchor migrate` with the upgrade authority as the provider wallet: Anchor writes its
/// runner to `.anchor/deploy.ts` and runs it with `npm run ts-node` (Anchor.toml
/// `package_manager = "npm"`), which calls `migrations/deploy.ts` with the provider. Returns
/// the output; panics (with it) when the script fails.
pub fn migrate(v: &Validator, extra_env: &[(&str, &str)]) -> String {
    ensure_node_modules();
    let text = anchor_env(v, &["migrate"], extra_env);
    assert!(text.contains("Deploy complete."), "anchor migrate:\n{text}");
    text
}

/// The config once the chain shows it at the suite's (`confirmed`) commitment: the deploy
/// script's provider confirms at `processed`, so the account can take a slot or two to appear.
pub async fn wait_config(chain: &Chain) -> Config {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(config) = config(chain).await {
            return config;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "config not visible at confirmed commitment 30 s after the deploy script"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The program's config as the chain has it.
pub async fn config(chain: &Chain) -> Option<Config> {
    use anchor_lang::AccountDeserialize;
    let (address, _) = Config::find_address();
    let account = toss_sdk::cluster::Cluster::account(chain.cluster.as_ref(), &address)
        .await
        .expect("config account")?;
    assert_eq!(
        account.owner,
        toss_intent_processor::ID,
        "config owned by the program"
    );
    Config::try_deserialize(&mut account.data.as_slice()).ok()
}

/// The `anchor` binary (see the module docs).
pub fn anchor_bin() -> PathBuf {
    crate::node::tool("TOSS_ANCHOR", "anchor")
        .expect("anchor not found: run scripts/install-validator or set TOSS_ANCHOR")
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `anchor <args> --provider.cluster <rpc> --provider.wallet <authority>` in the
/// workspace; returns its output. Panics (with the output) when it fails.
fn anchor(v: &Validator, args: &[&str]) -> String {
    anchor_env(v, args, &[])
}

/// [`anchor`] with extra environment variables for the command.
fn anchor_env(v: &Validator, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(anchor_bin())
        .args(args)
        .envs(env.iter().copied())
        .arg("--provider.cluster")
        .arg(&v.rpc_url)
        .arg("--provider.wallet")
        .arg(&v.authority_file)
        .current_dir(workspace())
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .expect("run anchor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "anchor {args:?} failed:\n{text}");
    text
}

/// The ProgramData account of the program: (last deploy slot, upgrade authority).
async fn program_data(chain: &Chain) -> Option<(u64, Option<Pubkey>)> {
    let loader: Pubkey = "BPFLoaderUpgradeab1e11111111111111111111111"
        .parse()
        .expect("loader id");
    let (address, _) = Pubkey::find_program_address(&[toss_intent_processor::ID.as_ref()], &loader);
    let account = toss_sdk::cluster::Cluster::account(chain.cluster.as_ref(), &address)
        .await
        .expect("programdata account")?;
    // UpgradeableLoaderState::ProgramData: u32 tag 3, u64 slot, Option<Pubkey>.
    let d = &account.data;
    if d.len() < 13 || d[..4] != [3, 0, 0, 0] {
        return None;
    }
    let slot = u64::from_le_bytes(d[4..12].try_into().ok()?);
    let authority = match d[12] {
        1 => Some(Pubkey::new_from_array(d.get(13..45)?.try_into().ok()?)),
        _ => None,
    };
    Some((slot, authority))
}

/// Waits (30 s at most) until the ProgramData account shows a deploy after `after_slot`.
async fn wait_deployed(chain: &Chain, after_slot: Option<u64>) -> (u64, Option<Pubkey>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((slot, authority)) = program_data(chain).await {
            if after_slot.is_none_or(|s| slot > s) {
                return (slot, authority);
            }
        }
        assert!(
            Instant::now() < deadline,
            "the program's ProgramData did not show the deploy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `anchor deploy` of the workspace's program with its committed key
/// (`keys/toss_intent_processor-keypair.json`), the validator's authority as the provider
/// wallet (and so the upgrade authority). Returns the seconds it took.
pub async fn anchor_deploy(v: &Validator, chain: &Chain) -> f64 {
    let started = Instant::now();
    let out = anchor(
        v,
        &[
            "deploy",
            "--program-name",
            "toss_intent_processor",
            "--program-keypair",
            "keys/toss_intent_processor-keypair.json",
        ],
    );
    assert!(
        out.contains(&format!("Program ID: {}", toss_intent_processor::ID)),
        "{out}"
    );
    let (_, authority) = wait_deployed(chain, None).await;
    assert_eq!(
        authority,
        Some(v.authority.pubkey()),
        "the provider wallet is the upgrade authority"
    );
    started.elapsed().as_secs_f64()
}

/// `anchor upgrade` with the deployable `.so`: the ProgramData account shows a newer deploy
/// slot and the same authority. Returns the seconds it took.
pub async fn anchor_upgrade(v: &Validator, chain: &Chain) -> f64 {
    let started = Instant::now();
    let (before, _) = program_data(chain).await.expect("deployed");
    let id = toss_intent_processor::ID.to_string();
    anchor(
        v,
        &[
            "upgrade",
            "target/deploy/toss_intent_processor.so",
            "--program-id",
            &id,
        ],
    );
    let (_, authority) = wait_deployed(chain, Some(before)).await;
    assert_eq!(authority, Some(v.authority.pubkey()));
    started.elapsed().as_secs_f64()
}
