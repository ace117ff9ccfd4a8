//! `toss submit --noise` and `toss-relayer keys show` as processes against a running relayer.

use crate::cli::{err_line, relayer_bin, toss_bin};
use crate::harness::*;
use crate::noise::{fetch_pin, noise_addr, noise_config};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::process::Command;
use toss_relayer::local::SOL;
use toss_relayer::store::Status;
use toss_sdk::noise::NoiseKeyRecord;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toss_cli_submits_over_noise_and_keys_show_prints_the_record() {
    let h = Harness::new().await;
    let running = h.start(noise_config()).await;
    let addr = noise_addr(&running);
    let (record, _) = fetch_pin(&h, &running).await;
    let dir = tempfile::tempdir().unwrap();
    let record_file = dir.path().join("relayer-noise.json");
    std::fs::write(&record_file, serde_json::to_string(&record).unwrap()).unwrap();
    let merchant_key = dir.path().join("merchant.json");
    toss_sdk::keys::write_keypair_file(&Keypair::new(), &merchant_key).unwrap();
    let (payer, pool) = h.payer(SOL, 4).await;
    let merchant = Keypair::new().pubkey();
    let toss = toss_bin();
    let submit = |intent: &str, extra: &[&str]| {
        Command::new(&toss)
            .arg("-k")
            .arg(&merchant_key)
            .args(["submit", intent, "--noise", &addr])
            .args(extra)
            .output()
            .unwrap()
    };

    // Default pattern with a pinned record: IK. JSON output is the HTTP API's record.
    let (_, a) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 10).await;
    let key = record_file.to_string_lossy().into_owned();
    let out = submit(&a.to_base64(), &["--relayer-key", &key, "--output", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["id"], hex::encode(a.id()));
    assert_eq!(body["status"], "pending");
    // XX without a key; N with the bare X25519 key (one-way: "sent"); NN.
    let (_, b) = h.sol_intent(&payer, &pool, 1, merchant, SOL / 10).await;
    let out = submit(&b.to_uri(), &["--pattern", "xx"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pending"));
    let (_, c) = h.sol_intent(&payer, &pool, 2, merchant, SOL / 10).await;
    let out = submit(
        &c.to_base64(),
        &["--pattern", "n", "--relayer-key", &record.x25519],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sent"));
    let (_, d) = h.sol_intent(&payer, &pool, 3, merchant, SOL / 10).await;
    let out = submit(&d.to_base64(), &["--pattern", "nn"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    running.settle_all().await;
    for s in [&a, &b, &c, &d] {
        assert_eq!(running.status_of(s).await, Status::Settled);
    }

    // Refusals: one line on stderr, exit 1.
    let (_, stale) = h.sol_intent(&payer, &pool, 0, merchant, SOL / 5).await;
    let e = err_line(&submit(&stale.to_base64(), &["--pattern", "nn"]));
    assert!(e.contains("relayer refused (422): stale_nonce"), "{e}");
    let e = err_line(&submit(&stale.to_base64(), &["--pattern", "ik"]));
    assert!(e.contains("needs the relayer's key"), "{e}");
    let e = err_line(&submit(
        &stale.to_base64(),
        &["--pattern", "nn", "--relayer-key", &key],
    ));
    assert!(e.contains("takes no relayer key"), "{e}");
    let other = hex::encode([7u8; 32]);
    let e = err_line(&submit(&stale.to_base64(), &["--relayer-key", &other]));
    assert!(
        e.contains("noise handshake with") && e.contains("(IK) failed"),
        "{e}"
    );
    let e = err_line(&submit(&stale.to_base64(), &["--relayer-key", "nonsense"]));
    assert!(e.contains("--relayer-key"), "{e}");

    // `keys show` derives the same record from the fee payer's keypair file.
    let fee_payer = dir.path().join("fee-payer.json");
    toss_sdk::keys::write_keypair_file(&h.fee_payer, &fee_payer).unwrap();
    let config = dir.path().join("relayer.toml");
    std::fs::write(
        &config,
        format!("[cluster]\nfee_payer = {:?}\n", fee_payer.to_string_lossy()),
    )
    .unwrap();
    let out = Command::new(relayer_bin())
        .args(["keys", "show", "--config"])
        .arg(&config)
        .env_remove("TOSS_FEE_PAYER")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: NoiseKeyRecord = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown, record);
    running.relayer.shutdown().await.unwrap();
}
