//! Which settle form each batch takes (Ed25519 precompile or compact) and its compute budget.
//!
//! Cost model, what the fee payer pays for one settle transaction: 5,000 lamports per charged
//! signature (the transaction's own, and in the precompile form one more per intent) plus the
//! priority fee, compute-unit limit × `submit.compute_unit_price_micro_lamports` / 10^6,
//! rounded up ([`Form::transaction_fee`]). The limit is what this module asks for: the sum of
//! each intent's units ([`units`]) and the fixed work, measured on the `.so` with a margin.
//!
//! Under `submit.verification = "auto"` the batcher packs the compact form first (it fits the
//! most intents per transaction: half the bytes per intent, no precompile instruction) and
//! prices each of its transactions against the same intents packed in the precompile form
//! (one or more transactions); the cheaper wins, ties going to compact (fewer transactions
//! to land). With no priority fee that is always compact; precompile wins only above
//! ~250,000 micro-lamports per compute unit, where the compact form's extra ~23,000 units per
//! intent cost more than the 5,000 lamports of a precompile signature.

use crate::config::{SubmitConfig, Verification};
use solana_instruction::Instruction;
use solana_message::AddressLookupTableAccount;
use solana_pubkey::Pubkey;
use toss_intent_processor::constants::SOL_INTENT_ACCOUNTS;
use toss_sdk::pack::{self, ComputeBudget, Form, PackItem, PACKET_DATA_SIZE};
use toss_sdk::SdkError;

/// Compute units for a settle transaction's fixed work (measured ~2.5k).
pub const BASE_UNITS: u32 = 5_000;
/// Compute units to settle one SOL intent once verified (measured ~4.8k, with margin).
pub const UNITS_PER_SOL_INTENT: u32 = 10_000;
/// Compute units to settle one token intent once verified (measured ~24k, with margin).
pub const UNITS_PER_TOKEN_INTENT: u32 = 35_000;
/// Compact form: rebuilding the bytes, the scalar reduction and the multiscalar
/// multiplication of one verification (measured ~5,000).
pub const COMPACT_VERIFY_UNITS: u32 = 6_000;
/// Compact form: one 128-byte block of the SHA-512 challenge over R ‖ A ‖ message, computed in
/// the program (measured ~7,750; a SOL intent hashes 2 blocks, a token intent or a SOL intent
/// with a reference 3).
pub const UNITS_PER_SHA512_BLOCK: u32 = 8_500;

/// SHA-512 blocks of the challenge over a `message_len`-byte message (64 bytes of R ‖ A in
/// front; padding adds at least 17 bytes).
pub fn sha512_blocks(message_len: usize) -> u32 {
    u32::try_from((64 + message_len + 17).div_ceil(128)).unwrap_or(u32::MAX)
}

/// Compute units `item` needs in `form`.
pub fn units(item: &PackItem, form: Form) -> u32 {
    let settle = if item.metas.len() > SOL_INTENT_ACCOUNTS {
        UNITS_PER_TOKEN_INTENT
    } else {
        UNITS_PER_SOL_INTENT
    };
    match form {
        Form::Precompile => settle,
        Form::Compact => settle.saturating_add(COMPACT_VERIFY_UNITS).saturating_add(
            UNITS_PER_SHA512_BLOCK.saturating_mul(sha512_blocks(item.signed.message.len())),
        ),
    }
}

/// The compute budget of one transaction settling `items` in `form`: the configured limit,
/// or the fixed work plus each intent's units.
pub fn budget(submit: &SubmitConfig, items: &[&PackItem], form: Form) -> ComputeBudget {
    let base_units = submit.compute_unit_limit.unwrap_or_else(|| {
        items
            .iter()
            .fold(BASE_UNITS, |sum, i| sum.saturating_add(units(i, form)))
    });
    ComputeBudget {
        base_units,
        units_per_intent: 0,
        micro_lamports_per_unit: submit.compute_unit_price_micro_lamports,
    }
}

/// What one transaction settling `items` in `form` costs, in lamports.
pub fn fee(submit: &SubmitConfig, items: &[&PackItem], form: Form) -> u64 {
    form.transaction_fee(items.len(), &budget(submit, items, form))
}

/// One settle transaction as planned: which of the input items, in which form, its
/// instructions and its fee.
#[derive(Clone, Debug)]
pub struct Planned {
    /// Indexes into the planned items, in transaction order.
    pub items: Vec<usize>,
    /// Its form.
    pub form: Form,
    /// Compute budget and settle instructions.
    pub instructions: Vec<Instruction>,
    /// Its fee by the cost model, lamports.
    pub fee: u64,
}

/// The forms `verification` allows, the one packed first first.
fn forms(verification: Verification) -> &'static [Form] {
    match verification {
        Verification::Auto => &[Form::Compact, Form::Precompile],
        Verification::Compact => &[Form::Compact],
        Verification::Precompile => &[Form::Precompile],
    }
}

/// Packs `items` into settle transactions of at most `max` intents each, in the form
/// `submit.verification` asks for (the cheaper per transaction under `auto`), against
/// `tables` (legacy transactions when there are none).
pub fn plan(
    submit: &SubmitConfig,
    payer: &Pubkey,
    items: &[PackItem],
    tables: &[AddressLookupTableAccount],
    max: usize,
) -> Result<Vec<Planned>, SdkError> {
    let forms = forms(submit.verification);
    let mut out = Vec::new();
    for group in pack_in(submit, payer, items, tables, max, forms[0])? {
        let first = build(submit, payer, items, group, forms[0])?;
        let Some(&other) = forms.get(1) else {
            out.push(first);
            continue;
        };
        let subset: Vec<PackItem> = first.items.iter().map(|&i| items[i].clone()).collect();
        let mut alternative = Vec::new();
        for part in pack_in(submit, payer, &subset, tables, max, other)? {
            let original: Vec<usize> = part.iter().map(|&j| first.items[j]).collect();
            alternative.push(build(submit, payer, items, original, other)?);
        }
        let cost: u64 = alternative.iter().map(|p| p.fee).sum();
        if cost < first.fee {
            out.extend(alternative);
        } else {
            out.push(first);
        }
    }
    Ok(out)
}

/// The instructions of one transaction settling all of `items`: the cheapest allowed form
/// whose transaction fits the packet limit against `tables` (or the first allowed form if
/// none fits; the submitter then sends nothing and the intents are packed again:
/// `SendOutcome::TooLarge`).
pub fn one_transaction(
    submit: &SubmitConfig,
    payer: &Pubkey,
    items: &[PackItem],
    tables: &[AddressLookupTableAccount],
) -> Result<Planned, SdkError> {
    let all: Vec<usize> = (0..items.len()).collect();
    let mut best: Option<Planned> = None;
    let mut fallback = None;
    for &form in forms(submit.verification) {
        let planned = build(submit, payer, items, all.clone(), form)?;
        if pack::size_with(payer, &planned.instructions, tables) > PACKET_DATA_SIZE {
            fallback.get_or_insert(planned);
            continue;
        }
        if best.as_ref().is_none_or(|b| planned.fee < b.fee) {
            best = Some(planned);
        }
    }
    best.or(fallback)
        .ok_or(SdkError::Encoding("no settle form is allowed"))
}

/// First-fit packing of `items` in `form`, cut to at most `max` per transaction: each
/// transaction's item indexes.
fn pack_in(
    submit: &SubmitConfig,
    payer: &Pubkey,
    items: &[PackItem],
    tables: &[AddressLookupTableAccount],
    max: usize,
    form: Form,
) -> Result<Vec<Vec<usize>>, SdkError> {
    // Sizes do not depend on the limit's value: any budget with the same price packs alike.
    let sizing = ComputeBudget {
        base_units: BASE_UNITS,
        units_per_intent: 0,
        micro_lamports_per_unit: submit.compute_unit_price_micro_lamports,
    };
    Ok(pack::pack(payer, items, &sizing, tables, form)?
        .into_iter()
        .flat_map(|p| {
            p.items
                .chunks(max.max(1))
                .map(<[usize]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect())
}

fn build(
    submit: &SubmitConfig,
    payer: &Pubkey,
    items: &[PackItem],
    indexes: Vec<usize>,
    form: Form,
) -> Result<Planned, SdkError> {
    let refs: Vec<&PackItem> = indexes.iter().map(|&i| &items[i]).collect();
    let budget = budget(submit, &refs, form);
    Ok(Planned {
        instructions: form.instructions(payer, &refs, &budget)?,
        fee: form.transaction_fee(refs.len(), &budget),
        items: indexes,
        form,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_keypair::Keypair;
    use solana_signer::Signer;
    use toss_sdk::instructions::sol_intent_metas;
    use toss_sdk::{Intent, SignedIntent};

    fn sol_items(n: usize) -> Vec<PackItem> {
        (0..n)
            .map(|i| {
                let kp = Keypair::new();
                let intent = Intent {
                    sender: kp.pubkey(),
                    recipient: Pubkey::new_unique(),
                    mint: None,
                    amount: 1_000 + i as u64,
                    nonce_account: Pubkey::new_unique(),
                    nonce_value: [3; 32],
                    expiry: 1_900_000_000,
                    max_fee: 100,
                    reference: None,
                };
                PackItem {
                    signed: SignedIntent::sign(&kp, &intent).expect("sign"),
                    metas: sol_intent_metas(&intent),
                    fee: 100,
                    nonce: intent.nonce_account,
                }
            })
            .collect()
    }

    fn table(payer: &Pubkey, items: &[PackItem]) -> Vec<AddressLookupTableAccount> {
        vec![AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: pack::lookup_table_addresses(payer, items),
        }]
    }

    fn config(verification: Verification, price: u64) -> SubmitConfig {
        SubmitConfig {
            verification,
            compute_unit_price_micro_lamports: price,
            ..SubmitConfig::default()
        }
    }

    #[test]
    fn sha512_blocks_of_each_intent_size() {
        assert_eq!(sha512_blocks(160), 2, "SOL");
        assert_eq!(sha512_blocks(192), 3, "SOL with reference, or token");
        assert_eq!(sha512_blocks(224), 3, "token with reference");
    }

    /// Without a priority fee the compact form wins: 8 intents for one 5,000-lamport fee
    /// instead of 3 transactions of 20,000.
    #[test]
    fn auto_takes_compact_without_a_priority_fee() {
        let payer = Pubkey::new_unique();
        let items = sol_items(16);
        let tables = table(&payer, &items);
        let planned =
            plan(&config(Verification::Auto, 0), &payer, &items, &tables, 64).expect("plan");
        assert!(planned.iter().all(|p| p.form == Form::Compact));
        assert!(planned[0].items.len() >= 8, "{}", planned[0].items.len());
        assert_eq!(planned[0].fee, 5_000);
        let mut seen: Vec<usize> = planned.iter().flat_map(|p| p.items.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..16).collect::<Vec<_>>());
        let per_intent = planned[0].fee / planned[0].items.len() as u64;
        assert!(per_intent <= 700, "{per_intent}");
    }

    /// At a priority fee where the compact form's compute units cost more than precompile
    /// signatures, `auto` switches, and each forced form stays forced.
    #[test]
    fn auto_takes_precompile_when_compute_is_dear() {
        let payer = Pubkey::new_unique();
        let items = sol_items(8);
        let tables = table(&payer, &items);
        let dear = plan(
            &config(Verification::Auto, 1_000_000),
            &payer,
            &items,
            &tables,
            64,
        )
        .expect("plan");
        assert!(dear.iter().all(|p| p.form == Form::Precompile));
        let compact_fee = fee(
            &config(Verification::Auto, 1_000_000),
            &items.iter().collect::<Vec<_>>(),
            Form::Compact,
        );
        assert!(dear.iter().map(|p| p.fee).sum::<u64>() < compact_fee);
        for (v, form) in [
            (Verification::Compact, Form::Compact),
            (Verification::Precompile, Form::Precompile),
        ] {
            for price in [0, 1_000_000] {
                let p = plan(&config(v, price), &payer, &items, &tables, 64).expect("plan");
                assert!(p.iter().all(|p| p.form == form), "{v:?} at {price}");
            }
        }
    }

    #[test]
    fn max_intents_caps_every_transaction_and_one_transaction_fits() {
        let payer = Pubkey::new_unique();
        let items = sol_items(10);
        let tables = table(&payer, &items);
        let planned =
            plan(&config(Verification::Auto, 0), &payer, &items, &tables, 3).expect("plan");
        assert!(planned.iter().all(|p| p.items.len() <= 3));
        assert_eq!(planned.iter().map(|p| p.items.len()).sum::<usize>(), 10);
        // Two intents in one legacy transaction: both forms fit, compact is cheaper.
        let one =
            one_transaction(&config(Verification::Auto, 0), &payer, &items[..2], &[]).expect("one");
        assert_eq!(one.form, Form::Compact);
        assert!(pack::legacy_size(&payer, &one.instructions) <= PACKET_DATA_SIZE);
        let budget = budget(
            &config(Verification::Auto, 0),
            &items[..2].iter().collect::<Vec<_>>(),
            Form::Compact,
        );
        assert_eq!(
            budget.units(2),
            BASE_UNITS
                + 2 * (UNITS_PER_SOL_INTENT + COMPACT_VERIFY_UNITS + 2 * UNITS_PER_SHA512_BLOCK)
        );
    }
}
