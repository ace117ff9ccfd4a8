//! SOL intents whose recipient visibly cannot receive them.
//!
//! The program rejects a SOL payment that would leave its recipient below the rent-exempt
//! minimum for its size (`recipient_not_rent_exempt`): a payment of less than that minimum to
//! an empty address. Such a rejection is not a strike against the sender (a merchant that
//! empties its own account must not get an honest payer backed off), so without a check here
//! a payer could send small payments to fresh addresses, free of charge, each costing the
//! relayer a place in a transaction (and a precompile signature in that form). Intake refuses
//! them: 422 `recipient_not_rent_exempt`.
//!
//! Only SOL intents below the minimum for an empty account need a look (any larger amount
//! makes even an empty recipient rent-exempt, and an existing account is rent-exempt for its
//! size already): their recipients are read in one call per intake group, never cached (an
//! address may be funded any moment). The minimums come from the cluster (`getMinimumBalance
//! ForRentExemption`), cached for [`RENT_TTL`].

use crate::refusal::{Code, Rejection};
use solana_pubkey::Pubkey;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toss_intent_processor::intent::Intent;
use toss_sdk::cluster::Cluster;

/// How long a rent-exempt minimum read from the cluster is trusted.
pub const RENT_TTL: Duration = Duration::from_secs(600);

/// Checks recipients of small SOL intents against the cluster.
pub struct Recipients {
    cluster: Arc<dyn Cluster>,
    /// Rent-exempt minimum by account data length, with when it was read.
    minimums: Mutex<HashMap<usize, (Instant, u64)>>,
}

impl Recipients {
    /// Recipients read through `cluster`.
    pub fn new(cluster: Arc<dyn Cluster>) -> Self {
        Self {
            cluster,
            minimums: Mutex::new(HashMap::new()),
        }
    }

    /// One verdict per intent, in order: `recipient_not_rent_exempt` for a SOL intent that
    /// would leave its recipient below the rent-exempt minimum, `cluster_unavailable` when
    /// that could not be read, `Ok` otherwise (token intents always).
    pub async fn check(&self, intents: &[&Intent]) -> Vec<Result<(), Rejection>> {
        let empty_minimum = match self.minimum(0).await {
            Ok(m) => m,
            Err(e) => {
                return intents
                    .iter()
                    .map(|i| {
                        if needs_look(i, None) {
                            Err(e.clone())
                        } else {
                            Ok(())
                        }
                    })
                    .collect()
            }
        };
        let wanted: Vec<Pubkey> = intents
            .iter()
            .filter(|i| needs_look(i, Some(empty_minimum)))
            .map(|i| i.recipient)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            return intents.iter().map(|_| Ok(())).collect();
        }
        let accounts = match crate::reads::bounded(|| self.cluster.accounts(&wanted)).await {
            Ok(a) => a,
            Err(e) => {
                let e = unavailable(e);
                return intents
                    .iter()
                    .map(|i| {
                        if needs_look(i, Some(empty_minimum)) {
                            Err(e.clone())
                        } else {
                            Ok(())
                        }
                    })
                    .collect();
            }
        };
        // Per recipient: its balance and the minimum for its size.
        let mut state: HashMap<Pubkey, Result<(u64, u64), Rejection>> = HashMap::new();
        for (key, account) in wanted.iter().zip(accounts) {
            let verdict = match account {
                Some(a) if a.lamports > 0 => {
                    let len = a.data.len();
                    let minimum = if len == 0 {
                        Ok(empty_minimum)
                    } else {
                        self.minimum(len).await
                    };
                    minimum.map(|m| (a.lamports, m))
                }
                _ => Ok((0, empty_minimum)),
            };
            state.insert(*key, verdict);
        }
        intents
            .iter()
            .map(|i| {
                if !needs_look(i, Some(empty_minimum)) {
                    return Ok(());
                }
                let (balance, minimum) = match state.get(&i.recipient) {
                    Some(Ok(s)) => *s,
                    Some(Err(e)) => return Err(e.clone()),
                    None => (0, empty_minimum),
                };
                let after = u128::from(balance) + u128::from(i.amount);
                if after >= u128::from(minimum) {
                    Ok(())
                } else {
                    Err(Rejection::new(
                        Code::RecipientNotRentExempt,
                        format!(
                            "recipient {} holds {balance} lamports: {} more would leave it below \
                             the rent-exempt minimum of {minimum} for its size, and the program \
                             would reject the payment",
                            i.recipient, i.amount
                        ),
                    ))
                }
            })
            .collect()
    }

    /// The rent-exempt minimum for `len` bytes of data.
    async fn minimum(&self, len: usize) -> Result<u64, Rejection> {
        let cached = self
            .minimums
            .lock()
            .ok()
            .and_then(|m| m.get(&len).copied())
            .filter(|(at, _)| at.elapsed() < RENT_TTL);
        if let Some((_, minimum)) = cached {
            return Ok(minimum);
        }
        let minimum = crate::reads::bounded(|| self.cluster.minimum_rent(len))
            .await
            .map_err(unavailable)?;
        if let Ok(mut m) = self.minimums.lock() {
            if m.len() > 1_024 {
                m.clear();
            }
            m.insert(len, (Instant::now(), minimum));
        }
        Ok(minimum)
    }
}

/// Whether `intent` is a SOL payment small enough that its recipient must be looked at
/// (`empty_minimum` unknown: every SOL intent is).
fn needs_look(intent: &Intent, empty_minimum: Option<u64>) -> bool {
    intent.mint.is_none() && empty_minimum.is_none_or(|m| intent.amount < m)
}

fn unavailable(e: toss_sdk::cluster::ClusterError) -> Rejection {
    Rejection::new(
        Code::ClusterUnavailable,
        format!("cannot read recipient accounts: {e}"),
    )
}
