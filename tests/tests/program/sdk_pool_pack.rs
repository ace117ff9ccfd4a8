//! The SDK's online setup (nonce pool at derived addresses) and its packer against the real
//! program: every packed transaction lands and settles what it carries.

use solana_signer::Signer;
use toss_intent_processor::{events::RejectReason, intent::intent_id, nonce::read_nonce};
use toss_sdk::pack::{pack_legacy, ComputeBudget, Form, PackItem};
use toss_sdk::pool::{nonce_address, open_nonces_ixs, NONCE_ACCOUNT_SPACE};
use toss_tests::*;

dual_mode!(sdk_pool_and_packed_transactions_settle, |mode| async move {
    let mut env = Env::start(mode).await;
    let payer = env.user(20 * SOL).await;
    env.deposit(&payer, 10 * SOL).await;
    let rent = env.ctx.banks_client.get_rent().await.unwrap();
    let ixs = open_nonces_ixs(
        &payer.pubkey(),
        0..3,
        rent.minimum_balance(NONCE_ACCOUNT_SPACE),
    );
    env.send(&ixs, &[&payer]).await.assert_ok();
    env.next_slot().await;
    let authority = toss_intent_processor::state::NonceAuthority::find_address(&payer.pubkey()).0;
    let mut items = Vec::new();
    let mut merchants = Vec::new();
    for i in 0..3u32 {
        let nonce = nonce_address(&payer.pubkey(), i);
        let account = env
            .account(&nonce)
            .await
            .expect("pool nonce exists at the derived address");
        assert_eq!(read_nonce(&account.data).unwrap().authority, authority);
        let merchant = env.user(SOL).await.pubkey();
        merchants.push(merchant);
        let intent = env
            .sol_intent(&payer.pubkey(), &merchant, SOL, &nonce)
            .await;
        items.push(PackItem {
            signed: sign_intent(&payer, &intent),
            metas: sol_intent_metas(&intent),
            fee: 1_000,
            nonce,
        });
    }
    // A double spend on nonce 0: the packer keeps it out of the first intent's transaction.
    let mut second = items[0].signed.intent().unwrap();
    second.recipient = merchants[1];
    items.push(PackItem {
        signed: sign_intent(&payer, &second),
        metas: sol_intent_metas(&second),
        fee: 1_000,
        nonce: second.nonce_account,
    });
    let relayer = env.relayer.insecure_clone();
    let packed = pack_legacy(
        &relayer.pubkey(),
        &items,
        &ComputeBudget::default(),
        Form::Precompile,
    )
    .unwrap();
    assert!(packed.len() >= 2);
    let mut outcomes = Vec::new();
    for p in &packed {
        let blockhash = env.fresh_blockhash().await;
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            &p.instructions,
            Some(&relayer.pubkey()),
            &[&relayer],
            blockhash,
        );
        assert_eq!(
            bincode::serialize(&tx).unwrap().len(),
            p.size,
            "measured size is real"
        );
        let out = env.send_tx(tx).await;
        out.assert_ok();
        outcomes.extend(out.outcomes());
    }
    let settled = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Settled { .. }))
        .count();
    assert_eq!(settled, 3);
    assert!(outcomes.contains(&Outcome::Rejected {
        id: intent_id(&items[3].signed.message),
        reason: RejectReason::StaleNonce,
    }));
    assert_eq!(env.lamports(&merchants[0]).await, 2 * SOL);
});
