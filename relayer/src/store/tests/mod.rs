//! Store tests against real SQLite files in a temporary folder.

use std::path::PathBuf;

use tempfile::TempDir;

use super::{NewIntent, SqliteStore, StoreError};

mod batches;
mod durability;
mod intents;
mod model;

/// Test result: every store error converts into it.
type TestResult = Result<(), Box<dyn std::error::Error>>;

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
        kind: 0,
        mint: None,
        received_at_ms: 1_700_000_000_000 + i64::from(n),
        source: "http 127.0.0.1".into(),
    }
}
