//! Claims and leases: what lets several relayer instances share one store.

use crate::store::Actor;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::{intent, lease, TestResult};
use crate::store::{BatchState, Lease, Status, Store, Transition};

/// One intent per nonce account in flight, first by `seq`; a refused group writes nothing.
async fn claims_follow_the_nonce_rule(store: &dyn Store) -> TestResult {
    // Intents 0, 4 and 8 share nonce account 0; intent 1 is alone on nonce account 1.
    store
        .insert_intents([0, 4, 8, 1].into_iter().map(intent).collect())
        .await?;
    let id = |n| intent(n).id;
    let l = lease();
    // 4 is behind 0 on its nonce: refused, and nothing was written for it.
    assert_eq!(
        store
            .open_batches(vec![vec![id(4)]], Actor::Batcher, &l)
            .await?,
        vec![None]
    );
    assert!(store.unfinished_batches().await?.is_empty());
    assert_eq!(
        store.get(id(4)).await?.ok_or("missing")?.status,
        Status::Pending
    );
    // A group is claimed whole or not at all.
    assert_eq!(
        store
            .open_batches(vec![vec![id(1), id(4)]], Actor::Batcher, &l)
            .await?,
        vec![None]
    );
    assert_eq!(
        store.get(id(1)).await?.ok_or("missing")?.status,
        Status::Pending
    );
    // Two intents of one nonce account in one group: the later one is behind the earlier.
    assert_eq!(
        store
            .open_batches(vec![vec![id(0), id(4)]], Actor::Batcher, &l)
            .await?,
        vec![None]
    );
    let opened = store
        .open_batches(vec![vec![id(0)], vec![id(1)]], Actor::Batcher, &l)
        .await?;
    let first = opened[0].ok_or("0 not claimed")?;
    assert!(opened[1].is_some());
    // 0 in flight: 4 still waits, and 0 cannot be claimed twice.
    assert_eq!(
        store
            .open_batches(vec![vec![id(4)], vec![id(0)]], Actor::Batcher, &l)
            .await?,
        vec![None, None]
    );
    // 0 rejected: 4 gets its turn, 8 stays behind it.
    store
        .apply_and_finish_batch(
            vec![Transition::new(id(0), Status::Rejected, Actor::Reconciler)],
            first,
            &l,
            BatchState::Landed,
            None,
        )
        .await?
        .ok_or("the owner ends its batch")?;
    let opened = store
        .open_batches(vec![vec![id(8)], vec![id(4)]], Actor::Batcher, &l)
        .await?;
    assert_eq!(opened[0], None);
    assert!(opened[1].is_some());
    let b = store
        .get_batch(opened[1].ok_or("4")?)
        .await?
        .ok_or("batch")?;
    assert_eq!(b.owner.as_deref(), Some("test-instance"));
    assert!(b.lease_until_ms.is_some());
    Ok(())
}

/// Only the lease's owner records a signature; a lapsed lease moves to the taker, counted.
async fn leases_fence_sends_and_move_when_lapsed(store: &dyn Store) -> TestResult {
    store.insert_intents(vec![intent(1)]).await?;
    let a = Lease::new("instance-a", 300);
    let b = Lease::new("instance-b", 60_000);
    let batch = store
        .open_batches(vec![vec![intent(1).id]], Actor::Batcher, &a)
        .await?[0]
        .ok_or("not claimed")?;
    assert!(
        store.take_lapsed_batches(&b, 10).await?.is_empty(),
        "live lease"
    );
    assert!(
        !store
            .mark_batch_sent(batch, "sigB".into(), "h".into(), 1, &b)
            .await?
    );
    assert!(
        store
            .mark_batch_sent(batch, "sigA".into(), "h".into(), 1, &a)
            .await?
    );
    assert_eq!(store.renew_leases(&a, vec![batch, 999]).await?, vec![batch]);
    assert!(store.renew_leases(&b, vec![batch]).await?.is_empty());
    tokio::time::sleep(Duration::from_millis(450)).await;
    // Lapsed: B takes it over (once: a second look finds nothing).
    let taken = store.take_lapsed_batches(&b, 10).await?;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].batch_id, batch);
    assert_eq!(taken[0].owner.as_deref(), Some("instance-b"));
    assert_eq!(taken[0].takeovers, 1);
    assert_eq!(taken[0].intent_ids, vec![intent(1).id]);
    assert_eq!(taken[0].signature.as_deref(), Some("sigA"));
    assert!(store.take_lapsed_batches(&b, 10).await?.is_empty());
    // A can neither send nor renew any more.
    assert!(
        !store
            .mark_batch_sent(batch, "sigA2".into(), "h".into(), 2, &a)
            .await?
    );
    assert!(store
        .mark_batch_sent_with(batch, "sigA3".into(), "h".into(), 2, &a, vec![])
        .await?
        .is_none());
    assert!(store.renew_leases(&a, vec![batch]).await?.is_empty());
    assert_eq!(store.batch_signatures(batch).await?, vec!["sigA"]);
    // Nor end the batch or move its intents (say its reconciler saw sigA fail while B
    // resumes it): B's outcome is the one that counts.
    let back = vec![Transition::new(
        intent(1).id,
        Status::Pending,
        Actor::Reconciler,
    )];
    assert_eq!(
        store
            .apply_and_finish_batch(back, batch, &a, BatchState::Failed, None)
            .await?,
        None
    );
    assert_eq!(
        store.get_batch(batch).await?.ok_or("batch")?.state,
        BatchState::Sent
    );
    assert_eq!(
        store.get(intent(1).id).await?.ok_or("intent")?.status,
        Status::Queued
    );
    assert!(
        store
            .mark_batch_sent(batch, "sigB".into(), "h".into(), 3, &b)
            .await?
    );
    // Released: taken at once by the next sweep, by anyone.
    store.release_leases(&b.owner, vec![batch]).await?;
    let taken = store.take_lapsed_batches(&a, 10).await?;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].takeovers, 2);
    // Finished batches are never taken.
    store.finish_batch(batch, BatchState::Landed, None).await?;
    store.release_leases(&a.owner, vec![batch]).await?;
    assert!(store.take_lapsed_batches(&b, 10).await?.is_empty());
    Ok(())
}

/// Four claimers racing over the same intents: every intent is claimed at most once, and
/// never two in flight on one nonce account.
async fn racing_claimers_claim_each_intent_once(store: &dyn Store) -> TestResult {
    store.insert_intents((0..40).map(intent).collect()).await?;
    let groups: Vec<Vec<[u8; 32]>> = (0..40).map(|n| vec![intent(n).id]).collect();
    let claim = |owner: &'static str| {
        let groups = groups.clone();
        async move {
            store
                .open_batches(groups, Actor::Batcher, &Lease::new(owner, 60_000))
                .await
        }
    };
    let (a, b, c, d) = tokio::join!(claim("a"), claim("b"), claim("c"), claim("d"));
    let mut claimed: HashMap<[u8; 32], usize> = HashMap::new();
    for outcome in [a?, b?, c?, d?] {
        for (group, got) in groups.iter().zip(outcome) {
            if got.is_some() {
                *claimed.entry(group[0]).or_default() += 1;
            }
        }
    }
    assert!(claimed.values().all(|n| *n == 1), "{claimed:?}");
    let queued = store.load_by_status(&[Status::Queued], 100).await?;
    assert_eq!(queued.len(), claimed.len());
    let nonces: HashSet<[u8; 32]> = queued.iter().map(|r| r.nonce_account).collect();
    assert_eq!(nonces.len(), queued.len(), "two in flight on one nonce");
    assert_eq!(
        queued.len(),
        4,
        "the first intent of each of the 4 nonce accounts"
    );
    Ok(())
}

/// The same intents posted to two instances at once are one record each.
async fn concurrent_inserts_are_idempotent(store: &dyn Store) -> TestResult {
    let batch: Vec<_> = (0..50).map(intent).collect();
    let insert = || store.insert_intents(batch.clone());
    let (a, b, c) = tokio::join!(insert(), insert(), insert());
    let inserted: usize = [a?, b?, c?]
        .iter()
        .map(|o| o.iter().filter(|x| x.is_inserted()).count())
        .sum();
    assert_eq!(inserted, 50);
    assert_eq!(store.counts().await?[&Status::Pending], 50);
    for n in [0, 25, 49] {
        assert_eq!(store.audit(intent(n).id).await?.len(), 1);
    }
    Ok(())
}

super::both!(
    claims_follow_the_nonce_rule,
    leases_fence_sends_and_move_when_lapsed,
    racing_claimers_claim_each_intent_once,
    concurrent_inserts_are_idempotent,
);

/// Two `PgStore`s (two instances) on one database: one intent log, and a lease taken by one
/// is seen by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_instances_share_one_log() -> TestResult {
    let Some(url) = super::pg_url("two_postgres_instances_share_one_log").await? else {
        return Ok(());
    };
    let (one, two) = tokio::join!(
        crate::store::PgStore::connect(&url),
        crate::store::PgStore::connect(&url)
    );
    let (one, two) = (one?, two?);
    let (a, b) = tokio::join!(
        one.insert_intents((0..20).map(intent).collect()),
        two.insert_intents((10..30).map(intent).collect())
    );
    let new = a?
        .iter()
        .chain(b?.iter())
        .filter(|o| o.is_inserted())
        .count();
    assert_eq!(new, 30);
    assert_eq!(two.counts().await?[&Status::Pending], 30);
    // Whichever insert came first, the lowest `seq` on nonce account 0 goes first.
    let on_nonce = two.pending_on_nonce(intent(0).nonce_account).await?;
    let (first, second) = (on_nonce[0].id, on_nonce[1].id);
    let batch = one
        .open_batches(
            vec![vec![first]],
            Actor::Batcher,
            &Lease::new("one", 60_000),
        )
        .await?[0]
        .ok_or("not claimed")?;
    assert_eq!(
        two.open_batches(
            vec![vec![second]],
            Actor::Batcher,
            &Lease::new("two", 60_000)
        )
        .await?,
        vec![None],
        "nonce 0 is in flight on instance one"
    );
    assert!(two
        .take_lapsed_batches(&Lease::new("two", 60_000), 10)
        .await?
        .is_empty());
    assert_eq!(
        two.get_batch(batch).await?.ok_or("batch")?.owner.as_deref(),
        Some("one")
    );
    Ok(())
}
