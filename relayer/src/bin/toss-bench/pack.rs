//! `toss-bench pack`: how many intents fit one settle transaction, measured by
//! serializing real transactions, and how fast the packer is.

use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::time::Instant;
use toss_relayer::config::SubmitConfig;
use toss_relayer::forms;
use toss_sdk::instructions::{sol_intent_metas, token_intent_metas};
use toss_sdk::pack::{
    legacy_size, lookup_table_addresses, pack_legacy, pack_v0, settle_instructions, ComputeBudget,
    Form, PackItem,
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

/// Packing figures, and one full transaction of each form settled on the in-process cluster
/// running the program as `program` (the `.so` when it is built) for its compute units.
pub async fn run(program: toss_sdk::cluster::LocalProgram) -> Result<serde_json::Value, String> {
    let mut on_chain = Vec::new();
    for form in [Form::Compact, Form::Precompile] {
        crate::progress::phase(&format!("a full {} transaction", form.as_str()));
        let cost = toss_relayer::demo::form_cost(program.clone(), form)
            .await
            .map_err(|e| e.to_string())?;
        on_chain.push(cost);
    }
    let mut figures = sizes().map_err(|e| e.to_string())?;
    let compact = &on_chain[0];
    figures["cu_per_intent_compact"] = compact.units_per_intent.into();
    figures["program"] = toss_relayer::local::describe(&program).into();
    figures["full_transactions"] = serde_json::to_value(&on_chain).map_err(|e| e.to_string())?;
    Ok(figures)
}

/// Packing figures by serialized size.
fn sizes() -> Result<serde_json::Value, toss_sdk::SdkError> {
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
    let pre = Form::Precompile;
    let sol_legacy = counts(pack_legacy(&relayer, &sol, &budget, pre)?);
    let sol_v0 = counts(pack_v0(&relayer, &sol, &budget, &tables(&sol), pre)?);
    let mixed_legacy = counts(pack_legacy(&relayer, &mixed, &budget, pre)?);
    let mixed_v0 = counts(pack_v0(&relayer, &mixed, &budget, &tables(&mixed), pre)?);
    let compact = Form::Compact;
    let sol_v0_compact = counts(pack_v0(&relayer, &sol, &budget, &tables(&sol), compact)?);
    let sol_v0_compact_uncovered = counts(pack_v0(&relayer, &sol, &budget, &[], compact)?);
    let mixed_v0_compact = counts(pack_v0(
        &relayer,
        &mixed,
        &budget,
        &tables(&mixed),
        compact,
    )?);
    // Base fee of a full batch ÷ its intents, as the relayer budgets it (no priority fee).
    let submit = SubmitConfig::default();
    let full = |form: Form, n: usize| {
        let refs: Vec<&PackItem> = sol[..n].iter().collect();
        forms::fee(&submit, &refs, form) as f64 / n as f64
    };
    let full_compact = sol_v0_compact.iter().copied().max().unwrap_or(1);
    let full_precompile = sol_v0.iter().copied().max().unwrap_or(1);
    let full_bytes = |form: Form, n: usize| -> Result<usize, toss_sdk::SdkError> {
        let refs: Vec<&PackItem> = sol[..n].iter().collect();
        let ixs = form.instructions(&relayer, &refs, &budget)?;
        Ok(toss_sdk::pack::v0_size(&relayer, &ixs, &tables(&sol)))
    };
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
    let packed = pack_legacy(&relayer, &many, &budget, pre)?;
    let pack_ms = start.elapsed().as_secs_f64() * 1e3;
    Ok(serde_json::json!({
        "sol_per_legacy_tx": sol_legacy.iter().max(),
        "sol_per_v0_tx": sol_v0.iter().max(),
        "sol_per_v0_tx_compact": sol_v0_compact.iter().max(),
        "sol_per_v0_tx_compact_uncovered": sol_v0_compact_uncovered.iter().max(),
        "mixed_per_v0_tx_compact": per_tx(&mixed_v0_compact),
        "lamports_per_intent_compact": full(compact, full_compact),
        "lamports_per_intent_precompile": full(pre, full_precompile),
        "full_v0_tx_bytes_compact": full_bytes(compact, full_compact)?,
        "full_v0_tx_bytes_precompile": full_bytes(pre, full_precompile)?,
        "cu_limit_per_compact_sol_intent": forms::units(&sol[0], compact),
        "mixed_per_legacy_tx": per_tx(&mixed_legacy),
        "mixed_per_v0_tx": per_tx(&mixed_v0),
        "bytes_per_sol_intent": two - one,
        "legacy_tx_bytes_one_sol_intent": one,
        "pack_ms_per_10k": pack_ms,
        "transactions_for_10k": packed.len(),
    }))
}
