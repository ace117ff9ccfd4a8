//! The program's real deploy path on the validator: the `.so` is loaded through the
//! upgradeable loader (`--upgradeable-program`, so a real ProgramData account names the
//! upgrade authority), then `migrations/deploy.ts` initializes the config exactly as
//! `anchor migrate` would, through the official Anchor TS client (`clients/ts/migrate.cjs`).

use crate::chain::Chain;
use crate::node::Validator;
use std::path::PathBuf;
use std::process::Command;
use toss_intent_processor::state::Config;

fn clients_ts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../clients/ts")
}

/// Installs the TS client's locked dependencies when they are missing (`npm ci`).
fn ensure_node_modules() {
    let dir = clients_ts();
    if dir.join("node_modules/@anchor-lang/core").is_dir() {
        return;
    }
    let ok = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "npm ci in clients/ts failed (node and npm are needed for the deploy script)"
    );
}

/// Runs the deploy script with the upgrade authority as the provider wallet; returns its
/// output. Panics (with the script's output) when it fails.
pub fn migrate(v: &Validator, extra_env: &[(&str, &str)]) -> String {
    ensure_node_modules();
    let out = Command::new("node")
        .arg(clients_ts().join("migrate.cjs"))
        .env("ANCHOR_PROVIDER_URL", &v.rpc_url)
        .env("ANCHOR_WALLET", &v.authority_file)
        .envs(extra_env.iter().copied())
        .output()
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "deploy script failed:\n{text}");
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
