//! Several relayer instances, each with its own fee payer and instance id, sharing one
//! in-process cluster and one PostgreSQL database (a fresh schema per test, on the server
//! `TOSS_TEST_DATABASE_URL` names; `scripts/test` starts one with `scripts/pg`).

use crate::faults::{assert_settled_once, crowd};
use crate::harness::{config, Harness, Running};
use reqwest::StatusCode;
use solana_signer::Signer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use toss_relayer::fault::{Faults, FaultyCluster};
use toss_relayer::local::{self, SOL};
use toss_relayer::service::Relayer;
use toss_relayer::store::{PgStore, Store};
use toss_relayer::RelayerError;
use toss_sdk::cluster::Cluster;

/// A fresh schema's URL, or `None` when PostgreSQL is skipped on purpose.
async fn pg_url(test: &str) -> Option<String> {
    let Some(url) = std::env::var("TOSS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert_eq!(
            std::env::var("TOSS_SKIP_POSTGRES").as_deref(),
            Ok("1"),
            "TOSS_TEST_DATABASE_URL is not set: run `scripts/pg start` and export the URL it \
             prints (scripts/test does), or set TOSS_SKIP_POSTGRES=1"
        );
        eprintln!("SKIPPED: {test} (TOSS_SKIP_POSTGRES=1)");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let schema = format!("e2e_{test}_{}_{nanos}", std::process::id());
    Some(PgStore::schema_url(&url, &schema).await.expect("schema"))
}

/// Starts instance `id` on its own store connection and its own funded fee payer.
async fn instance(
    h: &Harness,
    url: &str,
    id: &str,
    cluster: Arc<dyn Cluster>,
    lease_ms: u64,
) -> Running {
    let mut cfg = config();
    cfg.store.instance_id = Some(id.into());
    cfg.store.lease_ms = lease_ms;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(url).await.expect("postgres store"));
    let payer = local::funded(&h.cluster, 10 * SOL)
        .await
        .expect("fee payer");
    h.start_with(cfg, cluster, store, payer).await
}

/// Two and three instances, intents posted round-robin (and each also to a second instance):
/// one record per intent, every intent final, each settled once, balances exact, and the
/// work spread over the instances' fee payers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_share_one_postgres_and_settle_everything_once() {
    for n in [2usize, 3] {
        let Some(url) = pg_url(&format!("share{n}")).await else {
            return;
        };
        let h = Harness::new().await;
        let (intents, merchants) = crowd(&h, 6, 4).await;
        let mut running = Vec::new();
        for i in 0..n {
            running
                .push(instance(&h, &url, &format!("relayer-{i}"), h.cluster.clone(), 15_000).await);
        }
        for (k, s) in intents.iter().enumerate() {
            let first = &running[k % n];
            assert_eq!(first.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
            // The same intent at another instance: the one record, not a second.
            let (code, _) = running[(k + 1) % n].submit(&h.http, s).await;
            assert!(code.is_success(), "{code}");
        }
        running[0].settle_all().await;
        assert_eq!(running[0].total().await, intents.len() as u64);
        assert_settled_once(&h, &running[0], &intents, &merchants).await;
        // Batches were claimed by more than one instance.
        let mut owners = std::collections::HashSet::new();
        for s in &intents {
            let rec = running[0].store.get(s.id()).await.unwrap().unwrap();
            let batch = running[0]
                .store
                .get_batch(rec.batch_id.unwrap())
                .await
                .unwrap()
                .unwrap();
            owners.insert(batch.owner.unwrap());
        }
        assert!(owners.len() > 1, "only {owners:?} did any work");
        for r in running {
            r.relayer.shutdown().await.unwrap();
        }
    }
}

/// One instance dies mid-batch (its tasks aborted, no shutdown) with transactions sent: the
/// other takes its batches over once their leases lapse, checks the recorded signatures and
/// waits for their blockhash to pass before re-signing, and settles every intent exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instances_batches_are_finished_by_another_exactly_once() {
    let Some(url) = pg_url("takeover").await else {
        return;
    };
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 4, 3).await;
    // Instance A's sends never reach the cluster: its batches stay in flight until it dies.
    let lossy = Arc::new(FaultyCluster::new(h.cluster.clone(), Faults::default(), 7));
    lossy.set_dropping(true);
    let a = instance(&h, &url, "relayer-a", lossy.clone(), 1_000).await;
    assert_eq!(
        a.admin(&h.http, "pause", Some(crate::harness::ADMIN)).await,
        StatusCode::OK
    );
    // B takes no intake and is paused until A is dead: it claims nothing of its own.
    let b = instance(&h, &url, "relayer-b", h.cluster.clone(), 1_000).await;
    assert_eq!(
        b.admin(&h.http, "pause", Some(crate::harness::ADMIN)).await,
        StatusCode::OK
    );
    for s in &intents {
        assert_eq!(a.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    assert_eq!(
        a.admin(&h.http, "resume", Some(crate::harness::ADMIN))
            .await,
        StatusCode::OK
    );
    // Wait until A has batches sent (signatures recorded), then kill it.
    let mut waited = 0;
    loop {
        let sent = a
            .store
            .unfinished_batches()
            .await
            .unwrap()
            .iter()
            .filter(|b| b.signature.is_some() && b.owner.as_deref() == Some("relayer-a"))
            .count();
        if sent >= 1 {
            break;
        }
        waited += 1;
        assert!(waited < 500, "instance A never sent a batch");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let a_payer = a.relayer.ctx.fee_payer.pubkey();
    let a_batches: Vec<i64> = a
        .store
        .unfinished_batches()
        .await
        .unwrap()
        .iter()
        .map(|b| b.batch_id)
        .collect();
    a.relayer.abort();
    assert_eq!(
        b.admin(&h.http, "resume", Some(crate::harness::ADMIN))
            .await,
        StatusCode::OK
    );
    b.settle_all().await;
    assert_settled_once(&h, &b, &intents, &merchants).await;
    // B took A's batches over (counted), and nothing was sent with A's payer that landed.
    assert!(b.relayer.ctx.metrics.lease_takeovers.get() >= 1);
    for id in a_batches {
        let batch = b.store.get_batch(id).await.unwrap().unwrap();
        assert!(
            batch.state.is_final(),
            "A's batch {id} left {:?}",
            batch.state
        );
        assert_eq!(batch.owner.as_deref(), Some("relayer-b"));
        assert!(batch.takeovers >= 1);
    }
    assert!(b.store.unfinished_batches().await.unwrap().is_empty());
    assert_eq!(
        h.cluster.balance(&a_payer).await.unwrap(),
        10 * SOL,
        "instance A's transactions never reached the cluster"
    );
    b.relayer.shutdown().await.unwrap();
}

/// Runs `scripts/pg <cmd>` on a cluster of this test's own (so restarting it disturbs no
/// other test), returning what it printed.
fn own_pg(cmd: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg");
    let out = std::process::Command::new(script)
        .arg(cmd)
        .env("TOSS_PG_CLUSTER", "tossrestart")
        .env("TOSS_PG_PORT", "54331")
        .output()
        .expect("scripts/pg runs");
    assert!(
        out.status.success(),
        "scripts/pg {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// PostgreSQL stopped and started again under load: meanwhile intake answers
/// `503 store_unavailable` (and `/healthz` too), nothing acknowledged before is lost, and
/// after it is back every intent (those refused meanwhile, posted again) settles once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_load_loses_nothing_acknowledged() {
    if pg_url("restart_gate").await.is_none() {
        return;
    }
    let base = own_pg("start");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let url = PgStore::schema_url(&base, &format!("restart_{}_{nanos}", std::process::id()))
        .await
        .expect("schema");
    let h = Harness::new().await;
    let (intents, merchants) = crowd(&h, 6, 4).await;
    let r = instance(&h, &url, "relayer-r", h.cluster.clone(), 15_000).await;
    for s in &intents[..8] {
        assert_eq!(r.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    own_pg("stop");
    for s in &intents[8..12] {
        let (code, body) = r.submit(&h.http, s).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "store_unavailable");
    }
    let health = h
        .http
        .get(format!("{}/healthz", r.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    own_pg("start");
    // Back: the first calls may still meet connections the restart closed; a client retries.
    for s in &intents[8..] {
        let mut tries = 0;
        loop {
            let (code, body) = r.submit(&h.http, s).await;
            if code == StatusCode::ACCEPTED {
                break;
            }
            assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            tries += 1;
            assert!(tries < 50, "the store did not come back");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    r.settle_all().await;
    assert_eq!(r.total().await, intents.len() as u64);
    assert_settled_once(&h, &r, &intents, &merchants).await;
    r.relayer.shutdown().await.unwrap();
    own_pg("stop");
}

/// Two live processes never share an instance id (their lease fences could not tell them
/// apart): a second relayer under a held id waits `lease_ms` for the first to exit, then
/// refuses to start; once the first stopped it starts. And a relayer whose hold was lost (its
/// session killed) while another process took the id stops itself, every task at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_id_is_held_by_one_live_relayer() {
    let Some(url) = pg_url("hold").await else {
        return;
    };
    let h = Harness::new().await;
    let first = instance(&h, &url, "relayer-a", h.cluster.clone(), 1_000).await;
    let mut cfg = config();
    cfg.store.instance_id = Some("relayer-a".into());
    cfg.store.lease_ms = 1_000;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&url).await.expect("store"));
    let payer = local::funded(&h.cluster, SOL).await.expect("payer");
    let since = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let refused = Relayer::new(
        Arc::new(cfg.clone()),
        h.cluster.clone(),
        store.clone(),
        payer.insecure_clone(),
    )
    .expect("relayer")
    .start(listener)
    .await;
    match refused {
        Err(RelayerError::InstanceInUse(id)) => assert_eq!(id, "relayer-a"),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("a second live relayer under one instance id started"),
    }
    assert!(since.elapsed() >= Duration::from_millis(1_000), "it waited");
    first.relayer.shutdown().await.expect("shutdown");
    let second = h
        .start_with(cfg, h.cluster.clone(), store.clone(), payer)
        .await;
    let health = h
        .http
        .get(format!("{}/healthz", second.url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);

    let (sql, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("sql");
    tokio::spawn(connection);
    let key = "hashtextextended('toss-instance:' || current_schema() || ':relayer-a', 0)";
    let kill = format!(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_locks \
         WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() \
         AND objid = ({key} & 4294967295)::oid) AS k"
    );
    // Its hold's session is killed (as a database restart would): it signs nothing until it
    // holds the id again, which it does, and then settles as before.
    let killed: i64 = sql.query_one(&kill, &[]).await.expect("kill").get(0);
    assert_eq!(killed, 1);
    let ctx = second.relayer.ctx.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while ctx.metrics.instance_hold_lost.get() == 0
        || !ctx
            .flow
            .instance_held
            .load(std::sync::atomic::Ordering::SeqCst)
    {
        assert!(Instant::now() < deadline, "the hold was not taken again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ctx.metrics.instance_hold_lost.get(), 1);
    let (intents, merchants) = crowd(&h, 1, 2).await;
    for s in &intents {
        assert_eq!(second.submit(&h.http, s).await.0, StatusCode::ACCEPTED);
    }
    second.settle_all().await;
    assert_settled_once(&h, &second, &intents, &merchants).await;

    // Its hold's session is killed again and, before it can take the id back, another session
    // does: it waits on the lock while the holder is terminated (and gone: the timeout
    // argument), so it is first in line.
    let killed: i64 = sql.query_one(&kill, &[]).await.expect("kill").get(0);
    assert_eq!(killed, 1);
    sql.execute(&format!("SELECT pg_advisory_lock({key})"), &[])
        .await
        .expect("the id taken by another session");
    let why = tokio::time::timeout(Duration::from_secs(10), second.relayer.failed())
        .await
        .expect("the relayer stops itself");
    assert!(why.contains("taken by another process"), "{why}");
    // Intake refuses on connections already open, and the listener is gone.
    let (status, body) = second
        .post(&h.http, &serde_json::json!({"intent": "AA=="}))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "shutting_down");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(reqwest::Client::new()
        .get(format!("{}/healthz", second.url))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .is_err());
}
