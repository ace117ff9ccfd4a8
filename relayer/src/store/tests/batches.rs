//! Batches and their signature history.

use super::{intent, TempDb, TestResult};
use crate::store::{BatchState, Store, StoreError};

#[tokio::test]
async fn batch_lifecycle_and_signature_history() -> TestResult {
    let db = TempDb::new()?;
    let store = db.open()?;
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
            .mark_batch_sent(id, "sig1".into(), "hash1".into(), 100)
            .await?
    );
    assert!(
        store
            .mark_batch_sent(id, "sig2".into(), "hash2".into(), 250)
            .await?
    );
    // Recording the same signature again is harmless.
    assert!(
        store
            .mark_batch_sent(id, "sig1".into(), "hash1".into(), 100)
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
        .mark_batch_sent(other, "sig2".into(), "h".into(), 1)
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
            .mark_batch_sent(id, "sig3".into(), "h".into(), 1)
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

    // History survives a restart.
    drop(store);
    let store = db.open()?;
    assert_eq!(store.batch_signatures(id).await?, vec!["sig1", "sig2"]);
    Ok(())
}

#[tokio::test]
async fn bad_batches_are_rejected() -> TestResult {
    let db = TempDb::new()?;
    let store = db.open()?;
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
