//! `config_set_paused`: admin only; pause stops settlement and nothing else.

use solana_signer::Signer;
use toss_intent_processor::{error::TossError, state::Config};
use toss_tests::*;

async fn paused(env: &mut Env) -> bool {
    let account = env.account(&Config::ADDRESS).await.unwrap();
    let config: Config =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    config.paused
}

dual_mode!(admin_pauses_and_resumes, |mode| async move {
    let mut env = Env::start(mode).await;
    let admin = env.admin.insecure_clone();
    env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
        .await
        .assert_ok();
    assert!(paused(&mut env).await);
    env.send(&[config_set_paused_ix(&admin.pubkey(), false)], &[&admin])
        .await
        .assert_ok();
    assert!(!paused(&mut env).await);
});

dual_mode!(non_admin_cannot_pause, |mode| async move {
    let mut env = Env::start(mode).await;
    let attacker = env.user(SOL).await;
    env.send(
        &[config_set_paused_ix(&attacker.pubkey(), true)],
        &[&attacker],
    )
    .await
    .assert_toss_error(0, TossError::Unauthorized);
    assert!(!paused(&mut env).await);
    // The upgrade authority is not the admin either.
    let authority = env.upgrade_authority.insecure_clone();
    env.send(
        &[config_set_paused_ix(&authority.pubkey(), true)],
        &[&authority],
    )
    .await
    .assert_toss_error(0, TossError::Unauthorized);
    assert!(!paused(&mut env).await);
});

dual_mode!(
    paused_stops_settlement_but_not_deposits,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let (payer, nonce) = env.payer_with_vault(5 * SOL).await;
        let merchant = env.user(SOL).await.pubkey();
        env.next_slot().await;
        let admin = env.admin.insecure_clone();
        env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
            .await
            .assert_ok();
        let intent = env
            .sol_intent(&payer.pubkey(), &merchant, SOL, &nonce)
            .await;
        let signed = sign_intent(&payer, &intent);
        let vault = toss_intent_processor::state::Vault::find_address(&payer.pubkey()).0;
        let before = env.snapshot(&[vault, merchant], &[nonce]).await;
        env.settle(std::slice::from_ref(&signed), &[1_000])
            .await
            .assert_toss_error(1, TossError::Paused);
        assert_eq!(env.snapshot(&[vault, merchant], &[nonce]).await, before);
        // Deposits still work while paused.
        env.deposit(&payer, SOL).await;
        assert_eq!(env.lamports(&vault).await, before.lamports[0].1 + SOL);
        // Resume: the same intent now settles.
        env.send(&[config_set_paused_ix(&admin.pubkey(), false)], &[&admin])
            .await
            .assert_ok();
        let out = env.settle(&[signed], &[1_000]).await;
        out.assert_ok();
        assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
    }
);
