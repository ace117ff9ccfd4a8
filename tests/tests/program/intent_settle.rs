//! `intent_settle` happy paths and per-intent business rejections.

use solana_signer::Signer;
use toss_intent_processor::{
    events::RejectReason,
    intent::{intent_id, Intent},
    state::Vault,
};
use toss_tests::*;

dual_mode!(one_intent_settles, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let relayer = env.relayer.pubkey();
    let before = env.snapshot_payment(&p).await;
    let out = env.settle(std::slice::from_ref(&p.signed), &[7_000]).await;
    out.assert_ok();
    assert_eq!(
        out.outcomes(),
        vec![Outcome::Settled {
            id: intent_id(&p.signed.message),
            amount: SOL,
            fee: 7_000
        }]
    );
    assert_eq!(
        env.lamports(&p.vault).await,
        before.lamports[0].1 - SOL - 7_000
    );
    assert_eq!(env.lamports(&p.merchant).await, before.lamports[1].1 + SOL);
    assert_eq!(env.lamports(&relayer).await, before.lamports[2].1 + 7_000);
    assert_ne!(
        env.nonce_value(&p.nonce).await,
        p.intent.nonce_value,
        "nonce advanced"
    );
});

dual_mode!(full_legacy_batch_settles, |mode| async move {
    let mut env = Env::start(mode).await;
    let relayer = env.relayer.pubkey();
    let n = max_sol_intents_per_legacy_tx();
    assert!(n >= 2, "at least two SOL intents fit a legacy transaction");
    let mut payments = Vec::new();
    for _ in 0..n {
        payments.push(env.payment(5 * SOL, SOL / 2).await);
    }
    let signed: Vec<_> = payments.iter().map(|p| p.signed.clone()).collect();
    let fees = vec![1_000; n];
    assert!(
        legacy_tx_len(&relayer, &sample_sol_intents(n + 1), &vec![0; n + 1]) > PACKET_DATA_SIZE
    );
    let (out, tx_len) = env.settle_as_relayer(&signed, &fees).await;
    assert!(tx_len <= PACKET_DATA_SIZE, "{tx_len} bytes");
    out.assert_ok();
    let outcomes = out.outcomes();
    assert_eq!(outcomes.len(), n);
    for (p, o) in payments.iter().zip(outcomes) {
        assert_eq!(
            o,
            Outcome::Settled {
                id: intent_id(&p.signed.message),
                amount: SOL / 2,
                fee: 1_000
            }
        );
        assert_eq!(env.lamports(&p.merchant).await, SOL + SOL / 2);
    }
});

dual_mode!(
    batch_with_a_rejected_intent_settles_the_rest,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let good = env.payment(5 * SOL, SOL).await;
        let mut poor = env.payment(SOL / 10, SOL / 10).await;
        env.resign(&mut poor, |i| i.amount = SOL);
        let before_poor = env
            .snapshot(&[poor.vault, poor.merchant], &[poor.nonce])
            .await;
        let out = env
            .settle(&[poor.signed.clone(), good.signed.clone()], &[0, 0])
            .await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![
                Outcome::Rejected {
                    id: intent_id(&poor.signed.message),
                    reason: RejectReason::InsufficientFunds
                },
                Outcome::Settled {
                    id: intent_id(&good.signed.message),
                    amount: SOL,
                    fee: 0
                },
            ]
        );
        assert_eq!(
            env.snapshot(&[poor.vault, poor.merchant], &[poor.nonce])
                .await,
            before_poor
        );
        assert_eq!(env.lamports(&good.merchant).await, 2 * SOL);
    }
);

/// Settles `p` expecting exactly one rejection with `reason` and nothing moved.
async fn assert_rejected(env: &mut Env, p: &Payment, fee: u64, reason: RejectReason) {
    let before = env.snapshot_payment(p).await;
    let out = env.settle(std::slice::from_ref(&p.signed), &[fee]).await;
    out.assert_ok();
    assert_eq!(
        out.outcomes(),
        vec![Outcome::Rejected {
            id: intent_id(&p.signed.message),
            reason
        }]
    );
    assert_eq!(env.snapshot_payment(p).await, before, "nothing moved");
}

dual_mode!(
    replay_in_a_later_transaction_is_rejected,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        env.settle(std::slice::from_ref(&p.signed), &[0])
            .await
            .assert_ok();
        env.next_slot().await;
        assert_rejected(&mut env, &p, 0, RejectReason::StaleNonce).await;
    }
);

dual_mode!(
    replay_within_one_transaction_settles_once,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let before = env.snapshot_payment(&p).await;
        let out = env
            .settle(&[p.signed.clone(), p.signed.clone()], &[0, 0])
            .await;
        out.assert_ok();
        let id = intent_id(&p.signed.message);
        assert_eq!(
            out.outcomes(),
            vec![
                Outcome::Settled {
                    id,
                    amount: SOL,
                    fee: 0
                },
                Outcome::Rejected {
                    id,
                    reason: RejectReason::StaleNonce
                },
            ]
        );
        assert_eq!(env.lamports(&p.vault).await, before.lamports[0].1 - SOL);
        assert_eq!(env.lamports(&p.merchant).await, before.lamports[1].1 + SOL);
    }
);

dual_mode!(double_spend_on_one_nonce_settles_once, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let other_merchant = env.user(SOL).await.pubkey();
    let mut second = Intent {
        recipient: other_merchant,
        ..p.intent.clone()
    };
    second.amount = 2 * SOL;
    let second = sign_intent(&p.payer, &second);
    let out = env
        .settle(&[p.signed.clone(), second.clone()], &[0, 0])
        .await;
    out.assert_ok();
    assert_eq!(
        out.outcomes()[1],
        Outcome::Rejected {
            id: intent_id(&second.message),
            reason: RejectReason::StaleNonce
        }
    );
    assert_eq!(env.lamports(&other_merchant).await, SOL);
});

dual_mode!(stale_nonce_value_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let mut p = env.payment(5 * SOL, SOL).await;
    env.resign(&mut p, |i| i.nonce_value = [7; 32]);
    assert_rejected(&mut env, &p, 0, RejectReason::StaleNonce).await;
});

dual_mode!(expired_intent_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    env.set_now(p.intent.expiry + 1).await;
    assert_rejected(&mut env, &p, 0, RejectReason::Expired).await;
});

dual_mode!(intent_valid_until_its_expiry_second, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    env.set_now(p.intent.expiry).await;
    let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
    out.assert_ok();
    assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
});

dual_mode!(lifetime_beyond_config_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let mut p = env.payment(5 * SOL, SOL).await;
    let now = env.now().await;
    env.resign(&mut p, |i| i.expiry = now + LIFETIME_SECS + 60);
    assert_rejected(&mut env, &p, 0, RejectReason::LifetimeTooLong).await;
});

dual_mode!(overflowing_amount_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let mut p = env.payment(5 * SOL, SOL).await;
    env.resign(&mut p, |i| {
        i.amount = u64::MAX;
        i.max_fee = 1;
    });
    assert_rejected(&mut env, &p, 1, RejectReason::Overflow).await;
});

dual_mode!(vault_too_poor_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let mut p = env.payment(SOL, SOL).await;
    // amount alone fits, amount + fee does not: the rent floor is never spent.
    env.resign(&mut p, |i| i.max_fee = 1);
    assert_rejected(&mut env, &p, 1, RejectReason::InsufficientFunds).await;
    // The whole spendable balance is fine.
    env.resign(&mut p, |i| i.max_fee = 0);
    let out = env.settle(std::slice::from_ref(&p.signed), &[0]).await;
    out.assert_ok();
    assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
    assert_eq!(env.lamports(&p.merchant).await, 2 * SOL);
});

dual_mode!(sender_without_vault_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let payer = env.user(5 * SOL).await;
    let nonce = env.create_nonce(&payer.pubkey()).await;
    let merchant = env.user(SOL).await.pubkey();
    env.next_slot().await;
    let intent = env
        .sol_intent(&payer.pubkey(), &merchant, SOL, &nonce)
        .await;
    let p = Payment {
        signed: sign_intent(&payer, &intent),
        vault: Vault::find_address(&payer.pubkey()).0,
        payer,
        nonce,
        merchant,
        intent,
    };
    assert_rejected(&mut env, &p, 0, RejectReason::InsufficientFunds).await;
});

dual_mode!(recipient_left_below_rent_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let mut p = env.payment(5 * SOL, SOL).await;
    let fresh = solana_keypair::Keypair::new().pubkey();
    env.resign(&mut p, |i| {
        i.recipient = fresh;
        i.amount = 1_000;
    });
    p.merchant = fresh;
    assert_rejected(&mut env, &p, 0, RejectReason::RecipientNotRentExempt).await;
});

dual_mode!(
    nonce_set_in_this_slot_is_skipped_not_fatal,
    |mode| async move {
        let mut env = Env::start(mode).await;
        // program-test registers a new blockhash every few milliseconds; an attempt whose
        // transaction lands after a new one is simply advanceable (and settles), so retry until
        // one lands in the same blockhash (bounded).
        for _ in 0..20 {
            let good = env.payment(5 * SOL, SOL).await;
            let mut fresh = env.payment(5 * SOL, SOL).await;
            // Give `fresh`'s nonce the value a nonce set in this slot holds: the durable nonce
            // of the current blockhash (what the system program refuses to advance again).
            let head = env.recent_blockhashes_head().await;
            let value = durable_nonce_of(&head);
            let mut account = env.account(&fresh.nonce).await.unwrap();
            account.data[40..72].copy_from_slice(&value);
            env.ctx.set_account(&fresh.nonce, &account.into());
            env.resign(&mut fresh, |i| i.nonce_value = value);
            let before = env.snapshot_payment(&fresh).await;
            let out = env
                .settle_now(&[fresh.signed.clone(), good.signed.clone()], &[0, 0])
                .await;
            out.assert_ok(); // never fails the batch
            assert!(matches!(out.outcomes()[1], Outcome::Settled { .. }));
            let fresh_id = intent_id(&fresh.signed.message);
            match out.outcomes()[0] {
                Outcome::Rejected {
                    id,
                    reason: RejectReason::NonceNotAdvanceable,
                } if id == fresh_id => {
                    assert_eq!(env.snapshot_payment(&fresh).await, before, "nothing moved");
                    // In a later slot the same intent settles.
                    env.next_slot().await;
                    let out = env.settle(std::slice::from_ref(&fresh.signed), &[0]).await;
                    out.assert_ok();
                    assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
                    return;
                }
                Outcome::Settled { id, .. } if id == fresh_id => continue,
                ref other => panic!("unexpected outcome {other:?}"),
            }
        }
        panic!("no attempt landed within the nonce's own blockhash");
    }
);

/// The system program's own durable-nonce derivation (solana-nonce), independent of the
/// program's `next_durable_nonce`.
fn durable_nonce_of(blockhash: &[u8; 32]) -> [u8; 32] {
    solana_nonce::state::DurableNonce::from_blockhash(&solana_hash::Hash::new_from_array(
        *blockhash,
    ))
    .as_hash()
    .to_bytes()
}
