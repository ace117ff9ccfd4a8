//! `toss-bench pack|ingest|settle|noise|frames|arcium [--json]`: the figures the README and the
//! issue notes report, measured on this machine in one run each (ratios are taken within one run).

mod arcium;
mod frames;
mod ingest;
mod noise;
mod pack;
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
}

fn main() {
    let cli = Cli::parse();
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let result = match cli.bench {
        Bench::Pack => pack::run().map_err(|e| e.to_string()),
        Bench::Ingest => runtime().and_then(|rt| rt.block_on(ingest::run())),
        Bench::Settle => runtime().and_then(|rt| rt.block_on(settle::run())),
        Bench::Noise => runtime().and_then(|rt| rt.block_on(noise::run())),
        Bench::Frames => frames::run(),
        Bench::Arcium => arcium::run(),
    };
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
