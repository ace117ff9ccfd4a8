//! The `MXEAccount` from a fixture laid out field by field after Arcium's published IDL
//! (0.16.0), and Arcium's PDAs.

use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;
use toss_sdk::arcium::account::{MxeStatus, UtilityKeys, MXE_ACCOUNT_DISCRIMINATOR};
use toss_sdk::arcium::pda::{self, QueueAccounts, ARCIUM_PROGRAM_ID};
use toss_sdk::arcium::{ArciumError, MxeAccount};

/// `MXEAccount` bytes written by hand from the IDL: every field in order, Borsh encoding.
pub fn fixture(mxe_program: &Pubkey, x25519: Option<[u8; 32]>) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&Sha256::digest(b"account:MXEAccount")[..8]);
    d.push(0); // _padding
    d.extend_from_slice(&7u32.to_le_bytes()); // cluster
    d.extend_from_slice(&11u64.to_le_bytes()); // keygen_offset
    d.extend_from_slice(&12u64.to_le_bytes()); // key_recovery_init_offset
    d.extend_from_slice(mxe_program.as_ref()); // mxe_program_id
    d.push(1); // authority: Some
    d.extend_from_slice(&[0xaa; 32]);
    match x25519 {
        Some(key) => {
            d.push(0); // SetUnset::Set
            d.extend_from_slice(&key);
        }
        None => {
            d.push(1); // SetUnset::Unset
            d.extend_from_slice(&[0; 32]);
        }
    }
    d.extend_from_slice(&[0xbb; 32]); // ed25519_verifying_key
    d.extend_from_slice(&[0xcc; 32]); // elgamal_pubkey
    d.extend_from_slice(&[0xdd; 64]); // pubkey_validity_proof
    if x25519.is_none() {
        d.extend_from_slice(&3u32.to_le_bytes()); // Vec<bool>: 3 nodes, one has contributed
        d.extend_from_slice(&[1, 0, 0]);
    }
    d.extend_from_slice(&99u64.to_le_bytes()); // lut_offset_slot
    d.extend_from_slice(&2u32.to_le_bytes()); // computation_definitions
    d.extend_from_slice(&5u32.to_le_bytes());
    d.extend_from_slice(&6u32.to_le_bytes());
    d.push(0); // status: Active
    d.push(254); // bump
    d.extend_from_slice(&1_000u64.to_le_bytes()); // current_epoch_recovery_rewards
    d.extend_from_slice(&42u64.to_le_bytes()); // recovery_rewards_epoch
    d
}

#[test]
fn discriminator_is_anchors() {
    assert_eq!(
        MXE_ACCOUNT_DISCRIMINATOR[..],
        Sha256::digest(b"account:MXEAccount")[..8]
    );
}

#[test]
fn decodes_a_set_key_and_round_trips() {
    let program = Pubkey::new_unique();
    let data = fixture(&program, Some([0x5a; 32]));
    let mxe = MxeAccount::decode(&data).unwrap();
    assert_eq!(mxe.cluster, 7);
    assert_eq!((mxe.keygen_offset, mxe.key_recovery_init_offset), (11, 12));
    assert_eq!(mxe.mxe_program_id, program);
    assert_eq!(mxe.authority, Some(Pubkey::new_from_array([0xaa; 32])));
    assert_eq!(mxe.lut_offset_slot, 99);
    assert_eq!(mxe.computation_definitions, vec![5, 6]);
    assert_eq!((mxe.status, mxe.bump), (MxeStatus::Active, 254));
    assert_eq!(mxe.recovery_rewards, Some((1_000, 42)));
    assert_eq!(mxe.x25519_key().unwrap().to_bytes(), [0x5a; 32]);
    assert_eq!(mxe.encode(), data);
    // Trailing space (accounts are allocated larger) is ignored; the pre-rewards prefix decodes.
    let mut padded = data.clone();
    padded.extend_from_slice(&[0; 100]);
    assert_eq!(MxeAccount::decode(&padded).unwrap(), mxe);
    let prefix = MxeAccount::decode(&data[..data.len() - 16]).unwrap();
    assert_eq!(prefix.recovery_rewards, None);
}

#[test]
fn unset_key_is_reported_as_unset() {
    let data = fixture(&Pubkey::new_unique(), None);
    let mxe = MxeAccount::decode(&data).unwrap();
    assert!(
        matches!(&mxe.utility_pubkeys, UtilityKeys::Unset(_, flags) if flags == &[true, false, false])
    );
    assert_eq!(mxe.x25519_key(), Err(ArciumError::MxeKeyUnset));
    assert_eq!(mxe.encode(), data);
    // Set but all zero is just as unusable.
    let zero = MxeAccount::decode(&fixture(&Pubkey::new_unique(), Some([0; 32]))).unwrap();
    assert_eq!(zero.x25519_key(), Err(ArciumError::MxeKeyUnset));
}

#[test]
fn malformed_accounts_are_refused_without_panicking() {
    let data = fixture(&Pubkey::new_unique(), Some([1; 32]));
    for len in 0..data.len() - 16 {
        assert!(MxeAccount::decode(&data[..len]).is_err(), "prefix {len}");
    }
    let mut wrong = data.clone();
    wrong[0] ^= 1;
    assert!(
        matches!(MxeAccount::decode(&wrong), Err(ArciumError::Account(m)) if m.contains("discriminator"))
    );
    let mut bad_tag = data.clone();
    bad_tag[8 + 1 + 4 + 8 + 8 + 32 + 1 + 32] = 2; // utility_pubkeys tag
    assert!(MxeAccount::decode(&bad_tag).is_err());
    // A huge Vec length does not allocate or panic.
    let mut unset = fixture(&Pubkey::new_unique(), None);
    let at = 8 + 1 + 4 + 8 + 8 + 32 + 1 + 32 + 1 + 160;
    unset[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(MxeAccount::decode(&unset).is_err());
}

#[test]
fn pdas_use_arciums_seeds() {
    assert_eq!(
        ARCIUM_PROGRAM_ID.to_string(),
        "Arcj82pX7HxYKLR92qvgZUAd7vGS1k4hQvAFcPATFdEQ"
    );
    let program = Pubkey::new_unique();
    let find = |seeds: &[&[u8]]| Pubkey::find_program_address(seeds, &ARCIUM_PROGRAM_ID).0;
    assert_eq!(
        pda::mxe_account(&program),
        find(&[b"MXEAccount", program.as_ref()])
    );
    assert_eq!(pda::mempool(7), find(&[b"Mempool", &[7, 0, 0, 0]]));
    assert_eq!(pda::executing_pool(7), find(&[b"Execpool", &[7, 0, 0, 0]]));
    assert_eq!(pda::cluster(7), find(&[b"Cluster", &[7, 0, 0, 0]]));
    assert_eq!(
        pda::computation(7, 0x0102),
        find(&[
            b"ComputationAccount",
            &[7, 0, 0, 0],
            &[2, 1, 0, 0, 0, 0, 0, 0]
        ])
    );
    let offset = pda::comp_def_offset("settle_confidential");
    let digest = Sha256::digest(b"settle_confidential");
    assert_eq!(offset.to_le_bytes(), digest[..4]);
    assert_eq!(
        pda::computation_definition(&program, offset),
        find(&[
            b"ComputationDefinitionAccount",
            program.as_ref(),
            &offset.to_le_bytes()
        ])
    );
    assert_eq!(pda::fee_pool(), find(&[b"FeePool"]));
    assert_eq!(pda::clock(), find(&[b"ClockAccount"]));
    assert_eq!(
        pda::signer(&program),
        Pubkey::find_program_address(&[b"ArciumSignerAccount"], &program).0
    );
}

#[test]
fn queue_accounts_follow_the_mxe_cluster() {
    let program = Pubkey::new_unique();
    let mxe = MxeAccount::decode(&fixture(&program, Some([2; 32]))).unwrap();
    let q = QueueAccounts::new(&program, &mxe, "settle_confidential", 77);
    assert_eq!(q.mxe, pda::mxe_account(&program));
    assert_eq!(q.computation, pda::computation(7, 77));
    assert_eq!(
        (q.mempool, q.executing_pool, q.cluster),
        (pda::mempool(7), pda::executing_pool(7), pda::cluster(7))
    );
    assert_ne!(
        q.computation,
        QueueAccounts::new(&program, &mxe, "settle_confidential", 78).computation
    );
}
