//! `toss`: the payer's and payee's command line. Offline commands: `keygen`, `intent create`
//! (from the cached pool file), `intent show`, `intent verify`, `intent qr`. Online: `setup`,
//! `nonce list|close`, `withdraw request|execute` (JSON-RPC, `-u`), `submit`, `status` (relayer;
//! `submit --noise` over its Noise endpoint).
//! Debugging: `arcium encrypt|decrypt` (Arcium's MXE cipher by hand).
//! Errors: one line on stderr, exit code 1 (2 for usage errors, from clap).

mod arcium;
mod noise;
mod online;

use clap::{Args, Parser, Subcommand, ValueEnum};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::PathBuf;
use std::str::FromStr;
use toss_sdk::{amount, keys, pool_file::PoolFile, qr, Intent, SignedIntent};

#[derive(Parser)]
#[command(
    name = "toss",
    version,
    about = "Offline Solana payments: create, sign, carry and check intents"
)]
struct Cli {
    /// Keypair file (solana-keygen format).
    #[arg(short = 'k', long, global = true)]
    keypair: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// JSON-RPC URL or moniker: devnet, testnet, mainnet-beta, localhost.
    #[arg(
        short = 'u',
        long,
        global = true,
        env = "SOLANA_RPC_URL",
        default_value = "localhost"
    )]
    url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Generates a keypair file (refuses to overwrite one).
    Keygen {
        /// Where to write it (default: the --keypair path or ~/.config/solana/id.json).
        #[arg(long)]
        outfile: Option<PathBuf>,
    },
    /// Intents: create (offline), show, verify, qr.
    #[command(subcommand)]
    Intent(IntentCommand),
    /// Online once before going offline: deposit, open nonces, grant a token allowance.
    Setup(online::SetupArgs),
    /// The nonce pool: list (and cache for offline use), close.
    #[command(subcommand)]
    Nonce(online::NonceCommand),
    /// Vault withdrawals (two steps, with the config's delay between them).
    #[command(subcommand)]
    Withdraw(online::WithdrawCommand),
    /// Arcium confidential mode: encrypt / decrypt scalars with the MXE cipher (debugging).
    #[command(subcommand)]
    Arcium(arcium::ArciumCommand),
    /// Hands a signed intent to a relayer (HTTP, or its Noise endpoint with --noise).
    Submit {
        /// The intent (base64, toss: URI, or - for stdin).
        intent: String,
        /// Relayer base URL.
        #[arg(
            long,
            env = "TOSS_RELAYER_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        relayer: String,
        /// Submit over the relayer's Noise endpoint at HOST:PORT instead of HTTP.
        #[arg(long, value_name = "HOST:PORT")]
        noise: Option<String>,
        /// Noise pattern (default: ik with --relayer-key, else xx).
        #[arg(long, value_enum, requires = "noise")]
        pattern: Option<noise::PatternArg>,
        /// The relayer's Noise key: its X25519 key (hex or base58), or its key record
        /// (`GET /v1/noise/key`, JSON or a file holding it).
        #[arg(long, requires = "noise", value_name = "KEY")]
        relayer_key: Option<String>,
        /// Device id this client's Noise key is derived for (from -k), in xx and ik.
        #[arg(long, default_value = "toss-cli")]
        device_id: String,
    },
    /// Asks a relayer for an intent's status.
    Status {
        /// Intent id (64 hex characters).
        id: String,
        /// Relayer base URL.
        #[arg(
            long,
            env = "TOSS_RELAYER_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        relayer: String,
    },
}

#[derive(Subcommand)]
enum IntentCommand {
    /// Creates and signs an intent offline, from the cached pool file.
    Create(CreateArgs),
    /// Decodes an intent (base64, toss: URI, or - for stdin).
    Show { intent: String },
    /// Verifies signature and expiry; exit code 1 if not valid.
    Verify {
        intent: String,
        /// Unix time to check expiry against (default: now).
        #[arg(long)]
        now: Option<i64>,
    },
    /// Renders the intent's toss: URI as a QR code in the terminal, or as PNG.
    Qr {
        intent: String,
        /// Write a PNG here instead.
        #[arg(long)]
        png: Option<PathBuf>,
    },
}

#[derive(Args)]
struct CreateArgs {
    /// Recipient wallet (base58).
    #[arg(long)]
    to: String,
    /// Amount in SOL (e.g. 1.5), or in tokens with --mint and --decimals.
    #[arg(long, conflicts_with = "lamports")]
    amount: Option<String>,
    /// Amount in lamports (or token base units).
    #[arg(long)]
    lamports: Option<u64>,
    /// Token mint (base58) for a token intent.
    #[arg(long, requires = "decimals")]
    mint: Option<String>,
    /// The mint's decimals (for --amount of a token).
    #[arg(long)]
    decimals: Option<u8>,
    /// Pool file cached by `toss nonce list`.
    #[arg(long)]
    pool: PathBuf,
    /// Which pool nonce to consume.
    #[arg(long)]
    nonce_index: u32,
    /// Lifetime in seconds (default: $DEFAULT_INTENT_EXPIRY_SECONDS or 3600, at most the
    /// program's max intent lifetime from the pool file minus 60 s).
    #[arg(long)]
    expires_in: Option<i64>,
    /// Most the relayer may take, in base units.
    #[arg(long, default_value_t = 5_000)]
    max_fee: u64,
    /// 32-byte reference (base58) to match the payment to an order.
    #[arg(long)]
    reference: Option<String>,
    /// Unix time of signing (default: now).
    #[arg(long)]
    now: Option<i64>,
}

/// Intent lifetime `toss intent create` uses without `--expires-in` (seconds), capped by the
/// program's bound when the pool file carries it.
const DEFAULT_LIFETIME_SECS: i64 = 3_600;

/// How far the cluster's clock may lag the device's: a default expiry stays this far inside
/// the program's lifetime bound, so the intent settles as soon as it reaches a relayer.
const CLOCK_MARGIN_SECS: i64 = 60;

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(text) => println!("{text}"),
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn keypair_path(cli_path: &Option<PathBuf>) -> PathBuf {
    cli_path.clone().unwrap_or_else(keys::default_keypair_path)
}

pub(crate) fn pubkey(text: &str, what: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(text.trim())
        .map_err(|_| format!("{what} is not a base58 public key: {text:?}"))
}

pub(crate) fn read_intent(arg: &str) -> Result<SignedIntent, String> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| e.to_string())?;
        s
    } else {
        arg.to_string()
    };
    let text = text.trim();
    let parsed = if text.starts_with(toss_sdk::signed::URI_SCHEME) {
        SignedIntent::from_uri(text)
    } else {
        SignedIntent::from_base64(text)
    };
    parsed.map_err(|e| e.to_string())
}

fn describe(signed: &SignedIntent, intent: &Intent, output: Output) -> String {
    let id: String = signed.id().iter().map(|b| format!("{b:02x}")).collect();
    let mint = intent.mint.map(|m| m.to_string());
    if output == Output::Json {
        return serde_json::json!({
            "id": id,
            "sender": intent.sender.to_string(),
            "recipient": intent.recipient.to_string(),
            "mint": mint,
            "amount": intent.amount,
            "nonce_account": intent.nonce_account.to_string(),
            "nonce_value": bs58::encode(intent.nonce_value).into_string(),
            "expiry": intent.expiry,
            "max_fee": intent.max_fee,
            "reference": intent.reference.map(|r| bs58::encode(r).into_string()),
            "base64": signed.to_base64(),
            "uri": signed.to_uri(),
        })
        .to_string();
    }
    let amount = match intent.mint {
        None => format!(
            "{} SOL",
            amount::format_units(intent.amount, amount::SOL_DECIMALS)
        ),
        Some(m) => format!("{} base units of {m}", intent.amount),
    };
    format!(
        "id:        {id}\nfrom:      {}\nto:        {}\namount:    {amount}\nmax fee:   {}\nnonce:     {} @ {}\nexpires:   {}\nbase64:    {}\nuri:       {}",
        intent.sender,
        intent.recipient,
        intent.max_fee,
        intent.nonce_account,
        bs58::encode(intent.nonce_value).into_string(),
        intent.expiry,
        signed.to_base64(),
        signed.to_uri(),
    )
}

fn run(cli: Cli) -> Result<String, String> {
    let online = online::Online {
        url: &cli.url,
        keypair: &cli.keypair,
        output: cli.output,
    };
    match cli.command {
        Command::Setup(args) => online.setup(args),
        Command::Nonce(command) => online.nonce(command),
        Command::Withdraw(command) => online.withdraw(command),
        Command::Arcium(command) => arcium::run(command, cli.output),
        Command::Submit {
            intent,
            relayer: _,
            noise: Some(addr),
            pattern,
            relayer_key,
            device_id,
        } => noise::submit(noise::NoiseSubmit {
            addr: &addr,
            intent: &intent,
            pattern,
            relayer_key: relayer_key.as_deref(),
            device_id: &device_id,
            keypair: &cli.keypair,
            output: cli.output,
        }),
        Command::Submit {
            intent, relayer, ..
        } => online::relayer_call(&relayer, Some(&intent), None, cli.output),
        Command::Status { id, relayer } => {
            online::relayer_call(&relayer, None, Some(&id), cli.output)
        }
        Command::Keygen { outfile } => {
            let path = outfile.unwrap_or_else(|| keypair_path(&cli.keypair));
            let keypair = Keypair::new();
            keys::write_keypair_file(&keypair, &path).map_err(|e| e.to_string())?;
            Ok(match cli.output {
                Output::Json => {
                    serde_json::json!({"pubkey": keypair.pubkey().to_string(), "path": path})
                        .to_string()
                }
                Output::Text => format!("pubkey: {}\nwrote {}", keypair.pubkey(), path.display()),
            })
        }
        Command::Intent(IntentCommand::Create(args)) => {
            let keypair =
                keys::read_keypair_file(&keypair_path(&cli.keypair)).map_err(|e| e.to_string())?;
            let pool_text = std::fs::read_to_string(&args.pool)
                .map_err(|e| format!("pool file {}: {e}", args.pool.display()))?;
            let pool = PoolFile::parse(&pool_text).map_err(|e| e.to_string())?;
            if pubkey(&pool.owner, "pool owner")? != keypair.pubkey() {
                return Err("the pool file belongs to another key".into());
            }
            let (nonce_account, nonce_value) =
                pool.nonce(args.nonce_index).map_err(|e| e.to_string())?;
            let mint = args
                .mint
                .as_deref()
                .map(|m| pubkey(m, "--mint"))
                .transpose()?;
            let units = match (&args.amount, args.lamports, mint, args.decimals) {
                (Some(text), None, None, _) => {
                    amount::parse_sol(text).map_err(|e| e.to_string())?
                }
                (Some(text), None, Some(_), Some(decimals)) => {
                    amount::parse_units(text, decimals).map_err(|e| e.to_string())?
                }
                (None, Some(units), _, _) => units,
                _ => return Err("give the amount with --amount or --lamports".into()),
            };
            if units == 0 {
                return Err("amount must be greater than zero".into());
            }
            let program_lifetime = pool.vault.map(|v| v.max_intent_lifetime_secs);
            let lifetime = match args.expires_in {
                Some(s) => s,
                None => std::env::var("DEFAULT_INTENT_EXPIRY_SECONDS")
                    .ok()
                    .map(|v| {
                        v.parse::<i64>().map_err(|_| {
                            "DEFAULT_INTENT_EXPIRY_SECONDS is not a number".to_string()
                        })
                    })
                    .transpose()?
                    .unwrap_or(DEFAULT_LIFETIME_SECS)
                    // Fit the program's bound from the pool file, with room for the cluster's
                    // clock to lag the device's.
                    .min(
                        program_lifetime.map_or(i64::MAX, |l| l.saturating_sub(CLOCK_MARGIN_SECS)),
                    ),
            };
            if lifetime <= 0 {
                return Err("--expires-in must be positive".into());
            }
            if let Some(limit) = program_lifetime.filter(|l| lifetime > *l) {
                return Err(format!(
                    "--expires-in {lifetime} is longer than the program's max intent lifetime \
                     {limit} s (pool file): the intent could never settle"
                ));
            }
            let reference = args
                .reference
                .as_deref()
                .map(|r| {
                    bs58::decode(r)
                        .into_vec()
                        .ok()
                        .and_then(|v| <[u8; 32]>::try_from(v).ok())
                        .ok_or_else(|| "--reference is not 32 bytes of base58".to_string())
                })
                .transpose()?;
            let now = args.now.unwrap_or_else(now_unix);
            let intent = Intent {
                sender: keypair.pubkey(),
                recipient: pubkey(&args.to, "--to")?,
                mint,
                amount: units,
                nonce_account,
                nonce_value,
                expiry: now
                    .checked_add(lifetime)
                    .ok_or("--expires-in is too large")?,
                max_fee: args.max_fee,
                reference,
            };
            let signed = SignedIntent::sign(&keypair, &intent).map_err(|e| e.to_string())?;
            Ok(describe(&signed, &intent, cli.output))
        }
        Command::Intent(IntentCommand::Show { intent }) => {
            let signed = read_intent(&intent)?;
            let decoded = signed.intent().map_err(|e| e.to_string())?;
            Ok(describe(&signed, &decoded, cli.output))
        }
        Command::Intent(IntentCommand::Verify { intent, now }) => {
            let signed = read_intent(&intent)?;
            let decoded = signed.verify().map_err(|e| e.to_string())?;
            let now = now.unwrap_or_else(now_unix);
            if now > decoded.expiry {
                return Err(format!("intent expired at {} (now {now})", decoded.expiry));
            }
            Ok(match cli.output {
                Output::Json => {
                    serde_json::json!({"valid": true, "expires_in": decoded.expiry - now})
                        .to_string()
                }
                Output::Text => format!(
                    "valid: signature verifies, expires in {} s",
                    decoded.expiry - now
                ),
            })
        }
        Command::Intent(IntentCommand::Qr { intent, png }) => {
            let signed = read_intent(&intent)?;
            let uri = signed.to_uri();
            match png {
                Some(path) => {
                    let bytes = qr::to_png(&uri, 6).map_err(|e| e.to_string())?;
                    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                    Ok(format!("wrote {}", path.display()))
                }
                None => qr::to_terminal(&uri).map_err(|e| e.to_string()),
            }
        }
    }
}
