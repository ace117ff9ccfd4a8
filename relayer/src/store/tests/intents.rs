//! Insertion, transitions, audit and queries.

use crate::store::Actor;
use std::sync::Arc;

use super::{intent, TestResult};
use crate::store::{InsertOutcome, SqliteStore, Status, Store, Transition};

async fn insert_then_get(store: &dyn Store) -> TestResult {
    let a = intent(1);
    let out = store.insert_intents(vec![a.clone()]).await?;
    assert_eq!(out.len(), 1);
    assert!(out[0].is_inserted());
    let rec = store.get(a.id).await?.ok_or("missing")?;
    assert_eq!(rec.intent, a);
    assert_eq!(rec.status, Status::Pending);
    assert_eq!(rec.attempts, 0);
    assert_eq!(rec.seq, 1);
    assert_eq!(rec.sender, a.sender, "Deref to NewIntent");
    assert_eq!(&rec, out[0].record());
    assert!(store.get([9; 32]).await?.is_none());
    let audit = store.audit(a.id).await?;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].from, None);
    assert_eq!(audit[0].to, Status::Pending);
    assert_eq!(audit[0].actor, "http 127.0.0.1");
    Ok(())
}

async fn reinsert_is_idempotent(store: &dyn Store) -> TestResult {
    let a = intent(1);
    let mut b = intent(2);
    b.mint = Some([3; 32]);
    b.kind = crate::store::IntentKind::Token;
    store.insert_intents(vec![a.clone()]).await?;
    store
        .apply(vec![Transition::new(a.id, Status::Queued, Actor::Batcher)])
        .await?;
    // Re-insert of `a`, plus `b` twice in one call.
    let out = store
        .insert_intents(vec![a.clone(), b.clone(), b.clone()])
        .await?;
    match &out[..] {
        [InsertOutcome::Existing(ra), InsertOutcome::Inserted(rb), InsertOutcome::Existing(rb2)] => {
            assert_eq!(ra.status, Status::Queued, "existing state is reported");
            assert_eq!(ra.seq, 1);
            // PostgreSQL's identity may skip the values of refused inserts: order is what
            // `seq` promises.
            assert!(rb.seq > ra.seq);
            assert_eq!(rb, rb2);
            assert_eq!(rb.intent, b);
        }
        other => return Err(format!("unexpected outcomes {other:?}").into()),
    }
    assert_eq!(store.audit(a.id).await?.len(), 2, "insert + queued only");
    assert_eq!(store.audit(b.id).await?.len(), 1);
    assert!(store.insert_intents(vec![]).await?.is_empty());
    Ok(())
}

async fn transitions_are_guarded_and_audited(store: &dyn Store) -> TestResult {
    let a = intent(1).id;
    store.insert_intents(vec![intent(1)]).await?;

    let applied = store
        .apply(vec![
            Transition::new(a, Status::Settled, Actor::Reconciler), // illegal from pending
            Transition::new(a, Status::Queued, Actor::Batcher).batch(7),
            Transition::new(a, Status::Submitted, Actor::Submitter)
                .signature("sig1")
                .bump_attempts(),
            Transition::new(a, Status::Submitted, Actor::Submitter), // self-transition
            Transition::new([9; 32], Status::Queued, Actor::Batcher), // unknown id
        ])
        .await?;
    assert_eq!(applied, vec![false, true, true, false, false]);

    let rec = store.get(a).await?.ok_or("missing")?;
    assert_eq!(rec.status, Status::Submitted);
    assert_eq!(rec.batch_id, Some(7));
    assert_eq!(rec.signature.as_deref(), Some("sig1"));
    assert_eq!(rec.attempts, 1);

    let applied = store
        .apply(vec![
            Transition::new(a, Status::Settled, Actor::Reconciler)
                .slot(42)
                .reason("landed"),
            Transition::new(a, Status::Pending, Actor::Operator),
            Transition::new(a, Status::Rejected, Actor::Operator),
        ])
        .await?;
    assert_eq!(applied, vec![true, false, false], "final never changes");

    let rec = store.get(a).await?.ok_or("missing")?;
    assert_eq!(rec.status, Status::Settled);
    assert_eq!(rec.slot, Some(42));
    assert_eq!(rec.reason.as_deref(), Some("landed"));
    assert_eq!(
        rec.signature.as_deref(),
        Some("sig1"),
        "None keeps signature"
    );

    let audit = store.audit(a).await?;
    let trail: Vec<_> = audit
        .iter()
        .map(|r| (r.from, r.to, r.actor.as_str()))
        .collect();
    assert_eq!(
        trail,
        vec![
            (None, Status::Pending, "http 127.0.0.1"),
            (Some(Status::Pending), Status::Queued, "batcher"),
            (Some(Status::Queued), Status::Submitted, "submitter"),
            (Some(Status::Submitted), Status::Settled, "reconciler"),
        ]
    );
    assert_eq!(audit[2].signature.as_deref(), Some("sig1"));
    assert_eq!(audit[3].reason.as_deref(), Some("landed"));
    assert!(audit.windows(2).all(|w| w[0].audit_id < w[1].audit_id));
    Ok(())
}

async fn queries_by_status_nonce_and_counts(store: &dyn Store) -> TestResult {
    // Nonce account of intent n is n % 4.
    store.insert_intents((0..10).map(intent).collect()).await?;
    let id = |n| intent(n).id;
    store
        .apply(vec![
            Transition::new(id(0), Status::Queued, Actor::Batcher),
            Transition::new(id(4), Status::Conflict, Actor::Operator),
            Transition::new(id(1), Status::Rejected, Actor::Operator),
        ])
        .await?;

    let pending = store.load_by_status(&[Status::Pending], 3).await?;
    let seqs: Vec<i64> = pending.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![3, 4, 6]);
    assert!(store.load_by_status(&[], 10).await?.is_empty());
    let both = store
        .load_by_status(&[Status::Queued, Status::Conflict], 10)
        .await?;
    assert_eq!(both.len(), 2);

    let on_nonce0 = store.pending_on_nonce(intent(0).nonce_account).await?;
    let ids: Vec<_> = on_nonce0.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![id(0), id(8)], "conflict is final and excluded");

    let counts = store.counts().await?;
    assert_eq!(counts.len(), Status::ALL.len());
    assert_eq!(counts[&Status::Pending], 7);
    assert_eq!(counts[&Status::Queued], 1);
    assert_eq!(counts[&Status::Settled], 0);
    assert_eq!(store.nonfinal().await?.len(), 8);
    Ok(())
}

async fn expire_due_leaves_batched_intents_alone(store: &dyn Store) -> TestResult {
    let mut old: Vec<_> = (0..4)
        .map(|n| {
            let mut i = intent(n);
            i.expiry = 100;
            i
        })
        .collect();
    old.push(intent(9)); // far future
    store.insert_intents(old).await?;
    let id = |n| intent(n).id;
    store
        .apply(vec![
            Transition::new(id(1), Status::Queued, Actor::Batcher),
            Transition::new(id(2), Status::Queued, Actor::Batcher),
            Transition::new(id(2), Status::Submitted, Actor::Submitter),
            Transition::new(id(3), Status::Rejected, Actor::Operator),
        ])
        .await?;
    let expired = store.expire_due(1_000, Actor::Sweeper).await?;
    assert_eq!(expired, vec![id(0)]);
    let status = |r: Option<crate::store::IntentRecord>| r.map(|r| r.status);
    // Queued and submitted: their batch's driver decides (it may be about to send).
    assert_eq!(status(store.get(id(1)).await?), Some(Status::Queued));
    assert_eq!(status(store.get(id(2)).await?), Some(Status::Submitted));
    assert_eq!(status(store.get(id(3)).await?), Some(Status::Rejected));
    assert_eq!(status(store.get(id(9)).await?), Some(Status::Pending));
    let last = store.audit(id(0)).await?.pop().ok_or("no audit")?;
    assert_eq!(
        (last.from, last.to),
        (Some(Status::Pending), Status::Expired)
    );
    assert_eq!(last.actor, "sweeper");
    assert!(store.expire_due(1_000, Actor::Sweeper).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn usable_as_trait_object() -> TestResult {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory()?);
    store.insert_intents(vec![intent(5)]).await?;
    store.flush().await?;
    assert_eq!(store.nonfinal().await?.len(), 1);
    Ok(())
}

super::both!(
    insert_then_get,
    reinsert_is_idempotent,
    transitions_are_guarded_and_audited,
    expire_due_leaves_batched_intents_alone,
    queries_by_status_nonce_and_counts
);
