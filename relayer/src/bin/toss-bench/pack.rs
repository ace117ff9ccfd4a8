//! `toss-bench pack`: how many intents fit one settle transaction, measured by
//! serializing real transactions, and how fast the packer is.

use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::time::Instant;
use toss_sdk::instructions::{sol_intent_metas, token_intent_metas};
use toss_sdk::pack::{
    legacy_size, lookup_table_addresses, pack_legacy, pack_v0, settle_instructions, ComputeBudget,
    PackItem,
};
use toss_sdk::{Intent, SignedIntent};

/// `n` distinct-payer intents; every `token_every`-th is a token intent (0: none).
fn items(n: usize, token_every: usize) -> Result<Vec<PackItem>, toss_sdk::SdkError> {
    let mint = Pubkey::new_unique();
    let token_program = Pubkey::new_unique();
    let fee_account = Pubkey::new_unique();
    (0..n)
        .map(|i| {
            let kp = Keypair::new();
            let token = token_every > 0 && i % token_every == token_every - 1;
            let intent = Intent {
                sender: kp.pubkey(),
                recipient: Pubkey::new_unique(),
                mint: token.then_some(mint),
                amount: 1_000 + i as u64,
                nonce_account: Pubkey::new_unique(),
                nonce_value: [7; 32],
                expiry: 1_900_000_000,
                max_fee: 5_000,
                reference: None,
            };
            let metas = if token {
                let (s, d) = (Pubkey::new_unique(), Pubkey::new_unique());
                token_intent_metas(&intent, &token_program, &s, &d, &fee_account)?
            } else {
                sol_intent_metas(&intent)
            };
            Ok(PackItem {
                signed: SignedIntent::sign(&kp, &intent)?,
                metas,
                fee: 1_000,
                nonce: intent.nonce_account,
            })
        })
        .collect()
}

fn per_tx(counts: &[usize]) -> f64 {
    counts.iter().sum::<usize>() as f64 / counts.len().max(1) as f64
}

/// Packing figures.
pub fn run() -> Result<serde_json::Value, toss_sdk::SdkError> {
    let relayer = Pubkey::new_unique();
    let budget = ComputeBudget::default();
    let sol = items(60, 0)?;
    let mixed = items(60, 2)?;
    // Lookup tables hold at most 256 addresses each.
    let tables = |it: &[PackItem]| -> Vec<AddressLookupTableAccount> {
        lookup_table_addresses(&relayer, it)
            .chunks(256)
            .map(|c| AddressLookupTableAccount {
                key: Pubkey::new_unique(),
                addresses: c.to_vec(),
            })
            .collect()
    };
    let counts =
        |p: Vec<toss_sdk::pack::Packed>| p.iter().map(|b| b.items.len()).collect::<Vec<_>>();
    let sol_legacy = counts(pack_legacy(&relayer, &sol, &budget)?);
    let sol_v0 = counts(pack_v0(&relayer, &sol, &budget, &tables(&sol))?);
    let mixed_legacy = counts(pack_legacy(&relayer, &mixed, &budget)?);
    let mixed_v0 = counts(pack_v0(&relayer, &mixed, &budget, &tables(&mixed))?);
    let one = legacy_size(
        &relayer,
        &settle_instructions(&relayer, &[&sol[0]], &budget),
    );
    let two = legacy_size(
        &relayer,
        &settle_instructions(&relayer, &[&sol[0], &sol[1]], &budget),
    );
    let many = items(10_000, 0)?;
    let start = Instant::now();
    let packed = pack_legacy(&relayer, &many, &budget)?;
    let pack_ms = start.elapsed().as_secs_f64() * 1e3;
    Ok(serde_json::json!({
        "sol_per_legacy_tx": sol_legacy.iter().max(),
        "sol_per_v0_tx": sol_v0.iter().max(),
        "mixed_per_legacy_tx": per_tx(&mixed_legacy),
        "mixed_per_v0_tx": per_tx(&mixed_v0),
        "bytes_per_sol_intent": two - one,
        "legacy_tx_bytes_one_sol_intent": one,
        "pack_ms_per_10k": pack_ms,
        "transactions_for_10k": packed.len(),
    }))
}
