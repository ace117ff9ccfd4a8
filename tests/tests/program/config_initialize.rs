//! `config_initialize`: only the upgrade authority, once, within bounds.

use solana_keypair::Keypair;
use solana_signer::Signer;
use toss_intent_processor::{error::TossError, state::Config};
use toss_tests::*;

dual_mode!(upgrade_authority_initializes, |mode| async move {
    let mut env = Env::start_uninitialized(mode).await;
    let authority = env.upgrade_authority.insecure_clone();
    let args = env.default_config_args();
    env.send(
        &[config_initialize_ix(&authority.pubkey(), args)],
        &[&authority],
    )
    .await
    .assert_ok();
    let account = env.account(&Config::ADDRESS).await.expect("config exists");
    let config: Config =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    assert_eq!(config.admin, env.admin.pubkey());
    assert_eq!(config.max_intent_lifetime_secs, LIFETIME_SECS);
    assert_eq!(config.max_relayer_fee, FEE_CAP);
    assert_eq!(config.withdrawal_delay_secs, WITHDRAWAL_DELAY_SECS);
    assert!(!config.paused);
    assert_eq!(config.bump, Config::BUMP);
});

dual_mode!(front_runner_cannot_initialize, |mode| async move {
    let mut env = Env::start_uninitialized(mode).await;
    let attacker = env.user(10 * SOL).await;
    let mut args = env.default_config_args();
    args.admin = attacker.pubkey();
    env.send(
        &[config_initialize_ix(&attacker.pubkey(), args)],
        &[&attacker],
    )
    .await
    .assert_toss_error(0, TossError::NotUpgradeAuthority);
    assert!(env.account(&Config::ADDRESS).await.is_none());
});

dual_mode!(forged_program_data_is_refused, |mode| async move {
    let mut env = Env::start_uninitialized(mode).await;
    let attacker = env.user(10 * SOL).await;
    // A look-alike ProgramData at another address, naming the attacker.
    let fake = Keypair::new().pubkey();
    let mut data = vec![3, 0, 0, 0];
    data.extend_from_slice(&0u64.to_le_bytes());
    data.push(1);
    data.extend_from_slice(attacker.pubkey().as_ref());
    env.ctx.set_account(
        &fake,
        &solana_account::Account {
            lamports: SOL,
            data,
            owner: solana_sdk_ids::bpf_loader_upgradeable::ID,
            executable: false,
            rent_epoch: 0,
        }
        .into(),
    );
    let mut ix = config_initialize_ix(&attacker.pubkey(), env.default_config_args());
    ix.accounts[2].pubkey = fake;
    env.send(&[ix], &[&attacker])
        .await
        .assert_toss_error(0, TossError::InvalidProgramData);
    assert!(env.account(&Config::ADDRESS).await.is_none());
});

dual_mode!(second_initialization_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let authority = env.upgrade_authority.insecure_clone();
    let mut args = env.default_config_args();
    args.admin = authority.pubkey();
    let result = env
        .send(
            &[config_initialize_ix(&authority.pubkey(), args)],
            &[&authority],
        )
        .await;
    assert!(result.result.is_err(), "re-initialization must fail");
    let account = env.account(&Config::ADDRESS).await.unwrap();
    let config: Config =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    assert_eq!(config.admin, env.admin.pubkey(), "admin unchanged");
});

dual_mode!(bounds_are_enforced, |mode| async move {
    let mut env = Env::start_uninitialized(mode).await;
    let authority = env.upgrade_authority.insecure_clone();
    let base = env.default_config_args();
    let cases = [
        {
            let mut a = base.clone();
            a.max_intent_lifetime_secs = 59;
            (a, TossError::LifetimeOutOfBounds)
        },
        {
            let mut a = base.clone();
            a.max_intent_lifetime_secs = 31 * 24 * 3600;
            a.withdrawal_delay_secs = 32 * 24 * 3600;
            (a, TossError::LifetimeOutOfBounds)
        },
        {
            let mut a = base.clone();
            a.max_relayer_fee = 100_000_001;
            (a, TossError::FeeCapOutOfBounds)
        },
        {
            let mut a = base.clone();
            a.withdrawal_delay_secs = a.max_intent_lifetime_secs - 1;
            (a, TossError::WithdrawalDelayOutOfBounds)
        },
        {
            let mut a = base.clone();
            a.withdrawal_delay_secs = 91 * 24 * 3600;
            (a, TossError::WithdrawalDelayOutOfBounds)
        },
    ];
    for (args, err) in cases {
        env.send(
            &[config_initialize_ix(&authority.pubkey(), args)],
            &[&authority],
        )
        .await
        .assert_toss_error(0, err);
    }
    assert!(env.account(&Config::ADDRESS).await.is_none());
});
