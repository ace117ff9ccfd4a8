//! The in-process cluster as the relayer uses it (`demo`, `run --local`, tests): the real
//! program (native, or the deployable `.so` when one is built), its config initialized, and a
//! funded fee payer.

use crate::RelayerError;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::PathBuf;
use toss_intent_processor::instructions::ConfigInitializeArgs;
use toss_sdk::cluster::{LocalCluster, LocalProgram};
use toss_sdk::instructions::config_initialize_ix;
use toss_sdk::wallet;

/// Lamports in one SOL.
pub const SOL: u64 = 1_000_000_000;
/// Longest intent lifetime the local program accepts, seconds.
pub const MAX_INTENT_LIFETIME_SECS: i64 = 3_600;
/// Largest relayer fee the local program allows, lamports.
pub const MAX_RELAYER_FEE: u64 = 50_000;
/// Vault withdrawal delay of the local program, seconds.
pub const WITHDRAWAL_DELAY_SECS: i64 = 7_200;

/// Where the SBF build puts the deployable program.
pub fn default_program_so() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/toss_intent_processor.so")
}

/// The `.so` if it was built (`./scripts/test` builds it), else the program compiled natively.
pub fn pick_program(so: Option<PathBuf>) -> LocalProgram {
    match so {
        Some(path) => LocalProgram::Bpf(path),
        None => {
            let path = default_program_so();
            if path.exists() {
                LocalProgram::Bpf(path)
            } else {
                LocalProgram::Native
            }
        }
    }
}

/// A short description of `program` for humans.
pub fn describe(program: &LocalProgram) -> String {
    match program {
        LocalProgram::Native => "the program compiled natively".into(),
        LocalProgram::Bpf(p) => format!("the deployable program {}", p.display()),
    }
}

/// Starts the cluster with `program`, initializes the program config, and funds a fee payer.
pub async fn start(program: LocalProgram) -> Result<(LocalCluster, Keypair), RelayerError> {
    let cluster = LocalCluster::start(program).await?;
    let authority = cluster.upgrade_authority().insecure_clone();
    let args = ConfigInitializeArgs {
        admin: authority.pubkey(),
        max_intent_lifetime_secs: MAX_INTENT_LIFETIME_SECS,
        max_relayer_fee: MAX_RELAYER_FEE,
        withdrawal_delay_secs: WITHDRAWAL_DELAY_SECS,
        paused: false,
        withdrawal_window_secs: toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS,
    };
    wallet::send(
        &cluster,
        &authority,
        &[config_initialize_ix(&authority.pubkey(), args)],
        &[],
    )
    .await?;
    let fee_payer = Keypair::new();
    wallet::transfer(&cluster, cluster.faucet(), &fee_payer.pubkey(), 100 * SOL).await?;
    Ok((cluster, fee_payer))
}

/// A funded keypair.
pub async fn funded(cluster: &LocalCluster, lamports: u64) -> Result<Keypair, RelayerError> {
    let user = Keypair::new();
    wallet::transfer(cluster, cluster.faucet(), &user.pubkey(), lamports).await?;
    Ok(user)
}
