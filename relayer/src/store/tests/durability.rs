//! Group commit, reopening, value ranges and migrations.

use crate::store::Actor;
use std::sync::Arc;
use std::time::Duration;

use super::{intent, lease, TempDb, TestResult};
use crate::store::{SqliteStore, Status, Store, StoreError, Transition};

/// Blocks the writer thread (inside its transaction) until the returned
/// sender is used or dropped.
async fn pause_writer(store: &Arc<SqliteStore>) -> Result<std::sync::mpsc::Sender<()>, StoreError> {
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
    let s = Arc::clone(store);
    tokio::spawn(async move {
        s.write(move |_| {
            let _ = started_tx.send(());
            Ok(gate.recv().ok())
        })
        .await
    });
    started.await.map_err(|_| StoreError::Closed)?;
    Ok(release)
}

async fn wait_queued(store: &SqliteStore, n: usize) -> TestResult {
    for _ in 0..10_000 {
        if store.stats().queued >= n {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Err(format!("only {} of {n} writes queued", store.stats().queued).into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_are_group_committed_and_durable() -> TestResult {
    let db = TempDb::new()?;
    let store = Arc::new(db.open()?);
    let before = store.stats();
    let release = pause_writer(&store).await?;
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let s = Arc::clone(&store);
            tokio::spawn(async move { s.insert_intents(vec![intent(n)]).await })
        })
        .collect();
    wait_queued(&store, 64).await?;
    release.send(())?;
    for t in tasks {
        let out = t.await??;
        assert!(out[0].is_inserted());
    }
    let after = store.stats();
    let commits = after.commits - before.commits;
    let jobs = after.write_jobs - before.write_jobs;
    assert_eq!(jobs, 65, "64 inserts + the pause job");
    assert!(commits < jobs, "{commits} commits for {jobs} writes");
    assert_eq!(commits, 1, "everything waiting joins one group");

    drop(store);
    let store = db.open()?;
    let all = store.nonfinal().await?;
    assert_eq!(all.len(), 64);
    let seqs: Vec<i64> = all.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=64).collect::<Vec<i64>>());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaused_concurrent_inserts_all_land() -> TestResult {
    let db = TempDb::new()?;
    let store = Arc::new(db.open()?);
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let (s, b) = (Arc::clone(&store), Arc::clone(&barrier));
            tokio::spawn(async move {
                b.wait().await;
                s.insert_intents(vec![intent(n)]).await
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await??[0].is_inserted());
    }
    let stats = store.stats();
    assert!(stats.commits <= stats.write_jobs);
    assert_eq!(store.counts().await?[&Status::Pending], 64);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_job_does_not_spoil_its_group() -> TestResult {
    let store = Arc::new(SqliteStore::open_in_memory()?);
    let release = pause_writer(&store).await?;
    let s1 = Arc::clone(&store);
    let bad = tokio::spawn(async move { s1.create_batch(vec![[42; 32]]).await });
    let s2 = Arc::clone(&store);
    let good = tokio::spawn(async move { s2.insert_intents(vec![intent(1)]).await });
    wait_queued(&store, 2).await?;
    let commits = store.stats().commits;
    release.send(())?;
    assert!(matches!(bad.await?, Err(StoreError::InvalidInput(_))));
    assert!(good.await??[0].is_inserted());
    assert_eq!(store.stats().commits, commits + 1);
    assert!(store.unfinished_batches().await?.is_empty(), "rolled back");
    assert!(store.get(intent(1).id).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn reopen_keeps_everything() -> TestResult {
    let db = TempDb::new()?;
    {
        let store = db.open()?;
        store.insert_intents((0..3).map(intent).collect()).await?;
        store
            .apply(vec![
                Transition::new(intent(0).id, Status::Queued, Actor::Batcher),
                Transition::new(intent(1).id, Status::Rejected, Actor::Operator).reason("bad"),
            ])
            .await?;
        store.flush().await?;
    }
    let store = db.open()?;
    let left: Vec<_> = store.nonfinal().await?.into_iter().map(|r| r.id).collect();
    assert_eq!(left, vec![intent(0).id, intent(2).id]);
    let rejected = store.get(intent(1).id).await?.ok_or("missing")?;
    assert_eq!(rejected.status, Status::Rejected);
    assert_eq!(rejected.reason.as_deref(), Some("bad"));
    assert_eq!(rejected.intent, intent(1));
    assert_eq!(store.audit(intent(0).id).await?.len(), 2);
    // New inserts continue the sequence.
    let out = store.insert_intents(vec![intent(3)]).await?;
    assert_eq!(out[0].record().seq, 4);
    Ok(())
}

#[tokio::test]
async fn u64_extremes_round_trip() -> TestResult {
    let db = TempDb::new()?;
    let mut a = intent(1);
    a.amount = u64::MAX;
    a.fee = 1 << 63;
    {
        let store = db.open()?;
        store.insert_intents(vec![a.clone()]).await?;
        let t = vec![
            Transition::new(a.id, Status::Queued, Actor::Batcher),
            Transition::new(a.id, Status::Submitted, Actor::Submitter),
            Transition::new(a.id, Status::Settled, Actor::Reconciler).slot(u64::MAX),
        ];
        assert_eq!(store.apply(t).await?, vec![true; 3]);
        let b = store.create_batch(vec![a.id]).await?;
        store
            .mark_batch_sent(b, "s".into(), "h".into(), u64::MAX, &lease())
            .await?;
    }
    let store = db.open()?;
    let rec = store.get(a.id).await?.ok_or("missing")?;
    assert_eq!(rec.amount, u64::MAX);
    assert_eq!(rec.fee, 1 << 63);
    assert_eq!(rec.slot, Some(u64::MAX));
    let batch = store.unfinished_batches().await?.pop().ok_or("no batch")?;
    assert_eq!(batch.last_valid_block_height, Some(u64::MAX));
    Ok(())
}

#[tokio::test]
async fn migrations_are_idempotent_on_reopen() -> TestResult {
    let db = TempDb::new()?;
    for _ in 0..3 {
        let store = db.open()?;
        store.insert_intents(vec![intent(1)]).await?;
    }
    let conn = rusqlite::Connection::open(&db.path)?;
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT version, name FROM schema_migrations")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    assert_eq!(
        rows,
        vec![
            (1, "0001_init".to_string()),
            (2, "0002_open_expiry".to_string()),
            (3, "0003_seq_keys".to_string()),
            (4, "0004_leases".to_string())
        ]
    );
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    Ok(())
}

/// Pages reach the database file through the checkpointer thread while the store stays open
/// (the writer itself never checkpoints), and a reopen sees every commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpointer_copies_the_wal_into_the_database_file() -> TestResult {
    let db = TempDb::new()?;
    let store = db.open()?;
    let empty = std::fs::metadata(&db.path)?.len();
    for chunk in 0..8u32 {
        store
            .insert_intents((chunk * 64..(chunk + 1) * 64).map(intent).collect())
            .await?;
    }
    let mut grown = false;
    for _ in 0..100 {
        if std::fs::metadata(&db.path)?.len() > empty {
            grown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        grown,
        "the database file stayed at {empty} bytes: nothing was checkpointed"
    );
    drop(store);
    let store = db.open()?;
    assert_eq!(store.counts().await?[&Status::Pending], 512);
    Ok(())
}

/// Under writes that never pause and readers that never stop, the WAL is still restarted
/// from its start once it outgrows its limit (a passive checkpoint alone never gets there:
/// the writer always has newer frames), and nothing is lost on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_restarts_under_steady_writes_and_reads() -> TestResult {
    let db = TempDb::new()?;
    let policy = crate::store::sqlite::WalPolicy {
        every: Duration::from_millis(20),
        restart_frames: 64,
    };
    let store = Arc::new(SqliteStore::open_with(&db.path, policy)?);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        readers.spawn(async move {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                store.counts().await?;
                reads += 1;
            }
            Ok::<u64, StoreError>(reads)
        });
    }
    // ~22 MB of WAL frames without restarts (measured: 215 MB for ten times as many).
    let mut written = 0u32;
    for _ in 0..200 {
        store
            .insert_intents((written..written + 16).map(intent).collect())
            .await?;
        written += 16;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(reads) = readers.join_next().await {
        assert!(reads?? > 0, "a reader never ran");
    }
    let stats = store.stats();
    assert!(
        stats.wal_restarts >= 2,
        "the WAL was never restarted: {stats:?} after {written} intents"
    );
    assert!(stats.wal_checkpoints > stats.wal_restarts, "{stats:?}");
    // The file keeps its largest size, which the restarts bound.
    let wal = std::fs::metadata(db.path.with_extension("sqlite-wal"))?.len();
    assert!(
        wal < 8 << 20,
        "WAL file of {wal} bytes after {written} intents"
    );
    drop(store);
    let store = db.open()?;
    assert_eq!(
        store.counts().await?[&Status::Pending],
        u64::from(written),
        "intents lost across WAL restarts"
    );
    Ok(())
}

/// A reader that stays on the WAL (an operator's shell inside a transaction) makes the
/// restarting checkpoint give up after a short wait, never stalls the writer, and the
/// restart happens once it is gone.
#[tokio::test]
async fn a_long_reader_does_not_stall_the_writer() -> TestResult {
    let db = TempDb::new()?;
    let policy = crate::store::sqlite::WalPolicy {
        every: Duration::from_millis(20),
        restart_frames: 64,
    };
    let store = SqliteStore::open_with(&db.path, policy)?;
    let mut written = 0u32;
    store
        .insert_intents((written..written + 16).map(intent).collect())
        .await?;
    written += 16;
    let reader = rusqlite::Connection::open(&db.path)?;
    reader.execute_batch("BEGIN")?;
    let seen: i64 = reader.query_row("SELECT count(*) FROM intents", [], |r| r.get(0))?;
    assert_eq!(seen, 16);
    let started = std::time::Instant::now();
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_millis(1500) {
        let t = std::time::Instant::now();
        store
            .insert_intents((written..written + 16).map(intent).collect())
            .await?;
        slowest = slowest.max(t.elapsed());
        written += 16;
    }
    let stats = store.stats();
    assert_eq!(stats.wal_restarts, 0, "restarted under a reader: {stats:?}");
    assert!(
        slowest < Duration::from_secs(1),
        "a writer waited {slowest:?} on a reader"
    );
    reader.execute_batch("COMMIT")?;
    drop(reader);
    for _ in 0..200 {
        if store.stats().wal_restarts > 0 {
            break;
        }
        store
            .insert_intents((written..written + 16).map(intent).collect())
            .await?;
        written += 16;
    }
    assert!(store.stats().wal_restarts > 0, "{:?}", store.stats());
    assert_eq!(store.counts().await?[&Status::Pending], u64::from(written));
    Ok(())
}

/// SQLite's batcher and submitter writes are one group commit each, and survive a reopen.
#[tokio::test]
async fn batch_writes_are_single_commits_and_survive_reopen() -> TestResult {
    let db = TempDb::new()?;
    let store = db.open()?;
    let ids: Vec<_> = (1..=3).map(|n| intent(n).id).collect();
    store.insert_intents((1..=3).map(intent).collect()).await?;
    let before = store.stats().commits;
    let opened = store
        .open_batches(
            vec![vec![ids[0], ids[1]], vec![ids[2]]],
            Actor::Batcher,
            &lease(),
        )
        .await?;
    assert_eq!(store.stats().commits, before + 1, "one commit for the pass");
    let batch = opened[0].ok_or("not claimed")?;
    let before = store.stats().commits;
    store
        .mark_batch_sent_with(batch, "sig1".into(), "h".into(), 1, &lease(), vec![])
        .await?;
    assert_eq!(store.stats().commits, before + 1);
    drop(store);
    let store = db.open()?;
    assert_eq!(store.batch_signatures(batch).await?, vec!["sig1"]);
    let b = store.get_batch(batch).await?.ok_or("missing")?;
    assert_eq!(b.owner.as_deref(), Some("test-instance"));
    Ok(())
}
