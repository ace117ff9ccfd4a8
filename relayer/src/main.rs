//! `toss-relayer`: parses arguments, loads config, starts the service. Nothing else.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use solana_signer::Signer;
use std::path::PathBuf;
use std::sync::Arc;
use toss_relayer::config::{Cluster as ClusterName, Commitment, Config, StoreKind};
use toss_relayer::store::{SqliteStore, Store};
use toss_relayer::{demo, local, Relayer};
use toss_sdk::cluster::{Cluster, RpcCluster};

#[derive(Parser)]
#[command(
    name = "toss-relayer",
    version,
    about = "Settles signed offline TOSS intents on Solana"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the service.
    Run {
        /// Config file (TOML); defaults apply without one.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Listen address (overrides `[server] listen`).
        #[arg(long)]
        listen: Option<String>,
        /// Runs on the in-process cluster with a funded demo payer (try the API by hand).
        #[arg(long)]
        local: bool,
        /// Program `.so` for `--local` (default: the built one, else the native program).
        #[arg(long)]
        program_so: Option<PathBuf>,
    },
    /// Runs the end-to-end demo on the in-process cluster and prints a summary.
    Demo {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Offline payers.
        #[arg(long, default_value_t = 8)]
        payers: usize,
        /// Nonce accounts (intents) per payer.
        #[arg(long, default_value_t = 4)]
        nonces: u32,
        /// Legacy transactions instead of v0 with a lookup table.
        #[arg(long)]
        legacy: bool,
        /// Settle form: auto, compact or precompile (`submit.verification`).
        #[arg(long, default_value = "auto")]
        verification: toss_relayer::config::Verification,
        /// Program `.so` (default: the built one, else the native program).
        #[arg(long)]
        program_so: Option<PathBuf>,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The relayer's keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Prints the Noise endpoint's signed key record (JSON), the one `GET /v1/noise/key`
    /// serves, for clients to pin. Reads the `[noise] identity` or fee payer keypair file.
    Show {
        /// Config file (TOML); defaults apply without one.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Loads FILE, applies environment overrides, validates; exit 0 when usable.
    Validate {
        /// The config file.
        file: PathBuf,
    },
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(dispatch(cli.command)) {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ")
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Config {
            command: ConfigCommand::Validate { file },
        } => {
            let config = Config::resolve(Some(&file), |k| std::env::var(k).ok())?;
            println!(
                "{}: ok (cluster {}, store {:?}, listen {})",
                file.display(),
                config.cluster.cluster,
                config.store.kind,
                config.server.listen
            );
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Show { config },
        } => {
            let config = Config::resolve(config.as_deref(), |k| std::env::var(k).ok())?;
            let path = match &config.noise.identity {
                Some(p) => p.expose().clone(),
                None => config.cluster.fee_payer.expose().clone(),
            };
            let root = toss_sdk::keys::read_keypair_file(&path)
                .context("the Noise identity keypair ([noise] identity or the fee payer)")?;
            let identity = toss_relayer::noise::load_identity(&config.noise, &root)?;
            println!("{}", serde_json::to_string_pretty(&identity.record)?);
            Ok(())
        }
        Command::Demo {
            json,
            payers,
            nonces,
            legacy,
            verification,
            program_so,
        } => {
            if std::env::var_os("RUST_LOG").is_none() {
                // The in-process bank logs every instruction at debug level otherwise, and the
                // summary reads best without the relayer's info lines around it (they go to
                // stderr; RUST_LOG=toss_relayer=info shows them).
                // The bank's RPC client and metrics warn about their own plumbing on every
                // call; only this crate's warnings are worth showing next to the summary.
                std::env::set_var(
                    "RUST_LOG",
                    if json {
                        "error"
                    } else {
                        "warn,tarpc=error,solana_metrics=error"
                    },
                );
            }
            if !json {
                toss_relayer::logging::init(&Default::default());
            }
            let opts = demo::DemoOptions {
                payers: payers.max(4),
                nonces: nonces.clamp(1, 16),
                lookup_table: !legacy,
                program: local::pick_program(program_so),
                verification,
                ..Default::default()
            };
            let report = demo::run(opts).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_summary(&report);
            }
            if !report.balances_ok {
                bail!("merchant balances do not match the settled intents");
            }
            Ok(())
        }
        Command::Run {
            config,
            listen,
            local: is_local,
            program_so,
        } => run(config, listen, is_local, program_so).await,
    }
}

fn print_summary(r: &demo::DemoReport) {
    println!("TOSS demo on the in-process cluster ({})", r.program);
    println!("  intents handed in over HTTP   {}", r.intents);
    println!("  settled                       {}", r.settled);
    println!("  refused (vault too poor)      {}", r.refused);
    println!("  rejected on-chain             {}", r.rejected);
    println!("  conflicts (double spend)      {}", r.conflicts);
    println!("  expired                       {}", r.expired);
    println!(
        "  settle transactions           {} ({:.2} intents each, {})",
        r.transactions,
        r.intents_per_tx,
        if r.lookup_table {
            "v0 + lookup table"
        } else {
            "legacy"
        }
    );
    let forms: Vec<String> = r
        .transactions_by_form
        .iter()
        .map(|(form, n)| format!("{n} {form}"))
        .collect();
    let label = format!("  settle form ({})", r.verification);
    println!("{label:<32}{}", forms.join(", "));
    println!(
        "  fees paid by the relayer      {} lamports ({:.0} per payment)",
        r.fees_lamports, r.lamports_per_payment
    );
    if r.lookup_table {
        println!(
            "  lookup-table coverage         {:.0} % of intents ({} own table(s), {} lamports of rent locked)",
            r.table_coverage * 100.0,
            r.managed_tables,
            r.table_rent_lamports
        );
    }
    println!("  setup {} ms, settlement {} ms", r.setup_ms, r.elapsed_ms);
    println!(
        "  merchant balances match settled intents: {}",
        if r.balances_ok { "yes" } else { "NO" }
    );
}

async fn run(
    path: Option<PathBuf>,
    listen: Option<String>,
    is_local: bool,
    program_so: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut config = Config::load(path.as_deref())?;
    config.apply_env(|k| std::env::var(k).ok())?;
    if let Some(addr) = listen {
        config.server.listen = addr;
    }
    let is_local = is_local || config.cluster.cluster == ClusterName::LocalInprocess;
    if is_local {
        config.cluster.cluster = ClusterName::LocalInprocess;
    }
    config.validate()?;
    toss_relayer::logging::init(&config.log);
    if config.cluster.program_id != toss_intent_processor::ID.to_string() {
        bail!(
            "this build settles for program {}, the config names {}",
            toss_intent_processor::ID,
            config.cluster.program_id
        );
    }
    let store: Arc<dyn Store> = match config.store.kind {
        StoreKind::Sqlite => Arc::new(
            SqliteStore::open(&config.store.path)
                .with_context(|| format!("store {}", config.store.path.display()))?,
        ),
        StoreKind::Postgres => {
            let url = config
                .store
                .url
                .as_ref()
                .map(|u| u.expose().clone())
                .unwrap_or_default();
            let pg = toss_relayer::store::PgStore::connect(&url)
                .await
                .context("postgres store ([store] url / TOSS_DATABASE_URL)")?;
            let tls = pg.tls_version().await.ok().flatten();
            if pg.server_authenticated() || pg.is_local() {
                tracing::info!(
                    sslmode = pg.ssl_mode().as_str(),
                    tls = ?tls,
                    server_authenticated = pg.server_authenticated(),
                    "postgres store connected"
                );
            } else {
                tracing::warn!(
                    sslmode = pg.ssl_mode().as_str(),
                    tls = ?tls,
                    "postgres: the database server is not authenticated; for a database on \
                     another machine set sslmode=verify-full and sslrootcert in the URL"
                );
            }
            Arc::new(pg)
        }
    };
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let (cluster, fee_payer): (Arc<dyn Cluster>, _) = if is_local {
        let program = local::pick_program(program_so);
        let (cluster, fee_payer) = local::start(program.clone()).await?;
        let dir = config
            .store
            .path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let payer = local::funded(&cluster, 20 * local::SOL).await?;
        toss_sdk::wallet::deposit(&cluster, &payer, 10 * local::SOL).await?;
        toss_sdk::wallet::open_nonces(&cluster, &payer, 0..8).await?;
        let pool = toss_sdk::wallet::fetch_pool(&cluster, &payer.pubkey()).await?;
        let key_path = dir.join("toss-local-payer.json");
        let pool_path = dir.join("toss-local-pool.json");
        toss_sdk::keys::write_keypair_file(&payer, &key_path)?;
        std::fs::write(&pool_path, serde_json::to_string_pretty(&pool)?)
            .with_context(|| format!("cannot write {}", pool_path.display()))?;
        println!("program id:    {}", toss_intent_processor::ID);
        println!("program:       {}", local::describe(&program));
        println!(
            "demo payer:    {} (keypair {})",
            payer.pubkey(),
            key_path.display()
        );
        println!(
            "payer pool:    {} (8 nonces, 10 SOL in the vault)",
            pool_path.display()
        );
        (Arc::new(cluster), fee_payer)
    } else {
        let url = config
            .cluster
            .effective_rpc_url()
            .context("no RPC URL for this cluster")?;
        let commitment = match config.cluster.commitment {
            Commitment::Processed => solana_commitment_config::CommitmentConfig::processed(),
            Commitment::Confirmed => solana_commitment_config::CommitmentConfig::confirmed(),
            Commitment::Finalized => solana_commitment_config::CommitmentConfig::finalized(),
        };
        let cluster =
            RpcCluster::with_commitment(&url, commitment, std::time::Duration::from_secs(30));
        let fee_payer = toss_sdk::keys::read_keypair_file(config.cluster.fee_payer.expose())
            .context("fee payer keypair (TOSS_FEE_PAYER)")?;
        (Arc::new(cluster), fee_payer)
    };
    let tables = match (&config.batch.lookup_table, config.batch.use_lookup_table) {
        (Some(address), true) => {
            let key: solana_pubkey::Pubkey = address.parse().context("batch.lookup_table")?;
            let account = cluster
                .account(&key)
                .await?
                .context("the configured lookup table does not exist")?;
            vec![toss_sdk::pack::lookup_table_account(key, &account.data)?]
        }
        _ => Vec::new(),
    };
    let relayer = Relayer::new(Arc::new(config), cluster, store, fee_payer)?
        .with_lookup_tables(tables)
        .start(listener)
        .await?;
    println!("listening on:  {}", relayer.url());
    if let Some(addr) = relayer.noise_addr {
        println!(
            "noise on:      {addr} (key record: {}/v1/noise/key)",
            relayer.url()
        );
    }
    tokio::select! {
        _ = shutdown_signal() => {}
        why = relayer.failed() => bail!("{why}"),
    }
    relayer.shutdown().await?;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
