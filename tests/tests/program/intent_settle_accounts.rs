//! `intent_settle` attacks through accounts and fees: each asserts the exact error or rejection
//! reason and that nothing moved.

use solana_keypair::Keypair;
use solana_signer::Signer;
use toss_intent_processor::{
    constants::RECENT_BLOCKHASHES_ID,
    error::TossError,
    events::RejectReason,
    intent::intent_id,
    state::{NonceAuthority, Vault},
};
use toss_tests::*;

/// Sends the settle instructions for `p` after `edit` changed them; expects `err` at the settle
/// instruction and nothing moved.
async fn assert_settle_fails(
    env: &mut Env,
    p: &Payment,
    fee: u64,
    edit: impl FnOnce(&mut Vec<solana_instruction::Instruction>),
    err: TossError,
) {
    let relayer = env.relayer.insecure_clone();
    let mut ixs = settle_ixs(&relayer.pubkey(), std::slice::from_ref(&p.signed), &[fee]);
    edit(&mut ixs);
    let before = env.snapshot_payment(p).await;
    env.send(&ixs, &[&relayer]).await.assert_toss_error(1, err);
    assert_eq!(env.snapshot_payment(p).await, before, "nothing moved");
}

/// Index of the first remaining account of intent 0 in `intent_settle`'s account list.
const FIRST: usize = 5;

dual_mode!(fee_above_intent_max_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let fee = p.intent.max_fee + 1;
    assert_settle_fails(&mut env, &p, fee, |_| {}, TossError::FeeExceedsIntentMax).await;
});

dual_mode!(fee_above_config_cap_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let mut p = env.payment(5 * SOL, SOL).await;
    env.resign(&mut p, |i| i.max_fee = FEE_CAP * 2);
    assert_settle_fails(&mut env, &p, FEE_CAP + 1, |_| {}, TossError::FeeExceedsCap).await;
});

dual_mode!(wrong_recipient_account_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let thief = env.user(SOL).await.pubkey();
    assert_settle_fails(
        &mut env,
        &p,
        0,
        |ixs| ixs[1].accounts[FIRST + 3].pubkey = thief,
        TossError::RecipientMismatch,
    )
    .await;
    assert_eq!(env.lamports(&thief).await, SOL);
});

dual_mode!(another_senders_vault_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let other = env.payment(5 * SOL, SOL).await;
    let before_other = env.lamports(&other.vault).await;
    assert_settle_fails(
        &mut env,
        &p,
        0,
        |ixs| ixs[1].accounts[FIRST].pubkey = other.vault,
        TossError::VaultMismatch,
    )
    .await;
    assert_eq!(env.lamports(&other.vault).await, before_other);
});

dual_mode!(
    fake_vault_owned_by_another_program_fails,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let fake = Keypair::new().pubkey();
        let real = env.account(&p.vault).await.unwrap();
        env.ctx.set_account(
            &fake,
            &solana_account::Account {
                owner: solana_sdk_ids::system_program::ID,
                ..real
            }
            .into(),
        );
        assert_settle_fails(
            &mut env,
            &p,
            0,
            |ixs| ixs[1].accounts[FIRST].pubkey = fake,
            TossError::VaultMismatch,
        )
        .await;
    }
);

dual_mode!(wrong_nonce_account_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let other_nonce = env.create_nonce(&p.payer.pubkey()).await;
    let before = env.nonce_value(&other_nonce).await;
    assert_settle_fails(
        &mut env,
        &p,
        0,
        |ixs| ixs[1].accounts[FIRST + 1].pubkey = other_nonce,
        TossError::NonceAccountMismatch,
    )
    .await;
    assert_eq!(env.nonce_value(&other_nonce).await, before);
});

dual_mode!(wrong_nonce_authority_account_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let other = NonceAuthority::find_address(&Keypair::new().pubkey()).0;
    assert_settle_fails(
        &mut env,
        &p,
        0,
        |ixs| ixs[1].accounts[FIRST + 2].pubkey = other,
        TossError::NonceAuthorityAccountMismatch,
    )
    .await;
});

dual_mode!(readonly_recipient_is_rejected_alone, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let relayer = env.relayer.insecure_clone();
    let mut ixs = settle_ixs(&relayer.pubkey(), std::slice::from_ref(&p.signed), &[0]);
    ixs[1].accounts[FIRST + 3].is_writable = false;
    let before = env.snapshot_payment(&p).await;
    let out = env.send(&ixs, &[&relayer]).await;
    out.assert_ok();
    assert_eq!(
        out.outcomes(),
        vec![Outcome::Rejected {
            id: intent_id(&p.signed.message),
            reason: RejectReason::RecipientNotWritable
        }]
    );
    assert_eq!(env.snapshot_payment(&p).await, before, "nothing moved");
});

dual_mode!(missing_intent_accounts_fail, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    assert_settle_fails(
        &mut env,
        &p,
        0,
        |ixs| {
            ixs[1].accounts.pop();
        },
        TossError::AccountCountMismatch,
    )
    .await;
});

dual_mode!(extra_accounts_fail, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    assert_settle_fails(
        &mut env,
        &p,
        0,
        |ixs| {
            let extra = ixs[1].accounts[FIRST + 3].clone();
            ixs[1].accounts.push(extra);
        },
        TossError::AccountCountMismatch,
    )
    .await;
});

dual_mode!(fee_count_must_match_signatures, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let relayer = env.relayer.insecure_clone();
    let intents = [p.intent.clone(), p.intent.clone()];
    let ixs = vec![
        precompile_ix(std::slice::from_ref(&p.signed)),
        settle_ix(&relayer.pubkey(), &intents, &[0, 0]),
    ];
    let before = env.snapshot_payment(&p).await;
    env.send(&ixs, &[&relayer])
        .await
        .assert_toss_error(1, TossError::SignatureCountMismatch);
    assert_eq!(env.snapshot_payment(&p).await, before);
});

dual_mode!(spoofed_recent_blockhashes_sysvar_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let fake = Keypair::new().pubkey();
    let real = env.account(&RECENT_BLOCKHASHES_ID).await.unwrap();
    env.ctx.set_account(&fake, &real.into());
    assert_settle_fails(
        &mut env,
        &p,
        0,
        |ixs| ixs[1].accounts[3].pubkey = fake,
        TossError::InvalidRecentBlockhashesSysvar,
    )
    .await;
});

dual_mode!(
    griefing_another_senders_nonce_is_rejected,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let victim = env.payment(5 * SOL, SOL).await;
        let mut attacker = env.payment(5 * SOL, SOL).await;
        // The attacker signs an intent of their own over the victim's nonce (value is public).
        let victim_nonce = victim.nonce;
        let value = env.nonce_value(&victim_nonce).await;
        env.resign(&mut attacker, |i| {
            i.nonce_account = victim_nonce;
            i.nonce_value = value;
        });
        let before_victim = env.snapshot_payment(&victim).await;
        let before = env
            .snapshot(&[attacker.vault, attacker.merchant], &[])
            .await;
        let out = env
            .settle(std::slice::from_ref(&attacker.signed), &[0])
            .await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![Outcome::Rejected {
                id: intent_id(&attacker.signed.message),
                reason: RejectReason::NonceAuthorityMismatch
            }]
        );
        assert_eq!(env.snapshot_payment(&victim).await, before_victim);
        assert_eq!(
            env.snapshot(&[attacker.vault, attacker.merchant], &[])
                .await,
            before
        );
        // Naming the victim's nonce authority instead is a structural mismatch.
        let victim_authority = NonceAuthority::find_address(&victim.payer.pubkey()).0;
        let relayer = env.relayer.insecure_clone();
        let mut ixs = settle_ixs(
            &relayer.pubkey(),
            std::slice::from_ref(&attacker.signed),
            &[0],
        );
        ixs[1].accounts[FIRST + 2].pubkey = victim_authority;
        env.send(&ixs, &[&relayer])
            .await
            .assert_toss_error(1, TossError::NonceAuthorityAccountMismatch);
        assert_eq!(env.snapshot_payment(&victim).await, before_victim);
    }
);

dual_mode!(
    nonce_with_keypair_authority_is_rejected,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let mut p = env.payment(5 * SOL, SOL).await;
        let plain = env.create_nonce_with_authority(&p.payer.pubkey()).await;
        env.next_slot().await;
        let value = env.nonce_value(&plain).await;
        env.resign(&mut p, |i| {
            i.nonce_account = plain;
            i.nonce_value = value;
        });
        p.nonce = plain;
        let before = env.snapshot_payment(&p).await;
        let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![Outcome::Rejected {
                id: intent_id(&p.signed.message),
                reason: RejectReason::NonceAuthorityMismatch
            }]
        );
        assert_eq!(env.snapshot_payment(&p).await, before);
    }
);

dual_mode!(
    nonce_owned_by_another_program_is_rejected,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        // Same bytes as a valid nonce, but owned by another program.
        let mut account = env.account(&p.nonce).await.unwrap();
        account.owner = Vault::find_address(&p.payer.pubkey()).0;
        env.ctx.set_account(&p.nonce, &account.into());
        let before = env.snapshot(&p.watched(&env.relayer.pubkey()), &[]).await;
        let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![Outcome::Rejected {
                id: intent_id(&p.signed.message),
                reason: RejectReason::NonceNotSystemOwned
            }]
        );
        assert_eq!(
            env.snapshot(&p.watched(&env.relayer.pubkey()), &[]).await,
            before
        );
        assert_eq!(env.nonce_value(&p.nonce).await, p.intent.nonce_value);
    }
);

dual_mode!(token_intent_with_sol_accounts_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let mut p = env.payment(5 * SOL, SOL).await;
    env.resign(&mut p, |i| i.mint = Some(Keypair::new().pubkey()));
    // Four SOL accounts where a token intent needs nine.
    assert_settle_fails(&mut env, &p, 0, |_| {}, TossError::AccountCountMismatch).await;
});
