//! Compute-unit budgets, measured on the deployable `.so` (native counts are meaningless).
//! Each cap is the last measured value plus about 10%: a change that costs more must raise the
//! cap knowingly. Run with `--nocapture` to see the figures.

use solana_signer::Signer;
use toss_tests::*;

/// Asserts `used <= cap` and prints the figure.
fn budget(what: &str, used: u64, cap: u64) {
    println!("CU {what}: {used} (cap {cap})");
    assert!(used > 0, "{what}: no compute units reported");
    assert!(used <= cap, "{what}: {used} CU exceeds the cap {cap}");
}

#[tokio::test]
async fn instruction_budgets() {
    let mut env = Env::start_uninitialized(Mode::Bpf).await;
    let authority = env.upgrade_authority.insecure_clone();
    let args = env.default_config_args();
    let out = env
        .send(
            &[config_initialize_ix(&authority.pubkey(), args)],
            &[&authority],
        )
        .await;
    out.assert_ok();
    budget("config_initialize", out.compute_units, 7_100); // last measured 6,465

    let admin = env.admin.insecure_clone();
    let out = env
        .send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
        .await;
    out.assert_ok();
    budget("config_set_paused", out.compute_units, 1_600); // last measured 1,444
    env.send(&[config_set_paused_ix(&admin.pubkey(), false)], &[&admin])
        .await
        .assert_ok();

    // A fixed key: PDA bump searches (1,500 CU per try) then cost the same on every run.
    let owner = solana_keypair::Keypair::new_from_array([7; 32]);
    let payer = env.ctx.payer.pubkey();
    let fund = solana_system_interface::instruction::transfer(&payer, &owner.pubkey(), 10 * SOL);
    env.send(&[fund], &[]).await.assert_ok();
    let out = env
        .send(&[vault_deposit_ix(&owner.pubkey(), SOL)], &[&owner])
        .await;
    out.assert_ok();
    budget(
        "vault_deposit (creates the vault)",
        out.compute_units,
        11_850,
    ); // last measured 10,769
    let out = env
        .send(&[vault_deposit_ix(&owner.pubkey(), SOL)], &[&owner])
        .await;
    out.assert_ok();
    budget("vault_deposit (existing vault)", out.compute_units, 7_800); // last measured 7,101
}

/// Settles `n` distinct-payer SOL intents in one instruction and returns the CU it used.
async fn settle_cu(env: &mut Env, n: usize) -> u64 {
    let mut signed = Vec::new();
    for _ in 0..n {
        signed.push(env.payment(5 * SOL, SOL).await.signed);
    }
    let (out, _) = env.settle_as_relayer(&signed, &vec![1_000; n]).await;
    out.assert_ok();
    assert_eq!(out.outcomes().len(), n);
    assert!(out
        .outcomes()
        .iter()
        .all(|o| matches!(o, Outcome::Settled { .. })));
    out.compute_units
}

#[tokio::test]
async fn intent_settle_budgets() {
    let mut env = Env::start(Mode::Bpf).await;
    let max_legacy = max_sol_intents_per_legacy_tx();
    let mut first = 0;
    // (intents, cap): caps are last measured + ~10% (6,693 / 11,052 / 19,770 / 37,206).
    for (n, cap) in [(1, 7_400u64), (2, 12_200), (4, 21_750), (8, 40_950)] {
        let used = settle_cu(&mut env, n).await;
        let label = if n == max_legacy {
            format!("intent_settle {n} SOL intents (full legacy tx)")
        } else {
            format!("intent_settle {n} SOL intents")
        };
        budget(&label, used, cap);
        println!("CU per SOL intent at n={n}: {}", used / n as u64);
        if n == 1 {
            first = used;
        } else {
            // Goal: at most 6,000 CU per SOL intent in a full batch, both on average and for
            // each intent added to the batch.
            assert!(
                used / n as u64 <= 6_000,
                "{} CU per intent",
                used / n as u64
            );
            let marginal = (used - first) / (n as u64 - 1);
            println!("CU per additional SOL intent up to n={n}: {marginal}");
            assert!(marginal <= 6_000, "{marginal} CU per additional intent");
        }
        assert!(used <= 200_000, "fits the default per-instruction limit");
    }
}

#[tokio::test]
async fn where_the_compute_goes() {
    // Breakdown by difference: each rejection stops at a later stage of the per-intent path.
    // Last measured: 4,160 / 4,252 / 4,568 / 6,693 (so ~2,100 CU of a settled intent is the
    // nonce-advance CPI, the lamport moves and the larger event).
    let mut env = Env::start(Mode::Bpf).await;
    let mut stages = Vec::new();
    let p = env.payment(5 * SOL, SOL).await;
    env.set_now(p.intent.expiry + 1).await;
    let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
    stages.push((
        "rejected at expiry (decode, bind, hash, event)",
        out.compute_units,
        4_600,
    ));
    let mut p = env.payment(5 * SOL, SOL).await;
    env.resign(&mut p, |i| i.nonce_value = [1; 32]);
    let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
    stages.push((
        "rejected at stale nonce (+ nonce read)",
        out.compute_units,
        4_700,
    ));
    let mut p = env.payment(SOL / 2, SOL / 2).await;
    env.resign(&mut p, |i| i.amount = SOL);
    let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
    stages.push((
        "rejected at funds (+ rent, balance)",
        out.compute_units,
        5_050,
    ));
    let p = env.payment(5 * SOL, SOL).await;
    let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
    stages.push((
        "settled (+ advance CPI, lamports, event)",
        out.compute_units,
        7_400,
    ));
    for (what, used, cap) in stages {
        budget(&format!("intent_settle 1 SOL intent, {what}"), used, cap);
    }
}
