//! Admin rotation (`config_propose_admin` + `config_accept_admin`) and `config_update`.

use solana_signer::Signer;
use toss_intent_processor::{error::TossError, instructions::ConfigUpdateArgs, state::Config};
use toss_tests::*;

async fn config(env: &mut Env) -> Config {
    let account = env.account(&Config::ADDRESS).await.unwrap();
    anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap()
}

dual_mode!(admin_rotates_in_two_steps, |mode| async move {
    let mut env = Env::start(mode).await;
    let admin = env.admin.insecure_clone();
    let next = env.user(SOL).await;
    env.send(
        &[config_propose_admin_ix(&admin.pubkey(), next.pubkey())],
        &[&admin],
    )
    .await
    .assert_ok();
    assert_eq!(
        config(&mut env).await.admin,
        admin.pubkey(),
        "not before acceptance"
    );
    assert_eq!(config(&mut env).await.pending_admin, next.pubkey());
    env.send(&[config_accept_admin_ix(&next.pubkey())], &[&next])
        .await
        .assert_ok();
    let c = config(&mut env).await;
    assert_eq!(c.admin, next.pubkey());
    assert_eq!(c.pending_admin, Default::default());
    // The old admin lost its powers, the new one has them.
    env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
        .await
        .assert_toss_error(0, TossError::Unauthorized);
    env.send(&[config_set_paused_ix(&next.pubkey(), true)], &[&next])
        .await
        .assert_ok();
});

dual_mode!(
    rotation_accepted_by_the_wrong_key_fails,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let admin = env.admin.insecure_clone();
        let next = env.user(SOL).await;
        let thief = env.user(SOL).await;
        // Nothing proposed yet: nobody can accept.
        env.send(&[config_accept_admin_ix(&thief.pubkey())], &[&thief])
            .await
            .assert_toss_error(0, TossError::NotPendingAdmin);
        env.send(
            &[config_propose_admin_ix(&admin.pubkey(), next.pubkey())],
            &[&admin],
        )
        .await
        .assert_ok();
        env.send(&[config_accept_admin_ix(&thief.pubkey())], &[&thief])
            .await
            .assert_toss_error(0, TossError::NotPendingAdmin);
        let c = config(&mut env).await;
        assert_eq!(c.admin, admin.pubkey());
        assert_eq!(c.pending_admin, next.pubkey());
    }
);

dual_mode!(only_the_admin_proposes, |mode| async move {
    let mut env = Env::start(mode).await;
    let thief = env.user(SOL).await;
    env.send(
        &[config_propose_admin_ix(&thief.pubkey(), thief.pubkey())],
        &[&thief],
    )
    .await
    .assert_toss_error(0, TossError::Unauthorized);
    assert_eq!(config(&mut env).await.pending_admin, Default::default());
});

fn update(lifetime: i64, fee: u64, delay: i64) -> ConfigUpdateArgs {
    ConfigUpdateArgs {
        max_intent_lifetime_secs: lifetime,
        max_relayer_fee: fee,
        withdrawal_delay_secs: delay,
        withdrawal_window_secs: toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS,
    }
}

dual_mode!(admin_updates_within_bounds, |mode| async move {
    let mut env = Env::start(mode).await;
    let admin = env.admin.insecure_clone();
    // Raising every bound takes effect at once.
    env.send(
        &[config_update_ix(
            &admin.pubkey(),
            update(LIFETIME_SECS * 2, FEE_CAP * 2, WITHDRAWAL_DELAY_SECS * 2),
        )],
        &[&admin],
    )
    .await
    .assert_ok();
    let c = config(&mut env).await;
    assert_eq!(
        (
            c.max_intent_lifetime_secs,
            c.max_relayer_fee,
            c.withdrawal_delay_secs,
            c.bounds_change_at
        ),
        (LIFETIME_SECS * 2, FEE_CAP * 2, WITHDRAWAL_DELAY_SECS * 2, 0)
    );
});

dual_mode!(
    changes_that_void_held_intents_wait_a_full_lifetime,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let admin = env.admin.insecure_clone();
        // A merchant holds an intent that expires a full lifetime from now, fee at the cap.
        let mut p = env.payment(5 * SOL, SOL).await;
        let now = env.now().await;
        env.resign(&mut p, |i| {
            i.expiry = now + LIFETIME_SECS;
            i.max_fee = FEE_CAP;
        });
        // The admin lowers the lifetime and the fee cap: scheduled, not applied.
        let out = env
            .send(
                &[config_update_ix(
                    &admin.pubkey(),
                    update(600, 1_000, WITHDRAWAL_DELAY_SECS),
                )],
                &[&admin],
            )
            .await;
        out.assert_ok();
        let c = config(&mut env).await;
        assert_eq!(
            (c.max_intent_lifetime_secs, c.max_relayer_fee),
            (LIFETIME_SECS, FEE_CAP)
        );
        assert!(c.bounds_change_at >= now + LIFETIME_SECS);
        assert_eq!(
            c.bounds_at(c.bounds_change_at).max_intent_lifetime_secs,
            600
        );
        // The held intent still settles under the bounds it was accepted with.
        let out = env
            .settle(std::slice::from_ref(&p.signed), &[FEE_CAP])
            .await;
        out.assert_ok();
        assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
        // Once due, the new bounds apply to settlement (no crank needed).
        let q = env.payment(5 * SOL, SOL).await;
        env.set_now(c.bounds_change_at).await;
        env.settle(std::slice::from_ref(&q.signed), &[1_001])
            .await
            .assert_toss_error(1, toss_intent_processor::error::TossError::FeeExceedsCap);
        // The next update folds the due change in first.
        env.send(
            &[config_update_ix(
                &admin.pubkey(),
                update(600, 2_000, WITHDRAWAL_DELAY_SECS),
            )],
            &[&admin],
        )
        .await
        .assert_ok();
        let c = config(&mut env).await;
        assert_eq!(
            (
                c.max_intent_lifetime_secs,
                c.max_relayer_fee,
                c.withdrawal_delay_secs,
                c.bounds_change_at
            ),
            (600, 2_000, WITHDRAWAL_DELAY_SECS, 0)
        );
    }
);

dual_mode!(
    a_shorter_delay_waits_for_every_held_intent,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let admin = env.admin.insecure_clone();
        // Below the lifetime in force: refused (lower the lifetime first).
        env.send(
            &[config_update_ix(
                &admin.pubkey(),
                update(600, FEE_CAP, LIFETIME_SECS - 1),
            )],
            &[&admin],
        )
        .await
        .assert_toss_error(0, TossError::WithdrawalDelayOutOfBounds);
        // The lifetime goes down first (after a full old lifetime)...
        env.send(
            &[config_update_ix(
                &admin.pubkey(),
                update(600, FEE_CAP, WITHDRAWAL_DELAY_SECS),
            )],
            &[&admin],
        )
        .await
        .assert_ok();
        let first = config(&mut env).await.bounds_change_at;
        env.set_now(first).await;
        // ...then the delay: an intent accepted just before `first` under the old lifetime
        // may expire at `first + LIFETIME_SECS`; a withdrawal under the new delay must not
        // execute before that, so the change waits until `first + LIFETIME_SECS - 900`.
        env.send(
            &[config_update_ix(&admin.pubkey(), update(600, FEE_CAP, 900))],
            &[&admin],
        )
        .await
        .assert_ok();
        let c = config(&mut env).await;
        assert_eq!(
            c.max_intent_lifetime_secs, 600,
            "the first change was folded in"
        );
        assert!(
            c.bounds_change_at >= first + LIFETIME_SECS - 900,
            "{} < {}",
            c.bounds_change_at,
            first + LIFETIME_SECS - 900
        );
        assert_eq!(c.bounds_at(c.bounds_change_at).withdrawal_delay_secs, 900);
        assert_eq!(
            c.bounds_at(c.bounds_change_at - 1).withdrawal_delay_secs,
            WITHDRAWAL_DELAY_SECS
        );
    }
);

dual_mode!(a_shorter_withdrawal_delay_waits_too, |mode| async move {
    let mut env = Env::start(mode).await;
    let admin = env.admin.insecure_clone();
    let now = env.now().await;
    env.send(
        &[config_update_ix(
            &admin.pubkey(),
            update(LIFETIME_SECS, FEE_CAP, LIFETIME_SECS),
        )],
        &[&admin],
    )
    .await
    .assert_ok();
    // A withdrawal requested now still waits the old delay.
    let owner = env.user(10 * SOL).await;
    env.deposit(&owner, 3 * SOL).await;
    env.send(
        &[vault_withdraw_request_ix(&owner.pubkey(), SOL)],
        &[&owner],
    )
    .await
    .assert_ok();
    let vault = toss_intent_processor::state::Vault::find_address(&owner.pubkey()).0;
    let account = env.account(&vault).await.unwrap();
    let v: toss_intent_processor::state::Vault =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    assert!(v.withdrawal_unlocks_at >= now + WITHDRAWAL_DELAY_SECS);
    // A window change alone applies at once.
    let mut args = update(LIFETIME_SECS, FEE_CAP, WITHDRAWAL_DELAY_SECS);
    args.withdrawal_window_secs = 3_600;
    env.send(&[config_update_ix(&admin.pubkey(), args)], &[&admin])
        .await
        .assert_ok();
    let c = config(&mut env).await;
    assert_eq!((c.withdrawal_window_secs, c.bounds_change_at), (3_600, 0));
    let mut args = update(LIFETIME_SECS, FEE_CAP, WITHDRAWAL_DELAY_SECS);
    args.withdrawal_window_secs = 60;
    env.send(&[config_update_ix(&admin.pubkey(), args)], &[&admin])
        .await
        .assert_toss_error(
            0,
            toss_intent_processor::error::TossError::WithdrawalWindowOutOfBounds,
        );
});

dual_mode!(config_update_out_of_bounds_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let admin = env.admin.insecure_clone();
    for (args, err) in [
        (update(10, 1_000, 900), TossError::LifetimeOutOfBounds),
        (
            update(40 * 24 * 3600, 1_000, 80 * 24 * 3600),
            TossError::LifetimeOutOfBounds,
        ),
        (update(600, 200_000_000, 900), TossError::FeeCapOutOfBounds),
        (
            update(600, 1_000, 599),
            TossError::WithdrawalDelayOutOfBounds,
        ),
        (
            update(600, 1_000, 100 * 24 * 3600),
            TossError::WithdrawalDelayOutOfBounds,
        ),
    ] {
        env.send(&[config_update_ix(&admin.pubkey(), args)], &[&admin])
            .await
            .assert_toss_error(0, err);
    }
    let c = config(&mut env).await;
    assert_eq!(
        (
            c.max_intent_lifetime_secs,
            c.max_relayer_fee,
            c.withdrawal_delay_secs
        ),
        (LIFETIME_SECS, FEE_CAP, WITHDRAWAL_DELAY_SECS)
    );
});

dual_mode!(non_admin_cannot_update, |mode| async move {
    let mut env = Env::start(mode).await;
    let thief = env.user(SOL).await;
    env.send(
        &[config_update_ix(
            &thief.pubkey(),
            update(600, 100_000_000, 900),
        )],
        &[&thief],
    )
    .await
    .assert_toss_error(0, TossError::Unauthorized);
    assert_eq!(config(&mut env).await.max_relayer_fee, FEE_CAP);
});

dual_mode!(
    an_intent_accepted_before_a_lifetime_decrease_still_settles,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let admin = env.admin.insecure_clone();
        env.send(
            &[config_update_ix(
                &admin.pubkey(),
                update(600, FEE_CAP, WITHDRAWAL_DELAY_SECS),
            )],
            &[&admin],
        )
        .await
        .assert_ok();
        let change = config(&mut env).await.bounds_change_at;
        // Accepted ten seconds before the change, with the full old lifetime.
        let mut held = env.payment(5 * SOL, SOL).await;
        env.set_now(change - 10).await;
        env.resign(&mut held, |i| i.expiry = change - 10 + LIFETIME_SECS);
        // After the change it is still further than 600 s from expiry, and settles.
        env.set_now(change + 1).await;
        let out = env.settle(std::slice::from_ref(&held.signed), &[0]).await;
        out.assert_ok();
        assert!(
            matches!(out.outcomes()[..], [Outcome::Settled { .. }]),
            "{:?}",
            out.outcomes()
        );
        // A new intent signed after the change with an expiry beyond the horizon does not.
        let mut late = env.payment(5 * SOL, SOL).await;
        let horizon = config(&mut env).await.expiry_horizon;
        env.resign(&mut late, |i| i.expiry = horizon + 1);
        let out = env.settle(std::slice::from_ref(&late.signed), &[0]).await;
        out.assert_ok();
        assert!(matches!(
            out.outcomes()[..],
            [Outcome::Rejected {
                reason: toss_intent_processor::events::RejectReason::LifetimeTooLong,
                ..
            }]
        ));
    }
);
