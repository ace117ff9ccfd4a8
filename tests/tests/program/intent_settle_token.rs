//! `intent_settle` for SPL Token and Token-2022 intents: happy paths, mixed batches, fees in
//! tokens, and attacks (each asserting the exact error or reason and that no balance,
//! allowance or nonce changed).

use solana_signer::Signer;
use toss_intent_processor::{error::TossError, events::RejectReason, intent::intent_id};
use toss_tests::*;

const M: u64 = 1_000_000; // one token at 6 decimals

async fn assert_token_settles(mode: Mode, program: solana_pubkey::Pubkey, ext: &[MintExtension]) {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&program, ext, 10 * M, 5 * M, 2 * M).await;
    let (source, _, _, allowance, nonce) = env.token_snapshot(&p).await;
    let out = env
        .settle_with(std::slice::from_ref(&p.signed), &[3_000], p.metas())
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
    assert_eq!(
        after.0,
        source - 2 * M - 3_000,
        "source debited amount + fee"
    );
    assert_eq!(after.1, 2 * M, "merchant credited");
    assert_eq!(after.2, 3_000, "relayer fee paid in the token");
    assert_eq!(after.3, allowance - 2 * M - 3_000, "allowance consumed");
    assert_ne!(after.4, nonce, "nonce advanced");
}

dual_mode!(spl_token_intent_settles, |mode| async move {
    assert_token_settles(mode, TOKEN, &[]).await
});

dual_mode!(token_2022_intent_settles, |mode| async move {
    assert_token_settles(mode, TOKEN_2022, &[]).await
});

dual_mode!(
    token_2022_with_supported_extension_settles,
    |mode| async move {
        assert_token_settles(mode, TOKEN_2022, &[MintExtension::MintCloseAuthority]).await
    }
);

dual_mode!(mixed_sol_and_token_batch_settles, |mode| async move {
    let mut env = Env::start(mode).await;
    let sol = env.payment(5 * SOL, SOL).await;
    let token = env.token_payment(&TOKEN_2022, &[], 10 * M, 5 * M, M).await;
    let mut metas = sol_intent_metas(&sol.intent);
    metas.extend(token.metas());
    let out = env
        .settle_with(
            &[sol.signed.clone(), token.signed.clone()],
            &[1_000, 500],
            metas,
        )
        .await;
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
    assert_eq!(env.lamports(&sol.merchant).await, 2 * SOL);
    assert_eq!(env.token_state(&token.destination).await.0, M);
});

/// Sends `p` with `edit` applied to its metas; expects `err` and nothing changed.
async fn assert_token_fails(
    env: &mut Env,
    p: &TokenPayment,
    metas: Vec<solana_instruction::AccountMeta>,
    err: TossError,
) {
    let before = env.token_snapshot(p).await;
    env.settle_with(std::slice::from_ref(&p.signed), &[0], metas)
        .await
        .assert_toss_error(1, err);
    assert_eq!(env.token_snapshot(p).await, before, "nothing changed");
}

/// Settles `p` with `metas` in one batch after an honest SOL payment: `p` must be rejected with
/// `reason` and nothing of it change, while the honest payment settles (one payer's broken
/// accounts never sink the batch).
async fn assert_token_rejected_in_batch(
    env: &mut Env,
    p: &TokenPayment,
    metas: Vec<solana_instruction::AccountMeta>,
    reason: RejectReason,
) {
    let honest = env.payment(5 * SOL, SOL).await;
    let before = env.token_snapshot(p).await;
    let mut all = sol_intent_metas(&honest.intent);
    all.extend(metas);
    let out = env
        .settle_with(&[honest.signed.clone(), p.signed.clone()], &[0, 0], all)
        .await;
    out.assert_ok();
    assert_eq!(
        out.outcomes(),
        vec![
            Outcome::Settled {
                id: intent_id(&honest.signed.message),
                amount: SOL,
                fee: 0
            },
            Outcome::Rejected {
                id: intent_id(&p.signed.message),
                reason
            }
        ]
    );
    assert_eq!(env.token_snapshot(p).await, before, "nothing changed");
    assert_eq!(env.lamports(&honest.merchant).await, 2 * SOL);
}

/// Settles `p` expecting one rejection with `reason` and nothing changed.
async fn assert_token_rejected(env: &mut Env, p: &TokenPayment, reason: RejectReason) {
    let before = env.token_snapshot(p).await;
    let out = env
        .settle_with(std::slice::from_ref(&p.signed), &[0], p.metas())
        .await;
    out.assert_ok();
    assert_eq!(
        out.outcomes(),
        vec![Outcome::Rejected {
            id: intent_id(&p.signed.message),
            reason
        }]
    );
    assert_eq!(env.token_snapshot(p).await, before, "nothing changed");
}

dual_mode!(wrong_mint_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
    let other = env.create_mint(&TOKEN, &[]).await;
    let mut metas = p.metas();
    metas[7].pubkey = other;
    assert_token_fails(&mut env, &p, metas, TossError::MintMismatch).await;
});

dual_mode!(source_of_another_owner_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
    // A victim's account of the same mint, even with an allowance to the payer's delegate.
    let victim = env.user(SOL).await;
    let victim_account = env
        .token_account(&TOKEN, &p.mint, &victim.pubkey(), 10 * M)
        .await;
    let mut metas = p.metas();
    metas[4].pubkey = victim_account;
    assert_token_rejected_in_batch(&mut env, &p, metas, RejectReason::SourceUnavailable).await;
    assert_eq!(env.token_state(&victim_account).await.0, 10 * M);
});

dual_mode!(destination_not_the_recipients_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
    let thief = env.user(SOL).await.pubkey();
    let thief_account = env.token_account(&TOKEN, &p.mint, &thief, 0).await;
    let mut metas = p.metas();
    metas[5].pubkey = thief_account;
    assert_token_rejected_in_batch(&mut env, &p, metas, RejectReason::DestinationUnavailable).await;
    assert_eq!(env.token_state(&thief_account).await.0, 0);
});

dual_mode!(fee_account_of_another_mint_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
    let other_mint = env.create_mint(&TOKEN, &[]).await;
    let relayer = env.relayer.pubkey();
    let wrong = env.token_account(&TOKEN, &other_mint, &relayer, 0).await;
    let mut metas = p.metas();
    metas[6].pubkey = wrong;
    assert_token_fails(&mut env, &p, metas, TossError::FeeAccountMismatch).await;
});

dual_mode!(token_program_not_owning_the_mint_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
    // The other token program: the relayer's own fee account does not belong to it, which is
    // the submitter's mistake (structural).
    let mut metas = p.metas();
    metas[8].pubkey = TOKEN_2022;
    assert_token_fails(&mut env, &p, metas, TossError::FeeAccountMismatch).await;
    // A program that is neither token program: structural too.
    let mut metas = p.metas();
    metas[8].pubkey = solana_sdk_ids::system_program::ID;
    assert_token_fails(&mut env, &p, metas, TossError::InvalidTokenProgram).await;
});

dual_mode!(
    mint_closed_after_the_batch_was_built_is_rejected_alone,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.token_payment(&TOKEN_2022, &[], 10 * M, 5 * M, M).await;
        // What a closed mint looks like (MintCloseAuthority, supply 0): a system account.
        env.ctx
            .set_account(&p.mint, &system_account(1_000_000).into());
        let metas = p.metas();
        assert_token_rejected_in_batch(&mut env, &p, metas, RejectReason::UnsupportedMint).await;
    }
);

dual_mode!(
    source_closed_after_the_batch_was_built_is_rejected_alone,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
        // The payer empties and closes its token account after signing.
        let payer = p.payer.insecure_clone();
        let sink = env.token_account(&TOKEN, &p.mint, &payer.pubkey(), 0).await;
        let drain = spl_token_2022_interface::instruction::transfer(
            &TOKEN,
            &p.source,
            &sink,
            &payer.pubkey(),
            &[],
            10 * M,
        )
        .expect("transfer ix");
        let close = spl_token_2022_interface::instruction::close_account(
            &TOKEN,
            &p.source,
            &payer.pubkey(),
            &payer.pubkey(),
            &[],
        )
        .expect("close ix");
        env.send(&[drain, close], &[&payer]).await.assert_ok();
        assert!(env.account(&p.source).await.is_none(), "source closed");
        let honest = env.payment(5 * SOL, SOL).await;
        let mut metas = sol_intent_metas(&honest.intent);
        metas.extend(p.metas());
        let out = env
            .settle_with(&[honest.signed.clone(), p.signed.clone()], &[0, 0], metas)
            .await;
        out.assert_ok();
        assert_eq!(
            out.outcomes()[1],
            Outcome::Rejected {
                id: intent_id(&p.signed.message),
                reason: RejectReason::SourceUnavailable
            }
        );
        assert_eq!(env.lamports(&honest.merchant).await, 2 * SOL);
    }
);

dual_mode!(allowance_exhausted_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, M - 1, M).await;
    assert_token_rejected(&mut env, &p, RejectReason::AllowanceExceeded).await;
});

dual_mode!(revoked_allowance_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN_2022, &[], 10 * M, 5 * M, M).await;
    env.approve(&TOKEN_2022, &p.source, &p.payer, None).await;
    assert_token_rejected(&mut env, &p, RejectReason::AllowanceExceeded).await;
});

dual_mode!(allowance_above_balance_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], M / 2, 5 * M, M).await;
    assert_token_rejected(&mut env, &p, RejectReason::InsufficientFunds).await;
});

dual_mode!(token_replay_is_rejected, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
    env.settle_with(std::slice::from_ref(&p.signed), &[0], p.metas())
        .await
        .assert_ok();
    env.next_slot().await;
    assert_token_rejected(&mut env, &p, RejectReason::StaleNonce).await;
});

dual_mode!(unsupported_token_2022_extensions_fail, |mode| async move {
    let mut env = Env::start(mode).await;
    for ext in [
        MintExtension::PermanentDelegate,
        MintExtension::NonTransferable,
        MintExtension::TransferFeeConfig,
        MintExtension::TransferHook,
    ] {
        let mint = env.create_mint(&TOKEN_2022, &[ext]).await;
        // Build the payment on this mint without funding (NonTransferable still mints).
        let p = env
            .token_payment_of(&TOKEN_2022, &mint, 10 * M, 5 * M, M)
            .await;
        let metas = p.metas();
        assert_token_rejected_in_batch(&mut env, &p, metas, RejectReason::UnsupportedMint).await;
    }
});

dual_mode!(token_fee_above_intent_max_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.token_payment(&TOKEN, &[], 10 * M, 5 * M, M).await;
    let before = env.token_snapshot(&p).await;
    env.settle_with(
        std::slice::from_ref(&p.signed),
        &[p.intent.max_fee + 1],
        p.metas(),
    )
    .await
    .assert_toss_error(1, TossError::FeeExceedsIntentMax);
    assert_eq!(env.token_snapshot(&p).await, before);
});

#[test]
fn token_intent_sizes() {
    // Report: bytes per token intent and how many fit one legacy transaction.
    let relayer = solana_pubkey::Pubkey::new_unique();
    let mint = solana_pubkey::Pubkey::new_unique();
    for n in 1..=2usize {
        let signed: Vec<_> = sample_sol_intents(n)
            .into_iter()
            .map(|s| {
                let mut intent = toss_intent_processor::intent::Intent::decode(&s.message).unwrap();
                intent.mint = Some(mint);
                let kp = solana_keypair::Keypair::new();
                intent.sender = kp.pubkey();
                sign_intent(&kp, &intent)
            })
            .collect();
        let mut metas = Vec::new();
        let fee_account = solana_pubkey::Pubkey::new_unique();
        for s in &signed {
            let intent = toss_intent_processor::intent::Intent::decode(&s.message).unwrap();
            metas.extend(token_intent_metas(
                &intent,
                &TOKEN,
                &solana_pubkey::Pubkey::new_unique(),
                &solana_pubkey::Pubkey::new_unique(),
                &fee_account,
            ));
        }
        let ixs = vec![
            precompile_ix(&signed),
            settle_ix_with(&relayer, &vec![0; n], metas),
        ];
        let mut tx = solana_transaction::Transaction::new_with_payer(&ixs, Some(&relayer));
        tx.signatures = vec![Default::default()];
        let len = bincode::serialize(&tx).unwrap().len();
        println!("legacy settle tx with {n} token intent(s): {len} bytes");
        assert_eq!(
            len <= PACKET_DATA_SIZE,
            n == 1,
            "exactly one token intent fits"
        );
    }
}
