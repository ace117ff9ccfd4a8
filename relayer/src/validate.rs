//! Intake validation: everything the program will check that can be known off-chain, so
//! a batch never fails because of one bad intent.
//!
//! Signatures are verified with ed25519-dalek `verify_strict` (the precompile's rules: batch
//! or cofactored verification accepts signatures the precompile rejects) on rayon's pool,
//! off the async threads. Nonce values come from the cluster through a short-lived cache.

use crate::config::IntakeConfig;
use crate::store::{IntentKind, NewIntent};
use rayon::prelude::*;
use solana_pubkey::Pubkey;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toss_intent_processor::intent::{encoded_len_from_header, Intent, HEADER_LEN, MAGIC};
use toss_intent_processor::nonce::read_nonce;
use toss_sdk::cluster::Cluster;
use toss_sdk::signed::SIGNATURE_LEN;
use toss_sdk::SignedIntent;

use crate::refusal::Code;
pub use crate::refusal::Rejection;

/// Parses the API's base64 form into a signed intent, refusing with a precise code.
pub fn parse_base64(text: &str) -> Result<SignedIntent, Rejection> {
    parse_bytes(&decode_base64(text)?)
}

/// Standard base64 to bytes, refusing with `bad_base64`.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, Rejection> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| Rejection::new(Code::BadBase64, "intent is not standard base64"))
}

/// Parses `signature || intent bytes`, refusing with a precise code.
pub fn parse_bytes(bytes: &[u8]) -> Result<SignedIntent, Rejection> {
    if bytes.len() < SIGNATURE_LEN + HEADER_LEN {
        return Err(Rejection::new(
            Code::BadLength,
            format!("{} bytes is shorter than a signed intent", bytes.len()),
        ));
    }
    let message = &bytes[SIGNATURE_LEN..];
    if message[..5] == MAGIC && message[5] == toss_sdk::arcium::intent::VERSION {
        return Err(Rejection::new(
            Code::ConfidentialIntent,
            "a confidential (version 2) intent",
        ));
    }
    let expected = encoded_len_from_header(message)
        .map_err(|e| Rejection::new(Code::MalformedIntent, format!("intent header: {e}")))?;
    if message.len() != expected {
        return Err(Rejection::new(
            Code::BadLength,
            format!(
                "intent is {} bytes, its header says {expected}",
                message.len()
            ),
        ));
    }
    SignedIntent::from_bytes(bytes)
        .map_err(|e| Rejection::new(Code::MalformedIntent, e.to_string()))
}

/// True for the accounts the runtime demotes to read-only in every transaction (sysvars,
/// builtin programs, precompiles, loaders: agave's own list, pending ones included). The
/// program rejects a SOL intent paying one (`recipient_not_writable`); intake refuses it first.
pub fn is_reserved_account(key: &Pubkey) -> bool {
    agave_reserved_account_keys::ReservedAccountKeys::all_keys_iter().any(|k| k == key)
}

/// A nonce account's value and authority as last read (`None`: not a usable nonce account),
/// and when.
type CachedNonce = (Instant, Option<SeenNonce>);

/// What intake needs of a durable nonce account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SeenNonce {
    value: [u8; 32],
    authority: Pubkey,
}

/// Checks intents against the intake rules and the chain's current nonce values.
pub struct Validator {
    intake: IntakeConfig,
    /// The program's config and the cluster clock, against which expiry and lifetime are
    /// checked (the program's own rules).
    pub chain: crate::chain_rules::ChainRules,
    /// Funds at intake and the back-off of failing senders.
    pub funds: crate::funds::Funds,
    /// Recipients of small SOL payments, which must end up rent-exempt.
    pub recipients: crate::recipients::Recipients,
    allowed_mints: HashSet<Pubkey>,
    cluster: Arc<dyn Cluster>,
    nonces: Mutex<HashMap<Pubkey, CachedNonce>>,
    /// Senders' nonce-authority PDAs, derived once each.
    addresses: crate::addresses::AddressCache,
}

impl Validator {
    /// A validator for `intake` rules reading nonces from `cluster`.
    pub fn new(intake: IntakeConfig, cluster: Arc<dyn Cluster>) -> Self {
        let allowed_mints = intake
            .allowed_mints
            .iter()
            .filter_map(|m| m.parse().ok())
            .collect();
        Self {
            chain: crate::chain_rules::ChainRules::new(cluster.clone()),
            funds: crate::funds::Funds::new(
                cluster.clone(),
                Duration::from_millis(intake.nonce_cache_ttl_ms),
                intake.failure_backoff_strikes,
                Duration::from_secs(intake.failure_backoff_seconds),
            )
            .with_max_open_per_nonce(intake.max_open_per_nonce),
            recipients: crate::recipients::Recipients::new(cluster.clone()),
            intake,
            allowed_mints,
            cluster,
            nonces: Mutex::new(HashMap::new()),
            addresses: crate::addresses::AddressCache::default(),
        }
    }

    /// Verifies every signature (`verify_strict`) in parallel off the async threads.
    pub async fn verify_signatures(
        &self,
        signed: Vec<SignedIntent>,
    ) -> Vec<(SignedIntent, Result<Intent, Rejection>)> {
        let job = tokio::task::spawn_blocking(move || {
            let verdicts: Vec<Result<Intent, Rejection>> = signed
                .par_iter()
                .map(|s| {
                    s.verify().map_err(|_| {
                        Rejection::new(
                            Code::BadSignature,
                            "signature does not verify for the intent's sender",
                        )
                    })
                })
                .collect();
            signed.into_iter().zip(verdicts).collect::<Vec<_>>()
        });
        job.await.unwrap_or_default()
    }

    /// The static rules: expiry, lifetime, dust, cap, fee cap, mint allowlist.
    pub fn check_rules(&self, intent: &Intent, now_unix: i64) -> Result<(), Rejection> {
        self.check_public_rules(
            intent.expiry,
            intent.mint.as_ref(),
            intent.max_fee,
            now_unix,
        )?;
        if intent.mint.is_none() {
            if is_reserved_account(&intent.recipient) {
                return Err(Rejection::new(
                    Code::ReservedRecipient,
                    format!(
                        "recipient {} is a sysvar or builtin program the runtime never lets a \
                         program write",
                        intent.recipient
                    ),
                ));
            }
            if intent.amount < self.intake.dust_lamports {
                return Err(Rejection::new(
                    Code::BelowDust,
                    format!(
                        "amount {} lamports is below the minimum {}",
                        intent.amount, self.intake.dust_lamports
                    ),
                ));
            }
            if intent.amount > self.intake.max_amount_lamports {
                return Err(Rejection::new(
                    Code::AboveCap,
                    format!(
                        "amount {} lamports is above the cap {}",
                        intent.amount, self.intake.max_amount_lamports
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The rules on an intent's public fields (all a confidential intent shows): expiry,
    /// lifetime, mint allowlist, fee cap. Expiry and lifetime are measured as the program
    /// measures them, on the cluster's clock (`now_unix`, the local clock, only until the
    /// cluster was read) and against the program config's bound when it is tighter than
    /// `[intake] max_lifetime_seconds`.
    pub fn check_public_rules(
        &self,
        expiry: i64,
        mint: Option<&Pubkey>,
        max_fee: u64,
        now_unix: i64,
    ) -> Result<(), Rejection> {
        let now_unix = self.chain.cluster_now().unwrap_or(now_unix);
        if expiry <= now_unix {
            return Err(Rejection::new(
                Code::Expired,
                format!("intent expired at {expiry}, now {now_unix}"),
            ));
        }
        let lifetime = expiry.saturating_sub(now_unix);
        let own = i64::try_from(self.intake.max_lifetime_seconds).unwrap_or(i64::MAX);
        let limit = self
            .chain
            .max_lifetime(now_unix)
            .map_or(own, |program| program.min(own));
        let within_horizon = self.chain.expiry_horizon().is_some_and(|h| expiry <= h);
        if lifetime > limit && !within_horizon {
            return Err(Rejection::new(
                Code::LifetimeTooLong,
                format!("intent expires in {lifetime} s, the limit is {limit} s"),
            ));
        }
        if let Some(mint) = mint {
            if !self.allowed_mints.contains(mint) {
                return Err(Rejection::new(
                    Code::MintNotAllowed,
                    format!("mint {mint} is not accepted by this relayer"),
                ));
            }
        }
        if max_fee > self.intake.max_fee_lamports {
            return Err(Rejection::new(
                Code::FeeAboveCap,
                format!(
                    "max fee {max_fee} is above the cap {}",
                    self.intake.max_fee_lamports
                ),
            ));
        }
        Ok(())
    }

    /// Checks each intent's nonce value against the chain (cached for `nonce_cache_ttl_ms`;
    /// a mismatch with a cached value is re-read once before refusing), and that the nonce
    /// account is the sender's own (its authority the sender's nonce-authority PDA): an intent
    /// on another payer's nonce can never settle, and queued ahead of that payer's own intents
    /// it would hold them back.
    pub async fn check_nonces(&self, intents: &[&Intent]) -> Vec<Result<(), Rejection>> {
        let pairs: Vec<(Pubkey, [u8; 32], Option<Pubkey>)> = intents
            .iter()
            .map(|i| {
                let authority = self.addresses.sender(&i.sender).nonce_authority;
                (i.nonce_account, i.nonce_value, Some(authority))
            })
            .collect();
        self.check_nonce_values(&pairs).await
    }

    /// [`Validator::check_nonces`] over `(nonce account, signed value, expected authority)`
    /// (the authority only where the sender is public: a confidential intent hides it, and the
    /// program checks it there).
    pub async fn check_nonce_values(
        &self,
        pairs: &[(Pubkey, [u8; 32], Option<Pubkey>)],
    ) -> Vec<Result<(), Rejection>> {
        let wanted: Vec<Pubkey> = pairs.iter().map(|(account, _, _)| *account).collect();
        let mut values = self.cached(&wanted);
        let stale: Vec<Pubkey> = pairs
            .iter()
            .filter(|(account, value, _)| match values.get(account) {
                Some(Some(seen)) => seen.value != *value,
                Some(None) => true,
                None => true,
            })
            .map(|(account, _, _)| *account)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        // A failed read refuses (503) only the intents it was needed for: one whose own cached
        // value is current goes on, even when another intent named the same account with
        // another value (which is what made it stale).
        let mut read_error: Option<Rejection> = None;
        if !stale.is_empty() {
            match self.fetch(&stale).await {
                Ok(fresh) => values.extend(fresh),
                Err(e) => read_error = Some(e),
            }
        }
        pairs
            .iter()
            .map(
                |(account, value, authority)| match (values.get(account), &read_error) {
                    // A cached authority counts only where the cached value is still trusted.
                    (Some(Some(seen)), read)
                        if (read.is_none() || seen.value == *value)
                            && authority.is_some_and(|a| a != seen.authority) =>
                    {
                        Err(Rejection::new(
                            Code::NonceAuthorityMismatch,
                            format!("nonce {account} is not the sender's (another authority)"),
                        ))
                    }
                    (Some(Some(seen)), _) if seen.value == *value => Ok(()),
                    (_, Some(e)) => Err(e.clone()),
                    (Some(Some(_)), None) => Err(Rejection::new(
                        Code::StaleNonce,
                        format!(
                        "nonce {account} no longer holds the value the intent was signed against"
                    ),
                    )),
                    _ => Err(Rejection::new(
                        Code::UnknownNonce,
                        format!("{account} is not an initialized durable nonce account"),
                    )),
                },
            )
            .collect()
    }

    /// Builds the stored form of a verified intent.
    pub fn to_new_intent(
        signed: &SignedIntent,
        intent: &Intent,
        now_ms: i64,
        source: &str,
    ) -> NewIntent {
        NewIntent {
            id: signed.id(),
            signed: signed.to_bytes(),
            sender: intent.sender.to_bytes(),
            nonce_account: intent.nonce_account.to_bytes(),
            nonce_value: intent.nonce_value,
            expiry: intent.expiry,
            amount: intent.amount,
            fee: intent.max_fee,
            kind: if intent.mint.is_some() {
                IntentKind::Token
            } else {
                IntentKind::Sol
            },
            mint: intent.mint.map(|m| m.to_bytes()),
            received_at_ms: now_ms,
            source: source.to_owned(),
        }
    }

    /// Forgets a nonce's cached value (after it was used on-chain).
    pub fn forget_nonce(&self, nonce: &Pubkey) {
        if let Ok(mut cache) = self.nonces.lock() {
            cache.remove(nonce);
        }
    }

    fn ttl(&self) -> Duration {
        Duration::from_millis(self.intake.nonce_cache_ttl_ms)
    }

    fn cached(&self, keys: &[Pubkey]) -> HashMap<Pubkey, Option<SeenNonce>> {
        let Ok(cache) = self.nonces.lock() else {
            return HashMap::new();
        };
        let ttl = self.ttl();
        keys.iter()
            .filter_map(|k| {
                cache
                    .get(k)
                    .filter(|(at, _)| at.elapsed() < ttl)
                    .map(|(_, v)| (*k, *v))
            })
            .collect()
    }

    async fn fetch(
        &self,
        keys: &[Pubkey],
    ) -> Result<HashMap<Pubkey, Option<SeenNonce>>, Rejection> {
        let accounts = crate::reads::bounded(|| self.cluster.accounts(keys))
            .await
            .map_err(|e| {
                Rejection::new(
                    Code::ClusterUnavailable,
                    format!("cannot read nonce accounts: {e}"),
                )
            })?;
        let system = Pubkey::default();
        let fresh: HashMap<Pubkey, Option<SeenNonce>> = keys
            .iter()
            .zip(accounts)
            .map(|(k, a)| {
                let value = a
                    .filter(|a| a.owner == system)
                    .and_then(|a| read_nonce(&a.data))
                    .map(|n| SeenNonce {
                        value: n.durable_nonce,
                        authority: Pubkey::new_from_array(n.authority.to_bytes()),
                    });
                (*k, value)
            })
            .collect();
        if let Ok(mut cache) = self.nonces.lock() {
            let now = Instant::now();
            if cache.len() > 100_000 {
                cache.clear();
            }
            for (k, v) in &fresh {
                cache.insert(*k, (now, *v));
            }
        }
        Ok(fresh)
    }
}
