//! The fee payer's protection against payers whose intents cannot settle.
//!
//! An intent the program rejects (vault short, allowance revoked) leaves its nonce unused, so a
//! hostile payer could sign failing intents on the same nonce again and again, each costing the
//! relayer's fee payer a precompile signature and a share of a transaction. Two rules bound it:
//!
//! 1. **Funds at intake.** A SOL intent is accepted only if its sender's vault, above its rent
//!    floor, covers `amount + max_fee` on top of what that sender already has open here; a
//!    token intent likewise against `min(allowance to the sender's delegate PDA, balance)` of
//!    the sender's associated token account for the mint. Chain reads are cached for
//!    `[intake] nonce_cache_ttl_ms`. Intents on one nonce count once (at most one of them can
//!    settle): a sender's open total is the sum, over its nonces, of the largest open
//!    reservation on each. Refusal: 422 `insufficient_funds`.
//! 2. **Back-off.** Each on-chain rejection the payer caused (funds, allowance, frozen or
//!    changed accounts, unusable mint or recipient) is a strike against the sender. At
//!    `[intake] failure_backoff_strikes` strikes within ten minutes the sender is refused for
//!    `failure_backoff_seconds`, doubling with each further back-off (at most one hour); a
//!    settled intent of that sender clears its strikes. Refusal: 429 `sender_backed_off`;
//!    metric `toss_sender_backoffs_total`.
//!
//! 3. **Open intents per nonce.** At most `[intake] max_open_per_nonce` (4) open intents of one
//!    sender on one nonce account: at most one of them can settle, and without a bound a payer
//!    could queue thousands on one nonce, each tried and failing in turn ahead of every later
//!    payer's intents. Refusal: 429 `nonce_busy`.
//!
//! 4. **Recipients** (`crate::recipients`): a SOL payment its recipient visibly cannot
//!    receive (below the rent-exempt minimum, to an empty address) is refused at intake, as
//!    its rejection on chain would be no strike. Refusal: 422 `recipient_not_rent_exempt`;
//!    likewise a token payment to a recipient whose token account for the mint is missing,
//!    frozen or unsupported: `recipient_token_account_unusable`.
//!
//! Together: a payer with `n` nonces can make the fee payer pay for at most
//! `failure_backoff_strikes + n - 1` failing intents (those in flight when the threshold is
//! reached) per back-off period, and nothing for intents its funds visibly cannot cover.

use crate::refusal::Code;
use crate::refusal::Rejection;
use crate::store::{IntentId, NewIntent, Store};
use solana_pubkey::Pubkey;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toss_intent_processor::state::{Delegate, Vault};
use toss_sdk::cluster::Cluster;

/// Strikes older than this are forgotten.
pub const STRIKE_WINDOW: Duration = Duration::from_secs(600);
/// Longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3_600);

/// What one sender may spend: its vault (SOL) or one mint's allowance.
type Purse = (Pubkey, Option<Pubkey>);

/// A purse's open reservations, kept so that adding, removing and totalling are O(log n):
/// per nonce the reservations ordered by size, and the running sum of each nonce's largest.
#[derive(Default, Debug)]
struct Held {
    by_nonce: HashMap<Pubkey, BTreeMap<(u64, IntentId), i64>>,
    ids: HashMap<IntentId, (Pubkey, u64)>,
    total: u128,
}

impl Held {
    fn max(&self, nonce: &Pubkey) -> u64 {
        self.by_nonce
            .get(nonce)
            .and_then(|m| m.keys().next_back().map(|(r, _)| *r))
            .unwrap_or(0)
    }

    fn insert(&mut self, s: &Spend) {
        if self.ids.contains_key(&s.id) {
            return;
        }
        let old = self.max(&s.nonce);
        self.by_nonce
            .entry(s.nonce)
            .or_default()
            .insert((s.reserve, s.id), s.expiry);
        self.ids.insert(s.id, (s.nonce, s.reserve));
        self.total = self.total - u128::from(old) + u128::from(self.max(&s.nonce));
    }

    fn remove(&mut self, id: &IntentId) {
        let Some((nonce, reserve)) = self.ids.remove(id) else {
            return;
        };
        let old = self.max(&nonce);
        if let Some(m) = self.by_nonce.get_mut(&nonce) {
            m.remove(&(reserve, *id));
            if m.is_empty() {
                self.by_nonce.remove(&nonce);
            }
        }
        self.total = self.total - u128::from(old) + u128::from(self.max(&nonce));
    }

    /// True when `s` would be one open intent too many on its nonce account.
    fn busy(&self, s: &Spend, cap: usize) -> bool {
        !self.ids.contains_key(&s.id) && self.by_nonce.get(&s.nonce).map_or(0, |m| m.len()) >= cap
    }

    /// The total if `s` were added.
    fn total_with(&self, s: &Spend) -> u128 {
        if self.ids.contains_key(&s.id) {
            return self.total;
        }
        let old = self.max(&s.nonce);
        self.total - u128::from(old) + u128::from(old.max(s.reserve))
    }

    fn expired(&self, now_unix: i64) -> Vec<IntentId> {
        self.by_nonce
            .values()
            .flat_map(|m| m.iter())
            .filter(|(_, expiry)| **expiry < now_unix)
            .map(|((_, id), _)| *id)
            .collect()
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Strikes {
    count: u32,
    first: Option<Instant>,
    backoffs: u32,
    until: Option<Instant>,
}

/// An intent intake is about to store, as the funds rule sees it.
#[derive(Clone, Copy, Debug)]
pub struct Spend {
    /// Intent id.
    pub id: IntentId,
    /// Sender.
    pub sender: Pubkey,
    /// `None` for SOL.
    pub mint: Option<Pubkey>,
    /// Nonce account.
    pub nonce: Pubkey,
    /// `amount + max_fee`.
    pub reserve: u64,
    /// Expiry (unix seconds).
    pub expiry: i64,
}

/// Funds and back-off state.
pub struct Funds {
    cluster: Arc<dyn Cluster>,
    ttl: Duration,
    strikes_to_backoff: u32,
    backoff: Duration,
    spendable: Mutex<HashMap<Purse, (Instant, u64)>>,
    token_programs: crate::addresses::TokenPrograms,
    open: Mutex<HashMap<Purse, Held>>,
    strikes: Mutex<HashMap<Pubkey, Strikes>>,
    checked: std::sync::atomic::AtomicU64,
    /// Most open intents of one purse on one nonce account.
    max_open_per_nonce: usize,
}

/// How many checked intents between two sweeps of expired reservations.
pub const SWEEP_EVERY: u64 = 4_096;

impl Funds {
    /// Funds read from `cluster`, cached for `ttl`; back-off after `strikes` strikes for
    /// `backoff` (doubling).
    pub fn new(cluster: Arc<dyn Cluster>, ttl: Duration, strikes: u32, backoff: Duration) -> Self {
        Self {
            cluster,
            ttl,
            strikes_to_backoff: strikes.max(1),
            backoff,
            spendable: Mutex::new(HashMap::new()),
            token_programs: Default::default(),
            open: Mutex::new(HashMap::new()),
            strikes: Mutex::new(HashMap::new()),
            checked: std::sync::atomic::AtomicU64::new(0),
            max_open_per_nonce: crate::config::DEFAULT_MAX_OPEN_PER_NONCE,
        }
    }

    /// The same, holding at most `n` (at least 1) open intents of one sender on one nonce.
    pub fn with_max_open_per_nonce(mut self, n: usize) -> Self {
        self.max_open_per_nonce = n.max(1);
        self
    }

    /// Refuses a sender that is backed off.
    pub fn check_backoff(&self, sender: &Pubkey) -> Result<(), Rejection> {
        let until = self
            .strikes
            .lock()
            .ok()
            .and_then(|s| s.get(sender).and_then(|s| s.until));
        match until {
            Some(until) if until > Instant::now() => Err(Rejection::new(
                Code::SenderBackedOff,
                format!(
                    "this sender's intents keep failing on-chain; retry in {} s",
                    until.saturating_duration_since(Instant::now()).as_secs() + 1
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Records an on-chain rejection the sender caused. Returns true when it starts a back-off.
    pub fn strike(&self, sender: &Pubkey) -> bool {
        let Ok(mut all) = self.strikes.lock() else {
            return false;
        };
        let now = Instant::now();
        let s = all.entry(*sender).or_default();
        if s.first
            .is_none_or(|f| now.duration_since(f) > STRIKE_WINDOW)
        {
            s.count = 0;
            s.first = Some(now);
        }
        s.count += 1;
        if s.count < self.strikes_to_backoff {
            return false;
        }
        let factor = 1u32 << s.backoffs.min(16);
        let backoff = self.backoff.saturating_mul(factor).min(MAX_BACKOFF);
        s.until = Some(now + backoff);
        s.backoffs = s.backoffs.saturating_add(1);
        s.count = 0;
        s.first = None;
        tracing::warn!(%sender, backoff_secs = backoff.as_secs(), "sender backed off: its intents keep failing on-chain");
        true
    }

    /// A settled intent clears the sender's strikes (not a running back-off).
    pub fn settled(&self, sender: &Pubkey) {
        if let Ok(mut all) = self.strikes.lock() {
            if let Some(s) = all.get_mut(sender) {
                s.count = 0;
                s.first = None;
            }
        }
    }

    /// Records intents already stored and open (at start, from the store).
    pub fn hold(&self, spends: &[Spend]) {
        if let Ok(mut open) = self.open.lock() {
            for s in spends {
                open.entry((s.sender, s.mint)).or_default().insert(s);
            }
        }
    }

    /// Checks `spends` in order (each counts the ones before it) and holds the accepted ones.
    /// The store tells which held intents are still open; it is asked only when a sender
    /// would otherwise be refused.
    pub async fn check(
        &self,
        spends: &[Spend],
        now_unix: i64,
        store: &dyn Store,
    ) -> Vec<Result<(), Rejection>> {
        let mut purses: Vec<Purse> = spends.iter().map(|s| (s.sender, s.mint)).collect();
        purses.sort();
        purses.dedup();
        let balances = match self.balances(&purses).await {
            Ok(b) => b,
            Err(e) => return spends.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut pruned: Vec<Purse> = Vec::new();
        let mut out = Vec::with_capacity(spends.len());
        for s in spends {
            let purse = (s.sender, s.mint);
            let available = u128::from(balances.get(&purse).copied().unwrap_or(0));
            if (self.total_with(&purse, s) > available || self.busy(&purse, s))
                && !pruned.contains(&purse)
            {
                // Only on the way to a refusal: drop reservations of intents that expired or
                // reached a final state, then count again.
                self.prune(&purse, now_unix, store).await;
                pruned.push(purse);
            }
            // Checked and held under one lock: two concurrent requests of one sender cannot
            // both take the same funds.
            let (total, busy) = match self.open.lock() {
                Ok(mut all) => {
                    let held = all.entry(purse).or_default();
                    let total = held.total_with(s);
                    let busy = held.busy(s, self.max_open_per_nonce);
                    if total <= available && !busy {
                        held.insert(s);
                    }
                    (total, busy)
                }
                Err(_) => (u128::MAX, false),
            };
            if busy {
                out.push(Err(Rejection::new(
                    Code::NonceBusy,
                    format!(
                        "the sender has {} open intents on nonce {} already (at most one can \
                         settle): wait until they are final",
                        self.max_open_per_nonce, s.nonce
                    ),
                )));
            } else if total > available {
                out.push(Err(Rejection::new(
                    Code::InsufficientFunds,
                    format!(
                        "the sender's {} ({available}) does not cover this intent and its other \
                         open intents here ({total})",
                        if s.mint.is_some() {
                            "allowance and balance"
                        } else {
                            "vault"
                        }
                    ),
                )));
            } else {
                out.push(Ok(()));
            }
        }
        self.sweep_now_and_then(spends.len(), now_unix);
        out
    }

    /// Every [`SWEEP_EVERY`] checked intents, drops reservations that expired (every intent
    /// expires, so this bounds memory to intents still within their lifetime), purses left
    /// empty, and strike records that no longer matter.
    fn sweep_now_and_then(&self, checked: usize, now_unix: i64) {
        let before = self
            .checked
            .fetch_add(checked as u64, std::sync::atomic::Ordering::Relaxed);
        if before / SWEEP_EVERY == (before + checked as u64) / SWEEP_EVERY {
            return;
        }
        if let Ok(mut all) = self.open.lock() {
            for held in all.values_mut() {
                for id in held.expired(now_unix) {
                    held.remove(&id);
                }
            }
            all.retain(|_, held| !held.ids.is_empty());
        }
        if let Ok(mut strikes) = self.strikes.lock() {
            let now = Instant::now();
            strikes.retain(|_, s| {
                s.until.is_some_and(|u| u > now)
                    || s.first
                        .is_some_and(|f| now.duration_since(f) <= STRIKE_WINDOW)
                    || s.backoffs > 0
                        && s.until.is_some_and(|u| now.duration_since(u) < MAX_BACKOFF)
            });
        }
    }

    /// Forgets a reservation (the intent was not stored after all).
    pub fn release(&self, spend: &Spend) {
        if let Ok(mut all) = self.open.lock() {
            if let Some(held) = all.get_mut(&(spend.sender, spend.mint)) {
                held.remove(&spend.id);
            }
        }
    }

    fn busy(&self, purse: &Purse, spend: &Spend) -> bool {
        self.open
            .lock()
            .map(|all| {
                all.get(purse)
                    .is_some_and(|h| h.busy(spend, self.max_open_per_nonce))
            })
            .unwrap_or(false)
    }

    fn total_with(&self, purse: &Purse, spend: &Spend) -> u128 {
        self.open
            .lock()
            .map(|all| {
                all.get(purse)
                    .map_or(u128::from(spend.reserve), |h| h.total_with(spend))
            })
            .unwrap_or(u128::MAX)
    }

    /// Drops the purse's reservations of intents that expired or are final in the store (a
    /// store that cannot answer keeps them: refusing is the safe side).
    async fn prune(&self, purse: &Purse, now_unix: i64, store: &dyn Store) {
        let (expired, ids) = match self.open.lock() {
            Ok(all) => match all.get(purse) {
                Some(h) => (
                    h.expired(now_unix),
                    h.ids.keys().copied().collect::<Vec<_>>(),
                ),
                None => return,
            },
            Err(_) => return,
        };
        let closed: Vec<IntentId> = match store.get_many(ids.clone()).await {
            Ok(records) => ids
                .iter()
                .zip(records)
                .filter(|(_, r)| r.as_ref().is_none_or(|r| r.status.is_final()))
                .map(|(id, _)| *id)
                .collect(),
            Err(_) => Vec::new(),
        };
        if let Ok(mut all) = self.open.lock() {
            if let Some(h) = all.get_mut(purse) {
                for id in expired.iter().chain(&closed) {
                    h.remove(id);
                }
            }
        }
    }

    async fn balances(&self, purses: &[Purse]) -> Result<HashMap<Purse, u64>, Rejection> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        if let Ok(cache) = self.spendable.lock() {
            for p in purses {
                match cache.get(p) {
                    Some((at, v)) if at.elapsed() < self.ttl => {
                        out.insert(*p, *v);
                    }
                    _ => missing.push(*p),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let unavailable = |e: toss_sdk::cluster::ClusterError| {
            Rejection::new(
                Code::ClusterUnavailable,
                format!("cannot read the sender's funds: {e}"),
            )
        };
        // Token programs of the mints involved (the mint's owner), cached for good.
        let programs = self
            .token_programs
            .of(
                self.cluster.as_ref(),
                missing.iter().filter_map(|(_, m)| *m),
            )
            .await
            .map_err(unavailable)?;
        let keys: Vec<Pubkey> = missing
            .iter()
            .map(|(sender, mint)| match mint {
                None => Vault::find_address(sender).0,
                Some(mint) => {
                    let program = programs.get(mint).copied().unwrap_or_default();
                    crate::addresses::associated_token_address(sender, mint, &program)
                }
            })
            .collect();
        let accounts = crate::reads::bounded(|| self.cluster.accounts(&keys))
            .await
            .map_err(unavailable)?;
        let now = Instant::now();
        for (purse, account) in missing.iter().zip(accounts) {
            let value = match (purse.1, account) {
                (_, None) => 0,
                (None, Some(a)) => {
                    let len = a.data.len();
                    let floor = crate::reads::bounded(|| self.cluster.minimum_rent(len))
                        .await
                        .map_err(unavailable)?;
                    a.lamports.saturating_sub(floor)
                }
                (Some(_), Some(a)) => token_spendable(&a.data, &Delegate::find_address(&purse.0).0),
            };
            out.insert(*purse, value);
            if let Ok(mut cache) = self.spendable.lock() {
                if cache.len() > 100_000 {
                    cache.clear();
                }
                cache.insert(*purse, (now, value));
            }
        }
        Ok(out)
    }
}

/// `min(delegated amount, balance)` of an SPL Token / Token-2022 account whose delegate is
/// `delegate`, from the base account layout both programs share (mint 0..32, owner 32..64,
/// amount 64..72, delegate option 72..108, state 108, is-native 109..121, delegated amount
/// 121..129); 0 for anything else, a frozen account included.
pub fn token_spendable(data: &[u8], delegate: &Pubkey) -> u64 {
    let u64_at = |at: usize| {
        data.get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
    };
    let (Some(amount), Some(delegated)) = (u64_at(64), u64_at(121)) else {
        return 0;
    };
    let has_delegate = data.get(72..76) == Some(&[1, 0, 0, 0][..]);
    let named = data.get(76..108) == Some(delegate.as_ref());
    let initialized = data.get(108) == Some(&1);
    if has_delegate && named && initialized {
        amount.min(delegated)
    } else {
        0
    }
}

impl Spend {
    /// The spend of an intent as intake stores it.
    pub fn of(intent: &NewIntent) -> Self {
        Self {
            id: intent.id,
            sender: Pubkey::new_from_array(intent.sender),
            mint: intent.mint.map(Pubkey::new_from_array),
            nonce: Pubkey::new_from_array(intent.nonce_account),
            reserve: intent.amount.saturating_add(intent.fee),
            expiry: intent.expiry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spend(id: u8, nonce: u8, reserve: u64) -> Spend {
        Spend {
            id: [id; 32],
            sender: Pubkey::default(),
            mint: None,
            nonce: Pubkey::new_from_array([nonce; 32]),
            reserve,
            expiry: 100,
        }
    }

    /// A node that hangs: intake answers `cluster_unavailable` once the bounded reads gave
    /// up, not after the node's own timeout, and holds nothing for the refused intent.
    #[tokio::test]
    async fn a_hanging_node_is_refused_quickly_and_holds_nothing() {
        let hung = crate::fault::Faults {
            timeout_per_mille: 1_000,
            timeout: Duration::from_secs(30),
            ..Default::default()
        };
        // The inner node is never reached: every request hangs in the fault layer first.
        let inner: Arc<dyn Cluster> =
            Arc::new(toss_sdk::cluster::RpcCluster::new("http://127.0.0.1:9"));
        let cluster: Arc<dyn Cluster> = Arc::new(crate::fault::FaultyCluster::new(inner, hung, 7));
        let funds = Funds::new(cluster, Duration::from_secs(5), 3, Duration::from_secs(1));
        let store = crate::store::SqliteStore::open_in_memory().expect("store");
        let started = Instant::now();
        let verdicts = funds.check(&[spend(1, 1, 10)], 0, &store).await;
        let budget = crate::reads::ATTEMPT_TIMEOUT * crate::reads::ATTEMPTS;
        assert!(started.elapsed() < budget + Duration::from_secs(2));
        match &verdicts[..] {
            [Err(r)] => assert_eq!(r.code, Code::ClusterUnavailable),
            other => panic!("expected cluster_unavailable, got {other:?}"),
        }
        assert_eq!(
            funds.total_with(&(Pubkey::default(), None), &spend(2, 2, 0)),
            0
        );
    }

    #[test]
    fn intents_on_one_nonce_count_once() {
        let mut held = Held::default();
        held.insert(&spend(1, 1, 10));
        held.insert(&spend(2, 1, 30));
        held.insert(&spend(3, 2, 5));
        held.insert(&spend(3, 2, 5));
        assert_eq!(held.total, 35);
        assert_eq!(held.total_with(&spend(4, 1, 20)), 35);
        assert_eq!(held.total_with(&spend(4, 1, 50)), 55);
        assert_eq!(held.total_with(&spend(4, 3, 1)), 36);
        held.remove(&[2; 32]);
        assert_eq!(held.total, 15);
        held.remove(&[1; 32]);
        held.remove(&[1; 32]);
        assert_eq!(held.total, 5);
        assert_eq!(held.expired(101), vec![[3; 32]]);
        assert!(held.expired(100).is_empty());
    }

    #[test]
    fn token_spendable_reads_allowance_and_balance() {
        let delegate = Pubkey::new_unique();
        let mut data = vec![0u8; 165];
        data[64..72].copy_from_slice(&500u64.to_le_bytes());
        data[72..76].copy_from_slice(&[1, 0, 0, 0]);
        data[76..108].copy_from_slice(delegate.as_ref());
        data[108] = 1;
        data[121..129].copy_from_slice(&300u64.to_le_bytes());
        assert_eq!(token_spendable(&data, &delegate), 300);
        assert_eq!(token_spendable(&data, &Pubkey::new_unique()), 0);
        data[108] = 2; // frozen
        assert_eq!(token_spendable(&data, &delegate), 0);
        assert_eq!(token_spendable(&data[..100], &delegate), 0);
    }
}
