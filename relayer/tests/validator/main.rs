//! End to end against a real validator: `solana-test-validator` running the deployable `.so`,
//! the config initialized by `migrations/deploy.ts`, the `toss` CLI on `-u http://127.0.0.1:…`,
//! and `toss-relayer run` as a process on JSON-RPC with a SQLite store. Every check reads the
//! chain back (balances, nonce values, the program's own events), never the relayer alone.
//!
//! Needs `solana-test-validator` (`scripts/install-validator`), the `.so` in `target/deploy`,
//! and node + npm for the deploy script, so it is `#[ignore]`d in the plain workspace run;
//! `scripts/test` runs it whenever the validator is installed, and `scripts/test-validator`
//! installs what is missing and runs it.
//!
//! Phases (one validator for all of them, in order):
//! 1. deploy: config initialized through the upgradeable loader's ProgramData check;
//! 2. CLI: keygen, setup (deposit, token allowance, pool), nonce list, offline intent create,
//!    submit, status;
//! 3. crowd: hundreds of SOL and token intents from several payers, a double spend and an
//!    intent that expires while submission is paused; every one final and matching the chain;
//! 4. crash: SIGKILL in the middle of a batch, restart on the same SQLite file;
//! 5. lost transaction: the RPC proxy loses every send until the blockhash expires; the
//!    relayer re-signs and the intent lands once;
//! 6. drills (`drills.rs`, scale from `TOSS_DRILLS`, names in `TOSS_DRILL_ONLY`): SIGKILL
//!    cycles under load on SQLite (`kill`) and PostgreSQL (`kill-pg`), 30 % RPC faults
//!    (`faults`), 64 clients at a fixed rate (`load`), PostgreSQL crashed (`database`), the
//!    SQLite disk full (`disk`), three relayers on one PostgreSQL with one SIGKILLed
//!    (`instances`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod chain;
mod cli;
mod crowd;
mod deploy;
mod drills;
mod node;
mod proxy;
mod service;

use std::path::PathBuf;

#[test]
#[ignore = "needs solana-test-validator, node and npm: scripts/test (when installed) and scripts/test-validator run it"]
fn real_validator_end_to_end() {
    let Some(binary) = node::binary() else {
        panic!(
            "solana-test-validator not found: run scripts/install-validator or set \
             TOSS_TEST_VALIDATOR=/path/to/it"
        );
    };
    let so =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/toss_intent_processor.so");
    assert!(
        so.is_file(),
        "{} is missing: build it first (scripts/test does)",
        so.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(crowd::run(binary));
}
