//! `toss-relayer run` as a process (the binary users run), its config file, and its HTTP API.

use reqwest::StatusCode;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use toss_sdk::SignedIntent;

/// The admin bearer token of the test config.
pub const ADMIN: &str = "validator-suite-admin-token-0123456789abcdef";

/// What the relayer is pointed at.
#[derive(Clone)]
pub struct Setup {
    /// JSON-RPC URL (the loss-injecting proxy in front of the validator).
    pub rpc_url: String,
    /// The program.
    pub program_id: Pubkey,
    /// Fee payer keypair file.
    pub fee_payer: PathBuf,
    /// SQLite file (kept across restarts).
    pub store: PathBuf,
    /// A PostgreSQL URL instead of the SQLite file, when set.
    pub database_url: Option<String>,
    /// `[store] instance_id` (default: derived from the fee payer).
    pub instance_id: Option<String>,
    /// Token mints accepted.
    pub mints: Vec<Pubkey>,
    /// Address lookup table for v0 transactions, if any.
    pub lookup_table: Option<Pubkey>,
    /// Config and log directory.
    pub dir: PathBuf,
    /// `[tables] cover_wait_ms` (`None`: the relayer's default).
    pub cover_wait_ms: Option<u64>,
}

/// A running `toss-relayer run`.
pub struct Service {
    child: Child,
    /// Base URL of its HTTP API.
    pub url: String,
    http: reqwest::Client,
    log: PathBuf,
}

fn relayer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_toss-relayer"))
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Setup {
    fn write_config(&self, listen: &str, verification: &str) -> PathBuf {
        let mints: Vec<String> = self.mints.iter().map(|m| format!("\"{m}\"")).collect();
        let table = match &self.lookup_table {
            Some(t) => format!("use_lookup_table = true\nlookup_table = \"{t}\""),
            None => "use_lookup_table = false".into(),
        };
        let text = format!(
            r#"[server]
listen = "{listen}"
admin_token = "{ADMIN}"
rate_limit_per_ip_per_s = 10000
rate_limit_per_ip_burst = 10000
rate_limit_per_sender_per_s = 1000
rate_limit_per_sender_burst = 1000

[cluster]
cluster = "localnet"
rpc_url = "{rpc}"
program_id = "{program}"
fee_payer = "{fee_payer}"
commitment = "confirmed"

[store]
{store}

[intake]
max_lifetime_seconds = 3600
allowed_mints = [{mints}]

[batch]
max_wait_ms = 100
{table}

[submit]
verification = "{verification}"
max_retries = 8
backoff_initial_ms = 100
backoff_max_ms = 2000
confirm_timeout_ms = 60000
breaker_cooldown_ms = 1000

[tables]
interval_ms = 200
state_path = "{tables}"
{cover_wait}

[reconcile]
sweep_interval_ms = 1000

[log]
filter = "toss_relayer=debug,warn"
"#,
            rpc = self.rpc_url,
            program = self.program_id,
            fee_payer = self.fee_payer.display(),
            store = match (&self.database_url, &self.instance_id) {
                (Some(url), Some(id)) => format!(
                    "kind = \"postgres\"\nurl = \"{url}\"\nlease_ms = 5000\ninstance_id = \"{id}\""
                ),
                (Some(url), None) => {
                    format!("kind = \"postgres\"\nurl = \"{url}\"\nlease_ms = 5000")
                }
                (None, _) => format!("kind = \"sqlite\"\npath = \"{}\"", self.store.display()),
            },
            // Never the working directory (the source tree): one file per fee payer here.
            tables = self
                .dir
                .join(format!(
                    "tables-{}.json",
                    self.instance_id.as_deref().unwrap_or(
                        &self
                            .fee_payer
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    )
                ))
                .display(),
            mints = mints.join(", "),
            cover_wait = self
                .cover_wait_ms
                .map(|ms| format!("cover_wait_ms = {ms}"))
                .unwrap_or_default(),
        );
        let path = self.dir.join(format!(
            "relayer-{}.toml",
            self.instance_id.as_deref().unwrap_or("main")
        ));
        std::fs::write(&path, text).expect("relayer config");
        path
    }

    /// Starts the relayer (same store, new port) with the default settle form (`auto`) and
    /// waits until `/healthz` answers.
    pub async fn start(&self, run: usize) -> Service {
        self.start_with(run, "auto").await
    }

    /// [`Setup::start`] with `submit.verification = verification`.
    pub async fn start_with(&self, run: usize, verification: &str) -> Service {
        let listen = format!("127.0.0.1:{}", free_port());
        self.start_at(run, verification, &listen).await
    }

    /// [`Setup::start_with`] listening on `listen` (a restart keeps its clients' address).
    pub async fn start_at(&self, run: usize, verification: &str, listen: &str) -> Service {
        self.launch(run, verification, listen, Command::new(relayer_bin()), true)
            .await
    }

    /// [`Setup::start`] with `SIGXFSZ` ignored, so that a file-size limit set later with
    /// `prlimit` (the disk-full drill) makes its writes fail with `EFBIG`, as on a full disk,
    /// instead of killing it. Its stdout and stderr go straight to the log file, on the same
    /// "full disk".
    pub async fn start_disk_limitable(&self, run: usize) -> Service {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg("trap '' XFSZ; exec \"$0\" \"$@\"")
            .arg(relayer_bin());
        let listen = format!("127.0.0.1:{}", free_port());
        self.launch(run, "auto", &listen, sh, false).await
    }

    async fn launch(
        &self,
        run: usize,
        verification: &str,
        listen: &str,
        mut command: Command,
        piped: bool,
    ) -> Service {
        let listen = listen.to_owned();
        let config = self.write_config(&listen, verification);
        let log = self.dir.join(format!("relayer-{run}.log"));
        std::fs::File::create(&log).expect("relayer log");
        // Appending: the two pipes' lines never overwrite each other.
        let out = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("relayer log");
        command
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env_remove("SOLANA_CLUSTER")
            .env_remove("SOLANA_RPC_URL")
            .env_remove("TOSS_PROGRAM_ID")
            .env_remove("TOSS_FEE_PAYER")
            .env_remove("TOSS_STORE_PATH")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        let child = if piped {
            // Its output reaches the log through pipes, copied by this process.
            let mut child = command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start toss-relayer");
            if let (Some(o), Some(e)) = (child.stdout.take(), child.stderr.take()) {
                copy_to(o, out.try_clone().expect("log"));
                copy_to(e, out);
            }
            child
        } else {
            command
                .stdout(out.try_clone().expect("log"))
                .stderr(out)
                .spawn()
                .expect("start toss-relayer")
        };
        let mut service = Service {
            child,
            url: format!("http://{listen}"),
            http: reqwest::Client::new(),
            log,
        };
        service.wait_healthy().await;
        service
    }
}

/// Copies `from` into `to` on a thread of its own until the relayer closes it.
fn copy_to(mut from: impl std::io::Read + Send + 'static, mut to: std::fs::File) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
    });
}

impl Service {
    async fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "toss-relayer exited ({status}) before it was healthy:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            let ok = self
                .http
                .get(format!("{}/healthz", self.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "relayer not healthy after 60 s:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The value of one series of `GET /metrics` (`name{labels}` without the instance
    /// label), 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                (without_instance(name) == series)
                    .then(|| value.parse::<f64>().ok())
                    .flatten()
            })
            .sum()
    }

    /// `POST /v1/intents` for one intent.
    pub async fn submit(&self, signed: &SignedIntent) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}/v1/intents", self.url))
            .json(&json!({"intent": signed.to_base64()}))
            .send()
            .await
            .expect("post");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `GET /v1/intents/{id}`.
    pub async fn status(&self, signed: &SignedIntent) -> Value {
        self.http
            .get(format!(
                "{}/v1/intents/{}",
                self.url,
                hex::encode(signed.id())
            ))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    }

    /// `POST /v1/admin/{action}` with the admin token.
    pub async fn admin(&self, action: &str) {
        let r = self
            .http
            .post(format!("{}/v1/admin/{action}", self.url))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("admin");
        assert!(r.status().is_success(), "{action}: {}", r.status());
    }

    /// Waits until every one of `intents` has a final status; returns the statuses.
    pub async fn wait_final(&self, intents: &[SignedIntent], limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        let mut out = vec![Value::Null; intents.len()];
        let mut open: Vec<usize> = (0..intents.len()).collect();
        while !open.is_empty() {
            let mut still = Vec::new();
            for i in open {
                let v = self.status(&intents[i]).await;
                let s = v["status"].as_str().unwrap_or_default();
                if matches!(s, "settled" | "rejected" | "expired" | "conflict") {
                    out[i] = v;
                } else {
                    still.push(i);
                }
            }
            open = still;
            if open.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} intents not final after {limit:?}:\n{}",
                open.len(),
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        out
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`): freezes the process where it stands, so what
    /// its store shows no longer changes under a reader (bar a statement already on the wire).
    pub fn freeze(&self, stop: bool) {
        let signal = if stop { "-STOP" } else { "-CONT" };
        let status = std::process::Command::new("kill")
            .arg(signal)
            .arg(self.pid().to_string())
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill {signal} {}", self.pid());
    }

    /// SIGKILL: no drain, no flush beyond what SQLite already committed.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens the relayer's SQLite file read-only (WAL readers never block the writer).
/// `name{a="b",instance="x"}` → `name{a="b"}`; `name{instance="x"}` → `name`.
fn without_instance(name: &str) -> String {
    let Some(start) = name.find("instance=\"") else {
        return name.to_owned();
    };
    let after = start + "instance=\"".len();
    let Some(len) = name[after..].find('"') else {
        return name.to_owned();
    };
    let mut end = after + len + 1;
    if name[end..].starts_with(',') {
        end += 1;
    }
    let mut out = format!("{}{}", &name[..start], &name[end..]).replace(",}", "}");
    if out.ends_with("{}") {
        out.truncate(out.len() - 2);
    }
    out
}

pub fn open_store(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open relayer store")
}
