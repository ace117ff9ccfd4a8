//! Two-step nonce closing: request, delay, execute (lamports back to the owner by CPI signed
//! with the nonce-authority PDA).

use solana_signer::Signer;
use toss_intent_processor::{error::TossError, state::NonceClose};
use toss_tests::*;

async fn unlocks_at(env: &mut Env, nonce: &solana_pubkey::Pubkey) -> i64 {
    let account = env
        .account(&NonceClose::find_address(nonce).0)
        .await
        .unwrap();
    let r: NonceClose =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    r.unlocks_at
}

dual_mode!(nonce_closes_after_the_delay_only, |mode| async move {
    let mut env = Env::start(mode).await;
    let (owner, nonce) = env.payer_with_vault(SOL).await;
    let nonce_lamports = env.lamports(&nonce).await;
    env.send(
        &[nonce_close_request_ix(&owner.pubkey(), &nonce)],
        &[&owner],
    )
    .await
    .assert_ok();
    let at = unlocks_at(&mut env, &nonce).await;
    env.set_now(at - 1).await;
    let before = env.snapshot(&[owner.pubkey()], &[nonce]).await;
    env.send(
        &[nonce_close_execute_ix(&owner.pubkey(), &nonce)],
        &[&owner],
    )
    .await
    .assert_toss_error(0, TossError::NonceCloseLocked);
    assert_eq!(env.snapshot(&[owner.pubkey()], &[nonce]).await, before);
    env.set_now(at).await;
    let owner_before = env.lamports(&owner.pubkey()).await;
    let request_rent = env.lamports(&NonceClose::find_address(&nonce).0).await;
    env.send(
        &[nonce_close_execute_ix(&owner.pubkey(), &nonce)],
        &[&owner],
    )
    .await
    .assert_ok();
    assert!(env.account(&nonce).await.is_none(), "nonce account closed");
    assert!(env
        .account(&NonceClose::find_address(&nonce).0)
        .await
        .is_none());
    assert_eq!(
        env.lamports(&owner.pubkey()).await,
        owner_before + nonce_lamports + request_rent
    );
});

dual_mode!(intents_settle_during_a_pending_close, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(3 * SOL, SOL).await;
    env.send(
        &[nonce_close_request_ix(&p.payer.pubkey(), &p.nonce)],
        &[&p.payer],
    )
    .await
    .assert_ok();
    let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
    out.assert_ok();
    assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
});

dual_mode!(non_owner_cannot_close_a_nonce, |mode| async move {
    let mut env = Env::start(mode).await;
    let (owner, nonce) = env.payer_with_vault(SOL).await;
    let (thief, _) = env.payer_with_vault(SOL).await;
    // The thief cannot request a close of someone else's nonce through their own vault...
    env.send(
        &[nonce_close_request_ix(&thief.pubkey(), &nonce)],
        &[&thief],
    )
    .await
    .assert_toss_error(0, TossError::NotOwnNonce);
    // ...nor through the owner's vault.
    let mut ix = nonce_close_request_ix(&thief.pubkey(), &nonce);
    ix.accounts[1].pubkey = toss_intent_processor::state::Vault::find_address(&owner.pubkey()).0;
    env.send(&[ix], &[&thief])
        .await
        .assert_toss_error(0, TossError::Unauthorized);
    // Once the owner requested it, the thief cannot execute it (to themselves).
    env.send(
        &[nonce_close_request_ix(&owner.pubkey(), &nonce)],
        &[&owner],
    )
    .await
    .assert_ok();
    let at = unlocks_at(&mut env, &nonce).await;
    env.set_now(at).await;
    let before = env
        .snapshot(&[thief.pubkey(), owner.pubkey()], &[nonce])
        .await;
    let mut ix = nonce_close_execute_ix(&thief.pubkey(), &nonce);
    ix.accounts[1].pubkey = toss_intent_processor::state::Vault::find_address(&owner.pubkey()).0;
    env.send(&[ix], &[&thief])
        .await
        .assert_toss_error(0, TossError::Unauthorized);
    assert_eq!(
        env.snapshot(&[thief.pubkey(), owner.pubkey()], &[nonce])
            .await,
        before
    );
    // A nonce with a plain keypair authority is not the program's to close.
    let plain = env.create_nonce_with_authority(&owner.pubkey()).await;
    env.send(
        &[nonce_close_request_ix(&owner.pubkey(), &plain)],
        &[&owner],
    )
    .await
    .assert_toss_error(0, TossError::NotOwnNonce);
});

dual_mode!(
    nonce_close_waits_out_a_pause_and_lapses_after_its_window,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let admin = env.admin.insecure_clone();
        let (owner, nonce) = env.payer_with_vault(SOL).await;
        env.send(
            &[nonce_close_request_ix(&owner.pubkey(), &nonce)],
            &[&owner],
        )
        .await
        .assert_ok();
        // A second request while one is pending is refused by name.
        env.next_slot().await;
        env.send(
            &[nonce_close_request_ix(&owner.pubkey(), &nonce)],
            &[&owner],
        )
        .await
        .assert_toss_error(0, TossError::NonceClosePending);
        let at = unlocks_at(&mut env, &nonce).await;
        // Paused for 1,000 s before the unlock: no execution while paused, and the unlock moves
        // 1,000 s later.
        let t0 = env.now().await;
        env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
            .await
            .assert_ok();
        env.set_now(at).await;
        env.send(
            &[nonce_close_execute_ix(&owner.pubkey(), &nonce)],
            &[&owner],
        )
        .await
        .assert_toss_error(0, TossError::Paused);
        env.set_now(t0 + 1_000).await;
        env.send(&[config_set_paused_ix(&admin.pubkey(), false)], &[&admin])
            .await
            .assert_ok();
        env.set_now(at + 990).await;
        env.send(
            &[nonce_close_execute_ix(&owner.pubkey(), &nonce)],
            &[&owner],
        )
        .await
        .assert_toss_error(0, TossError::NonceCloseLocked);
        // Past the window (fixed at the request): lapsed, the nonce stays.
        let window_end = at + toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS;
        env.set_now(window_end + 1).await;
        env.send(
            &[nonce_close_execute_ix(&owner.pubkey(), &nonce)],
            &[&owner],
        )
        .await
        .assert_toss_error(0, TossError::NonceCloseLapsed);
        assert!(env.account(&nonce).await.is_some());
        // Requested again: the delay starts over from now.
        let out = env
            .send(
                &[nonce_close_request_ix(&owner.pubkey(), &nonce)],
                &[&owner],
            )
            .await;
        out.assert_ok();
        assert!(out.logs.iter().any(|l| l.contains("Program data:")));
        let again = unlocks_at(&mut env, &nonce).await;
        assert!(again >= window_end + 1 + WITHDRAWAL_DELAY_SECS);
        env.set_now(again).await;
        env.send(
            &[nonce_close_execute_ix(&owner.pubkey(), &nonce)],
            &[&owner],
        )
        .await
        .assert_ok();
        assert!(env.account(&nonce).await.is_none());
    }
);
