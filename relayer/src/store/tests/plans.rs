//! PostgreSQL query plans: what the store's keyed lookups cost must not depend on the
//! statistics the server had when it cached a plan.
//!
//! Found in `toss-bench ingest --store postgres`: the idempotency lookup (intake's
//! [`get_many`](crate::store::Store::get_many)) was prepared while the fresh tables were
//! empty; the cached generic plan scanned `intents` sequentially, and kept doing so as the
//! table grew: 140-180 ms per call at 37,000 intents instead of ~4 ms, ~90 % of the server's
//! time, bulk ingest at 0.27 x SQLite's rate (0.98 x once fixed).

use super::{intent, TestResult};
use crate::store::postgres::reads::get_many_sql;
use crate::store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_cached_on_empty_tables_still_looks_intents_up_by_index() -> TestResult {
    let Some(store) = super::pg_store("a_plan_cached_on_empty_tables").await? else {
        return Ok(());
    };
    let c = store.test_client().await?;
    let setting: String = c.query_one("SHOW enable_seqscan", &[]).await?.get(0);
    assert_eq!(
        setting, "off",
        "the store's connections disable sequential scans"
    );
    // The tables were just created and never analyzed: the generic plan (what a prepared
    // statement keeps) is planned on the server's default guesses for them.
    c.batch_execute("SET plan_cache_mode = force_generic_plan")
        .await?;
    c.batch_execute(&format!("PREPARE lookup AS {}", get_many_sql()))
        .await?;
    let plan = |rows: Vec<tokio_postgres::Row>| -> String {
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let empty = plan(c.query("EXPLAIN EXECUTE lookup('{}')", &[]).await?);
    assert!(
        !empty.contains("Seq Scan"),
        "generic plan on empty tables:\n{empty}"
    );
    assert!(
        empty.contains("intents_id_key"),
        "not by the id index:\n{empty}"
    );
    // And the lookup answers through it once the log has rows.
    store.insert_intents((0..64).map(intent).collect()).await?;
    let found = store.get_many(vec![intent(3).id, [0xEE; 32]]).await?;
    assert_eq!(found[0].as_ref().map(|r| r.id), Some(intent(3).id));
    assert!(found[1].is_none());
    Ok(())
}
