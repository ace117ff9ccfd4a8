//! One live process per instance id (`Store::hold_instance`).

use super::{pg_url, TempDb, TestResult};
use crate::store::{PgStore, Store};
use std::time::Duration;

/// A held id is refused to a second holder until the first lets go; other ids are free
/// (PostgreSQL), or the whole file is held whatever the id (SQLite).
async fn one_holder_at_a_time(store: &dyn Store, per_id: bool) -> TestResult {
    let first = store.hold_instance("a").await?.ok_or("a free id is held")?;
    assert!(!first.is_lost());
    assert!(store.hold_instance("a").await?.is_none(), "held twice");
    let other = store.hold_instance("b").await?;
    assert_eq!(other.is_some(), per_id);
    drop(other);
    drop(first);
    let again = store.hold_instance("a").await?;
    assert!(again.is_some(), "a dropped hold is released");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holds_the_file_for_one_process() -> TestResult {
    let db = TempDb::new()?;
    let store = db.open()?;
    one_holder_at_a_time(&store, false).await?;
    // A second store on the same file (as a second process would open it) is refused too.
    let held = store.hold_instance("x").await?.ok_or("free")?;
    let second = db.open()?;
    assert!(second.hold_instance("y").await?.is_none());
    // Through a symlink to the file, too.
    #[cfg(unix)]
    {
        let link = db.path.with_file_name("alias.sqlite");
        std::os::unix::fs::symlink(&db.path, &link)?;
        let aliased = crate::store::SqliteStore::open(&link)?;
        assert!(aliased.hold_instance("z").await?.is_none());
    }
    drop(held);
    assert!(second.hold_instance("y").await?.is_some());
    // An in-memory database belongs to this process alone.
    let memory = crate::store::SqliteStore::open_in_memory()?;
    assert!(memory.hold_instance("a").await?.is_some());
    assert!(memory.hold_instance("a").await?.is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holds_each_id_per_schema_and_reports_a_lost_hold() -> TestResult {
    let Some(url) = pg_url("postgres_holds_each_id").await? else {
        return Ok(());
    };
    let store = PgStore::connect(&url).await?;
    one_holder_at_a_time(&store, true).await?;
    // Another store on the same schema (another process) is refused the held id.
    let held = store.hold_instance("a").await?.ok_or("free")?;
    let second = PgStore::connect(&url).await?;
    assert!(second.hold_instance("a").await?.is_none());
    // The same id in another schema is another instance.
    let Some(elsewhere) = pg_url("postgres_holds_each_id_elsewhere").await? else {
        return Ok(());
    };
    let elsewhere = PgStore::connect(&elsewhere).await?;
    assert!(elsewhere.hold_instance("a").await?.is_some());
    // The hold's session is killed (as a server restart would): the hold reports itself
    // lost, and the id is free again.
    let client = second.test_client().await?;
    let killed = client
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() \
             AND objid = (hashtextextended('toss-instance:' || current_schema() || ':a', 0) \
                          & 4294967295)::oid) AS k",
            &[],
        )
        .await?;
    assert_eq!(killed.get::<_, i64>(0), 1, "one session held the lock");
    tokio::time::timeout(Duration::from_secs(10), held.lost()).await?;
    assert!(held.is_lost());
    let taken = second
        .hold_instance("a")
        .await?
        .ok_or("free after the kill")?;

    // A store whose own session still holds the id after it gave that hold up for lost (the
    // server has not noticed the connection is dead yet) ends that session and takes the id;
    // another store (another process) cannot.
    assert!(
        store.hold_instance("a").await?.is_none(),
        "held by `second`"
    );
    second.forget_live_holds();
    let third = PgStore::connect(&url).await?;
    assert!(
        third.hold_instance("a").await?.is_none(),
        "not third's session"
    );
    let retaken = second
        .hold_instance("a")
        .await?
        .ok_or("its own stale session ended")?;
    tokio::time::timeout(Duration::from_secs(10), taken.lost()).await?;
    assert!(!retaken.is_lost());
    // A live hold of its own is never taken for stale.
    assert!(second.hold_instance("a").await?.is_none());
    assert!(!retaken.is_lost());
    Ok(())
}
