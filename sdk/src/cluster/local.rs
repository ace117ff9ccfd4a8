//! [`Cluster`] over `solana-program-test`'s in-process bank running the real program, natively
//! or as the deployable `.so`. Used by tests, `toss-relayer demo` and `toss-relayer run --local`.
//!
//! Differences from a validator, on purpose and documented: a transaction is executed when it
//! is sent (so its status is known at once and always `confirmed`); the bank registers a new
//! blockhash every 6.4 ms, so a blockhash stays valid for about one second (≈150 hashes) and
//! expiry shows up as `BlockhashNotFound` at send time; the Clock sysvar and the slot follow
//! wall time in the background, as on a real cluster (program-test never advances either by
//! itself): every [`SLOT_MS`] the Clock sysvar's slot is set to the slot wall time has reached
//! and its unix timestamp to wall time.

use super::{Cluster, ClusterError, ClusterResult, TxStatus};
use anchor_lang::prelude::AccountInfo;
use async_trait::async_trait;
use solana_account::Account;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_program_test::{processor, ProgramTest, ProgramTestContext};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toss_intent_processor::instructions::PROGRAM_DATA_ADDRESS;

/// How the in-process cluster runs the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalProgram {
    /// Compiled into this binary (fast; compute units are not meaningful).
    Native,
    /// The deployable `.so` at this path, in the SBF VM.
    Bpf(PathBuf),
}

/// Anchor's generated `entry` wants one lifetime for the account slice and its `AccountInfo`s;
/// program-test passes two. Narrowing the inner lifetime to the outer one for the duration of
/// the call is sound: the runtime keeps both alive longer than this call.
pub fn process_native<'a, 'b>(
    program_id: &'a Pubkey,
    accounts: &'a [AccountInfo<'b>],
    data: &[u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    // SAFETY: see above; `AccountInfo<'b>` is layout-identical to `AccountInfo<'a>`, and the
    // instruction data outlives this call.
    let (accounts, data) = unsafe {
        (
            std::mem::transmute::<&'a [AccountInfo<'b>], &'a [AccountInfo<'a>]>(accounts),
            std::mem::transmute::<&[u8], &'a [u8]>(data),
        )
    };
    toss_intent_processor::entry(program_id, accounts, data)
}

/// Adds the program and a ProgramData account naming `upgrade_authority` (what `anchor deploy`
/// leaves on a real cluster, so `config_initialize` runs its real authority check).
pub fn add_program(
    pt: &mut ProgramTest,
    program: &LocalProgram,
    upgrade_authority: &Pubkey,
) -> Result<(), ClusterError> {
    match program {
        LocalProgram::Native => {
            pt.prefer_bpf(false);
            pt.add_program(
                "toss_intent_processor",
                toss_intent_processor::ID,
                processor!(process_native),
            );
        }
        LocalProgram::Bpf(path) => {
            pt.prefer_bpf(true);
            let elf = std::fs::read(path).map_err(|e| {
                ClusterError::Other(format!("program .so at {}: {e}", path.display()))
            })?;
            pt.add_account(
                toss_intent_processor::ID,
                Account {
                    lamports: 1_000_000_000,
                    data: elf,
                    owner: solana_sdk_ids::bpf_loader::ID,
                    executable: true,
                    rent_epoch: 0,
                },
            );
        }
    }
    let mut program_data = vec![3, 0, 0, 0];
    program_data.extend_from_slice(&0u64.to_le_bytes());
    program_data.push(1);
    program_data.extend_from_slice(upgrade_authority.as_ref());
    pt.add_account(
        PROGRAM_DATA_ADDRESS,
        Account {
            lamports: 1_000_000_000,
            data: program_data,
            owner: solana_sdk_ids::bpf_loader_upgradeable::ID,
            executable: false,
            rent_epoch: 0,
        },
    );
    Ok(())
}

/// What the local cluster remembers of a sent transaction.
#[derive(Clone, Debug)]
struct Landed {
    status: TxStatus,
    logs: Vec<String>,
}

/// The in-process cluster. Cheap to share behind an `Arc`.
pub struct LocalCluster {
    ctx: Arc<tokio::sync::Mutex<ProgramTestContext>>,
    banks: solana_banks_client::BanksClient,
    landed: Mutex<HashMap<Signature, Landed>>,
    faucet: Keypair,
    upgrade_authority: Keypair,
    clock_task: tokio::task::JoinHandle<()>,
    started: std::time::Instant,
    /// Transactions execute one at a time, as a leader orders them; concurrent execution in
    /// the test bank fails transactions sharing a writable account (`AccountInUse`).
    /// Invariant: every write to a sysvar and every warp also holds it (after the `ctx`
    /// lock): program-test rewrites a sysvar by emptying the bank's sysvar cache and filling
    /// it again, and a transaction executing in between fails with `UnsupportedSysvar`.
    send_lock: Arc<tokio::sync::Mutex<()>>,
    /// Seconds tests moved the Clock ahead of wall time ([`LocalCluster::advance_clock`]).
    clock_offset: Arc<std::sync::atomic::AtomicI64>,
}

/// Slot time the in-process cluster's slots follow (a real cluster's target).
pub const SLOT_MS: u64 = 400;

/// How often program-test's bank registers a new blockhash (100 µs ticks × 64 per slot).
const BLOCKHASH_INTERVAL_US: u128 = 6_400;
/// Blockhashes a transaction's blockhash stays valid for (`MAX_PROCESSING_AGE`, with margin).
const BLOCKHASH_VALID_FOR: u64 = 140;

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.clock_task.abort();
    }
}

impl LocalCluster {
    /// Starts a bank with the program (and SPL Token, Token-2022, the lookup-table program),
    /// a ProgramData naming a fresh upgrade authority, and a funded faucet. Must run inside a
    /// tokio runtime.
    pub async fn start(program: LocalProgram) -> Result<Self, ClusterError> {
        let upgrade_authority = Keypair::new();
        let mut pt = ProgramTest::default();
        add_program(&mut pt, &program, &upgrade_authority.pubkey())?;
        pt.add_account(
            upgrade_authority.pubkey(),
            Account {
                lamports: 100_000_000_000,
                data: vec![],
                owner: solana_sdk_ids::system_program::ID,
                executable: false,
                rent_epoch: 0,
            },
        );
        let ctx = pt.start_with_context().await;
        let banks = ctx.banks_client.clone();
        let faucet = ctx.payer.insecure_clone();
        let ctx = Arc::new(tokio::sync::Mutex::new(ctx));
        let send_lock = Arc::new(tokio::sync::Mutex::new(()));
        let clock_offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let clock_task = tokio::spawn(sync_clock(
            ctx.clone(),
            send_lock.clone(),
            clock_offset.clone(),
        ));
        let cluster = Self {
            ctx,
            banks,
            landed: Mutex::new(HashMap::new()),
            faucet,
            upgrade_authority,
            clock_task,
            started: std::time::Instant::now(),
            send_lock,
            clock_offset,
        };
        cluster.tick_clock().await;
        Ok(cluster)
    }

    /// The genesis account holding (almost) all lamports: fund test actors from it.
    pub fn faucet(&self) -> &Keypair {
        &self.faucet
    }

    /// The program's upgrade authority (the only key `config_initialize` accepts).
    pub fn upgrade_authority(&self) -> &Keypair {
        &self.upgrade_authority
    }

    /// Moves the Clock to wall-clock time now (the background task does so twice a second).
    pub async fn tick_clock(&self) {
        let offset = self.clock_offset.load(std::sync::atomic::Ordering::SeqCst);
        let ctx = self.ctx.lock().await;
        set_clock_to_wall_time(&ctx, &self.send_lock, offset).await;
    }

    /// Moves the Clock's unix timestamp forward by `secs` (expiry tests); it keeps following
    /// wall time from there.
    pub async fn advance_clock(&self, secs: i64) -> ClusterResult<()> {
        let ctx = self.ctx.lock().await;
        let mut clock = self.clock().await?;
        clock.unix_timestamp = clock.unix_timestamp.saturating_add(secs);
        self.clock_offset.store(
            clock.unix_timestamp.saturating_sub(wall_unix()),
            std::sync::atomic::Ordering::SeqCst,
        );
        let _serial = self.send_lock.lock().await;
        ctx.set_sysvar(&clock);
        Ok(())
    }

    /// Warps the bank to a later slot (address lookup tables extended in this slot become
    /// usable in the next).
    pub async fn next_slot(&self) -> ClusterResult<()> {
        self.warp_ahead(2).await
    }

    /// Warps the bank `slots` past the Clock's slot (a lookup table deactivated now can be
    /// closed once 513 slots passed).
    pub async fn warp_ahead(&self, slots: u64) -> ClusterResult<()> {
        let mut ctx = self.ctx.lock().await;
        let slot = self.clock().await?.slot;
        {
            let _serial = self.send_lock.lock().await;
            ctx.warp_to_slot(slot + slots.max(1))
                .map_err(|e| ClusterError::Other(format!("warp: {e:?}")))?;
        }
        let offset = self.clock_offset.load(std::sync::atomic::Ordering::SeqCst);
        set_clock_to_wall_time(&ctx, &self.send_lock, offset).await;
        Ok(())
    }

    /// Writes `account` at `key` directly into the bank (fixtures for programs that cannot run
    /// here, such as Arcium's `MXEAccount`).
    pub async fn set_account(&self, key: &Pubkey, account: Account) {
        let mut ctx = self.ctx.lock().await;
        ctx.set_account(key, &account.into());
    }

    /// The bank's current slot.
    pub async fn slot(&self) -> ClusterResult<u64> {
        Ok(self.clock().await?.slot)
    }

    async fn clock(&self) -> ClusterResult<solana_clock::Clock> {
        self.banks
            .get_sysvar::<solana_clock::Clock>()
            .await
            .map_err(|e| ClusterError::Transport(e.to_string()))
    }
}

/// Wall-clock unix seconds.
fn wall_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Sets the Clock to wall time plus `offset` unless it is already ahead (holding `send_lock`
/// while it writes: see [`LocalCluster`]'s `send_lock`).
async fn set_clock_to_wall_time(
    ctx: &ProgramTestContext,
    send_lock: &tokio::sync::Mutex<()>,
    offset: i64,
) {
    let Ok(mut clock) = ctx.banks_client.get_sysvar::<solana_clock::Clock>().await else {
        return;
    };
    let now = wall_unix().saturating_add(offset);
    if now > clock.unix_timestamp {
        clock.unix_timestamp = now;
        let _serial = send_lock.lock().await;
        ctx.set_sysvar(&clock);
    }
}

/// Moves the Clock with wall time: every [`SLOT_MS`], sets the Clock sysvar's slot to the slot
/// wall time has reached since start (never backwards; tests may warp ahead) and its unix
/// timestamp to wall time. Only the sysvar moves: warping the bank itself every slot would
/// hold the bank forks' write lock and stall every read (measured: intake p99 6 → 47 ms);
/// [`LocalCluster::next_slot`] still warps the bank when a test needs a new bank slot
/// (lookup-table activation).
async fn sync_clock(
    ctx: Arc<tokio::sync::Mutex<ProgramTestContext>>,
    send_lock: Arc<tokio::sync::Mutex<()>>,
    offset: Arc<std::sync::atomic::AtomicI64>,
) {
    let started = std::time::Instant::now();
    let first_slot = {
        let ctx = ctx.lock().await;
        ctx.banks_client
            .get_sysvar::<solana_clock::Clock>()
            .await
            .map(|c| c.slot)
            .unwrap_or(0)
    };
    loop {
        tokio::time::sleep(Duration::from_millis(SLOT_MS)).await;
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let target = first_slot.saturating_add(elapsed / SLOT_MS);
        let ctx = ctx.lock().await;
        let Ok(mut clock) = ctx.banks_client.get_sysvar::<solana_clock::Clock>().await else {
            continue;
        };
        let now = wall_unix().saturating_add(offset.load(std::sync::atomic::Ordering::SeqCst));
        if target > clock.slot || now > clock.unix_timestamp {
            clock.slot = clock.slot.max(target);
            clock.unix_timestamp = clock.unix_timestamp.max(now);
            let _serial = send_lock.lock().await;
            ctx.set_sysvar(&clock);
        }
    }
}

fn transport(e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Transport(e.to_string())
}

#[async_trait]
impl Cluster for LocalCluster {
    /// Warps the bank ([`LocalCluster::next_slot`]): program-test never moves on by itself.
    async fn next_slot(&self) -> ClusterResult<()> {
        LocalCluster::next_slot(self).await
    }

    /// The bank's newest blockhash. Its validity is counted in blockhashes the bank registers
    /// (one per 6.4 ms of wall time in program-test), as [`Cluster::block_height`] counts.
    async fn latest_blockhash(&self) -> ClusterResult<(Hash, u64)> {
        let height = self.block_height().await?;
        let (hash, _) = self
            .banks
            .get_latest_blockhash_with_commitment(Default::default())
            .await
            .map_err(transport)?
            .ok_or_else(|| ClusterError::Other("no blockhash".into()))?;
        Ok((hash, height + BLOCKHASH_VALID_FOR))
    }

    /// A height that advances with each blockhash program-test registers (its root block
    /// height alone stands still between warps), so a blockhash's last valid height passes
    /// when the bank would refuse it, about one second later, as on a real cluster.
    async fn block_height(&self) -> ClusterResult<u64> {
        let root = self
            .banks
            .get_root_block_height()
            .await
            .map_err(transport)?;
        let registered = self.started.elapsed().as_micros() / BLOCKHASH_INTERVAL_US;
        Ok(root + u64::try_from(registered).unwrap_or(u64::MAX / 2))
    }

    async fn slot(&self) -> ClusterResult<u64> {
        Ok(self.clock().await?.slot)
    }

    async fn send(&self, tx: &VersionedTransaction) -> ClusterResult<Signature> {
        let signature = tx.signatures.first().copied().ok_or(ClusterError::Refused(
            solana_transaction_error::TransactionError::MissingSignatureForFee,
        ))?;
        if self
            .landed
            .lock()
            .map_err(|_| ClusterError::Other("poisoned".into()))?
            .contains_key(&signature)
        {
            // As a validator does: the same transaction twice is one transaction.
            return Ok(signature);
        }
        let _serial = self.send_lock.lock().await;
        let out = self
            .banks
            .process_transaction_with_metadata(tx.clone())
            .await
            .map_err(transport)?;
        let Some(meta) = out.metadata else {
            return Err(match out.result {
                Err(e) => ClusterError::Refused(e),
                Ok(()) => ClusterError::Other("no metadata".into()),
            });
        };
        let slot = self.clock().await?.slot;
        self.landed
            .lock()
            .map_err(|_| ClusterError::Other("poisoned".into()))?
            .insert(
                signature,
                Landed {
                    status: TxStatus {
                        slot,
                        err: out.result.err(),
                        confirmed: true,
                    },
                    logs: meta.log_messages,
                },
            );
        Ok(signature)
    }

    async fn statuses(&self, signatures: &[Signature]) -> ClusterResult<Vec<Option<TxStatus>>> {
        let landed = self
            .landed
            .lock()
            .map_err(|_| ClusterError::Other("poisoned".into()))?;
        Ok(signatures
            .iter()
            .map(|s| landed.get(s).map(|l| l.status.clone()))
            .collect())
    }

    async fn logs(&self, signature: &Signature) -> ClusterResult<Option<Vec<String>>> {
        let landed = self
            .landed
            .lock()
            .map_err(|_| ClusterError::Other("poisoned".into()))?;
        Ok(landed.get(signature).map(|l| l.logs.clone()))
    }

    async fn accounts(&self, keys: &[Pubkey]) -> ClusterResult<Vec<Option<Account>>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.banks.get_account(*key).await.map_err(transport)?);
        }
        Ok(out)
    }

    async fn minimum_rent(&self, len: usize) -> ClusterResult<u64> {
        Ok(self
            .banks
            .get_rent()
            .await
            .map_err(transport)?
            .minimum_balance(len))
    }

    async fn unix_time(&self) -> ClusterResult<i64> {
        Ok(self.clock().await?.unix_timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instructions::{config_initialize_ix, config_set_paused_ix};
    use crate::wallet;
    use toss_intent_processor::instructions::ConfigInitializeArgs;

    /// The Clock is rewritten (as the background task does every slot, here back to back)
    /// while transactions that read it execute: each one succeeds. Before clock writes took
    /// `send_lock`, a transaction landing while program-test refilled its sysvar cache failed
    /// with `UnsupportedSysvar`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn clock_writes_never_meet_a_transaction_mid_flight() {
        let cluster = Arc::new(
            LocalCluster::start(LocalProgram::Native)
                .await
                .expect("start"),
        );
        let admin = cluster.upgrade_authority().insecure_clone();
        let args = ConfigInitializeArgs {
            admin: admin.pubkey(),
            max_intent_lifetime_secs: 3_600,
            max_relayer_fee: 50_000,
            withdrawal_delay_secs: 7_200,
            paused: false,
            withdrawal_window_secs:
                toss_intent_processor::constants::DEFAULT_WITHDRAWAL_WINDOW_SECS,
        };
        wallet::send(
            &*cluster,
            &admin,
            &[config_initialize_ix(&admin.pubkey(), args)],
            &[],
        )
        .await
        .expect("config");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (cluster, stop) = (cluster.clone(), stop.clone());
            tokio::spawn(async move {
                let mut writes = 0u64;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) && writes < 1_000_000 {
                    cluster.advance_clock(0).await.expect("clock");
                    writes += 1;
                }
                writes
            })
        };
        let faucet = cluster.faucet().pubkey();
        for k in 0..400u64 {
            // Unique per k (the transfer's amount), and each reads the Clock (set_paused).
            let ixs = [
                config_set_paused_ix(&admin.pubkey(), k % 2 == 0),
                solana_system_interface::instruction::transfer(&admin.pubkey(), &faucet, k + 1),
            ];
            if let Err(e) = wallet::send(&*cluster, &admin, &ixs, &[]).await {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                panic!("transaction {k} failed while the Clock was rewritten: {e}");
            }
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let writes = writer.await.expect("writer");
        assert!(writes > 400, "the Clock was rewritten only {writes} times");
    }
}
