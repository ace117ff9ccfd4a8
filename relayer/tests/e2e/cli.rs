//! The binaries as processes: `toss-relayer config validate`, and the `toss` CLI submitting
//! to and querying a running relayer (exit codes, one-line errors, relayer error codes).

use crate::harness::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::PathBuf;
use std::process::{Command, Output};
use toss_relayer::local::SOL;

pub fn relayer_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_toss-relayer"))
}

/// The `toss` CLI beside this package's binaries (`cargo test --workspace` builds it).
pub fn toss_bin() -> PathBuf {
    let path = relayer_bin().with_file_name("toss");
    assert!(
        path.exists(),
        "build the toss CLI first: cargo build -p toss-sdk"
    );
    path
}

pub fn err_line(o: &Output) -> String {
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert_eq!(e.lines().count(), 1, "one line: {e:?}");
    e
}

#[test]
fn config_validate() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/relayer.example.toml");
    let ok = Command::new(relayer_bin())
        .args(["config", "validate", example])
        .env_remove("SOLANA_CLUSTER")
        .env_remove("SOLANA_RPC_URL")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains(": ok"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisten = \"127.0.0.1:8080\"\nlisen = 1\n").unwrap();
    let out = Command::new(relayer_bin())
        .args(["config", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    let e = err_line(&out);
    assert!(e.contains("line 3") && e.contains("lisen"), "{e}");
    let out = Command::new(relayer_bin())
        .args(["config", "validate", "/nonexistent.toml"])
        .output()
        .unwrap();
    assert!(err_line(&out).contains("cannot read config file"));
    let out = Command::new(relayer_bin())
        .args(["config", "validate", example])
        .env("MAX_SETTLEMENT_RETRIES", "many")
        .output()
        .unwrap();
    assert!(err_line(&out).contains("MAX_SETTLEMENT_RETRIES"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toss_cli_submits_and_reads_status() {
    let h = Harness::new().await;
    let running = h.start(config()).await;
    let (payer, pool) = h.payer(SOL, 2).await;
    let merchant = Keypair::new().pubkey();
    let (_, signed) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    let toss = toss_bin();
    let out = Command::new(&toss)
        .args([
            "submit",
            &signed.to_uri(),
            "--relayer",
            &running.url,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["id"], hex::encode(signed.id()));
    running.settle_all().await;
    let out = Command::new(&toss)
        .args([
            "status",
            &hex::encode(signed.id()),
            "--relayer",
            &running.url,
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["status"], "settled");
    // The nonce moved on: a new intent signed against the old value is refused by the relayer.
    let (_, stale) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 5).await;
    let out = Command::new(&toss)
        .args(["submit", &stale.to_base64(), "--relayer", &running.url])
        .output()
        .unwrap();
    let e = err_line(&out);
    assert!(e.contains("relayer refused (422): stale_nonce"), "{e}");
    let out = Command::new(&toss)
        .args(["status", &"ab".repeat(32), "--relayer", &running.url])
        .output()
        .unwrap();
    assert!(err_line(&out).contains("relayer refused (404): not_found"));
    running.relayer.shutdown().await.unwrap();
}

/// Kills the child process if the test panics before it stops it on purpose, so a failed
/// assertion never leaves a relayer running.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `toss-relayer run --local` as a newcomer uses it: the printed payer files work with the
/// `toss` CLI, the intent settles, SIGTERM stops the service cleanly (exit 0).
#[test]
fn run_local_serves_the_toss_cli_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("relayer.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(relayer_bin())
        .args(["run", "--local", "--listen", "127.0.0.1:0"])
        .env("TOSS_STORE_PATH", dir.path().join("relayer.sqlite"))
        .env("RUST_LOG", "toss_relayer=info")
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut guard = KillOnDrop(Some(child));
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("output").unwrap();
        printed.push(line.clone());
        if let Some(url) = line.strip_prefix("listening on:") {
            break url.trim().to_string();
        }
    };
    let text = printed.join("\n");
    assert!(
        text.contains("program id:    97HzxHhFMbtTUx3tdtfDkvZmUgZjHKnZhmy9CcqbZuHP"),
        "{text}"
    );
    let key = dir.path().join("toss-local-payer.json");
    let pool = dir.path().join("toss-local-pool.json");
    assert!(text.contains(&key.display().to_string()), "{text}");
    let toss = toss_bin();
    let merchant = Keypair::new().pubkey().to_string();
    let created = Command::new(&toss)
        .arg("-k")
        .arg(&key)
        .args(["intent", "create", "--pool"])
        .arg(&pool)
        .args([
            "--nonce-index",
            "1",
            "--to",
            &merchant,
            "--amount",
            "0.2",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    // The README's walkthrough exactly: the default expiry fits the program's lifetime bound
    // (1 hour in `run --local`, read from the pool file), so the intent settles. Asking for
    // more than the bound is refused offline, before any fee is spent.
    let too_long = Command::new(&toss)
        .arg("-k")
        .arg(&key)
        .args(["intent", "create", "--pool"])
        .arg(&pool)
        .args(["--nonce-index", "2", "--to", &merchant, "--amount", "0.2"])
        .args(["--expires-in", "3601"])
        .output()
        .unwrap();
    assert!(!too_long.status.success());
    assert!(
        String::from_utf8_lossy(&too_long.stderr).contains("max intent lifetime"),
        "{}",
        String::from_utf8_lossy(&too_long.stderr)
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let submitted = Command::new(&toss)
        .args([
            "submit",
            created["uri"].as_str().unwrap(),
            "--relayer",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        submitted.status.success(),
        "{}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    // A deadline, not a count: on a loaded 2-core CI machine each `toss status` process and
    // each batch take longer than here.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut seen = Vec::new();
    let settled = loop {
        let out = Command::new(&toss)
            .args(["status", &id, "--relayer", &url, "--output", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let status = v["status"].as_str().unwrap_or("?").to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "settled" {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    if !settled {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "intent {id} did not settle; statuses seen {seen:?}; relayer log tail:\n{}",
            tail.join("\n")
        );
    }
    let mut child = guard.0.take().unwrap();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "clean exit on SIGTERM");
}
