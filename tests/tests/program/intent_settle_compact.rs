//! `intent_settle_compact`: the program verifies each signature itself over bytes rebuilt from
//! the accounts. Happy paths (SOL, SOL with reference, tokens, mixed), and the twin of every
//! precompile-path attack: a signature of another intent, any signed field changed in the data
//! or the accounts, a nonce advanced since signing, replay, two entries for one intent,
//! non-canonical S, truncated or trailing accounts, fees over the max or the cap, paused.

use solana_instruction::AccountMeta;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use toss_intent_processor::{
    error::TossError,
    events::{CompactIntentRejected, RejectReason},
    instructions::CompactIntent,
    intent::{intent_id, Intent},
};
use toss_sdk::events::compact_rejections;
use toss_tests::*;

const M: u64 = 1_000_000;

/// The same change made to a compact entry and to the intent the program will rebuild.
type Edit = (fn(&mut CompactIntent), fn(&mut Intent));

/// Sends one `intent_settle_compact` with `entries` and `metas`, the relayer signing.
async fn settle_compact(
    env: &mut Env,
    entries: Vec<CompactIntent>,
    metas: Vec<AccountMeta>,
) -> TxResult {
    let relayer = env.relayer.insecure_clone();
    let ix = settle_compact_ix_with(&relayer.pubkey(), entries, metas);
    env.send(&[ix], &[&relayer]).await
}

/// The compact entry and SOL accounts of each payment, with `fee`.
fn sol_parts(payments: &[&Payment], fee: u64) -> (Vec<CompactIntent>, Vec<AccountMeta>) {
    let entries = payments
        .iter()
        .map(|p| compact_entry(&p.signed, fee).unwrap())
        .collect();
    let metas = payments
        .iter()
        .flat_map(|p| sol_intent_metas(&p.intent))
        .collect();
    (entries, metas)
}

/// `payment` settles alone in the compact form with `fee`: outcome, balances, nonce.
async fn assert_sol_settles(env: &mut Env, p: &Payment, fee: u64) {
    let relayer = env.relayer.pubkey();
    let before = env.snapshot_payment(p).await;
    let (entries, metas) = sol_parts(&[p], fee);
    let out = settle_compact(env, entries, metas).await;
    out.assert_ok();
    assert_eq!(
        out.outcomes(),
        vec![Outcome::Settled {
            id: intent_id(&p.signed.message),
            amount: p.intent.amount,
            fee
        }]
    );
    assert_eq!(
        env.lamports(&p.vault).await,
        before.lamports[0].1 - p.intent.amount - fee
    );
    assert_eq!(
        env.lamports(&p.merchant).await,
        before.lamports[1].1 + p.intent.amount
    );
    assert_eq!(env.lamports(&relayer).await, before.lamports[2].1 + fee);
    assert_ne!(env.nonce_value(&p.nonce).await, p.intent.nonce_value);
}

/// `entries`/`metas` settle nothing of `p`: one `IntentRejected` with `reason` under the id of
/// the bytes rebuilt from `rebuilt`, and nothing of `p` moved.
async fn assert_bad_signature(
    env: &mut Env,
    p: &Payment,
    entries: Vec<CompactIntent>,
    metas: Vec<AccountMeta>,
    rebuilt: &Intent,
) {
    let before = env.snapshot_payment(p).await;
    let out = settle_compact(env, entries, metas).await;
    out.assert_ok();
    assert_eq!(
        out.outcomes(),
        vec![Outcome::Rejected {
            id: rebuilt.id().unwrap(),
            reason: RejectReason::BadSignature
        }]
    );
    assert_eq!(env.snapshot_payment(p).await, before, "nothing moved");
}

dual_mode!(compact_sol_intent_settles, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    assert_sol_settles(&mut env, &p, 7_000).await;
});

dual_mode!(
    compact_sol_intent_with_reference_settles,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let mut p = env.payment(5 * SOL, SOL).await;
        env.resign(&mut p, |i| i.reference = Some([9; 32]));
        assert_sol_settles(&mut env, &p, 0).await;
    }
);

dual_mode!(compact_token_intents_settle, |mode| async move {
    let mut env = Env::start(mode).await;
    for program in [TOKEN, TOKEN_2022] {
        let p = env.token_payment(&program, &[], 10 * M, 5 * M, 2 * M).await;
        let (source, _, _, allowance, nonce) = env.token_snapshot(&p).await;
        let out = settle_compact(
            &mut env,
            vec![compact_entry(&p.signed, 3_000).unwrap()],
            p.metas(),
        )
        .await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![Outcome::Settled {
                id: intent_id(&p.signed.message),
                amount: 2 * M,
                fee: 3_000
            }]
        );
        let after = env.token_snapshot(&p).await;
        assert_eq!(after.0, source - 2 * M - 3_000);
        assert_eq!(after.1, 2 * M);
        assert_eq!(after.2, 3_000);
        assert_eq!(after.3, allowance - 2 * M - 3_000);
        assert_ne!(after.4, nonce);
    }
});

dual_mode!(
    compact_token_intent_with_reference_and_sol_mix_in_one_batch,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let sol = env.payment(5 * SOL, SOL).await;
        let mut token = env.token_payment(&TOKEN_2022, &[], 10 * M, 5 * M, M).await;
        token.intent.reference = Some([4; 32]);
        token.signed = sign_intent(&token.payer, &token.intent);
        let mut metas = sol_intent_metas(&sol.intent);
        metas.extend(token.metas());
        let entries = vec![
            compact_entry(&sol.signed, 1_000).unwrap(),
            compact_entry(&token.signed, 500).unwrap(),
        ];
        let out = settle_compact(&mut env, entries, metas).await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![
                Outcome::Settled {
                    id: intent_id(&sol.signed.message),
                    amount: SOL,
                    fee: 1_000
                },
                Outcome::Settled {
                    id: intent_id(&token.signed.message),
                    amount: M,
                    fee: 500
                },
            ]
        );
    }
);

dual_mode!(
    a_bad_signature_rejects_one_intent_and_settles_the_others,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let a = env.payment(5 * SOL, SOL).await;
        let forged = env.payment(5 * SOL, SOL).await;
        let c = env.payment(5 * SOL, SOL / 2).await;
        let (mut entries, metas) = sol_parts(&[&a, &forged, &c], 1_000);
        entries[1].signature[10] ^= 1;
        let before = env.snapshot_payment(&forged).await;
        let out = settle_compact(&mut env, entries, metas).await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![
                Outcome::Settled {
                    id: intent_id(&a.signed.message),
                    amount: SOL,
                    fee: 1_000
                },
                Outcome::Rejected {
                    id: intent_id(&forged.signed.message),
                    reason: RejectReason::BadSignature
                },
                Outcome::Settled {
                    id: intent_id(&c.signed.message),
                    amount: SOL / 2,
                    fee: 1_000
                },
            ]
        );
        // The forged intent's vault and nonce are untouched (its merchant too); the relayer
        // was paid by the other two only.
        let after = env.snapshot_payment(&forged).await;
        assert_eq!(after.lamports[..2], before.lamports[..2]);
        assert_eq!(after.nonces, before.nonces);
    }
);

dual_mode!(
    every_signed_field_changed_in_the_data_is_a_bad_signature,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let edits: [Edit; 5] = [
            (|e| e.amount += 1, |i| i.amount += 1),
            (|e| e.expiry -= 1, |i| i.expiry -= 1),
            (|e| e.max_fee += 1, |i| i.max_fee += 1),
            (
                |e| e.reference = Some([1; 32]),
                |i| i.reference = Some([1; 32]),
            ),
            // Another intent's signature (same payer, another amount).
            (|_| {}, |_| {}),
        ];
        for (n, (edit_entry, edit_intent)) in edits.into_iter().enumerate() {
            let (mut entries, metas) = sol_parts(&[&p], 0);
            let mut rebuilt = p.intent.clone();
            if n == 4 {
                let mut other = p.intent.clone();
                other.amount = 2;
                entries[0].signature = sign_intent(&p.payer, &other).signature;
            } else {
                edit_entry(&mut entries[0]);
                edit_intent(&mut rebuilt);
            }
            assert_bad_signature(&mut env, &p, entries, metas, &rebuilt).await;
        }
    }
);

dual_mode!(
    a_signed_account_swapped_is_a_bad_signature,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let thief = env.user(SOL).await.pubkey();
        // The recipient account replaced: the bytes name the thief, whom the payer never paid.
        let (entries, mut metas) = sol_parts(&[&p], 0);
        metas[3] = AccountMeta::new(thief, false);
        let mut rebuilt = p.intent.clone();
        rebuilt.recipient = thief;
        assert_bad_signature(&mut env, &p, entries, metas, &rebuilt).await;
        assert_eq!(env.lamports(&thief).await, SOL);
        // Another payer's vault, nonce authority and nonce (a victim who holds funds): the
        // bytes name the victim as sender, whose key never signed them.
        let victim = env.payment(5 * SOL, SOL).await;
        let (entries, _) = sol_parts(&[&p], 0);
        let mut metas = sol_intent_metas(&victim.intent);
        metas[3] = AccountMeta::new(p.merchant, false);
        let mut rebuilt = victim.intent.clone();
        rebuilt.recipient = p.merchant;
        rebuilt.amount = p.intent.amount;
        rebuilt.expiry = p.intent.expiry;
        rebuilt.max_fee = p.intent.max_fee;
        let mut hint = [0u8; 4];
        hint.copy_from_slice(&victim.intent.nonce_value[..4]);
        let mut entries = entries;
        entries[0].nonce_hint = hint;
        let before = env.snapshot_payment(&victim).await;
        let out = settle_compact(&mut env, entries, metas).await;
        out.assert_ok();
        assert_eq!(
            out.outcomes(),
            vec![Outcome::Rejected {
                id: rebuilt.id().unwrap(),
                reason: RejectReason::BadSignature
            }]
        );
        assert_eq!(env.snapshot_payment(&victim).await, before);
    }
);

dual_mode!(
    replay_and_a_nonce_advanced_since_signing_are_stale,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        assert_sol_settles(&mut env, &p, 0).await;
        // The same entry again: the nonce moved on, the bytes cannot be rebuilt.
        let before = env.snapshot_payment(&p).await;
        let (entries, metas) = sol_parts(&[&p], 0);
        let out = settle_compact(&mut env, entries, metas).await;
        out.assert_ok();
        assert!(out.outcomes().is_empty());
        let rejected: Vec<_> = compact_rejections(&out.logs)
            .into_iter()
            .map(|e: CompactIntentRejected| (e.nonce_account, e.nonce_hint, e.reason))
            .collect();
        assert_eq!(
            rejected,
            vec![(
                p.nonce,
                p.intent.nonce_value[..4].try_into().unwrap(),
                RejectReason::StaleNonce
            )]
        );
        assert_eq!(env.snapshot_payment(&p).await, before, "settled once");
        // Settled through the precompile form first, then sent compact: the same.
        let q = env.payment(5 * SOL, SOL).await;
        env.settle(std::slice::from_ref(&q.signed), &[0])
            .await
            .assert_ok();
        let (entries, metas) = sol_parts(&[&q], 0);
        let out = settle_compact(&mut env, entries, metas).await;
        out.assert_ok();
        assert_eq!(compact_rejections(&out.logs).len(), 1);
        assert!(out.outcomes().is_empty());
    }
);

dual_mode!(
    two_entries_for_one_intent_settle_it_once,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let (entries, metas) = sol_parts(&[&p, &p], 0);
        let vault_before = env.lamports(&p.vault).await;
        let out = settle_compact(&mut env, entries, metas).await;
        out.assert_ok();
        assert_eq!(out.outcomes().len(), 1, "one settled");
        assert_eq!(compact_rejections(&out.logs).len(), 1, "one stale");
        assert_eq!(env.lamports(&p.vault).await, vault_before - SOL);
    }
);

dual_mode!(non_canonical_s_is_a_bad_signature, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let (mut entries, metas) = sol_parts(&[&p], 0);
    // S + l: the same point equation, a non-canonical scalar (the precompile refuses it too).
    let s = &mut entries[0].signature[32..];
    let mut carry = 0u16;
    for (byte, l) in s.iter_mut().zip(ED25519_ORDER) {
        let sum = *byte as u16 + l as u16 + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    assert_bad_signature(&mut env, &p, entries, metas, &p.intent).await;
});

dual_mode!(
    structural_mistakes_fail_the_whole_instruction,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        // Truncated accounts.
        let (entries, mut metas) = sol_parts(&[&p], 0);
        metas.pop();
        settle_compact(&mut env, entries, metas)
            .await
            .assert_toss_error(0, TossError::AccountCountMismatch);
        // Trailing accounts.
        let (entries, mut metas) = sol_parts(&[&p], 0);
        metas.push(AccountMeta::new_readonly(Pubkey::new_unique(), false));
        settle_compact(&mut env, entries, metas)
            .await
            .assert_toss_error(0, TossError::AccountCountMismatch);
        // A fee over the intent's max, and over the config's cap.
        let (mut entries, metas) = sol_parts(&[&p], 0);
        entries[0].fee = p.intent.max_fee + 1;
        settle_compact(&mut env, entries, metas)
            .await
            .assert_toss_error(0, TossError::FeeExceedsIntentMax);
        let mut big = env.payment(5 * SOL, SOL).await;
        env.resign(&mut big, |i| i.max_fee = u64::MAX);
        let (mut entries, metas) = sol_parts(&[&big], 0);
        entries[0].fee = toss_intent_processor::constants::MAX_RELAYER_FEE_CAP + 1;
        settle_compact(&mut env, entries, metas)
            .await
            .assert_toss_error(0, TossError::FeeExceedsCap);
        // An unknown kind; an empty batch.
        let (mut entries, metas) = sol_parts(&[&p], 0);
        entries[0].kind = 7;
        settle_compact(&mut env, entries, metas)
            .await
            .assert_toss_error(0, TossError::UnsupportedIntentKind);
        settle_compact(&mut env, vec![], vec![])
            .await
            .assert_toss_error(0, TossError::BatchSize);
        // Nothing of it moved, and it still settles.
        assert_sol_settles(&mut env, &p, 0).await;
    }
);

dual_mode!(paused_program_settles_nothing_compact, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let admin = env.admin.insecure_clone();
    env.send(&[config_set_paused_ix(&admin.pubkey(), true)], &[&admin])
        .await
        .assert_ok();
    let (entries, metas) = sol_parts(&[&p], 0);
    settle_compact(&mut env, entries, metas)
        .await
        .assert_toss_error(0, TossError::Paused);
    env.send(&[config_set_paused_ix(&admin.pubkey(), false)], &[&admin])
        .await
        .assert_ok();
    assert_sol_settles(&mut env, &p, 0).await;
});

dual_mode!(
    compact_and_precompile_forms_cost_and_say_the_same,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let a = env.payment(5 * SOL, SOL).await;
        let b = env.payment(5 * SOL, SOL).await;
        let precompile = env.settle(std::slice::from_ref(&a.signed), &[0]).await;
        precompile.assert_ok();
        let (entries, metas) = sol_parts(&[&b], 0);
        let compact = settle_compact(&mut env, entries, metas).await;
        compact.assert_ok();
        eprintln!(
            "{mode:?}: one SOL intent: precompile form {} CU, compact form {} CU",
            precompile.compute_units, compact.compute_units
        );
        if mode == Mode::Bpf {
            // Goal: at most 20,000 CU per intent in a full batch; one alone is the worst case.
            assert!(
                compact.compute_units <= 40_000,
                "{} CU",
                compact.compute_units
            );
        }
    }
);

/// The group order `l`, little-endian.
const ED25519_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];
