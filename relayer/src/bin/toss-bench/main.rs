//! `toss-bench pack|ingest|settle|noise|frames|arcium [--json]`: the figures the README and the
//! issue notes report, measured on this machine in one run each (ratios are taken within one run).

mod arcium;
mod frames;
mod ingest;
mod noise;
mod pack;
mod progress;
mod settle;

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Bench {
    /// Intents per settle transaction, by serialized size; packer speed.
    Pack,
    /// Intake over HTTP with durable commit vs raw `verify_strict`; latency at half load.
    Ingest,
    /// End-to-end settlement on the in-process cluster vs plain bank transfers.
    Settle,
    /// Noise handshake time per pattern; transport encrypt/decrypt throughput.
    Noise,
    /// Offline transport frames for real intents: BLE, NFC, QR.
    Frames,
    /// Arcium confidential mode: encryption latency per intent (and its parts).
    Arcium,
}

#[derive(Parser)]
#[command(name = "toss-bench", about = "TOSS benchmarks")]
struct Cli {
    /// Which benchmark.
    bench: Bench,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// `ingest` and `settle`: also measure on PostgreSQL (SQLite is always measured, for
    /// the ratio).
    #[arg(long, value_enum, default_value = "sqlite")]
    store: StoreArg,
    /// `settle --store postgres`: measure 1 to N relayer instances sharing the database.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// `settle`: nonce accounts per payer, one intent each (64 payers: the default 16 is
    /// 1,024 intents, a run of ~0.2 s on SQLite; larger runs weigh the pipeline's fixed
    /// latencies less).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    nonces: u32,
    /// PostgreSQL server (each measurement gets a fresh schema in it); default
    /// `TOSS_DATABASE_URL`, then `TOSS_TEST_DATABASE_URL` (what `scripts/pg start` prints).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreArg {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server to measure on, if asked.
fn database_url(cli: &Cli) -> Result<Option<String>, String> {
    if cli.store == StoreArg::Sqlite {
        return Ok(None);
    }
    cli.database_url
        .clone()
        .or_else(|| std::env::var("TOSS_DATABASE_URL").ok())
        .or_else(|| std::env::var("TOSS_TEST_DATABASE_URL").ok())
        .filter(|u| !u.is_empty())
        .map(Some)
        .ok_or_else(|| {
            "--store postgres needs --database-url (or TOSS_DATABASE_URL; scripts/pg start \
             prints one)"
                .to_string()
        })
}

/// A fresh schema for one measurement.
async fn fresh_schema(base: String, what: String) -> Result<String, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("bench_{what}_{}_{nanos}", std::process::id());
    toss_relayer::store::PgStore::schema_url(&base, &name)
        .await
        .map_err(|e| e.to_string())
}

fn main() {
    let cli = Cli::parse();
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let pg = match database_url(&cli) {
        Ok(pg) => pg,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let phases = match cli.bench {
        Bench::Ingest => 3 + u64::from(pg.is_some()),
        Bench::Pack => 2,
        Bench::Settle => {
            5 + if pg.is_some() {
                cli.instances.max(1) as u64
            } else {
                0
            }
        }
        _ => 1,
    };
    progress::start(phases, cli.json);
    let result = match cli.bench {
        Bench::Pack => {
            runtime().and_then(|rt| rt.block_on(pack::run(toss_relayer::local::pick_program(None))))
        }
        Bench::Ingest => runtime().and_then(|rt| {
            rt.block_on(async {
                let url = match pg {
                    Some(base) => Some(fresh_schema(base, "ingest".into()).await?),
                    None => None,
                };
                ingest::run(url).await
            })
        }),
        Bench::Settle => runtime().and_then(|rt| {
            let url_for =
                pg.map(|base| move |n: usize| fresh_schema(base.clone(), format!("settle{n}")));
            rt.block_on(settle::run(url_for, cli.instances, cli.nonces))
        }),
        Bench::Noise => runtime().and_then(|rt| rt.block_on(noise::run())),
        Bench::Frames => frames::run(),
        Bench::Arcium => arcium::run(),
    };
    progress::finish();
    match result {
        Ok(v) if cli.json => println!("{v}"),
        Ok(v) => {
            if let Some(map) = v.as_object() {
                for (k, val) in map {
                    println!("{k}: {val}");
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}
