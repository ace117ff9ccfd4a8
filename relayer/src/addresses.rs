//! Memoized program addresses. Every intent names its payer's vault, nonce authority (and, for
//! tokens, delegate and associated token accounts); deriving one costs a few curve checks, and
//! the batcher needs them for every intent it packs. Payers repeat, so each is derived once.
//!
//! Invariant: a cached address is exactly what the derivation returns (it is a pure function of
//! its seeds); the cache only bounds its memory ([`CAPACITY`] entries per map, then it starts
//! over).

use solana_pubkey::Pubkey;
use std::collections::HashMap;
use std::sync::Mutex;
use toss_sdk::instructions::SenderAddresses;

/// The associated token account program (ATA addresses of payers, payees and the relayer).
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey =
    Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[owner.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}

/// Most entries kept per map before the cache is emptied.
pub const CAPACITY: usize = 100_000;

/// Derived addresses by seeds.
#[derive(Default)]
pub struct AddressCache {
    senders: Mutex<HashMap<Pubkey, SenderAddresses>>,
    atas: Mutex<HashMap<(Pubkey, Pubkey, Pubkey), Pubkey>>,
}

fn memo<K: std::hash::Hash + Eq, V: Copy>(
    map: &Mutex<HashMap<K, V>>,
    key: K,
    derive: impl FnOnce() -> V,
) -> V {
    if let Some(v) = map.lock().ok().and_then(|m| m.get(&key).copied()) {
        return v;
    }
    // Derived outside the lock: two threads may both derive it, with the same result.
    let v = derive();
    if let Ok(mut m) = map.lock() {
        if m.len() >= CAPACITY {
            m.clear();
        }
        m.insert(key, v);
    }
    v
}

impl AddressCache {
    /// `owner`'s vault, nonce authority and delegate.
    pub fn sender(&self, owner: &Pubkey) -> SenderAddresses {
        memo(&self.senders, *owner, || SenderAddresses::find(owner))
    }

    /// The associated token account of `owner` for `mint` under `token_program`.
    pub fn ata(&self, owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
        memo(&self.atas, (*owner, *mint, *token_program), || {
            associated_token_address(owner, mint, token_program)
        })
    }

    /// Entries held (senders, token accounts).
    pub fn len(&self) -> (usize, usize) {
        let senders = self.senders.lock().map(|m| m.len()).unwrap_or(0);
        let atas = self.atas.lock().map(|m| m.len()).unwrap_or(0);
        (senders, atas)
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_addresses_are_the_derived_ones() {
        let cache = AddressCache::default();
        let owner = Pubkey::new_unique();
        let mint = Pubkey::new_unique();
        let program = Pubkey::new_unique();
        assert!(cache.is_empty());
        for _ in 0..2 {
            assert_eq!(cache.sender(&owner), SenderAddresses::find(&owner));
            assert_eq!(
                cache.ata(&owner, &mint, &program),
                associated_token_address(&owner, &mint, &program)
            );
        }
        assert_eq!(cache.len(), (1, 1), "derived once each");
        let other = Pubkey::new_unique();
        assert_ne!(cache.sender(&other), cache.sender(&owner));
        assert_ne!(
            cache.ata(&owner, &mint, &Pubkey::new_unique()),
            cache.ata(&owner, &mint, &program),
            "the token program is part of the key"
        );
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = AddressCache::default();
        let map = Mutex::new(HashMap::new());
        for i in 0..(CAPACITY + 10) {
            memo(&map, i, || i * 2);
        }
        let len = map.lock().map(|m| m.len()).unwrap_or(usize::MAX);
        assert!(len <= CAPACITY && len > 0, "{len}");
        // 7 went with the reset: derived again; the newest entries survived it.
        let mut derived = 0;
        assert_eq!(
            memo(&map, 7, || {
                derived += 1;
                14
            }),
            14
        );
        assert_eq!(
            memo(&map, CAPACITY + 9, || {
                derived += 1;
                0
            }),
            (CAPACITY + 9) * 2
        );
        assert_eq!(derived, 1);
        assert!(cache.is_empty());
    }
}

/// The token program that owns each mint (SPL Token or Token-2022), read from the cluster once
/// per mint: a mint's owner never changes.
#[derive(Default)]
pub struct TokenPrograms(Mutex<HashMap<Pubkey, Pubkey>>);

impl TokenPrograms {
    /// The owners of `mints`, reading the ones not seen yet in one call; mints that do not
    /// exist are left out.
    pub async fn of(
        &self,
        cluster: &dyn toss_sdk::cluster::Cluster,
        mints: impl IntoIterator<Item = Pubkey>,
    ) -> toss_sdk::cluster::ClusterResult<HashMap<Pubkey, Pubkey>> {
        let mut known = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        let unknown: Vec<Pubkey> = mints
            .into_iter()
            .filter(|m| !known.contains_key(m))
            .collect::<std::collections::HashSet<_>>()
            .into_iter()
            .collect();
        if !unknown.is_empty() {
            let accounts = crate::reads::bounded(|| cluster.accounts(&unknown)).await?;
            let found: Vec<(Pubkey, Pubkey)> = unknown
                .iter()
                .zip(accounts)
                .filter_map(|(m, a)| a.map(|a| (*m, a.owner)))
                .collect();
            if let Ok(mut cache) = self.0.lock() {
                if cache.len() > CAPACITY {
                    cache.clear();
                }
                cache.extend(found.iter().copied());
            }
            known.extend(found);
        }
        Ok(known)
    }
}
