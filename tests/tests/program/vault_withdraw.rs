//! Two-step withdrawals: request, delay, execute (or cancel). Intents keep settling meanwhile.

use solana_signer::Signer;
use toss_intent_processor::{error::TossError, state::Vault};
use toss_tests::*;

async fn pending(env: &mut Env, vault: &solana_pubkey::Pubkey) -> (u64, i64) {
    let account = env.account(vault).await.unwrap();
    let v: Vault =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    (v.pending_withdrawal, v.withdrawal_unlocks_at)
}

dual_mode!(
    withdrawal_executes_after_the_delay_only,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let owner = env.user(10 * SOL).await;
        env.deposit(&owner, 3 * SOL).await;
        let vault = Vault::find_address(&owner.pubkey()).0;
        env.send(
            &[vault_withdraw_request_ix(&owner.pubkey(), 2 * SOL)],
            &[&owner],
        )
        .await
        .assert_ok();
        let now = env.now().await;
        let (amount, unlocks_at) = pending(&mut env, &vault).await;
        assert_eq!(amount, 2 * SOL);
        assert!(unlocks_at >= now + WITHDRAWAL_DELAY_SECS - 5);
        // Too early: refused, nothing moved.
        let before = env.snapshot(&[vault, owner.pubkey()], &[]).await;
        env.set_now(unlocks_at - 1).await;
        env.send(&[vault_withdraw_execute_ix(&owner.pubkey())], &[&owner])
            .await
            .assert_toss_error(0, TossError::WithdrawalLocked);
        assert_eq!(env.lamports(&vault).await, before.lamports[0].1);
        // On time: paid.
        env.set_now(unlocks_at).await;
        let owner_before = env.lamports(&owner.pubkey()).await;
        env.send(&[vault_withdraw_execute_ix(&owner.pubkey())], &[&owner])
            .await
            .assert_ok();
        assert_eq!(env.lamports(&vault).await, before.lamports[0].1 - 2 * SOL);
        // The owner also paid the transaction fee (ctx payer pays here, so exactly +2 SOL).
        assert_eq!(env.lamports(&owner.pubkey()).await, owner_before + 2 * SOL);
        assert_eq!(pending(&mut env, &vault).await, (0, 0));
        // Nothing left to execute.
        env.send(&[vault_withdraw_execute_ix(&owner.pubkey())], &[&owner])
            .await
            .assert_toss_error(0, TossError::NoWithdrawalPending);
    }
);

dual_mode!(
    intents_settle_during_a_pending_withdrawal,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(3 * SOL, 2 * SOL).await;
        // The payer asks for everything back right after paying offline.
        env.send(
            &[vault_withdraw_request_ix(&p.payer.pubkey(), 3 * SOL)],
            &[&p.payer],
        )
        .await
        .assert_ok();
        // The merchant's intent still settles during the delay.
        let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
        out.assert_ok();
        assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
        assert_eq!(env.lamports(&p.merchant).await, 3 * SOL);
        // After the delay the withdrawal takes only what is left above the rent floor.
        let (_, unlocks_at) = pending(&mut env, &p.vault).await;
        env.set_now(unlocks_at).await;
        let rent = env.ctx.banks_client.get_rent().await.unwrap();
        let vault_len = env.account(&p.vault).await.unwrap().data.len();
        let floor = rent.minimum_balance(vault_len);
        assert_eq!(env.lamports(&p.vault).await, floor + SOL);
        let owner_before = env.lamports(&p.payer.pubkey()).await;
        env.send(&[vault_withdraw_execute_ix(&p.payer.pubkey())], &[&p.payer])
            .await
            .assert_ok();
        assert_eq!(env.lamports(&p.vault).await, floor, "the rent floor stays");
        assert_eq!(env.lamports(&p.payer.pubkey()).await, owner_before + SOL);
    }
);

dual_mode!(non_owner_cannot_withdraw, |mode| async move {
    let mut env = Env::start(mode).await;
    let owner = env.user(10 * SOL).await;
    env.deposit(&owner, 3 * SOL).await;
    let thief = env.user(SOL).await;
    let vault = Vault::find_address(&owner.pubkey()).0;
    let mut request = vault_withdraw_request_ix(&thief.pubkey(), SOL);
    request.accounts[1].pubkey = vault;
    env.send(&[request], &[&thief])
        .await
        .assert_toss_error(0, TossError::Unauthorized);
    env.send(
        &[vault_withdraw_request_ix(&owner.pubkey(), SOL)],
        &[&owner],
    )
    .await
    .assert_ok();
    let (_, unlocks_at) = pending(&mut env, &vault).await;
    env.set_now(unlocks_at).await;
    let before = env.snapshot(&[vault, thief.pubkey()], &[]).await;
    for mut ix in [
        vault_withdraw_execute_ix(&thief.pubkey()),
        vault_withdraw_cancel_ix(&thief.pubkey()),
    ] {
        ix.accounts[1].pubkey = vault;
        env.send(&[ix], &[&thief])
            .await
            .assert_toss_error(0, TossError::Unauthorized);
    }
    assert_eq!(env.snapshot(&[vault, thief.pubkey()], &[]).await, before);
    assert_eq!(pending(&mut env, &vault).await.0, SOL);
});

dual_mode!(cancelled_withdrawal_cannot_execute, |mode| async move {
    let mut env = Env::start(mode).await;
    let owner = env.user(10 * SOL).await;
    env.deposit(&owner, 3 * SOL).await;
    let vault = Vault::find_address(&owner.pubkey()).0;
    env.send(&[vault_withdraw_cancel_ix(&owner.pubkey())], &[&owner])
        .await
        .assert_toss_error(0, TossError::NoWithdrawalPending);
    env.send(
        &[vault_withdraw_request_ix(&owner.pubkey(), SOL)],
        &[&owner],
    )
    .await
    .assert_ok();
    env.send(&[vault_withdraw_cancel_ix(&owner.pubkey())], &[&owner])
        .await
        .assert_ok();
    assert_eq!(pending(&mut env, &vault).await, (0, 0));
    let later = env.now().await + WITHDRAWAL_DELAY_SECS + 1;
    env.set_now(later).await;
    let before = env.lamports(&vault).await;
    env.send(&[vault_withdraw_execute_ix(&owner.pubkey())], &[&owner])
        .await
        .assert_toss_error(0, TossError::NoWithdrawalPending);
    assert_eq!(env.lamports(&vault).await, before);
    env.send(&[vault_withdraw_request_ix(&owner.pubkey(), 0)], &[&owner])
        .await
        .assert_toss_error(0, TossError::ZeroAmount);
});

dual_mode!(withdrawals_work_while_paused, |mode| async move {
    let mut env = Env::start(mode).await;
    let admin = env.admin.insecure_clone();
    env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
        .await
        .assert_ok();
    let owner = env.user(10 * SOL).await;
    env.deposit(&owner, 3 * SOL).await;
    let vault = Vault::find_address(&owner.pubkey()).0;
    env.send(
        &[vault_withdraw_request_ix(&owner.pubkey(), SOL)],
        &[&owner],
    )
    .await
    .assert_ok();
    let (_, unlocks_at) = pending(&mut env, &vault).await;
    env.set_now(unlocks_at).await;
    let before = env.lamports(&vault).await;
    env.send(&[vault_withdraw_execute_ix(&owner.pubkey())], &[&owner])
        .await
        .assert_ok();
    assert_eq!(env.lamports(&vault).await, before - SOL);
});
