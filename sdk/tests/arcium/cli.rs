//! `toss arcium encrypt|decrypt` as a process: the committed vectors through the command line,
//! and bad input with exit code 1 and one `error:` line.

use serde_json::Value;
use solana_pubkey::Pubkey;
use std::process::{Command, Output};

fn toss(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toss"))
        .args(args)
        .output()
        .expect("run toss")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_fails(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{err:?} lacks {needle:?}"
    );
}

/// How a vector's plaintext is typed on the command line.
fn arg(p: &Value) -> String {
    let value = p["value"].as_str().unwrap();
    match p["kind"].as_str().unwrap() {
        "u64" | "u128" => value.to_string(),
        // The all-zero key is 111…1 in base58: digits only, so it needs the prefix.
        "pubkey" if value == "00".repeat(32) => format!("pubkey:{}", Pubkey::default()),
        "pubkey" => Pubkey::new_from_array(crate::unhex(value)).to_string(),
        _ => format!("0x{value}"),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn encrypt_and_decrypt_reproduce_the_vectors() {
    let vectors: Value =
        serde_json::from_str(include_str!("../vectors/arcium_rescue.json")).unwrap();
    for c in vectors["cases"].as_array().unwrap() {
        let keys = [
            "--mxe-key",
            c["mxe_pubkey"].as_str().unwrap(),
            "--secret",
            c["client_secret"].as_str().unwrap(),
            "--nonce",
            c["nonce"].as_str().unwrap(),
        ];
        let values: Vec<String> = c["plaintexts"]
            .as_array()
            .unwrap()
            .iter()
            .map(arg)
            .collect();
        let mut args = vec!["arcium", "encrypt"];
        args.extend_from_slice(&keys);
        args.extend(values.iter().map(String::as_str));
        let out = toss(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ciphertexts = strings(&c["ciphertexts"]);
        assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), ciphertexts);

        let mut args = vec!["arcium", "decrypt"];
        args.extend_from_slice(&keys);
        args.extend(ciphertexts.iter().map(String::as_str));
        args.extend(["--output", "json"]);
        let out = toss(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(
            strings(&json["plaintexts"]),
            strings(&c["plaintext_fields"])
        );
        assert_eq!(json["client_pubkey"], c["client_pubkey"]);
    }
}

#[test]
fn bad_input_fails_with_one_line() {
    let key = hex::encode(toss_sdk::arcium::ClientSecret::from_bytes([9; 32]).public_key());
    let secret = "11".repeat(32);
    let nonce = "00".repeat(16);
    let run = |mxe: &str, command: &str, values: &[&str]| {
        let mut args = vec![
            "arcium",
            command,
            "--mxe-key",
            mxe,
            "--secret",
            &secret,
            "--nonce",
            &nonce,
        ];
        args.extend_from_slice(values);
        toss(&args)
    };
    assert_fails(&run(&"00".repeat(32), "encrypt", &["1"]), "not set yet");
    assert_fails(
        &run("abcd", "encrypt", &["1"]),
        "--mxe-key must be 32 bytes",
    );
    assert_fails(&run(&key, "encrypt", &["1.5"]), "value 0 is not an integer");
    assert_fails(
        &run(
            &key,
            "encrypt",
            &["340282366920938463463374607431768211456"],
        ),
        "does not fit 128 bits",
    );
    let p = format!("0xed{}7f", "ff".repeat(30));
    assert_fails(&run(&key, "encrypt", &[&p]), "not below the field modulus");
    assert_fails(
        &run(&key, "decrypt", &[&"ff".repeat(32)]),
        "ciphertext 0 is not a canonical field element",
    );
    assert_fails(&run(&key, "decrypt", &["zz"]), "ciphertext 0 is not hex");
    // Nothing to do is a usage error (clap, exit 2).
    assert_eq!(run(&key, "encrypt", &[]).status.code(), Some(2));
}
