//! The lookup-table keeper (`[tables] manage`): this instance's own address lookup tables,
//! authority and payer its fee payer.
//!
//! Each pass (every `tables.interval_ms`):
//! 1. reads its tables from the cluster and publishes to the packer the addresses a
//!    transaction may use now (an address added in the current slot is usable from the next);
//! 2. collects the accounts of the open intents (payers' vaults, nonce accounts, nonce
//!    authorities, delegates and token accounts, merchants, and the settle instruction's own
//!    accounts) and marks every table holding one as needed now;
//! 3. adds the missing ones to its newest table with room, creating a table when none has,
//!    as long as the rent all its tables lock stays within `tables.max_rent_lamports`
//!    (a bounded number of transactions per pass, the extensions sent together), and tells
//!    the batcher whether it had room (`Packing::keeper_has_room`: while it has, the batcher
//!    holds an uncovered intent for at most `tables.cover_wait_ms`);
//! 4. deactivates a table no open intent needed for `tables.idle_close_seconds` (it is no
//!    longer packed against at once), and closes it once the cluster allows (the deactivation
//!    slot out of the slot hashes, ~513 slots): its rent returns to the fee payer.
//!
//! Invariants: a table is written to the state file (`tables.state_path`) before the
//! transaction creating it is sent, so a crash can never lose track of rent; an address is
//! published only once usable, so a packed transaction never names an inactive one; intents
//! whose accounts are not covered yet still settle, in smaller transactions (after at most
//! `tables.cover_wait_ms`). Coverage (share
//! of packed intents whose accounts were all in a table) and rent locked are metrics.

use crate::batch::pack_item;
use crate::config::{Config, StoreKind};
use crate::ctx::Ctx;
use crate::store::Status;
use crate::RelayerError;
use serde::{Deserialize, Serialize};
use solana_message::AddressLookupTableAccount;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use toss_sdk::pack::{self, LookupTableView, LOOKUP_TABLE_MAX_ADDRESSES};

/// Addresses appended per extend transaction (32 bytes each; keeps it well inside a packet).
pub const ADDRESSES_PER_EXTEND: usize = 24;
/// Most create/extend transactions per pass (bounds a pass; the next pass goes on).
pub const MAX_WRITES_PER_PASS: usize = 8;
/// Slots after its deactivation before a table can be closed (the slot hashes hold 512).
pub const CLOSE_AFTER_SLOTS: u64 = 513;
/// Open intents read per pass.
pub const OPEN_INTENTS_PER_PASS: usize = 4_096;
/// A table whose creation never landed is forgotten after this long.
const CREATION_GRACE_MS: i64 = 60_000;

/// `tables.state_path`, or beside the SQLite file, or `toss-tables-<instance>.json`.
pub fn state_path(config: &Config, instance: &str) -> PathBuf {
    if let Some(p) = &config.tables.state_path {
        return p.clone();
    }
    match config.store.kind {
        StoreKind::Sqlite => config.store.path.with_extension("tables.json"),
        StoreKind::Postgres => PathBuf::from(format!("toss-tables-{instance}.json")),
    }
}

/// One of this instance's tables, as the state file keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    /// The table's address (base58).
    pub address: String,
    /// When the keeper created it (wall clock, ms).
    pub created_ms: i64,
    /// When an open intent last needed one of its addresses (wall clock, ms).
    pub needed_ms: i64,
    /// Deactivation sent: no longer packed against; closed once the cluster allows.
    pub deactivated: bool,
}

/// The state file's content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// Every table not yet closed.
    pub tables: Vec<TableEntry>,
}

/// What one pass did (tests and logs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Tables created.
    pub created: usize,
    /// Addresses appended.
    pub extended: usize,
    /// Tables deactivated.
    pub deactivated: usize,
    /// Tables closed.
    pub closed: usize,
    /// Open intents' addresses left for a later pass (the rent limit, or this pass' write
    /// budget).
    pub over_budget: usize,
    /// The rent limit stopped this pass from adding an address.
    pub rent_limited: bool,
}

/// The keeper's state between passes.
pub struct Keeper {
    path: PathBuf,
    registry: Registry,
    views: HashMap<Pubkey, LookupTableView>,
    /// Rent of an empty table and per address (linear in the account's length).
    rent: Option<(u64, u64)>,
}

impl Keeper {
    /// Opens the state file at `path` (none yet: no tables). A file that cannot be read or
    /// parsed is an error: starting without it would lose track of the rent it names.
    pub fn open(path: &Path) -> Result<Self, RelayerError> {
        let registry = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                RelayerError::Other(format!(
                    "lookup-table state {} is not valid: {e}",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Registry::default(),
            Err(e) => {
                return Err(RelayerError::Other(format!(
                    "cannot read lookup-table state {}: {e}",
                    path.display()
                )))
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            registry,
            views: HashMap::new(),
            rent: None,
        })
    }

    /// The tables it keeps.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Writes the state file durably (temporary file, fsync, rename).
    fn save(&self) -> Result<(), RelayerError> {
        let io = |e: std::io::Error| {
            RelayerError::Other(format!(
                "cannot write lookup-table state {}: {e}",
                self.path.display()
            ))
        };
        let bytes = serde_json::to_vec_pretty(&self.registry)
            .map_err(|e| RelayerError::Other(e.to_string()))?;
        let tmp = self.path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    async fn rent_of(&mut self, ctx: &Ctx, addresses: usize) -> Result<u64, RelayerError> {
        let (empty, per_address) = match self.rent {
            Some(r) => r,
            None => {
                let empty = ctx.cluster.minimum_rent(pack::lookup_table_len(0)).await?;
                let one = ctx.cluster.minimum_rent(pack::lookup_table_len(1)).await?;
                let r = (empty, one.saturating_sub(empty));
                self.rent = Some(r);
                r
            }
        };
        Ok(empty.saturating_add(per_address.saturating_mul(addresses as u64)))
    }

    /// One pass (see the module docs).
    pub async fn pass(&mut self, ctx: &Ctx) -> Result<PassReport, RelayerError> {
        let mut report = PassReport::default();
        let me = ctx.fee_payer.pubkey();
        let now = crate::now_ms();
        let slot = ctx.cluster.slot().await?;
        self.refresh(ctx, slot, now, &mut report).await?;
        let wanted = wanted(ctx, &me).await?;
        // Addresses in a deactivated table count as missing: they go to an active one.
        let mut holder: HashMap<Pubkey, Pubkey> = HashMap::new();
        for e in self.registry.tables.iter().filter(|e| !e.deactivated) {
            let Ok(key) = e.address.parse::<Pubkey>() else {
                continue;
            };
            for a in self.views.get(&key).map_or(&[][..], |v| &v.addresses[..]) {
                holder.insert(*a, key);
            }
        }
        let mut needed: HashSet<Pubkey> = HashSet::new();
        let mut missing = Vec::new();
        for a in &wanted {
            match holder.get(a) {
                Some(t) => {
                    needed.insert(*t);
                }
                None => missing.push(*a),
            }
        }
        let mut dirty = false;
        for e in &mut self.registry.tables {
            if !e.deactivated && needed.iter().any(|t| t.to_string() == e.address) {
                e.needed_ms = now;
                dirty = true;
            }
        }
        if dirty {
            self.save()?;
        }
        if !missing.is_empty() {
            self.extend(ctx, &me, missing, &mut report).await?;
        }
        self.retire(ctx, &me, slot, now, &needed, &mut report)
            .await?;
        self.publish(ctx).await?;
        ctx.packing
            .keeper_has_room
            .store(!report.rent_limited, Ordering::SeqCst);
        Ok(report)
    }

    /// Reads every table; forgets closed ones and creations that never landed.
    async fn refresh(
        &mut self,
        ctx: &Ctx,
        slot: u64,
        now: i64,
        report: &mut PassReport,
    ) -> Result<(), RelayerError> {
        let keys: Vec<Pubkey> = self
            .registry
            .tables
            .iter()
            .filter_map(|e| e.address.parse().ok())
            .collect();
        let accounts = if keys.is_empty() {
            Vec::new()
        } else {
            ctx.cluster.accounts(&keys).await?
        };
        self.views.clear();
        let mut gone = HashSet::new();
        for (key, account) in keys.iter().zip(accounts) {
            let entry = self
                .registry
                .tables
                .iter()
                .find(|e| e.address == key.to_string());
            match account {
                Some(a) => match LookupTableView::parse(&a.data, slot) {
                    Ok(view) => {
                        self.views.insert(*key, view);
                    }
                    Err(e) => tracing::warn!(table = %key, error = %e, "not a lookup table"),
                },
                None => {
                    if entry
                        .is_some_and(|e| e.deactivated || now - e.created_ms > CREATION_GRACE_MS)
                    {
                        gone.insert(key.to_string());
                        if entry.is_some_and(|e| e.deactivated) {
                            report.closed += 1;
                        }
                    }
                }
            }
        }
        if !gone.is_empty() {
            self.registry.tables.retain(|e| !gone.contains(&e.address));
            self.save()?;
        }
        Ok(())
    }

    /// Rent all its tables lock now.
    async fn rent_locked(&mut self, ctx: &Ctx) -> Result<u64, RelayerError> {
        let lens: Vec<usize> = self.views.values().map(|v| v.addresses.len()).collect();
        let mut total = 0u64;
        for len in lens {
            total = total.saturating_add(self.rent_of(ctx, len).await?);
        }
        Ok(total)
    }

    /// Adds `missing` to the newest table with room (creating tables as needed) within the
    /// rent limit. A creation is sent and confirmed at once (extensions name the table); the
    /// extensions are then sent together, each confirmed on its own: on a cluster they land
    /// within a slot or two of each other instead of one after the other.
    async fn extend(
        &mut self,
        ctx: &Ctx,
        me: &Pubkey,
        mut missing: Vec<Pubkey>,
        report: &mut PassReport,
    ) -> Result<(), RelayerError> {
        let max_rent = ctx.config.tables.max_rent_lamports;
        let per_address = self
            .rent_of(ctx, 1)
            .await?
            .saturating_sub(self.rent_of(ctx, 0).await?);
        let mut locked = self.rent_locked(ctx).await?;
        let mut writes = 0;
        let mut extensions = tokio::task::JoinSet::new();
        while !missing.is_empty() && writes < MAX_WRITES_PER_PASS {
            let target = self
                .registry
                .tables
                .iter()
                .rev()
                .filter(|e| !e.deactivated)
                .filter_map(|e| e.address.parse::<Pubkey>().ok())
                .find(|k| {
                    self.views
                        .get(k)
                        .is_some_and(|v| v.addresses.len() < LOOKUP_TABLE_MAX_ADDRESSES)
                });
            let Some(table) = target else {
                let cost = self.rent_of(ctx, 0).await?;
                if locked.saturating_add(cost).saturating_add(per_address) > max_rent {
                    report.rent_limited = true;
                    break;
                }
                self.create(ctx, me).await?;
                locked = locked.saturating_add(cost);
                report.created += 1;
                writes += 1;
                continue;
            };
            let len = self.views.get(&table).map_or(0, |v| v.addresses.len());
            let affordable = max_rent.saturating_sub(locked) / per_address.max(1);
            let n = missing
                .len()
                .min(ADDRESSES_PER_EXTEND)
                .min(LOOKUP_TABLE_MAX_ADDRESSES - len)
                .min(usize::try_from(affordable).unwrap_or(usize::MAX));
            if n == 0 {
                // The table has room and addresses are missing: only the rent limit is left.
                report.rent_limited = true;
                break;
            }
            let chunk: Vec<Pubkey> = missing.drain(..n).collect();
            let ix = pack::extend_lookup_table_ix(&table, me, me, chunk.clone());
            let (cluster, payer) = (ctx.cluster.clone(), ctx.fee_payer.clone());
            extensions.spawn(async move {
                toss_sdk::wallet::send(cluster.as_ref(), &payer, &[ix], &[])
                    .await
                    .map(|_| n)
            });
            // Room and rent are counted as if it landed; the next pass reads the tables again.
            if let Some(v) = self.views.get_mut(&table) {
                v.addresses.extend(chunk);
            }
            locked = locked.saturating_add(per_address.saturating_mul(n as u64));
            writes += 1;
        }
        let mut failed = None;
        while let Some(joined) = extensions.join_next().await {
            match joined {
                Ok(Ok(n)) => report.extended += n,
                Ok(Err(e)) => failed = Some(RelayerError::from(e)),
                Err(e) => failed = Some(RelayerError::Other(format!("extension task: {e}"))),
            }
        }
        report.over_budget = missing.len();
        if report.rent_limited {
            tracing::warn!(
                addresses = report.over_budget,
                max_rent_lamports = max_rent,
                "lookup tables at their rent limit: these accounts stay uncovered"
            );
        }
        if report.extended > 0 {
            // The new addresses are usable from the next slot.
            ctx.cluster.next_slot().await?;
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Creates a table: recorded in the state file first, then sent.
    async fn create(&mut self, ctx: &Ctx, me: &Pubkey) -> Result<(), RelayerError> {
        // The creation names a recent slot, which must be in the slot hashes.
        ctx.cluster.next_slot().await?;
        let recent = ctx.cluster.slot().await?.saturating_sub(1);
        let (ix, table) = pack::create_lookup_table_ix(me, me, recent);
        let now = crate::now_ms();
        self.registry.tables.push(TableEntry {
            address: table.to_string(),
            created_ms: now,
            needed_ms: now,
            deactivated: false,
        });
        self.save()?;
        toss_sdk::wallet::send(ctx.cluster.as_ref(), &ctx.fee_payer, &[ix], &[]).await?;
        tracing::info!(%table, "lookup table created");
        self.views.insert(
            table,
            LookupTableView {
                addresses: Vec::new(),
                usable: 0,
                deactivated_at: None,
                authority: Some(*me),
            },
        );
        Ok(())
    }

    /// Deactivates tables idle for `tables.idle_close_seconds`; closes deactivated ones the
    /// cluster lets go.
    async fn retire(
        &mut self,
        ctx: &Ctx,
        me: &Pubkey,
        slot: u64,
        now: i64,
        needed: &HashSet<Pubkey>,
        report: &mut PassReport,
    ) -> Result<(), RelayerError> {
        let idle_ms = i64::try_from(ctx.config.tables.idle_close_seconds)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        let mut changed = false;
        for i in 0..self.registry.tables.len() {
            let e = self.registry.tables[i].clone();
            let Ok(key) = e.address.parse::<Pubkey>() else {
                continue;
            };
            let Some(view) = self.views.get(&key) else {
                continue;
            };
            if !e.deactivated && now - e.needed_ms > idle_ms && !needed.contains(&key) {
                let ix = pack::deactivate_lookup_table_ix(&key, me);
                toss_sdk::wallet::send(ctx.cluster.as_ref(), &ctx.fee_payer, &[ix], &[]).await?;
                tracing::info!(table = %key, "lookup table deactivated (idle)");
                self.registry.tables[i].deactivated = true;
                report.deactivated += 1;
                changed = true;
            } else if let Some(at) = view.deactivated_at {
                if slot > at.saturating_add(CLOSE_AFTER_SLOTS) {
                    let ix = pack::close_lookup_table_ix(&key, me, me);
                    match toss_sdk::wallet::send(ctx.cluster.as_ref(), &ctx.fee_payer, &[ix], &[])
                        .await
                    {
                        Ok(_) => {
                            tracing::info!(table = %key, "lookup table closed, rent returned");
                            self.registry.tables[i].address.clear();
                            report.closed += 1;
                            changed = true;
                        }
                        // Not yet let go: the next pass tries again.
                        Err(e) => tracing::debug!(table = %key, error = %e, "cannot close yet"),
                    }
                }
            }
        }
        if changed {
            self.registry.tables.retain(|e| !e.address.is_empty());
            for e in &self.registry.tables {
                if e.deactivated {
                    if let Ok(k) = e.address.parse::<Pubkey>() {
                        if let Some(v) = self.views.get_mut(&k) {
                            v.deactivated_at.get_or_insert(slot);
                        }
                    }
                }
            }
            self.views.retain(|k, _| {
                self.registry
                    .tables
                    .iter()
                    .any(|e| e.address == k.to_string())
            });
            self.save()?;
        }
        Ok(())
    }

    /// Hands the usable part of every active table to the packer; updates the gauges.
    async fn publish(&mut self, ctx: &Ctx) -> Result<(), RelayerError> {
        let mut managed = Vec::new();
        let (mut active, mut deactivating, mut usable) = (0i64, 0i64, 0i64);
        for e in &self.registry.tables {
            let Ok(key) = e.address.parse::<Pubkey>() else {
                continue;
            };
            let Some(view) = self.views.get(&key) else {
                continue;
            };
            if e.deactivated {
                deactivating += 1;
                continue;
            }
            active += 1;
            usable += view.usable as i64;
            managed.push(AddressLookupTableAccount {
                key,
                addresses: view.addresses[..view.usable].to_vec(),
            });
        }
        ctx.packing.publish(managed);
        let rent = self.rent_locked(ctx).await?;
        let m = &ctx.metrics;
        m.lookup_tables.with_label_values(&["active"]).set(active);
        m.lookup_tables
            .with_label_values(&["deactivating"])
            .set(deactivating);
        m.lookup_table_addresses.set(usable);
        m.lookup_table_rent
            .set(i64::try_from(rent).unwrap_or(i64::MAX));
        Ok(())
    }
}

/// Every account the open intents need in a table, the settle instruction's own first.
async fn wanted(ctx: &Ctx, me: &Pubkey) -> Result<Vec<Pubkey>, RelayerError> {
    let open = ctx
        .store
        .load_by_status(
            &[Status::Pending, Status::Queued, Status::Submitted],
            OPEN_INTENTS_PER_PASS,
        )
        .await?;
    let mut items = Vec::with_capacity(open.len());
    for r in &open {
        match pack_item(ctx, r).await {
            Ok(item) => items.push(item),
            Err(e) => tracing::debug!(error = %e, "cannot read an open intent's accounts"),
        }
    }
    let Some(first) = items.first() else {
        return Ok(Vec::new());
    };
    let mut seen = HashSet::new();
    let mut out: Vec<Pubkey> = pack::lookup_table_addresses(me, std::slice::from_ref(first));
    out.retain(|k| seen.insert(*k));
    for item in &items[1..] {
        for m in &item.metas {
            if !m.is_signer && seen.insert(m.pubkey) {
                out.push(m.pubkey);
            }
        }
    }
    Ok(out)
}

/// Runs passes until `stop`.
pub async fn run(ctx: Arc<Ctx>, mut keeper: Keeper, mut stop: watch::Receiver<bool>) {
    let interval = Duration::from_millis(ctx.config.tables.interval_ms);
    loop {
        match keeper.pass(&ctx).await {
            Ok(r) if r != PassReport::default() => tracing::debug!(?r, "lookup-table pass"),
            Ok(_) => {}
            Err(e) => {
                // Nothing waits for a keeper that cannot add addresses.
                ctx.packing.keeper_has_room.store(false, Ordering::SeqCst);
                tracing::warn!(error = %e, "lookup-table pass failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    ctx.packing.keeper_has_room.store(false, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_round_trips_and_a_corrupt_one_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.json");
        let mut k = Keeper::open(&path).expect("no file yet");
        assert!(k.registry().tables.is_empty());
        k.registry.tables.push(TableEntry {
            address: Pubkey::new_unique().to_string(),
            created_ms: 1,
            needed_ms: 2,
            deactivated: true,
        });
        k.save().expect("save");
        let again = Keeper::open(&path).expect("open");
        assert_eq!(again.registry(), k.registry());
        std::fs::write(&path, b"{not json").expect("write");
        assert!(Keeper::open(&path).is_err());
    }

    #[test]
    fn the_state_path_follows_the_store() {
        let mut c = Config::default();
        c.store.path = PathBuf::from("/var/lib/toss/relayer.sqlite");
        assert_eq!(
            state_path(&c, "x"),
            PathBuf::from("/var/lib/toss/relayer.tables.json")
        );
        c.store.kind = StoreKind::Postgres;
        assert_eq!(
            state_path(&c, "toss-a"),
            PathBuf::from("toss-tables-toss-a.json")
        );
        c.tables.state_path = Some(PathBuf::from("/x.json"));
        assert_eq!(state_path(&c, "toss-a"), PathBuf::from("/x.json"));
    }
}
