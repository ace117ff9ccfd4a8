//! One payer can never make a batch fail for the others: a payment to an account that another
//! intent of the batch hands to a CPI (nonce account, nonce-authority PDA, token accounts), or
//! to an account the runtime will not write, settles or is rejected on its own while the honest
//! intents settle. Before lamport moves were deferred to after the last CPI, the first cases
//! failed the whole transaction with `UnbalancedInstruction`.

use solana_pubkey::Pubkey;
use solana_signer::Signer;
use toss_intent_processor::{events::RejectReason, intent::intent_id, state::NonceAuthority};
use toss_tests::*;

const M: u64 = 1_000_000;

/// Two payments, the first re-signed to pay `target(&second)` instead of its merchant.
async fn hostile_then_honest(
    env: &mut Env,
    amount: u64,
    target: impl FnOnce(&Payment) -> Pubkey,
) -> (Payment, Payment) {
    let mut hostile = env.payment(5 * SOL, amount).await;
    let honest = env.payment(5 * SOL, SOL).await;
    let to = target(&honest);
    env.resign(&mut hostile, |i| i.recipient = to);
    (hostile, honest)
}

fn settled(p: &Payment, fee: u64) -> Outcome {
    Outcome::Settled {
        id: intent_id(&p.signed.message),
        amount: p.intent.amount,
        fee,
    }
}

/// Settles `batch` and checks every intent settled, each recipient credited its amount.
async fn assert_all_settle(env: &mut Env, batch: &[&Payment]) {
    let mut before = Vec::new();
    for p in batch {
        before.push(env.lamports(&p.intent.recipient).await);
    }
    let signed: Vec<_> = batch.iter().map(|p| p.signed.clone()).collect();
    let fees = vec![1_000; batch.len()];
    let out = env.settle(&signed, &fees).await;
    out.assert_ok();
    let expected: Vec<_> = batch.iter().map(|p| settled(p, 1_000)).collect();
    assert_eq!(out.outcomes(), expected);
    // Each recipient got its amount (a recipient paid twice got both; a recipient that is a
    // vault of the batch also paid its own intent and fee).
    for (p, was) in batch.iter().zip(before) {
        let to = p.intent.recipient;
        let paid: u64 = batch
            .iter()
            .filter(|q| q.intent.recipient == to)
            .map(|q| q.intent.amount)
            .sum();
        let spent: u64 = batch
            .iter()
            .filter(|q| q.vault == to)
            .map(|q| q.intent.amount + 1_000)
            .sum();
        assert_eq!(env.lamports(&to).await, was + paid - spent);
    }
    for p in batch {
        assert_ne!(env.nonce_value(&p.nonce).await, p.intent.nonce_value);
    }
}

/// Settles `hostile` then `honest`: the first is rejected for `reason` with nothing of it
/// moved, the second settles and its merchant is paid.
async fn rejected_alone(env: &mut Env, hostile: &Payment, honest: &Payment, reason: RejectReason) {
    let before = env.snapshot_payment(hostile).await;
    let was = env.lamports(&honest.merchant).await;
    let out = env
        .settle(&[hostile.signed.clone(), honest.signed.clone()], &[0, 0])
        .await;
    out.assert_ok();
    let id = intent_id(&hostile.signed.message);
    assert_eq!(
        out.outcomes(),
        vec![Outcome::Rejected { id, reason }, settled(honest, 0)],
        "{}",
        hostile.intent.recipient
    );
    assert_eq!(env.snapshot_payment(hostile).await, before);
    assert_eq!(
        env.lamports(&honest.merchant).await,
        was + honest.intent.amount
    );
}

dual_mode!(
    payment_to_a_later_intents_nonce_account,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let (hostile, honest) = hostile_then_honest(&mut env, SOL, |h| h.nonce).await;
        assert_all_settle(&mut env, &[&hostile, &honest]).await;
    }
);

dual_mode!(
    payment_to_an_earlier_intents_nonce_account,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let (hostile, honest) = hostile_then_honest(&mut env, SOL, |h| h.nonce).await;
        assert_all_settle(&mut env, &[&honest, &hostile]).await;
    }
);

dual_mode!(payment_to_a_nonce_authority_pda, |mode| async move {
    let mut env = Env::start(mode).await;
    let (hostile, honest) = hostile_then_honest(&mut env, SOL, |h| {
        NonceAuthority::find_address(&h.payer.pubkey()).0
    })
    .await;
    assert_all_settle(&mut env, &[&hostile, &honest]).await;
    // The payer's own nonce authority too, and the next payment of that payer still settles.
    let (mut own, _) = hostile_then_honest(&mut env, SOL, |h| h.nonce).await;
    let own_authority = NonceAuthority::find_address(&own.payer.pubkey()).0;
    env.resign(&mut own, |i| i.recipient = own_authority);
    env.next_slot().await;
    assert_all_settle(&mut env, &[&own]).await;
});

dual_mode!(
    payment_to_a_later_intents_vault_and_relayer,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let (hostile, honest) = hostile_then_honest(&mut env, SOL, |h| h.vault).await;
        assert_all_settle(&mut env, &[&hostile, &honest]).await;
        let relayer = env.relayer.pubkey();
        let (to_relayer, honest) = hostile_then_honest(&mut env, SOL, |_| relayer).await;
        let signed = [to_relayer.signed.clone(), honest.signed.clone()];
        let out = env.settle(&signed, &[0, 0]).await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![settled(&to_relayer, 0), settled(&honest, 0)]
        );
    }
);

dual_mode!(payments_to_a_token_intents_accounts, |mode| async move {
    let mut env = Env::start(mode).await;
    for which in 0..3 {
        let mut hostile_to_t = env.payment(5 * SOL, SOL).await;
        // A fresh token intent on a fresh nonce each round; the SOL intent before it pays
        // one of the accounts its CPIs touch.
        let t = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
        let t_target = [t.source, t.destination, t.nonce][which];
        env.resign(&mut hostile_to_t, |i| i.recipient = t_target);
        let before = env.lamports(&t_target).await;
        let mut metas = sol_intent_metas(&hostile_to_t.intent);
        metas.extend(t.metas());
        let out = env
            .settle_with(
                &[hostile_to_t.signed.clone(), t.signed.clone()],
                &[0, 0],
                metas,
            )
            .await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![
                settled(&hostile_to_t, 0),
                Outcome::Settled {
                    id: intent_id(&t.signed.message),
                    amount: M,
                    fee: 0
                }
            ]
        );
        assert_eq!(env.lamports(&t_target).await, before + SOL);
        assert_eq!(env.token_state(&t.destination).await.0, M);
    }
});

dual_mode!(
    sysvar_recipient_is_rejected_and_the_rest_settle,
    |mode| async move {
        let mut env = Env::start(mode).await;
        for reserved in [
            solana_sdk_ids::sysvar::clock::ID,
            solana_sdk_ids::sysvar::instructions::ID,
            solana_sdk_ids::sysvar::rent::ID,
        ] {
            let (hostile, honest) = hostile_then_honest(&mut env, SOL, |_| reserved).await;
            let reason = RejectReason::RecipientNotWritable;
            rejected_alone(&mut env, &hostile, &honest, reason).await;
        }
    }
);

/// Reserved accounts a payer could name as its intent's nonce account: demoted to read-only by
/// the runtime whatever the message says, and not system-owned.
const RESERVED_NONCES: [Pubkey; 3] = [
    solana_sdk_ids::sysvar::clock::ID,
    solana_sdk_ids::sysvar::rent::ID,
    solana_sdk_ids::system_program::ID,
];

dual_mode!(
    reserved_nonce_account_is_rejected_and_the_rest_settle,
    |mode| async move {
        let mut env = Env::start(mode).await;
        for reserved in RESERVED_NONCES {
            let mut hostile = env.payment(5 * SOL, SOL).await;
            let honest = env.payment(5 * SOL, SOL).await;
            env.resign(&mut hostile, |i| i.nonce_account = reserved);
            let reason = RejectReason::NonceNotSystemOwned;
            rejected_alone(&mut env, &hostile, &honest, reason).await;
        }
    }
);

dual_mode!(
    reserved_nonce_account_of_a_token_intent_is_rejected_alone,
    |mode| async move {
        let mut env = Env::start(mode).await;
        for reserved in RESERVED_NONCES {
            let mut t = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
            t.intent.nonce_account = reserved;
            t.signed = sign_intent(&t.payer, &t.intent);
            let honest = env.payment(5 * SOL, SOL).await;
            let mut metas = t.metas();
            metas.extend(sol_intent_metas(&honest.intent));
            let out = env
                .settle_with(&[t.signed.clone(), honest.signed.clone()], &[0, 0], metas)
                .await;
            out.assert_ok();
            assert_eq!(
                out.outcomes(),
                vec![
                    Outcome::Rejected {
                        id: intent_id(&t.signed.message),
                        reason: RejectReason::NonceNotSystemOwned
                    },
                    settled(&honest, 0)
                ],
                "{reserved}"
            );
            assert_eq!(env.token_state(&t.destination).await.0, 0);
            assert_eq!(env.lamports(&honest.merchant).await, 2 * SOL);
        }
    }
);

dual_mode!(
    two_intents_of_one_vault_see_each_others_debits,
    |mode| async move {
        let mut env = Env::start(mode).await;
        // A vault holding 1.5 SOL above its floor, two intents of 1 SOL each: the second must be
        // rejected for funds although the lamports have not moved yet when it is checked.
        let first = env.payment(SOL + SOL / 2, SOL).await;
        let nonce2 = env.create_nonce(&first.payer.pubkey()).await;
        env.next_slot().await;
        let merchant2 = env.user(SOL).await.pubkey();
        let intent2 = env
            .sol_intent(&first.payer.pubkey(), &merchant2, SOL, &nonce2)
            .await;
        let second = sign_intent(&first.payer, &intent2);
        let out = env
            .settle(&[first.signed.clone(), second.clone()], &[0, 0])
            .await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![
                settled(&first, 0),
                Outcome::Rejected {
                    id: intent_id(&second.message),
                    reason: RejectReason::InsufficientFunds
                }
            ]
        );
        assert_eq!(env.lamports(&merchant2).await, SOL);
    }
);
