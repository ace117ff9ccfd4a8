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
    }
}

dual_mode!(admin_updates_within_bounds, |mode| async move {
    let mut env = Env::start(mode).await;
    let admin = env.admin.insecure_clone();
    env.send(
        &[config_update_ix(&admin.pubkey(), update(600, 1_000, 900))],
        &[&admin],
    )
    .await
    .assert_ok();
    let c = config(&mut env).await;
    assert_eq!(
        (
            c.max_intent_lifetime_secs,
            c.max_relayer_fee,
            c.withdrawal_delay_secs
        ),
        (600, 1_000, 900)
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
