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
    public_key_offset_pointing_at_another_field_fails,
    |mode| async move {
        let mut env = Env::start(mode).await;
        let mut p = env.payment(5 * SOL, SOL).await;
        // The thief names themselves as recipient of the victim's funds, signs the intent with their
        // own key, and points the public-key offset at the recipient field (their key) instead of
        // the sender field: the precompile verifies, so only the binding check stops a payout.
        let thief = Keypair::new();
        env.ctx
            .set_account(&thief.pubkey(), &system_account(SOL).into());
        env.resign(&mut p, |i| i.recipient = thief.pubkey());
        p.merchant = thief.pubkey();
        let forged = sign_intent(&thief, &p.intent);
        let mut ixs = settle_ixs(&env.relayer.pubkey(), &[forged], &[0]);
        let at = offsets_field(0, 2);
        let sender_at = u16::from_le_bytes([ixs[0].data[at], ixs[0].data[at + 1]]);
        ixs[0].data[at..at + 2].copy_from_slice(&(sender_at + 32).to_le_bytes());
        assert_fails(&mut env, &p, ixs, toss(1, TossError::PrecompileMalformed)).await;
    }
);

dual_mode!(signature_offsets_must_be_canonical, |mode| async move {
    let mut env = Env::start(mode).await;
    let a = env.payment(5 * SOL, SOL).await;
    let b = env.payment(5 * SOL, SOL).await;
    // Each entry reads its (valid) signature from the other entry's signature slot: the
    // precompile verifies, the layout is not canonical.
    let mut ixs = settle_ixs(
        &env.relayer.pubkey(),
        &[a.signed.clone(), b.signed.clone()],
        &[0, 0],
    );
    let (f0, f1) = (offsets_field(0, 0), offsets_field(1, 0));
    let s0 = [ixs[0].data[f0], ixs[0].data[f0 + 1]];
    let s1 = [ixs[0].data[f1], ixs[0].data[f1 + 1]];
    let (p0, p1) = (
        u16::from_le_bytes(s0) as usize,
        u16::from_le_bytes(s1) as usize,
    );
    let sig0 = ixs[0].data[p0..p0 + SIGNATURE_LEN].to_vec();
    let sig1 = ixs[0].data[p1..p1 + SIGNATURE_LEN].to_vec();
    ixs[0].data[p0..p0 + SIGNATURE_LEN].copy_from_slice(&sig1);
    ixs[0].data[p1..p1 + SIGNATURE_LEN].copy_from_slice(&sig0);
    ixs[0].data[f0..f0 + 2].copy_from_slice(&s1);
    ixs[0].data[f1..f1 + 2].copy_from_slice(&s0);
    let before_b = env.snapshot_payment(&b).await;
    assert_fails(&mut env, &a, ixs, toss(1, TossError::PrecompileMalformed)).await;
    assert_eq!(env.snapshot_payment(&b).await, before_b);
});

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
    // A forged "instructions sysvar" whose instruction 0 is an Ed25519 instruction carrying the
    // victim's intent with a signature nobody made. The real transaction has no precompile at
    // all: only the address check stands between this account and a payout.
    let mut forged = p.signed.clone();
    forged.signature = [7; 64];
    let settle = settle_ixs(&env.relayer.pubkey(), std::slice::from_ref(&forged), &[0]);
    let fake_data = instructions_sysvar_bytes(&settle, 1);
    let fake = Keypair::new().pubkey();
    env.ctx.set_account(
        &fake,
        &solana_account::Account {
            lamports: SOL,
            data: fake_data,
            owner: solana_sdk_ids::sysvar::ID,
            executable: false,
            rent_epoch: 0,
        }
        .into(),
    );
    let mut ix = settle[1].clone();
    assert_eq!(ix.accounts[2].pubkey, INSTRUCTIONS_SYSVAR_ID);
    ix.accounts[2].pubkey = fake;
    assert_fails(
        &mut env,
        &p,
        vec![ix],
        toss(0, TossError::InvalidInstructionsSysvar),
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
