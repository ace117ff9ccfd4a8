//! `intent_settle` attacks on the Ed25519 binding: forged signatures, forged or mismatched
//! offsets, foreign instruction indexes, spoofed sysvars. Each asserts the exact error and that
//! nothing moved.

use solana_instruction::{error::InstructionError, AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;
use toss_intent_processor::{
    constants::INSTRUCTIONS_SYSVAR_ID,
    ed25519::{HEADER_LEN, OFFSETS_LEN, SIGNATURE_LEN},
    error::TossError,
    intent::Intent,
};
use toss_tests::*;

/// `PrecompileError::InvalidSignature` as the runtime reports it.
const PRECOMPILE_INVALID_SIGNATURE: u32 = 2;
/// `PrecompileError::InvalidDataOffsets`.
const PRECOMPILE_INVALID_DATA_OFFSETS: u32 = 3;

/// Sends `ixs`, expects `expected`, and that nothing of `p` moved.
async fn assert_fails(
    env: &mut Env,
    p: &Payment,
    ixs: Vec<Instruction>,
    expected: TransactionError,
) {
    let relayer = env.relayer.insecure_clone();
    let before = env.snapshot_payment(p).await;
    let out = env.send(&ixs, &[&relayer]).await;
    assert_eq!(out.result, Err(expected), "logs:\n{}", out.logs.join("\n"));
    assert_eq!(env.snapshot_payment(p).await, before, "nothing moved");
}

fn toss(ix: u8, err: TossError) -> TransactionError {
    TransactionError::InstructionError(ix, InstructionError::Custom(toss_error_code(err)))
}

fn precompile_err(code: u32) -> TransactionError {
    TransactionError::InstructionError(0, InstructionError::Custom(code))
}

/// The two settle instructions of one payment, relayer signing.
fn ixs_of(env: &Env, p: &Payment) -> Vec<Instruction> {
    settle_ixs(&env.relayer.pubkey(), std::slice::from_ref(&p.signed), &[0])
}

dual_mode!(flipped_signature_bit_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let mut ixs = ixs_of(&env, &p);
    ixs[0].data[HEADER_LEN + OFFSETS_LEN] ^= 1;
    assert_fails(
        &mut env,
        &p,
        ixs,
        precompile_err(PRECOMPILE_INVALID_SIGNATURE),
    )
    .await;
});

dual_mode!(intent_signed_by_another_key_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let thief = Keypair::new();
    let forged = sign_intent(&thief, &p.intent); // sender field still names the victim
    let ixs = settle_ixs(&env.relayer.pubkey(), &[forged], &[0]);
    assert_fails(
        &mut env,
        &p,
        ixs,
        precompile_err(PRECOMPILE_INVALID_SIGNATURE),
    )
    .await;
});

dual_mode!(
    public_key_offset_pointing_outside_the_intent_fails,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        // The thief signs the victim's intent with their own key, appends their key and points the
        // public-key offset at it: the precompile is satisfied, the binding is not.
        let thief = Keypair::new();
        let forged = sign_intent(&thief, &p.intent);
        let mut ixs = settle_ixs(&env.relayer.pubkey(), &[forged], &[0]);
        let key_at = ixs[0].data.len() as u16;
        ixs[0].data.extend_from_slice(thief.pubkey().as_ref());
        ixs[0].data[offsets_field(0, 2)..offsets_field(0, 2) + 2]
            .copy_from_slice(&key_at.to_le_bytes());
        assert_fails(&mut env, &p, ixs, toss(1, TossError::PrecompileMalformed)).await;
    }
);

dual_mode!(
    signed_bytes_longer_than_the_intent_fail,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let mut bytes = p.signed.message.clone();
        bytes.push(0);
        let signed = sign_bytes(&p.payer, bytes);
        let ixs = vec![
            precompile_ix(&[signed]),
            settle_ix(&env.relayer.pubkey(), std::slice::from_ref(&p.intent), &[0]),
        ];
        assert_fails(&mut env, &p, ixs, toss(1, TossError::MalformedIntent)).await;
    }
);

dual_mode!(
    signed_bytes_shorter_than_the_intent_fail,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let bytes = p.signed.message[..p.signed.message.len() - 1].to_vec();
        let signed = sign_bytes(&p.payer, bytes);
        let ixs = vec![
            precompile_ix(&[signed]),
            settle_ix(&env.relayer.pubkey(), std::slice::from_ref(&p.intent), &[0]),
        ];
        assert_fails(&mut env, &p, ixs, toss(1, TossError::MalformedIntent)).await;
    }
);

dual_mode!(unknown_intent_version_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let mut bytes = p.signed.message.clone();
    bytes[5] = 9;
    let signed = sign_bytes(&p.payer, bytes);
    let ixs = vec![
        precompile_ix(&[signed]),
        settle_ix(&env.relayer.pubkey(), std::slice::from_ref(&p.intent), &[0]),
    ];
    assert_fails(
        &mut env,
        &p,
        ixs,
        toss(1, TossError::UnsupportedIntentVersion),
    )
    .await;
});

dual_mode!(offsets_outside_the_data_fail, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let mut ixs = ixs_of(&env, &p);
    let at = offsets_field(0, 5);
    ixs[0].data[at..at + 2].copy_from_slice(&4_000u16.to_le_bytes());
    assert_fails(
        &mut env,
        &p,
        ixs,
        precompile_err(PRECOMPILE_INVALID_DATA_OFFSETS),
    )
    .await;
});

dual_mode!(non_canonical_layout_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    // solana-ed25519-program's own one-signature layout: valid for the precompile, but the key
    // is a separate copy instead of the intent's sender field.
    let pre = solana_ed25519_program::new_ed25519_instruction_with_signature(
        &p.signed.message,
        &p.signed.signature,
        &p.payer.pubkey().to_bytes(),
    );
    let ixs = vec![
        pre,
        settle_ix(&env.relayer.pubkey(), std::slice::from_ref(&p.intent), &[0]),
    ];
    assert_fails(&mut env, &p, ixs, toss(1, TossError::PrecompileMalformed)).await;
});

dual_mode!(trailing_precompile_bytes_fail, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let mut ixs = ixs_of(&env, &p);
    ixs[0].data.push(0);
    assert_fails(&mut env, &p, ixs, toss(1, TossError::PrecompileMalformed)).await;
});

dual_mode!(nonzero_padding_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let mut ixs = ixs_of(&env, &p);
    ixs[0].data[1] = 1;
    assert_fails(&mut env, &p, ixs, toss(1, TossError::PrecompileMalformed)).await;
});

/// Two identical precompile instructions, the second reading field `field` from the first:
/// the precompile verifies, the program must refuse the foreign index.
async fn foreign_index(mode: Mode, field: usize) {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let ixs = ixs_of(&env, &p);
    let mut second = ixs[0].clone();
    second.data[offsets_field(0, field)..offsets_field(0, field) + 2]
        .copy_from_slice(&0u16.to_le_bytes());
    let all = vec![ixs[0].clone(), second, ixs[1].clone()];
    assert_fails(
        &mut env,
        &p,
        all,
        toss(2, TossError::PrecompileForeignInstructionIndex),
    )
    .await;
}

dual_mode!(
    foreign_signature_instruction_index_fails,
    |mode| async move { foreign_index(mode, 1).await }
);

dual_mode!(
    foreign_public_key_instruction_index_fails,
    |mode| async move { foreign_index(mode, 3).await }
);

dual_mode!(foreign_message_instruction_index_fails, |mode| async move {
    foreign_index(mode, 6).await
});

dual_mode!(
    own_explicit_instruction_index_is_accepted,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        let mut ixs = ixs_of(&env, &p);
        for field in [1, 3, 6] {
            ixs[0].data[offsets_field(0, field)..offsets_field(0, field) + 2]
                .copy_from_slice(&0u16.to_le_bytes());
        }
        let relayer = env.relayer.insecure_clone();
        let out = env.send(&ixs, &[&relayer]).await;
        out.assert_ok();
        assert!(matches!(out.outcomes()[..], [Outcome::Settled { .. }]));
    }
);

dual_mode!(precompile_with_accounts_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let mut ixs = ixs_of(&env, &p);
    ixs[0]
        .accounts
        .push(AccountMeta::new_readonly(p.vault, false));
    assert_fails(&mut env, &p, ixs, toss(1, TossError::PrecompileHasAccounts)).await;
});

dual_mode!(missing_precompile_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let ixs = ixs_of(&env, &p);
    assert_fails(
        &mut env,
        &p,
        vec![ixs[1].clone()],
        toss(0, TossError::PrecompileMissing),
    )
    .await;
    // A precompile that is not directly before the settle instruction does not count.
    let filler = solana_system_interface::instruction::transfer(
        &env.ctx.payer.pubkey(),
        &env.ctx.payer.pubkey(),
        0,
    );
    let all = vec![ixs[0].clone(), filler, ixs[1].clone()];
    assert_fails(&mut env, &p, all, toss(2, TossError::PrecompileMissing)).await;
});

dual_mode!(spoofed_instructions_sysvar_fails, |mode| async move {
    let mut env = Env::start(mode).await;
    let p = env.payment(5 * SOL, SOL).await;
    let fake = Keypair::new().pubkey();
    env.ctx.set_account(&fake, &system_account(SOL).into());
    let mut ixs = ixs_of(&env, &p);
    assert_eq!(ixs[1].accounts[2].pubkey, INSTRUCTIONS_SYSVAR_ID);
    ixs[1].accounts[2].pubkey = fake;
    assert_fails(
        &mut env,
        &p,
        ixs,
        toss(1, TossError::InvalidInstructionsSysvar),
    )
    .await;
});

dual_mode!(
    one_signature_entry_cannot_settle_two_intents,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let p = env.payment(5 * SOL, SOL).await;
        // Two entries, both pointing at the one signed payload: valid for the precompile.
        let single = precompile_ix(std::slice::from_ref(&p.signed));
        let payload = &single.data[HEADER_LEN + OFFSETS_LEN..];
        let mut data = vec![2u8, 0];
        let entry = &single.data[HEADER_LEN..HEADER_LEN + OFFSETS_LEN];
        let shift = OFFSETS_LEN as u16;
        for _ in 0..2 {
            for f in 0..7 {
                let v = u16::from_le_bytes([entry[2 * f], entry[2 * f + 1]]);
                let v = if matches!(f, 0 | 2 | 4) { v + shift } else { v };
                data.extend_from_slice(&v.to_le_bytes());
            }
        }
        data.extend_from_slice(payload);
        assert_eq!(
            data.len(),
            HEADER_LEN + 2 * OFFSETS_LEN + SIGNATURE_LEN + p.signed.message.len()
        );
        let pre = Instruction {
            program_id: single.program_id,
            accounts: vec![],
            data,
        };
        let intents: Vec<Intent> = vec![p.intent.clone(), p.intent.clone()];
        let ixs = vec![pre, settle_ix(&env.relayer.pubkey(), &intents, &[0, 0])];
        assert_fails(&mut env, &p, ixs, toss(1, TossError::PrecompileMalformed)).await;
    }
);
