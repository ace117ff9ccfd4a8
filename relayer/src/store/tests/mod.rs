//! Store tests. The behaviour every backend owes (`contract`, `intents`, `batches`, `leases`)
//! runs against both SQLite files in a temporary folder and a real PostgreSQL server (a fresh
//! schema per test); `durability` and `model` are SQLite's own.
//!
//! PostgreSQL comes from `TOSS_TEST_DATABASE_URL` (`scripts/pg start` prints one; `scripts/test`
//! and CI set it). Without it the PostgreSQL half of each test fails, loudly, unless
//! `TOSS_SKIP_POSTGRES=1` says to skip it (and then every skip is printed).

use std::path::PathBuf;

use tempfile::TempDir;

use super::{Lease, NewIntent, PgStore, SqliteStore, StoreError};

mod batches;
mod durability;
mod hold;
mod intents;
mod leases;
mod model;
mod plans;
mod tls;

/// Test result: every store error converts into it.
type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs each listed `async fn(&dyn Store) -> TestResult` against SQLite and PostgreSQL.
macro_rules! both {
    ($($test:ident),* $(,)?) => {
        $(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> $crate::store::tests::TestResult {
                let db = $crate::store::tests::TempDb::new()?;
                let store = db.open()?;
                super::$test(&store).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> $crate::store::tests::TestResult {
                let Some(store) = $crate::store::tests::pg_store(stringify!($test)).await? else {
                    return Ok(());
                };
                super::$test(&store).await
            }
        }
        )*
    };
}
pub(crate) use both;

/// A temporary folder with a database path inside it.
struct TempDb {
    _dir: TempDir,
    path: PathBuf,
}

impl TempDb {
    fn new() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("nested").join("relayer.sqlite");
        Ok(TempDb { _dir: dir, path })
    }

    fn open(&self) -> Result<SqliteStore, StoreError> {
        SqliteStore::open(&self.path)
    }
}

/// The URL of a fresh PostgreSQL schema for `test`, or `None` when PostgreSQL is skipped on
/// purpose (`TOSS_SKIP_POSTGRES=1`).
async fn pg_url(test: &str) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let Some(url) = std::env::var("TOSS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var("TOSS_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("SKIPPED: {test} on PostgreSQL (TOSS_SKIP_POSTGRES=1)");
            return Ok(None);
        }
        return Err(
            "TOSS_TEST_DATABASE_URL is not set: run `scripts/pg start` and export the \
                    URL it prints (scripts/test does both), or set TOSS_SKIP_POSTGRES=1"
                .into(),
        );
    };
    if crate::store::postgres::tls::DbTarget::parse(&url).is_err() {
        let shown = match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
            _ => url.clone(),
        };
        return Err(format!("TOSS_TEST_DATABASE_URL is not a PostgreSQL URL: {shown:?}").into());
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let schema = format!("t{}_{n}_{nanos}", std::process::id());
    Ok(Some(PgStore::schema_url(&url, &schema).await?))
}

/// A [`PgStore`] on a fresh schema (see [`pg_url`]).
async fn pg_store(test: &str) -> Result<Option<PgStore>, Box<dyn std::error::Error>> {
    match pg_url(test).await? {
        Some(url) => Ok(Some(PgStore::connect(&url).await?)),
        None => Ok(None),
    }
}

/// The lease the tests claim batches under.
fn lease() -> Lease {
    Lease::new("test-instance", 60_000)
}

/// A distinct intent for each `n`, on nonce account `n % 4`.
fn intent(n: u32) -> NewIntent {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&n.to_be_bytes());
    id[31] = 0xAA;
    let mut nonce_account = [7u8; 32];
    nonce_account[0] = u8::try_from(n % 4).unwrap_or(0);
    let mut signed = vec![0x55; 64];
    signed.extend_from_slice(&n.to_le_bytes());
    NewIntent {
        id,
        signed,
        sender: [1; 32],
        nonce_account,
        nonce_value: [2; 32],
        expiry: 2_000_000_000,
        amount: 1_000 + u64::from(n),
        fee: 5_000,
        kind: super::IntentKind::Sol,
        mint: None,
        received_at_ms: 1_700_000_000_000 + i64::from(n),
        source: "http 127.0.0.1".into(),
    }
}
