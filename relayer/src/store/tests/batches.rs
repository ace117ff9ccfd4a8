//! Batches and their signature history.

use super::{intent, lease, TestResult};
use crate::store::Actor;
use crate::store::{BatchState, Store, StoreError};

async fn batch_lifecycle_and_signature_history(store: &dyn Store) -> TestResult {
    let (a, b) = (intent(1).id, intent(2).id);
    store.insert_intents(vec![intent(1), intent(2)]).await?;

    let id = store.create_batch(vec![b, a]).await?;
    let batch = store.get_batch(id).await?.ok_or("missing batch")?;
    assert_eq!(batch.state, BatchState::Open);
    assert_eq!(batch.intent_ids, vec![b, a], "order kept");
    assert_eq!(batch.signature, None);
    assert!(store.batch_signatures(id).await?.is_empty());

    assert!(
        store
            .mark_batch_sent(id, "sig1".into(), "hash1".into(), 100, &lease())
            .await?
    );
    assert!(
        store
            .mark_batch_sent(id, "sig2".into(), "hash2".into(), 250, &lease())
            .await?
    );
    // Recording the same signature again is harmless.
    assert!(
        store
            .mark_batch_sent(id, "sig1".into(), "hash1".into(), 100, &lease())
            .await?
    );
    assert_eq!(store.batch_signatures(id).await?, vec!["sig1", "sig2"]);

    let batch = store.get_batch(id).await?.ok_or("missing batch")?;
    assert_eq!(batch.state, BatchState::Sent);
    assert_eq!(batch.signature.as_deref(), Some("sig1"), "latest call wins");
    assert_eq!(batch.blockhash.as_deref(), Some("hash1"));

    let other = store.create_batch(vec![a]).await?;
    assert!(other > id);
    let stolen = store
        .mark_batch_sent(other, "sig2".into(), "h".into(), 1, &lease())
        .await;
    assert!(matches!(stolen, Err(StoreError::InvalidInput(_))));

    let unfinished: Vec<i64> = store
        .unfinished_batches()
        .await?
        .iter()
        .map(|b| b.batch_id)
        .collect();
    assert_eq!(unfinished, vec![id, other]);

    assert!(matches!(
        store.finish_batch(id, BatchState::Sent, None).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(store.finish_batch(id, BatchState::Landed, None).await?);
    assert!(
        !store.finish_batch(id, BatchState::Failed, None).await?,
        "final"
    );
    assert!(
        !store
            .mark_batch_sent(id, "sig3".into(), "h".into(), 1, &lease())
            .await?
    );
    assert!(
        store
            .finish_batch(other, BatchState::Dropped, Some("blockhash expired".into()))
            .await?
    );
    assert!(!store.finish_batch(999, BatchState::Dropped, None).await?);
    assert!(store.unfinished_batches().await?.is_empty());
    let dropped = store.get_batch(other).await?.ok_or("missing batch")?;
    assert_eq!(dropped.error.as_deref(), Some("blockhash expired"));
    assert_eq!(store.batch_signatures(id).await?, vec!["sig1", "sig2"]);

    Ok(())
}

async fn bad_batches_are_rejected(store: &dyn Store) -> TestResult {
    store.insert_intents(vec![intent(1)]).await?;
    assert!(matches!(
        store.create_batch(vec![]).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(
        store.create_batch(vec![intent(1).id, [9; 32]]).await,
        Err(StoreError::InvalidInput(_))
    ));
    assert!(store.unfinished_batches().await?.is_empty());
    assert!(store.get_batch(1).await?.is_none());
    Ok(())
}

/// The batcher's and submitter's combined writes: each is one commit and all-or-nothing.
async fn combined_batch_writes_are_atomic(store: &dyn Store) -> TestResult {
    use crate::store::{Status, Transition};
    let ids: Vec<_> = (1..=5).map(|n| intent(n).id).collect();
    store.insert_intents((1..=5).map(intent).collect()).await?;

    // Two batches opened and queued in one commit.
    let batches: Vec<i64> = store
        .open_batches(
            vec![vec![ids[0], ids[1]], vec![ids[2]]],
            Actor::Batcher,
            &lease(),
        )
        .await?
        .into_iter()
        .collect::<Option<_>>()
        .ok_or("a group was not claimed")?;
    assert_eq!(batches.len(), 2);
    for (batch, members) in batches.iter().zip([&ids[..2], &ids[2..3]]) {
        let b = store.get_batch(*batch).await?.ok_or("missing batch")?;
        assert_eq!(b.state, BatchState::Open);
        assert_eq!(b.intent_ids, members.to_vec());
        for id in members {
            let r = store.get(*id).await?.ok_or("missing intent")?;
            assert_eq!(r.status, Status::Queued);
            assert_eq!(r.batch_id, Some(*batch));
            let audit = store.audit(*id).await?;
            assert_eq!(audit.last().map(|a| a.actor.as_str()), Some("batcher"));
        }
    }
    // One bad group undoes the whole pass: no batch, nothing queued.
    let unfinished = store.unfinished_batches().await?.len();
    let bad = store
        .open_batches(vec![vec![ids[3]], vec![[9; 32]]], Actor::Batcher, &lease())
        .await;
    assert!(matches!(bad, Err(StoreError::InvalidInput(_))));
    assert_eq!(store.unfinished_batches().await?.len(), unfinished);
    let r = store.get(ids[3]).await?.ok_or("missing intent")?;
    assert_eq!(r.status, Status::Pending, "rolled back with its neighbour");
    assert!(store
        .open_batches(vec![], Actor::Batcher, &lease())
        .await?
        .is_empty());

    // Signature and `submitted` in one commit.
    let submitted = |id| {
        Transition::new(id, Status::Submitted, Actor::Submitter)
            .signature("sigA")
            .batch(batches[0])
    };
    let applied = store
        .mark_batch_sent_with(
            batches[0],
            "sigA".into(),
            "hashA".into(),
            10,
            &lease(),
            vec![submitted(ids[0]), submitted(ids[1])],
        )
        .await?;
    assert_eq!(applied, Some(vec![true, true]));
    assert_eq!(store.batch_signatures(batches[0]).await?, vec!["sigA"]);
    let r = store.get(ids[0]).await?.ok_or("missing intent")?;
    assert_eq!(r.status, Status::Submitted);
    assert_eq!(r.signature.as_deref(), Some("sigA"));

    // Outcomes and the batch's end in one commit.
    let applied = store
        .apply_and_finish_batch(
            vec![
                Transition::new(ids[0], Status::Settled, Actor::Reconciler).signature("sigA"),
                Transition::new(ids[1], Status::Rejected, Actor::Reconciler).reason("expired"),
                Transition::new(ids[4], Status::Conflict, Actor::Reconciler).reason("nonce used"),
            ],
            batches[0],
            &lease(),
            BatchState::Landed,
            None,
        )
        .await?;
    assert_eq!(applied, Some(vec![true, true, true]));
    assert_eq!(
        store.get_batch(batches[0]).await?.ok_or("missing")?.state,
        BatchState::Landed
    );
    // A finished batch records no new signature and applies nothing more.
    let late = store
        .mark_batch_sent_with(
            batches[0],
            "sigB".into(),
            "hashB".into(),
            20,
            &lease(),
            vec![submitted(ids[0])],
        )
        .await?;
    assert_eq!(late, None);
    assert_eq!(
        store.get(ids[0]).await?.ok_or("missing")?.status,
        Status::Settled
    );
    // Finishing twice is not an error, and applies nothing: the first outcome stands.
    let again = store
        .apply_and_finish_batch(
            vec![Transition::new(ids[0], Status::Pending, Actor::Reconciler)],
            batches[0],
            &lease(),
            BatchState::Failed,
            None,
        )
        .await?;
    assert_eq!(again, None, "already final");
    assert_eq!(
        store.get(ids[0]).await?.ok_or("missing")?.status,
        Status::Settled
    );
    assert_eq!(
        store.get_batch(batches[0]).await?.ok_or("missing")?.state,
        BatchState::Landed
    );
    Ok(())
}

super::both!(
    batch_lifecycle_and_signature_history,
    bad_batches_are_rejected,
    combined_batch_writes_are_atomic,
);
