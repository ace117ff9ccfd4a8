//! The SDK's `Cluster` (in-process implementation) and `wallet` operations against the real
//! program: config, deposit, pool opened and listed from the owner's key alone, v0 settle
//! transactions with an address lookup table, withdrawal and nonce closing after the delay.
#![allow(deprecated)]

use solana_keypair::Keypair;
use solana_message::{v0, VersionedMessage};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use std::time::Duration;
use toss_intent_processor::{instructions::ConfigInitializeArgs, nonce::read_nonce};
use toss_sdk::cluster::{Cluster, LocalCluster, LocalProgram};
use toss_sdk::events::{outcomes, Outcome};
use toss_sdk::instructions::{config_initialize_ix, sol_intent_metas};
use toss_sdk::pack::{
    create_lookup_table_ix, extend_lookup_table_ix, lookup_table_account, lookup_table_addresses,
    pack_v0, ComputeBudget, Form, PackItem,
};
use toss_sdk::pool::nonce_address;
use toss_sdk::{wallet, Intent, SdkError, SignedIntent};
use toss_tests::{program_so_path, SOL};

const DELAY: i64 = 7_200;

async fn cluster(program: LocalProgram) -> LocalCluster {
    let cluster = LocalCluster::start(program).await.expect("cluster");
    let authority = cluster.upgrade_authority().insecure_clone();
    let args = ConfigInitializeArgs {
        admin: authority.pubkey(),
        max_intent_lifetime_secs: 3_600,
        max_relayer_fee: 50_000,
        withdrawal_delay_secs: DELAY,
        paused: false,
        withdrawal_window_secs: toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS,
    };
    wallet::send(
        &cluster,
        &authority,
        &[config_initialize_ix(&authority.pubkey(), args)],
        &[],
    )
    .await
    .expect("config initialized");
    cluster
}

async fn funded(cluster: &LocalCluster, lamports: u64) -> Keypair {
    let user = Keypair::new();
    wallet::transfer(cluster, cluster.faucet(), &user.pubkey(), lamports)
        .await
        .expect("funded");
    user
}

async fn v0_settlement(program: LocalProgram, form: Form) {
    let cluster = cluster(program).await;
    let owner = funded(&cluster, 20 * SOL).await;
    wallet::deposit(&cluster, &owner, 10 * SOL).await.unwrap();
    let sigs = wallet::open_nonces(&cluster, &owner, 0..6).await.unwrap();
    assert_eq!(sigs.len(), 2, "four nonces per transaction");
    // The pool is found from the owner's key alone, with each nonce's current value.
    let pool = wallet::fetch_pool(&cluster, &owner.pubkey()).await.unwrap();
    assert_eq!(pool.nonces.len(), 6);
    for (i, cached) in pool.nonces.iter().enumerate() {
        assert_eq!(cached.index, i as u32);
        let (address, value) = pool.nonce(i as u32).unwrap();
        assert_eq!(address, nonce_address(&owner.pubkey(), i as u32));
        let account = cluster.account(&address).await.unwrap().unwrap();
        assert_eq!(read_nonce(&account.data).unwrap().durable_nonce, value);
    }
    assert_eq!(wallet::next_index(&pool), 6);
    let relayer = funded(&cluster, 2 * SOL).await;
    let now = cluster.unix_time().await.unwrap();
    let mut items = Vec::new();
    let mut merchants = Vec::new();
    for i in 0..6u32 {
        let (nonce_account, nonce_value) = pool.nonce(i).unwrap();
        let merchant = Keypair::new().pubkey();
        merchants.push(merchant);
        let intent = Intent {
            sender: owner.pubkey(),
            recipient: merchant,
            mint: None,
            amount: SOL / 10 + u64::from(i),
            nonce_account,
            nonce_value,
            expiry: now + 600,
            max_fee: 5_000,
            reference: None,
        };
        items.push(PackItem {
            signed: SignedIntent::sign(&owner, &intent).unwrap(),
            metas: sol_intent_metas(&intent),
            fee: 5_000,
            nonce: nonce_account,
        });
    }
    // The relayer's lookup table with every account the settlements use.
    cluster.next_slot().await.unwrap();
    let recent_slot = cluster.slot().await.unwrap() - 1;
    let (create, table) = create_lookup_table_ix(&relayer.pubkey(), &relayer.pubkey(), recent_slot);
    wallet::send(&cluster, &relayer, &[create], &[])
        .await
        .unwrap();
    let addresses = lookup_table_addresses(&relayer.pubkey(), &items);
    for chunk in addresses.chunks(20) {
        let ix =
            extend_lookup_table_ix(&table, &relayer.pubkey(), &relayer.pubkey(), chunk.to_vec());
        wallet::send(&cluster, &relayer, &[ix], &[]).await.unwrap();
    }
    cluster.next_slot().await.unwrap();
    let data = cluster.account(&table).await.unwrap().unwrap().data;
    let tables = vec![lookup_table_account(table, &data).unwrap()];
    assert_eq!(tables[0].addresses, addresses);

    let budget = match form {
        Form::Precompile => ComputeBudget::default(),
        Form::Compact => ComputeBudget {
            base_units: 5_000,
            units_per_intent: 40_000,
            micro_lamports_per_unit: 0,
        },
    };
    let packed = pack_v0(&relayer.pubkey(), &items, &budget, &tables, form).unwrap();
    match form {
        Form::Precompile => assert_eq!(packed.len(), 2, "three SOL intents per v0 transaction"),
        Form::Compact => assert_eq!(packed.len(), 1, "all six in one compact v0 transaction"),
    }
    let mut settled = Vec::new();
    for p in &packed {
        let (blockhash, last_valid) = cluster.latest_blockhash().await.unwrap();
        let message =
            v0::Message::try_compile(&relayer.pubkey(), &p.instructions, &tables, blockhash)
                .unwrap();
        let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[&relayer]).unwrap();
        assert_eq!(
            bincode::serialize(&tx).unwrap().len(),
            p.size,
            "measured size is real"
        );
        let (sig, status) = cluster
            .send_and_confirm(&tx, last_valid, Duration::from_secs(10))
            .await
            .unwrap()
            .expect("landed");
        assert_eq!(status.err, None);
        let logs = cluster.logs(&sig).await.unwrap().expect("logs kept");
        settled.extend(outcomes(&logs));
    }
    assert_eq!(settled.len(), 6);
    for (item, outcome) in items.iter().zip(&settled) {
        assert!(
            matches!(outcome, Outcome::Settled { id, fee: 5_000, .. } if *id == item.signed.id())
        );
    }
    for (i, merchant) in merchants.iter().enumerate() {
        assert_eq!(
            cluster.balance(merchant).await.unwrap(),
            SOL / 10 + i as u64
        );
    }
    // Every pool nonce moved on: the cached values are spent.
    let after = wallet::fetch_pool(&cluster, &owner.pubkey()).await.unwrap();
    for (a, b) in pool.nonces.iter().zip(&after.nonces) {
        assert_ne!(a.value, b.value);
    }
}

#[tokio::test]
async fn v0_with_lookup_table_settles_native() {
    v0_settlement(LocalProgram::Native, Form::Precompile).await;
}

#[tokio::test]
async fn v0_with_lookup_table_settles_bpf() {
    v0_settlement(LocalProgram::Bpf(program_so_path()), Form::Precompile).await;
}

#[tokio::test]
async fn compact_v0_with_lookup_table_settles_six_in_one_transaction_native() {
    v0_settlement(LocalProgram::Native, Form::Compact).await;
}

#[tokio::test]
async fn compact_v0_with_lookup_table_settles_six_in_one_transaction_bpf() {
    v0_settlement(LocalProgram::Bpf(program_so_path()), Form::Compact).await;
}

#[tokio::test]
async fn withdrawal_and_nonce_close_wait_for_the_delay() {
    let cluster = cluster(LocalProgram::Native).await;
    let owner = funded(&cluster, 20 * SOL).await;
    wallet::deposit(&cluster, &owner, 5 * SOL).await.unwrap();
    wallet::open_nonces(&cluster, &owner, 0..2).await.unwrap();
    let spendable = wallet::vault_spendable(&cluster, &owner.pubkey())
        .await
        .unwrap();
    assert_eq!(spendable, 5 * SOL);

    wallet::withdraw_request(&cluster, &owner, 2 * SOL)
        .await
        .unwrap();
    wallet::nonce_close_request(&cluster, &owner, 1)
        .await
        .unwrap();
    // Too early: named program errors, nothing moved.
    let early = wallet::withdraw_execute(&cluster, &owner)
        .await
        .unwrap_err();
    assert!(
        matches!(&early, SdkError::TxFailed { reason, .. } if reason.contains("WithdrawalLocked")),
        "{early}"
    );
    let early = wallet::nonce_close_execute(&cluster, &owner, 1)
        .await
        .unwrap_err();
    assert!(matches!(early, SdkError::TxFailed { .. }), "{early}");
    assert_eq!(
        wallet::vault_spendable(&cluster, &owner.pubkey())
            .await
            .unwrap(),
        5 * SOL
    );

    // A new slot first: the retries must not be the very transactions that failed above
    // (same blockhash, same signature), which a cluster answers with their first outcome.
    // The warp recomputes the Clock, so the delay is skipped after it.
    cluster.next_slot().await.unwrap();
    cluster.advance_clock(DELAY + 1).await.unwrap();
    let before = cluster.balance(&owner.pubkey()).await.unwrap();
    wallet::withdraw_execute(&cluster, &owner).await.unwrap();
    wallet::nonce_close_execute(&cluster, &owner, 1)
        .await
        .unwrap();
    assert_eq!(
        wallet::vault_spendable(&cluster, &owner.pubkey())
            .await
            .unwrap(),
        3 * SOL
    );
    assert!(cluster.balance(&owner.pubkey()).await.unwrap() > before + 2 * SOL - 20_000);
    let pool = wallet::fetch_pool(&cluster, &owner.pubkey()).await.unwrap();
    assert_eq!(pool.nonces.len(), 1, "closed nonce no longer listed");
    assert_eq!(pool.nonces[0].index, 0);
}

#[tokio::test]
async fn a_poor_payer_gets_a_clear_error() {
    let cluster = cluster(LocalProgram::Native).await;
    let owner = funded(&cluster, SOL).await;
    let err = wallet::deposit(&cluster, &owner, 5 * SOL)
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::TxFailed { .. }), "{err}");
    assert_eq!(
        wallet::vault_spendable(&cluster, &owner.pubkey())
            .await
            .unwrap(),
        0
    );
}

/// The review's scenario: the payer requests a withdrawal of everything, waits out the delay
/// and keeps it armed; the merchant syncs (the request is visible) and goes offline; the payer
/// pays offline. The payee check, fed by the synced pool file, refuses up front. Once the
/// window has passed, the request can no longer execute: a merchant who syncs then accepts,
/// the payer's late execute fails, and the merchant is paid.
async fn armed_withdrawal_cannot_rob_a_merchant(program: LocalProgram) {
    use toss_sdk::payee::{check, PayeeView, Refusal, Verdict};
    let cluster = cluster(program).await;
    let payer = funded(&cluster, 20 * SOL).await;
    wallet::deposit(&cluster, &payer, 5 * SOL).await.unwrap();
    wallet::open_nonces(&cluster, &payer, 0..1).await.unwrap();
    wallet::withdraw_request(&cluster, &payer, 5 * SOL)
        .await
        .unwrap();
    cluster.next_slot().await.unwrap();
    cluster.advance_clock(DELAY + 1).await.unwrap();
    // The merchant syncs the payer's pool file: the unlocked request is in it.
    let merchant = funded(&cluster, SOL).await.pubkey();
    let pool = wallet::fetch_pool(&cluster, &payer.pubkey()).await.unwrap();
    let pending = pool
        .vault
        .unwrap()
        .pending_withdrawal
        .expect("pending withdrawal synced");
    assert_eq!(pending.amount, 5 * SOL);
    // Offline, the payer signs 1 SOL to the merchant.
    let now = cluster.unix_time().await.unwrap();
    let (nonce_account, nonce_value) = pool.nonce(0).unwrap();
    let intent = Intent {
        sender: payer.pubkey(),
        recipient: merchant,
        mint: None,
        amount: SOL,
        nonce_account,
        nonce_value,
        expiry: now + 600,
        max_fee: 5_000,
        reference: None,
    };
    let signed = SignedIntent::sign(&payer, &intent).unwrap();
    let view = PayeeView::from_pool(&pool, merchant, now, &intent, 0).unwrap();
    assert_eq!(
        check(&signed, &view),
        Verdict::Refuse(Refusal::WithdrawalPending),
        "the payee check refuses while the withdrawal could execute first"
    );
    // Past the window: the merchant syncs again and accepts; the payer's execute fails.
    let window_end = pending.window_ends_at;
    cluster.next_slot().await.unwrap();
    let advance = window_end + 1 - cluster.unix_time().await.unwrap();
    cluster.advance_clock(advance).await.unwrap();
    let now = cluster.unix_time().await.unwrap();
    let pool = wallet::fetch_pool(&cluster, &payer.pubkey()).await.unwrap();
    let intent = Intent {
        expiry: now + 600,
        ..intent
    };
    let signed = SignedIntent::sign(&payer, &intent).unwrap();
    let view = PayeeView::from_pool(&pool, merchant, now, &intent, 0).unwrap();
    assert!(matches!(check(&signed, &view), Verdict::Accept { .. }));
    let late = wallet::withdraw_execute(&cluster, &payer)
        .await
        .unwrap_err();
    assert!(
        matches!(&late, SdkError::TxFailed { reason, .. } if reason.contains("WithdrawalLapsed")),
        "{late}"
    );
    let relayer = funded(&cluster, SOL).await;
    let ixs = toss_sdk::instructions::settle_ixs(&relayer.pubkey(), &[signed], &[5_000]).unwrap();
    let sig = wallet::send(&cluster, &relayer, &ixs, &[]).await.unwrap();
    let logs = cluster.logs(&sig).await.unwrap().unwrap();
    assert!(
        matches!(outcomes(&logs)[..], [Outcome::Settled { .. }]),
        "{logs:?}"
    );
    assert_eq!(cluster.balance(&merchant).await.unwrap(), 2 * SOL);
}

#[tokio::test]
async fn armed_withdrawal_cannot_rob_a_merchant_native() {
    armed_withdrawal_cannot_rob_a_merchant(LocalProgram::Native).await
}

#[tokio::test]
async fn armed_withdrawal_cannot_rob_a_merchant_bpf() {
    armed_withdrawal_cannot_rob_a_merchant(LocalProgram::Bpf(program_so_path())).await
}

/// The in-process cluster's slot and clock follow wall time, as a real cluster's do.
#[tokio::test]
async fn local_cluster_slots_and_clock_follow_wall_time() {
    let cluster = cluster(LocalProgram::Native).await;
    let slot = cluster.slot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let later = cluster.slot().await.unwrap();
    assert!(later >= slot + 2, "slot {slot} -> {later}");
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let clock = cluster.unix_time().await.unwrap();
    assert!((wall - clock).abs() <= 1, "clock {clock}, wall {wall}");
}

/// A withdrawal requested after the merchant's sync is invisible to it: the payee check then
/// accepts only intents that expire before such a request could execute.
#[tokio::test]
async fn an_unseen_request_cannot_beat_an_accepted_intent() {
    use toss_sdk::payee::{check, PayeeView, Refusal, Verdict};
    let cluster = cluster(LocalProgram::Native).await;
    let payer = funded(&cluster, 20 * SOL).await;
    wallet::deposit(&cluster, &payer, 5 * SOL).await.unwrap();
    wallet::open_nonces(&cluster, &payer, 0..1).await.unwrap();
    let merchant = funded(&cluster, SOL).await.pubkey();
    let pool = wallet::fetch_pool(&cluster, &payer.pubkey()).await.unwrap();
    let vault = pool.vault.unwrap();
    assert_eq!(vault.min_withdrawal_delay_secs, DELAY);
    assert!(vault.pending_withdrawal.is_none());
    // Right after the sync the payer asks for everything back; the merchant does not see it.
    wallet::withdraw_request(&cluster, &payer, 5 * SOL)
        .await
        .unwrap();
    let (nonce_account, nonce_value) = pool.nonce(0).unwrap();
    let intent_expiring = |expiry: i64| Intent {
        sender: payer.pubkey(),
        recipient: merchant,
        mint: None,
        amount: SOL,
        nonce_account,
        nonce_value,
        expiry,
        max_fee: 5_000,
        reference: None,
    };
    // Much later, offline: an intent expiring after `synced_at + delay` is refused...
    let now = vault.synced_at + DELAY - 600;
    let late = intent_expiring(now + 1_200);
    let signed = SignedIntent::sign(&payer, &late).unwrap();
    let view = PayeeView::from_pool(&pool, merchant, now, &late, 0).unwrap();
    assert_eq!(check(&signed, &view), Verdict::Refuse(Refusal::SyncTooOld));
    // ...one expiring before the earliest unlock of any unseen request is accepted.
    let soon = intent_expiring(vault.synced_at + DELAY);
    let signed = SignedIntent::sign(&payer, &soon).unwrap();
    let view = PayeeView::from_pool(&pool, merchant, now, &soon, 0).unwrap();
    assert!(matches!(check(&signed, &view), Verdict::Accept { .. }));
    // The program agrees: the unseen request unlocks strictly after that expiry.
    let account = cluster
        .account(&toss_intent_processor::state::Vault::find_address(&payer.pubkey()).0)
        .await
        .unwrap()
        .unwrap();
    let v: toss_intent_processor::state::Vault =
        anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice()).unwrap();
    assert!(v.withdrawal_unlocks_at > soon.expiry);
    // Token intents need the merchant's own sync of the allowance.
    let token = Intent {
        mint: Some(solana_pubkey::Pubkey::new_unique()),
        ..soon
    };
    assert!(PayeeView::from_pool(&pool, merchant, now, &token, 0).is_none());
}
