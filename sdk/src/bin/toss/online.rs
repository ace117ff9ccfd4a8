//! The online commands: `setup`, `nonce list|close`, `withdraw request|execute` (JSON-RPC), and
//! `submit`, `status` (the relayer's HTTP API; `submit --noise` is in `noise.rs`).

use super::{keypair_path, pubkey, read_intent, Output};
use clap::{Args, Subcommand};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use toss_sdk::cluster::{url_for, RpcCluster};
use toss_sdk::{amount, keys, wallet};

/// `toss setup`: what a payer does once, online, before going offline.
#[derive(Args)]
pub struct SetupArgs {
    /// SOL to deposit into the vault (e.g. 1.5).
    #[arg(long, conflicts_with = "deposit_lamports")]
    deposit: Option<String>,
    /// Lamports to deposit into the vault.
    #[arg(long)]
    deposit_lamports: Option<u64>,
    /// Pool nonces to open (added after the highest open one).
    #[arg(long, default_value_t = 0)]
    nonces: u32,
    /// Token account to grant the allowance on (with --allowance).
    #[arg(long, requires = "allowance")]
    token_account: Option<String>,
    /// Token allowance in base units for token intents.
    #[arg(long, requires = "token_account")]
    allowance: Option<u64>,
    /// Token program of --token-account (default: SPL Token; Token-2022 also accepted).
    #[arg(long)]
    token_program: Option<String>,
    /// Write the pool file here afterwards (as `nonce list` does).
    #[arg(long)]
    pool: Option<PathBuf>,
}

/// `toss nonce ...`
#[derive(Subcommand)]
pub enum NonceCommand {
    /// Lists the pool with each nonce's current value and writes the pool file for offline use.
    List {
        /// Pool file to write (default: pool-<owner>.json in the current directory).
        #[arg(long)]
        pool: Option<PathBuf>,
    },
    /// Closes a pool nonce: `--request` first, then `--execute` after the delay.
    Close {
        /// Pool index.
        index: u32,
        /// Step two (after the delay); without it, step one.
        #[arg(long)]
        execute: bool,
    },
}

/// `toss withdraw ...`
#[derive(Subcommand)]
pub enum WithdrawCommand {
    /// Asks to withdraw from the vault (executable after the config's delay).
    Request {
        /// Amount in SOL (or lamports with --lamports).
        amount: String,
        /// The amount is in lamports.
        #[arg(long)]
        lamports: bool,
    },
    /// Executes the pending withdrawal.
    Execute,
}

/// Everything an online command needs.
pub struct Online<'a> {
    /// `-u/--url` as given.
    pub url: &'a str,
    /// `-k/--keypair`.
    pub keypair: &'a Option<PathBuf>,
    /// `--output`.
    pub output: Output,
}

impl Online<'_> {
    fn cluster(&self) -> Result<RpcCluster, String> {
        let url = url_for(self.url).ok_or_else(|| {
            format!(
                "--url {:?} is neither a moniker (devnet, testnet, mainnet-beta, localhost) nor an http(s) URL",
                self.url
            )
        })?;
        Ok(RpcCluster::new(&url))
    }

    fn signer(&self) -> Result<Keypair, String> {
        keys::read_keypair_file(&keypair_path(self.keypair)).map_err(|e| e.to_string())
    }

    fn runtime() -> Result<tokio::runtime::Runtime, String> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    }

    /// A progress bar on stderr for `what`, drawn only on a terminal and never with
    /// `--output json` (whose stdout is one JSON object and whose stderr stays quiet).
    fn bar(&self, what: &'static str) -> indicatif::ProgressBar {
        if self.output == Output::Json {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new_spinner().with_message(what);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg}: {pos}/{len} {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    }

    fn print(&self, json: serde_json::Value, text: String) -> String {
        match self.output {
            Output::Json => json.to_string(),
            Output::Text => text,
        }
    }

    /// `toss setup`.
    pub fn setup(&self, args: SetupArgs) -> Result<String, String> {
        let owner = self.signer()?;
        let cluster = self.cluster()?;
        let deposit = match (&args.deposit, args.deposit_lamports) {
            (Some(sol), None) => Some(amount::parse_sol(sol).map_err(|e| e.to_string())?),
            (None, Some(l)) => Some(l),
            _ => None,
        };
        let token = match (&args.token_account, args.allowance) {
            (Some(account), Some(allowance)) => {
                let program = match &args.token_program {
                    Some(p) => pubkey(p, "--token-program")?,
                    None => spl_token_2022_interface::inline_spl_token::ID,
                };
                Some((pubkey(account, "--token-account")?, program, allowance))
            }
            _ => None,
        };
        if deposit.is_none() && args.nonces == 0 && token.is_none() {
            return Err("nothing to do: give --deposit, --nonces or --token-account".into());
        }
        Self::runtime()?.block_on(async {
            let mut signatures = Vec::new();
            if let Some(lamports) = deposit {
                signatures.push(wallet::deposit(&cluster, &owner, lamports).await.map_err(|e| e.to_string())?);
            }
            if args.nonces > 0 {
                let pool = wallet::fetch_pool(&cluster, &owner.pubkey()).await.map_err(|e| e.to_string())?;
                let start = wallet::next_index(&pool);
                let end = start.checked_add(args.nonces).ok_or("--nonces is too large")?;
                let bar = self.bar("opening nonces");
                let tick = |done: u64, total: u64| {
                    bar.set_length(total);
                    bar.set_position(done);
                };
                let opened = wallet::open_nonces_with(&cluster, &owner, start..end, &tick).await;
                bar.finish_and_clear();
                signatures.extend(opened.map_err(|e| e.to_string())?);
            }
            if let Some((account, program, allowance)) = token {
                signatures.push(
                    wallet::approve(&cluster, &owner, &program, &account, allowance)
                        .await
                        .map_err(|e| e.to_string())?,
                );
            }
            let spendable = wallet::vault_spendable(&cluster, &owner.pubkey()).await.map_err(|e| e.to_string())?;
            let mut written = None;
            if let Some(path) = &args.pool {
                let pool = wallet::fetch_pool(&cluster, &owner.pubkey()).await.map_err(|e| e.to_string())?;
                write_pool(path, &pool)?;
                written = Some(path.display().to_string());
            }
            let sigs: Vec<String> = signatures.iter().map(|s| s.to_string()).collect();
            Ok(self.print(
                serde_json::json!({"signatures": sigs, "vault_spendable": spendable, "pool_file": written}),
                format!(
                    "{} transaction(s) confirmed; vault spendable: {} SOL{}",
                    sigs.len(),
                    amount::format_units(spendable, amount::SOL_DECIMALS),
                    written.map(|w| format!("; wrote {w}")).unwrap_or_default()
                ),
            ))
        })
    }

    /// `toss nonce list|close`.
    pub fn nonce(&self, command: NonceCommand) -> Result<String, String> {
        let owner = self.signer()?;
        let cluster = self.cluster()?;
        Self::runtime()?.block_on(async {
            match command {
                NonceCommand::List { pool } => {
                    let bar = self.bar("reading nonces");
                    let tick = |done: u64, total: u64| {
                        bar.set_length(total.max(done));
                        bar.set_position(done);
                    };
                    let fetched = wallet::fetch_pool_with(&cluster, &owner.pubkey(), &tick).await;
                    bar.finish_and_clear();
                    let file = fetched.map_err(|e| e.to_string())?;
                    let path = pool.unwrap_or_else(|| PathBuf::from(format!("pool-{}.json", owner.pubkey())));
                    write_pool(&path, &file)?;
                    let lines: Vec<String> = file
                        .nonces
                        .iter()
                        .map(|n| format!("{:>4}  {}  {}", n.index, n.address, n.value))
                        .collect();
                    Ok(self.print(
                        serde_json::json!({"pool_file": path, "pool": file}),
                        format!("{}\n{} nonce(s); wrote {}", lines.join("\n"), file.nonces.len(), path.display()),
                    ))
                }
                NonceCommand::Close { index, execute } => {
                    let sig = if execute {
                        wallet::nonce_close_execute(&cluster, &owner, index).await
                    } else {
                        wallet::nonce_close_request(&cluster, &owner, index).await
                    }
                    .map_err(|e| e.to_string())?;
                    let step = if execute { "closed" } else { "close requested" };
                    Ok(self.print(
                        serde_json::json!({"signature": sig.to_string(), "index": index, "step": step}),
                        format!("nonce {index}: {step} ({sig})"),
                    ))
                }
            }
        })
    }

    /// `toss withdraw request|execute`.
    pub fn withdraw(&self, command: WithdrawCommand) -> Result<String, String> {
        let owner = self.signer()?;
        let cluster = self.cluster()?;
        Self::runtime()?.block_on(async {
            let (sig, what) = match command {
                WithdrawCommand::Request {
                    amount: text,
                    lamports,
                } => {
                    let units = if lamports {
                        text.trim()
                            .parse::<u64>()
                            .map_err(|_| format!("invalid lamports {text:?}"))?
                    } else {
                        amount::parse_sol(&text).map_err(|e| e.to_string())?
                    };
                    (
                        wallet::withdraw_request(&cluster, &owner, units).await,
                        "withdrawal requested",
                    )
                }
                WithdrawCommand::Execute => (
                    wallet::withdraw_execute(&cluster, &owner).await,
                    "withdrawal executed",
                ),
            };
            let sig = sig.map_err(|e| e.to_string())?;
            Ok(self.print(
                serde_json::json!({"signature": sig.to_string(), "step": what}),
                format!("{what} ({sig})"),
            ))
        })
    }
}

fn write_pool(path: &Path, pool: &toss_sdk::pool_file::PoolFile) -> Result<(), String> {
    let text = serde_json::to_string_pretty(pool).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `toss submit` / `toss status`: the relayer's HTTP API (see the README).
pub fn relayer_call(
    relayer: &str,
    intent: Option<&str>,
    id: Option<&str>,
    output: Output,
) -> Result<String, String> {
    let base = relayer.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!("--relayer {relayer:?} is not an http(s) URL"));
    }
    let runtime = Online::runtime()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let request = match (intent, id) {
            (Some(intent), _) => {
                let signed = read_intent(intent)?;
                signed.verify().map_err(|e| e.to_string())?;
                client
                    .post(format!("{base}/v1/intents"))
                    .json(&serde_json::json!({"intent": signed.to_base64()}))
            }
            (None, Some(id)) => {
                if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("intent id {id:?} is not 64 hex characters"));
                }
                client.get(format!("{base}/v1/intents/{id}"))
            }
            (None, None) => return Err("nothing to ask".into()),
        };
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                "relayer did not answer in 30 s".to_string()
            } else {
                "relayer unreachable".to_string()
            }
        })?;
        let code = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|_| format!("relayer answered {code} without JSON"))?;
        print_answer(code.as_u16(), &body, output)
    })
}

/// A relayer's answer (HTTP or Noise) as `toss submit` / `toss status` print it: the record on
/// success; the error code as an `Err` otherwise.
pub fn print_answer(code: u16, body: &serde_json::Value, output: Output) -> Result<String, String> {
    if !(200..300).contains(&code) {
        let err = &body["error"];
        return Err(format!(
            "relayer refused ({code}): {}: {}",
            err["code"].as_str().unwrap_or("unknown"),
            err["message"].as_str().unwrap_or("")
        ));
    }
    Ok(match output {
        Output::Json => body.to_string(),
        Output::Text => {
            let mut line = format!(
                "{}  {}",
                body["id"].as_str().unwrap_or("?"),
                body["status"].as_str().unwrap_or("?")
            );
            for key in ["signature", "reason", "slot"] {
                if !body[key].is_null() {
                    line.push_str(&format!("  {key}={}", body[key]));
                }
            }
            line
        }
    })
}
