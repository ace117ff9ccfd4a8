//! `vault_deposit`: creates the vault once, adds lamports, keeps the rent floor.

use solana_signer::Signer;
use toss_intent_processor::{
    error::TossError,
    state::{NonceAuthority, Vault},
};
use toss_tests::*;

dual_mode!(first_deposit_creates_vault, |mode| async move {
    let mut env = Env::start(mode).await;
    let owner = env.user(10 * SOL).await;
    let (vault, bump) = Vault::find_address(&owner.pubkey());
    env.deposit(&owner, 2 * SOL).await;
    let account = env.account(&vault).await.expect("vault created");
    assert_eq!(account.owner, toss_intent_processor::ID);
    let rent = env.ctx.banks_client.get_rent().await.unwrap();
    let floor = rent.minimum_balance(account.data.len());
    assert_eq!(account.lamports, floor + 2 * SOL);
    let state: Vault =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    assert_eq!(state.owner, owner.pubkey());
    assert_eq!(state.bump, bump);
    let (authority, authority_bump) = NonceAuthority::find_address(&owner.pubkey());
    assert_eq!(state.nonce_authority, authority);
    assert_eq!(state.nonce_authority_bump, authority_bump);
    // Second deposit adds, rent is not charged again.
    env.deposit(&owner, SOL).await;
    assert_eq!(env.lamports(&vault).await, floor + 3 * SOL);
});

dual_mode!(zero_deposit_is_refused, |mode| async move {
    let mut env = Env::start(mode).await;
    let owner = env.user(10 * SOL).await;
    env.send(&[vault_deposit_ix(&owner.pubkey(), 0)], &[&owner])
        .await
        .assert_toss_error(0, TossError::ZeroAmount);
    assert!(env
        .account(&Vault::find_address(&owner.pubkey()).0)
        .await
        .is_none());
});

dual_mode!(
    cannot_deposit_into_anothers_vault_as_them,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let owner = env.user(10 * SOL).await;
        let attacker = env.user(10 * SOL).await;
        // The attacker names the victim's vault while signing as themselves: the seeds differ.
        let mut ix = vault_deposit_ix(&attacker.pubkey(), SOL);
        ix.accounts[1].pubkey = Vault::find_address(&owner.pubkey()).0;
        let out = env.send(&[ix], &[&attacker]).await;
        assert!(out.result.is_err());
        assert!(env
            .account(&Vault::find_address(&owner.pubkey()).0)
            .await
            .is_none());
    }
);
