//! `toss-relayer demo` as a library call and as a process.

use toss_relayer::demo::{self, DemoOptions};
use toss_sdk::cluster::LocalProgram;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reaches_every_outcome() {
    let report = demo::run(DemoOptions {
        payers: 4,
        nonces: 2,
        merchants: 2,
        program: LocalProgram::Native,
        lookup_table: true,
        scenario: true,
        // Bulk requests, as a merchant forwards what it collected (the process test below
        // submits one intent per request).
        per_request: 4,
        ..Default::default()
    })
    .await
    .unwrap();
    // 4 payers x 2 nonces + one double spend.
    assert_eq!(report.intents, 9);
    assert_eq!(report.conflicts, 1);
    assert_eq!(report.expired, 1);
    assert_eq!(report.rejected, 0);
    assert_eq!(report.refused, 1);
    assert_eq!(report.settled, 6);
    assert!(report.balances_ok);
    assert!(
        report.transactions >= 1 && report.intents_per_tx > 1.0,
        "{report:?}"
    );
    // The compact form with the lookup table: well under one precompile signature's 5,000
    // lamports per payment.
    assert_eq!(report.verification, "auto");
    assert!(
        report.transactions_by_form.contains_key("compact"),
        "{report:?}"
    );
    assert!(report.lamports_per_payment < 2_500.0, "{report:?}");
    assert_eq!(report.outcomes.get("refused: insufficient_funds"), Some(&1));
}

#[test]
fn demo_json_process() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toss-relayer"))
        .args([
            "demo",
            "--json",
            "--payers",
            "4",
            "--nonces",
            "1",
            "--legacy",
            "--verification",
            "precompile",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "intents",
        "settled",
        "rejected",
        "conflicts",
        "expired",
        "transactions",
        "intents_per_tx",
        "elapsed_ms",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
    assert_eq!(v["intents"], 5);
    assert_eq!(v["conflicts"], 1);
    assert_eq!(v["balances_ok"], true);
    assert_eq!(v["lookup_table"], false);
    // The precompile form, as asked: no compact transaction, 5,000 lamports per precompile
    // signature on top of each transaction's own.
    assert_eq!(v["verification"], "precompile");
    assert!(v["transactions_by_form"].get("compact").is_none(), "{v}");
    assert!(
        v["transactions_by_form"]["precompile"].as_u64() >= Some(1),
        "{v}"
    );
    assert!(v["lamports_per_payment"].as_f64() > Some(5_000.0), "{v}");
}
