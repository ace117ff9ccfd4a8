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
//! The same holds for a token payment whose recipient's token account for the mint (the
//! associated token account the relayer pays into) is missing or one the program cannot pay
//! into (another mint or owner, frozen, an unsupported extension such as required memos:
//! `destination_unavailable` / `unsupported_account` on chain, no strike; `account_frozen` a
//! strike against an honest payer): refused, 422 `recipient_token_account_unusable`, with the
//! program's own rules (`destination_rejection`). Such accounts, once seen, are trusted for
//! [`ACCOUNT_TTL`] (closing one is the recipient's doing; the payments to it accepted within
//! that time are rejected on chain, at most `[intake] max_open_per_nonce` per payer nonce).
//!
//! Only SOL intents below the minimum for an empty account need a look (any larger amount
//! makes even an empty recipient rent-exempt, and an existing account is rent-exempt for its
//! size already): their recipients are read in one call per intake group, never cached (an
//! address may be funded any moment). The minimum for an empty account comes from the cluster
//! (`getMinimumBalanceForRentExemption`), cached for [`RENT_TTL`]; the one for another size
//! follows from it.

use crate::refusal::{Code, Rejection};
use solana_pubkey::Pubkey;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toss_intent_processor::events::RejectReason;
use toss_intent_processor::intent::Intent;
use toss_intent_processor::settlement::token::destination_rejection;
use toss_sdk::cluster::Cluster;

/// How long a rent-exempt minimum read from the cluster is trusted.
pub const RENT_TTL: Duration = Duration::from_secs(600);
/// How long a recipient's token account, once seen, is trusted to exist.
pub const ACCOUNT_TTL: Duration = Duration::from_secs(60);
/// Most entries kept per cache before it is emptied.
const CAPACITY: usize = 100_000;

/// Checks recipients of small SOL intents against the cluster.
pub struct Recipients {
    cluster: Arc<dyn Cluster>,
    /// Rent-exempt minimum by account data length, with when it was read.
    minimums: Mutex<HashMap<usize, (Instant, u64)>>,
    /// The token program that owns each mint seen.
    token_programs: crate::addresses::TokenPrograms,
    /// Recipients' token accounts seen in good order, with when.
    destinations: Mutex<HashMap<Pubkey, Instant>>,
}

impl Recipients {
    /// Recipients read through `cluster`.
    pub fn new(cluster: Arc<dyn Cluster>) -> Self {
        Self {
            cluster,
            minimums: Mutex::new(HashMap::new()),
            token_programs: Default::default(),
            destinations: Mutex::new(HashMap::new()),
        }
    }

    /// One verdict per intent, in order: [`Self::check_sol`] for SOL intents,
    /// [`Self::check_tokens`] for token intents.
    pub async fn check(&self, intents: &[&Intent]) -> Vec<Result<(), Rejection>> {
        let (sol, tokens) = tokio::join!(self.check_sol(intents), self.check_tokens(intents));
        sol.into_iter().zip(tokens).map(|(s, t)| s.and(t)).collect()
    }

    /// One verdict per intent, in order: `recipient_token_account_unusable` for a token intent
    /// whose recipient's associated token account for the mint is missing or one the program
    /// would not pay into, `cluster_unavailable` when that could not be read, `Ok` otherwise (SOL
    /// intents always; a mint that cannot be read is left to the funds check and the program).
    pub async fn check_tokens(&self, intents: &[&Intent]) -> Vec<Result<(), Rejection>> {
        let ok = || intents.iter().map(|_| Ok(())).collect();
        if intents.iter().all(|i| i.mint.is_none()) {
            return ok();
        }
        let mints = intents.iter().filter_map(|i| i.mint);
        let programs = match self.token_programs.of(self.cluster.as_ref(), mints).await {
            Ok(p) => p,
            Err(e) => {
                let e = unavailable(e);
                return token_verdicts(intents, |_| Err(e.clone()));
            }
        };
        // Each token intent's destination, where its mint's program is known.
        let destination = |i: &Intent| {
            let mint = i.mint?;
            let program = programs.get(&mint)?;
            Some(crate::addresses::associated_token_address(
                &i.recipient,
                &mint,
                program,
            ))
        };
        let candidates: HashSet<Pubkey> = intents.iter().filter_map(|i| destination(i)).collect();
        let wanted: Vec<Pubkey> = match self.destinations.lock() {
            Ok(fresh) => candidates
                .into_iter()
                .filter(|d| fresh.get(d).is_none_or(|at| at.elapsed() >= ACCOUNT_TTL))
                .collect(),
            Err(_) => candidates.into_iter().collect(),
        };
        let mut seen: HashMap<Pubkey, Option<solana_account::Account>> = HashMap::new();
        if !wanted.is_empty() {
            match crate::reads::bounded(|| self.cluster.accounts(&wanted)).await {
                Ok(accounts) => seen.extend(wanted.iter().copied().zip(accounts)),
                Err(e) => {
                    let e = unavailable(e);
                    return token_verdicts(intents, |i| match destination(i) {
                        Some(d) if wanted.contains(&d) => Err(e.clone()),
                        _ => Ok(()),
                    });
                }
            }
        }
        // Per intent: its destination and what is wrong with it, where it was read now.
        let looked: Vec<Option<(Pubkey, Option<&'static str>)>> = intents
            .iter()
            .map(|i| {
                let mint = i.mint?;
                let d = destination(i)?;
                let account = seen.get(&d)?;
                let program = programs.get(&mint)?;
                Some((
                    d,
                    destination_problem(account.as_ref(), program, &mint, &i.recipient),
                ))
            })
            .collect();
        if let Ok(mut cache) = self.destinations.lock() {
            if cache.len() > CAPACITY {
                cache.clear();
            }
            let now = Instant::now();
            for (d, _) in looked
                .iter()
                .flatten()
                .filter(|(_, problem)| problem.is_none())
            {
                cache.insert(*d, now);
            }
        }
        let verdicts = intents
            .iter()
            .zip(&looked)
            .map(|(i, look)| match look {
                Some((d, Some(problem))) => Err(Rejection::new(
                    Code::RecipientTokenAccountUnusable,
                    format!(
                        "the token account {d} that recipient {} is paid into for mint {} \
                         {problem}: the program would reject the payment",
                        i.recipient,
                        i.mint.unwrap_or_default()
                    ),
                )),
                // Usable, a SOL intent, seen in good order within ACCOUNT_TTL, or a mint
                // that does not exist (left to the funds check and the program).
                _ => Ok(()),
            })
            .collect();
        verdicts
    }

    /// One verdict per intent, in order: `recipient_not_rent_exempt` for a SOL intent that
    /// would leave its recipient below the rent-exempt minimum, `cluster_unavailable` when
    /// that could not be read, `Ok` otherwise (token intents always).
    pub async fn check_sol(&self, intents: &[&Intent]) -> Vec<Result<(), Rejection>> {
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
                    Ok((a.lamports, minimum_for(empty_minimum, a.data.len())))
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

/// The rent-exempt minimum for `len` bytes of data, from the one for none: the runtime's
/// rule is `(128 + len) × lamports per byte-year × threshold`, so it is `empty_minimum / 128`
/// per byte of `128 + len` (no read per size).
fn minimum_for(empty_minimum: u64, len: usize) -> u64 {
    let per_byte = empty_minimum / ACCOUNT_STORAGE_OVERHEAD;
    per_byte.saturating_mul(ACCOUNT_STORAGE_OVERHEAD.saturating_add(len as u64))
}

/// Bytes the runtime counts for every account on top of its data (`Rent`'s overhead).
const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// `verdict` for each token intent, `Ok` for the others.
fn token_verdicts(
    intents: &[&Intent],
    verdict: impl Fn(&Intent) -> Result<(), Rejection>,
) -> Vec<Result<(), Rejection>> {
    intents
        .iter()
        .map(|i| if i.mint.is_some() { verdict(i) } else { Ok(()) })
        .collect()
}

/// Why the program would reject a payment into `account` as `owner`'s token account for
/// `mint` under `program` (the program's own rules: `destination_rejection`), if it would.
fn destination_problem(
    account: Option<&solana_account::Account>,
    program: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
) -> Option<&'static str> {
    let Some(a) = account.filter(|a| a.lamports > 0) else {
        return Some("does not exist");
    };
    if a.owner != *program {
        return Some("is not a token account of the mint's token program");
    }
    destination_rejection(&a.data, mint, owner).map(|reason| match reason {
        RejectReason::AccountFrozen => "is frozen",
        RejectReason::UnsupportedAccount => {
            "carries a token extension the program cannot pay into (e.g. required memos)"
        }
        _ => "is not the recipient's initialized token account for the mint",
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use solana_account::Account;
    use spl_token_2022_interface::extension::{
        memo_transfer::MemoTransfer, BaseStateWithExtensionsMut, ExtensionType,
        StateWithExtensionsMut,
    };
    use spl_token_2022_interface::state::{Account as TokenAccount, AccountState};

    const TOKEN_2022: Pubkey =
        Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

    fn account(state: AccountState, mint: Pubkey, owner: Pubkey, memo: bool) -> Account {
        let base = TokenAccount {
            mint,
            owner,
            state,
            ..TokenAccount::default()
        };
        let extensions: &[ExtensionType] = if memo {
            &[ExtensionType::MemoTransfer]
        } else {
            &[]
        };
        let len = ExtensionType::try_calculate_account_len::<TokenAccount>(extensions).unwrap();
        let mut data = vec![0u8; len];
        let mut s =
            StateWithExtensionsMut::<TokenAccount>::unpack_uninitialized(&mut data).unwrap();
        s.base = base;
        s.pack_base();
        if memo {
            s.init_account_type().unwrap();
            s.init_extension::<MemoTransfer>(true)
                .unwrap()
                .require_incoming_transfer_memos = true.into();
        }
        Account {
            lamports: 2_039_280,
            data,
            owner: TOKEN_2022,
            executable: false,
            rent_epoch: 0,
        }
    }

    #[test]
    fn minimums_follow_the_runtimes_rule() {
        let rent = anchor_lang::prelude::Rent::default();
        for len in [0usize, 1, 82, 165, 3_000, 10 * 1024 * 1024] {
            assert_eq!(
                minimum_for(rent.minimum_balance(0), len),
                rent.minimum_balance(len),
                "{len}"
            );
        }
    }

    #[test]
    fn a_destination_is_judged_by_the_programs_rules() {
        let (mint, owner) = (Pubkey::new_unique(), Pubkey::new_unique());
        let good = account(AccountState::Initialized, mint, owner, false);
        let problem = |a: Option<&Account>| destination_problem(a, &TOKEN_2022, &mint, &owner);
        assert_eq!(problem(Some(&good)), None);
        assert_eq!(problem(None), Some("does not exist"));
        let mut other_program = good.clone();
        other_program.owner = Pubkey::new_unique();
        assert!(problem(Some(&other_program)).is_some());
        let elsewhere = account(
            AccountState::Initialized,
            Pubkey::new_unique(),
            owner,
            false,
        );
        assert!(problem(Some(&elsewhere)).is_some_and(|p| p.contains("not the recipient's")));
        let someone_elses = account(AccountState::Initialized, mint, Pubkey::new_unique(), false);
        assert!(problem(Some(&someone_elses)).is_some());
        let frozen = account(AccountState::Frozen, mint, owner, false);
        assert_eq!(problem(Some(&frozen)), Some("is frozen"));
        let memo = account(AccountState::Initialized, mint, owner, true);
        assert!(problem(Some(&memo)).is_some_and(|p| p.contains("extension")));
        let uninitialized = account(AccountState::Uninitialized, mint, owner, false);
        assert!(problem(Some(&uninitialized)).is_some());
    }
}
