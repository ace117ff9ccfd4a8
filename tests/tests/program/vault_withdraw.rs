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

async fn request(env: &mut Env, owner: &solana_keypair::Keypair, amount: u64) -> TxResult {
    env.send(
        &[vault_withdraw_request_ix(&owner.pubkey(), amount)],
        &[owner],
    )
    .await
}

async fn execute(env: &mut Env, owner: &solana_keypair::Keypair) -> TxResult {
    env.send(&[vault_withdraw_execute_ix(&owner.pubkey())], &[owner])
        .await
}

async fn window_end(env: &mut Env, vault: &solana_pubkey::Pubkey) -> i64 {
    let account = env.account(vault).await.unwrap();
    let v: Vault =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    v.withdrawal_window_ends_at
}

dual_mode!(
    unlocked_withdrawal_lapses_after_its_window,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let owner = env.user(10 * SOL).await;
        env.deposit(&owner, 3 * SOL).await;
        let vault = Vault::find_address(&owner.pubkey()).0;
        request(&mut env, &owner, 2 * SOL).await.assert_ok();
        let (_, unlocks_at) = pending(&mut env, &vault).await;
        let end = window_end(&mut env, &vault).await;
        assert_eq!(
            end,
            unlocks_at + toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS
        );
        // The last second of the window still works in another vault; here: one past it.
        env.set_now(end + 1).await;
        let before = env.lamports(&vault).await;
        execute(&mut env, &owner)
            .await
            .assert_toss_error(0, TossError::WithdrawalLapsed);
        assert_eq!(env.lamports(&vault).await, before);
        // A new request restarts the whole delay (and reports the lapse).
        let out = request(&mut env, &owner, 2 * SOL).await;
        out.assert_ok();
        let events = out
            .logs
            .iter()
            .filter(|l| l.contains("Program data:"))
            .count();
        assert_eq!(events, 2, "lapsed + requested: {:?}", out.logs);
        let (_, again) = pending(&mut env, &vault).await;
        assert!(again >= end + 1 + WITHDRAWAL_DELAY_SECS);
        env.set_now(again - 1).await;
        execute(&mut env, &owner)
            .await
            .assert_toss_error(0, TossError::WithdrawalLocked);
        // Exactly at the window's last second it still executes.
        let end = window_end(&mut env, &vault).await;
        env.set_now(end).await;
        execute(&mut env, &owner).await.assert_ok();
        assert_eq!(env.lamports(&vault).await, before - 2 * SOL);
    }
);

dual_mode!(
    pause_stops_withdrawals_and_moves_their_unlock,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let admin = env.admin.insecure_clone();
        let owner = env.user(10 * SOL).await;
        env.deposit(&owner, 3 * SOL).await;
        let vault = Vault::find_address(&owner.pubkey()).0;
        request(&mut env, &owner, SOL).await.assert_ok();
        let (_, unlocks_at) = pending(&mut env, &vault).await;
        // Paused from 100 s after the request until 500 s after the unlock.
        let t0 = env.now().await;
        env.set_now(t0 + 100).await;
        env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
            .await
            .assert_ok();
        env.set_now(unlocks_at + 10).await;
        execute(&mut env, &owner)
            .await
            .assert_toss_error(0, TossError::Paused);
        let resumed = unlocks_at + 500;
        env.set_now(resumed).await;
        env.send(&[config_set_paused_ix(&admin.pubkey(), false)], &[&admin])
            .await
            .assert_ok();
        // The delay did not run while paused: it unlocks `pause length` after `unlocks_at`.
        let pause = resumed - (t0 + 100);
        env.set_now(unlocks_at + pause - 1).await;
        execute(&mut env, &owner)
            .await
            .assert_toss_error(0, TossError::WithdrawalLocked);
        env.set_now(unlocks_at + pause).await;
        let before = env.lamports(&vault).await;
        execute(&mut env, &owner).await.assert_ok();
        assert_eq!(env.lamports(&vault).await, before - SOL);
    }
);

dual_mode!(
    withdrawal_requested_during_a_pause_waits_pause_plus_delay,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let admin = env.admin.insecure_clone();
        env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
            .await
            .assert_ok();
        let owner = env.user(10 * SOL).await;
        env.deposit(&owner, 3 * SOL).await;
        let vault = Vault::find_address(&owner.pubkey()).0;
        let requested = env.now().await;
        request(&mut env, &owner, SOL).await.assert_ok();
        // A pause longer than the delay: no free withdrawal when it ends.
        let resumed = requested + 3 * WITHDRAWAL_DELAY_SECS;
        env.set_now(resumed).await;
        env.send(&[config_set_paused_ix(&admin.pubkey(), false)], &[&admin])
            .await
            .assert_ok();
        execute(&mut env, &owner)
            .await
            .assert_toss_error(0, TossError::WithdrawalLocked);
        // It executes a full delay of unpaused time after the pause ended.
        let unlocks_at = resumed + WITHDRAWAL_DELAY_SECS + 1;
        env.set_now(unlocks_at - 1).await;
        execute(&mut env, &owner)
            .await
            .assert_toss_error(0, TossError::WithdrawalLocked);
        assert_eq!(pending(&mut env, &vault).await.0, SOL);
        env.set_now(unlocks_at).await;
        execute(&mut env, &owner).await.assert_ok();
    }
);
