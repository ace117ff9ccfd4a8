//! A `solana-test-validator` process on free loopback ports, with a ledger in a temp dir and no
//! program of ours at genesis: the suite deploys it with `anchor deploy`, as users do. Killed
//! and removed on drop.

use solana_keypair::Keypair;
use solana_signer::Signer;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Slots of 16 ticks (100 ms instead of 400 ms): a blockhash (150 blocks) expires in about
/// 15 s, which keeps the expiry scenario short; everything else only gets faster.
const TICKS_PER_SLOT: &str = "16";
/// Ports the validator may use for its own sockets (gossip, TPU, repair…).
const DYNAMIC_PORTS: u16 = 40;

/// The validator binary: `$TOSS_TEST_VALIDATOR`, else `solana-test-validator` on `PATH` or in
/// `~/.cargo/bin` (where `scripts/install-validator` puts it).
pub fn binary() -> Option<PathBuf> {
    tool("TOSS_TEST_VALIDATOR", "solana-test-validator")
}

/// A tool `scripts/install-validator` installs: the path in `$env` if set, else `name` on
/// `PATH` or in `~/.cargo/bin`.
pub fn tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A running validator.
pub struct Validator {
    child: Child,
    /// JSON-RPC URL.
    pub rpc_url: String,
    /// Holds the genesis lamports (`--mint`).
    pub mint: Keypair,
    /// The program's upgrade authority (the provider wallet of the deploy script).
    pub authority: Keypair,
    /// Where its keypair file is.
    pub authority_file: PathBuf,
    /// Ledger and logs.
    pub dir: tempfile::TempDir,
}

/// True if `port` (TCP and UDP) and the next `count - 1` are free on 127.0.0.1.
fn free_block(port: u16, count: u16) -> bool {
    (port..port.saturating_add(count)).all(|p| {
        TcpListener::bind(("127.0.0.1", p)).is_ok() && UdpSocket::bind(("127.0.0.1", p)).is_ok()
    })
}

/// A base port with `count` free ports above it, spread by process id so parallel runs on
/// one machine do not race for the same block.
fn free_ports(count: u16) -> u16 {
    let start = 20_000 + (std::process::id() % 200) as u16 * 100;
    let mut port = start;
    loop {
        if free_block(port, count) {
            return port;
        }
        port = if port > 60_000 { 20_000 } else { port + count };
        assert_ne!(port, start, "no free block of {count} loopback ports");
    }
}

impl Validator {
    /// Starts the validator (with a new key as the future upgrade authority) and waits until
    /// its RPC answers and a block is produced.
    pub async fn start(binary: &Path) -> Self {
        let dir = tempfile::tempdir().expect("ledger dir");
        let mint = Keypair::new();
        let authority = Keypair::new();
        let authority_file = dir.path().join("authority.json");
        toss_sdk::keys::write_keypair_file(&authority, &authority_file).expect("authority file");
        // rpc, rpc+1 (websocket), faucet, gossip, then the dynamic range.
        let base = free_ports(4 + DYNAMIC_PORTS);
        let (rpc, faucet, gossip) = (base, base + 2, base + 3);
        let dynamic = format!("{}-{}", base + 4, base + 4 + DYNAMIC_PORTS);
        let log = std::fs::File::create(dir.path().join("validator.log")).expect("log file");
        let child = Command::new(binary)
            .arg("--ledger")
            .arg(dir.path().join("ledger"))
            .args(["--reset", "--quiet", "--bind-address", "127.0.0.1"])
            .args(["--rpc-port", &rpc.to_string()])
            .args(["--faucet-port", &faucet.to_string()])
            .args(["--gossip-port", &gossip.to_string()])
            .args(["--dynamic-port-range", &dynamic])
            .args(["--ticks-per-slot", TICKS_PER_SLOT])
            .args(["--mint", &mint.pubkey().to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start solana-test-validator");
        let v = Self {
            child,
            rpc_url: format!("http://127.0.0.1:{rpc}"),
            mint,
            authority,
            authority_file,
            dir,
        };
        v.wait_ready().await;
        v
    }

    async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let health = http
                .post(&self.rpc_url)
                .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getBlockHeight"}))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(r) = health {
                if let Ok(v) = r.json::<serde_json::Value>().await {
                    if v["result"].as_u64().is_some_and(|h| h >= 2) {
                        return;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "validator not ready after 120 s; log:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The last lines of the validator's log (for failure messages).
    pub fn log_tail(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("validator.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Keep the ledger, the relayers' logs and stores for the post-mortem.
            self.dir.disable_cleanup(true);
            eprintln!(
                "validator e2e: failed; logs and stores kept in {}",
                self.dir.path().display()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
