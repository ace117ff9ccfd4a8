//! Online operations of a payer's wallet over any [`Cluster`]: send and confirm, deposit, open
//! and list the nonce pool, token allowance, close nonces, withdraw. The `toss` CLI, the
//! relayer's demo and the tests all use these.

use crate::cluster::Cluster;
use crate::instructions::*;
use crate::pool::{nonce_address, open_nonces_ixs, NONCE_ACCOUNT_SPACE};
use crate::pool_file::{CachedNonce, PendingWindow, PendingWithdrawal, PoolFile, VaultSnapshot};
use crate::SdkError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::{versioned::VersionedTransaction, Transaction};
use std::time::Duration;
use toss_intent_processor::nonce::read_nonce;

/// How long [`send`] waits for confirmation.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

/// Nonces opened per transaction (two instructions each; five fit 1232 bytes).
pub const NONCES_PER_TX: u32 = 4;

/// Consecutive missing pool indexes after which [`fetch_pool`] stops looking.
pub const POOL_GAP_LIMIT: u32 = 4;

/// Sends `ixs` paid by `payer` (also signed by `signers`) and waits until it is confirmed.
/// Retries once with a new blockhash when the first one expired before landing.
pub async fn send(
    cluster: &dyn Cluster,
    payer: &Keypair,
    ixs: &[Instruction],
    signers: &[&Keypair],
) -> Result<Signature, SdkError> {
    let mut all: Vec<&Keypair> = vec![payer];
    all.extend(
        signers
            .iter()
            .copied()
            .filter(|k| k.pubkey() != payer.pubkey()),
    );
    let mut last = None;
    for _ in 0..3 {
        let (blockhash, last_valid) = cluster.latest_blockhash().await?;
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
        let tx = VersionedTransaction::from(tx);
        let signature = tx.signatures[0];
        match cluster
            .send_and_confirm(&tx, last_valid, CONFIRM_TIMEOUT)
            .await
        {
            Ok(Some((sig, status))) => {
                return match status.err {
                    None => Ok(sig),
                    Some(e) => Err(SdkError::TxFailed {
                        signature: sig.to_string(),
                        reason: describe_tx_error(&e),
                    }),
                }
            }
            Ok(None) => last = Some(SdkError::NotConfirmed(signature.to_string())),
            Err(e) if e.is_transient() => last = Some(e.into()),
            Err(crate::cluster::ClusterError::Refused(e)) => {
                return Err(SdkError::TxFailed {
                    signature: signature.to_string(),
                    reason: describe_tx_error(&e),
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.unwrap_or_else(|| SdkError::NotConfirmed("unknown".into())))
}

/// A transaction error in one line, naming TOSS program errors by their name.
pub fn describe_tx_error(e: &solana_transaction_error::TransactionError) -> String {
    use solana_instruction::error::InstructionError;
    use solana_transaction_error::TransactionError;
    if let TransactionError::InstructionError(ix, InstructionError::Custom(code)) = e {
        if let Some(name) = toss_error_name(*code) {
            return format!("instruction {ix}: {name}");
        }
    }
    format!("{e}")
}

/// The committed IDL (its `errors` table names every program error code).
const IDL_JSON: &str = include_str!("../../idl/toss_intent_processor.json");

/// `Name: message` of a TOSS program error code (from the committed IDL), if it is one.
pub fn toss_error_name(code: u32) -> Option<String> {
    let idl: serde_json::Value = serde_json::from_str(IDL_JSON).ok()?;
    idl.get("errors")?
        .as_array()?
        .iter()
        .find(|e| e.get("code").and_then(|c| c.as_u64()) == Some(u64::from(code)))
        .map(|e| {
            format!(
                "{}: {}",
                e.get("name").and_then(|n| n.as_str()).unwrap_or("?"),
                e.get("msg").and_then(|n| n.as_str()).unwrap_or("")
            )
        })
}

/// Deposits `lamports` into `owner`'s vault (opens it on first use).
pub async fn deposit(
    cluster: &dyn Cluster,
    owner: &Keypair,
    lamports: u64,
) -> Result<Signature, SdkError> {
    send(
        cluster,
        owner,
        &[vault_deposit_ix(&owner.pubkey(), lamports)],
        &[],
    )
    .await
}

/// Opens `owner`'s pool nonces `indexes` (the owner pays rent), a few per transaction.
pub async fn open_nonces(
    cluster: &dyn Cluster,
    owner: &Keypair,
    indexes: std::ops::Range<u32>,
) -> Result<Vec<Signature>, SdkError> {
    open_nonces_with(cluster, owner, indexes, &|_, _| {}).await
}

/// Progress of a long operation: `(done, total)`; `total` is 0 while unknown.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// [`open_nonces`], reporting the nonces opened so far after each transaction.
pub async fn open_nonces_with(
    cluster: &dyn Cluster,
    owner: &Keypair,
    indexes: std::ops::Range<u32>,
    progress: Progress<'_>,
) -> Result<Vec<Signature>, SdkError> {
    let rent = cluster.minimum_rent(NONCE_ACCOUNT_SPACE).await?;
    let total = u64::from(indexes.end.saturating_sub(indexes.start));
    let mut out = Vec::new();
    let mut start = indexes.start;
    progress(0, total);
    while start < indexes.end {
        let end = indexes.end.min(start.saturating_add(NONCES_PER_TX));
        let ixs = open_nonces_ixs(&owner.pubkey(), start..end, rent);
        out.push(send(cluster, owner, &ixs, &[]).await?);
        start = end;
        progress(u64::from(start - indexes.start), total);
    }
    Ok(out)
}

/// Reads `owner`'s pool from the chain: every nonce at its derived address with its current
/// value and any pending close request, scanning indexes until [`POOL_GAP_LIMIT`] consecutive
/// ones are missing (or closed); and the vault's spendable lamports, pending withdrawal and the
/// program's lifetime bound (what a payee needs offline, [`crate::payee`]).
pub async fn fetch_pool(cluster: &dyn Cluster, owner: &Pubkey) -> Result<PoolFile, SdkError> {
    fetch_pool_with(cluster, owner, &|_, _| {}).await
}

/// [`fetch_pool`], reporting the nonces found so far (total unknown until the scan ends).
pub async fn fetch_pool_with(
    cluster: &dyn Cluster,
    owner: &Pubkey,
    progress: Progress<'_>,
) -> Result<PoolFile, SdkError> {
    let mut pool = fetch_nonces(cluster, owner, progress).await?;
    let keys: Vec<Pubkey> = pool
        .nonces
        .iter()
        .filter_map(|n| n.address.parse::<Pubkey>().ok())
        .map(|n| toss_intent_processor::state::NonceClose::find_address(&n).0)
        .collect();
    for (chunk_keys, chunk) in keys.chunks(64).zip(pool.nonces.chunks_mut(64)) {
        let accounts = cluster.accounts(chunk_keys).await?;
        for (entry, account) in chunk.iter_mut().zip(accounts) {
            entry.close = account
                .and_then(|a| {
                    <toss_intent_processor::state::NonceClose as anchor_lang::AccountDeserialize>::try_deserialize(&mut a.data.as_slice()).ok()
                })
                .map(|c| PendingWindow {
                    unlocks_at: c.unlocks_at,
                    window_ends_at: c.window_ends_at,
                });
        }
    }
    pool.vault = Some(vault_snapshot(cluster, owner).await?);
    Ok(pool)
}

/// The owner's vault (spendable lamports, pending withdrawal) and the program's lifetime bound
/// in force now.
pub async fn vault_snapshot(
    cluster: &dyn Cluster,
    owner: &Pubkey,
) -> Result<VaultSnapshot, SdkError> {
    use toss_intent_processor::state::{Config, Vault};
    let now = cluster.unix_time().await?;
    let keys = [Vault::find_address(owner).0, Config::ADDRESS];
    let accounts = cluster.accounts(&keys).await?;
    let config = accounts[1]
        .as_ref()
        .and_then(|a| {
            <Config as anchor_lang::AccountDeserialize>::try_deserialize(&mut a.data.as_slice())
                .ok()
        })
        .ok_or(SdkError::Encoding(
            "the program's config account is missing",
        ))?;
    let (spendable, pending_withdrawal) = match &accounts[0] {
        None => (0, None),
        Some(account) => {
            let floor = cluster.minimum_rent(account.data.len()).await?;
            let vault = <Vault as anchor_lang::AccountDeserialize>::try_deserialize(
                &mut account.data.as_slice(),
            )
            .map_err(|_| SdkError::Encoding("the vault account does not decode"))?;
            let pending = (vault.pending_withdrawal > 0).then_some(PendingWithdrawal {
                amount: vault.pending_withdrawal,
                unlocks_at: vault.withdrawal_unlocks_at,
                window_ends_at: vault.withdrawal_window_ends_at,
            });
            (account.lamports.saturating_sub(floor), pending)
        }
    };
    // A request made after the sync uses the delay in force when it is made: the current one,
    // or a scheduled shorter one once due.
    let in_force = config.bounds_at(now).withdrawal_delay_secs;
    let min_delay = if config.bounds_change_at != 0 && now < config.bounds_change_at {
        in_force.min(config.pending_bounds.withdrawal_delay_secs)
    } else {
        in_force
    };
    Ok(VaultSnapshot {
        synced_at: now,
        spendable,
        max_intent_lifetime_secs: config.bounds_at(now).max_intent_lifetime_secs,
        min_withdrawal_delay_secs: min_delay,
        pending_withdrawal,
    })
}

async fn fetch_nonces(
    cluster: &dyn Cluster,
    owner: &Pubkey,
    progress: Progress<'_>,
) -> Result<PoolFile, SdkError> {
    let mut nonces = Vec::new();
    let mut index = 0u32;
    let mut gap = 0;
    while gap < POOL_GAP_LIMIT {
        let batch: Vec<u32> = (index..index.saturating_add(16)).collect();
        let keys: Vec<Pubkey> = batch.iter().map(|i| nonce_address(owner, *i)).collect();
        let accounts = cluster.accounts(&keys).await?;
        for ((i, key), account) in batch.iter().zip(keys).zip(accounts) {
            if gap >= POOL_GAP_LIMIT {
                break;
            }
            match account.as_ref().and_then(|a| read_nonce(&a.data)) {
                Some(state) => {
                    gap = 0;
                    nonces.push(CachedNonce {
                        index: *i,
                        address: key.to_string(),
                        value: bs58::encode(state.durable_nonce).into_string(),
                        close: None,
                    });
                }
                None => gap += 1,
            }
        }
        index = index.saturating_add(16);
        progress(nonces.len() as u64, 0);
    }
    progress(nonces.len() as u64, nonces.len() as u64);
    Ok(PoolFile {
        owner: owner.to_string(),
        nonces,
        vault: None,
    })
}

/// The index after the highest open pool nonce (where new nonces go).
pub fn next_index(pool: &PoolFile) -> u32 {
    pool.nonces
        .iter()
        .map(|n| n.index.saturating_add(1))
        .max()
        .unwrap_or(0)
}

/// Grants the program's delegate PDA an allowance of `amount` on `source` (token intents spend
/// it).
pub async fn approve(
    cluster: &dyn Cluster,
    owner: &Keypair,
    token_program: &Pubkey,
    source: &Pubkey,
    amount: u64,
) -> Result<Signature, SdkError> {
    let ix = crate::pool::approve_ix(token_program, source, &owner.pubkey(), amount)?;
    send(cluster, owner, &[ix], &[]).await
}

/// Asks to close pool nonce `index` (step one; executable after the withdrawal delay).
pub async fn nonce_close_request(
    cluster: &dyn Cluster,
    owner: &Keypair,
    index: u32,
) -> Result<Signature, SdkError> {
    let nonce = nonce_address(&owner.pubkey(), index);
    send(
        cluster,
        owner,
        &[nonce_close_request_ix(&owner.pubkey(), &nonce)],
        &[],
    )
    .await
}

/// Closes pool nonce `index` (step two), returning its rent to the owner.
pub async fn nonce_close_execute(
    cluster: &dyn Cluster,
    owner: &Keypair,
    index: u32,
) -> Result<Signature, SdkError> {
    let nonce = nonce_address(&owner.pubkey(), index);
    send(
        cluster,
        owner,
        &[nonce_close_execute_ix(&owner.pubkey(), &nonce)],
        &[],
    )
    .await
}

/// Asks to withdraw `lamports` from the vault (step one).
pub async fn withdraw_request(
    cluster: &dyn Cluster,
    owner: &Keypair,
    lamports: u64,
) -> Result<Signature, SdkError> {
    send(
        cluster,
        owner,
        &[vault_withdraw_request_ix(&owner.pubkey(), lamports)],
        &[],
    )
    .await
}

/// Executes the pending withdrawal (step two, after the delay).
pub async fn withdraw_execute(
    cluster: &dyn Cluster,
    owner: &Keypair,
) -> Result<Signature, SdkError> {
    send(
        cluster,
        owner,
        &[vault_withdraw_execute_ix(&owner.pubkey())],
        &[],
    )
    .await
}

/// Moves `lamports` from `from` to `to` (funding test actors and fee payers).
pub async fn transfer(
    cluster: &dyn Cluster,
    from: &Keypair,
    to: &Pubkey,
    lamports: u64,
) -> Result<Signature, SdkError> {
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), to, lamports);
    send(cluster, from, &[ix], &[]).await
}

/// The vault's balance above its rent floor (what intents can spend), or 0 with no vault.
pub async fn vault_spendable(cluster: &dyn Cluster, owner: &Pubkey) -> Result<u64, SdkError> {
    let vault = toss_intent_processor::state::Vault::find_address(owner).0;
    match cluster.account(&vault).await? {
        None => Ok(0),
        Some(account) => {
            let floor = cluster.minimum_rent(account.data.len()).await?;
            Ok(account.lamports.saturating_sub(floor))
        }
    }
}
