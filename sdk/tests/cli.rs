//! `toss` as a process: offline commands, their output, and bad input with the exact exit code
//! and one-line message.

use solana_keypair::Keypair;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn toss(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toss"))
        .args(args)
        .env_remove("DEFAULT_INTENT_EXPIRY_SECONDS")
        .output()
        .expect("run toss")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts exit code 1 and a single `error: ...` line containing `needle`.
fn assert_fails(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{err:?} lacks {needle:?}"
    );
}

struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("toss-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A keypair file and a pool file for it with one nonce.
fn setup(dir: &Dir) -> (String, String, Keypair) {
    let key = dir.path("id.json");
    let out = toss(&["keygen", "--outfile", &key, "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kp = toss_sdk::keys::read_keypair_file(Path::new(&key)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["pubkey"], kp.pubkey().to_string());
    let pool = dir.path("pool.json");
    let nonce = toss_sdk::pool::nonce_address(&kp.pubkey(), 0);
    std::fs::write(
        &pool,
        serde_json::json!({"owner": kp.pubkey().to_string(), "nonces": [
            {"index": 0, "address": nonce.to_string(), "value": bs58::encode([7u8; 32]).into_string()}
        ]})
        .to_string(),
    )
    .unwrap();
    (key, pool, kp)
}

fn create(key: &str, pool: &str, extra: &[&str]) -> Output {
    let to = solana_pubkey::Pubkey::new_unique().to_string();
    let mut args = vec![
        "-k",
        key,
        "intent",
        "create",
        "--pool",
        pool,
        "--nonce-index",
        "0",
        "--to",
    ];
    args.push(&to);
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--now", "1700000000", "--output", "json"]);
    toss(&args)
}

#[test]
fn create_show_verify_and_qr_offline() {
    let dir = Dir::new("flow");
    let (key, pool, kp) = setup(&dir);
    let out = create(&key, &pool, &["--amount", "1.5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["amount"], 1_500_000_000u64);
    assert_eq!(json["sender"], kp.pubkey().to_string());
    assert_eq!(json["expiry"], 1_700_003_600i64);
    let b64 = json["base64"].as_str().unwrap().to_string();
    let uri = json["uri"].as_str().unwrap().to_string();
    // show from base64 and from the URI agree.
    let a = toss(&["intent", "show", &b64, "--output", "json"]);
    let b = toss(&["intent", "show", &uri, "--output", "json"]);
    assert!(a.status.success() && b.status.success());
    assert_eq!(stdout(&a), stdout(&b));
    // verify at a time before expiry.
    let v = toss(&["intent", "verify", &uri, "--now", "1700000100"]);
    assert!(v.status.success(), "{}", stderr(&v));
    assert!(stdout(&v).contains("valid"));
    // qr in the terminal and as PNG.
    let q = toss(&["intent", "qr", &uri]);
    assert!(q.status.success() && stdout(&q).contains('█'));
    let png = dir.path("intent.png");
    let q = toss(&["intent", "qr", &uri, "--png", &png]);
    assert!(q.status.success(), "{}", stderr(&q));
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    // lamports form.
    let out = create(&key, &pool, &["--lamports", "42"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["amount"], 42);
}

#[test]
fn bad_input_exits_1_with_one_line() {
    let dir = Dir::new("bad");
    let (key, pool, _) = setup(&dir);
    // keygen refuses to overwrite.
    assert_fails(&toss(&["keygen", "--outfile", &key]), "already exists");
    // wrong key file.
    let junk = dir.path("junk.json");
    std::fs::write(&junk, "[1,2,3]").unwrap();
    assert_fails(
        &create(&junk, &pool, &["--amount", "1"]),
        "not a JSON array of 64 bytes",
    );
    assert_fails(
        &create(&dir.path("missing.json"), &pool, &["--amount", "1"]),
        "keypair file",
    );
    // amounts.
    assert_fails(&create(&key, &pool, &["--amount=-1"]), "negative");
    assert_fails(
        &create(&key, &pool, &["--amount", "1.0000000001"]),
        "more decimal places",
    );
    assert_fails(
        &create(&key, &pool, &["--amount", "0"]),
        "greater than zero",
    );
    // malformed base58.
    let out = toss(&[
        "-k",
        &key,
        "intent",
        "create",
        "--pool",
        &pool,
        "--nonce-index",
        "0",
        "--to",
        "0OIl",
        "--amount",
        "1",
    ]);
    assert_fails(&out, "--to is not a base58 public key");
    // unknown nonce index.
    let out = toss(&[
        "-k",
        &key,
        "intent",
        "create",
        "--pool",
        &pool,
        "--nonce-index",
        "9",
        "--to",
        &solana_pubkey::Pubkey::new_unique().to_string(),
        "--amount",
        "1",
    ]);
    assert_fails(&out, "no nonce with that index");
    // tampered and expired intents.
    let out = create(&key, &pool, &["--amount", "1"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let b64 = json["base64"].as_str().unwrap();
    let mut bytes =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let tampered = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
    assert_fails(
        &toss(&["intent", "verify", &tampered, "--now", "1700000000"]),
        "does not verify",
    );
    assert_fails(
        &toss(&["intent", "verify", b64, "--now", "1800000000"]),
        "expired",
    );
    assert_fails(&toss(&["intent", "show", "not-an-intent"]), "not base64");
    // usage errors are clap's exit code 2.
    assert_eq!(toss(&["intent", "create"]).status.code(), Some(2));
}

#[test]
fn online_commands_fail_in_one_line() {
    let dir = Dir::new("online");
    let (key, pool, _) = setup(&dir);
    // Not a moniker nor a URL.
    assert_fails(
        &toss(&["-k", &key, "-u", "nowhere", "nonce", "list"]),
        "nowhere",
    );
    // Nothing listens there.
    assert_fails(
        &toss(&["-k", &key, "-u", "http://127.0.0.1:9", "nonce", "list"]),
        "unreachable",
    );
    let created = create(&key, &pool, &["--lamports", "5000"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let json: serde_json::Value = serde_json::from_str(&stdout(&created)).unwrap();
    let intent = json["base64"].as_str().unwrap().to_string();
    assert_fails(
        &toss(&["submit", &intent, "--relayer", "http://127.0.0.1:9"]),
        "relayer unreachable",
    );
    assert_fails(
        &toss(&["submit", &intent, "--relayer", "ftp://relayer"]),
        "not an http(s) URL",
    );
    assert_fails(
        &toss(&["status", "abc", "--relayer", "http://127.0.0.1:9"]),
        "not 64 hex characters",
    );
    assert_fails(
        &toss(&["submit", "not-an-intent", "--relayer", "http://127.0.0.1:9"]),
        "",
    );
}
