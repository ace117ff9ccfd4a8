//! Packing settle transactions by real serialized size: legacy transactions, and v0
//! transactions whose accounts come from address lookup tables.
//!
//! Bytes, not compute, bound a batch: each intent brings its signature, offsets entry and
//! canonical bytes to the precompile instruction plus its accounts. The packer serializes every
//! candidate transaction (with compute-budget instructions and a placeholder signature) and
//! measures it against the 1232-byte packet limit; it never estimates. It is deterministic
//! (first fit, in input order) and never puts two intents on one nonce account in one
//! transaction (the second would only be rejected as stale).

use crate::instructions::{compact_entry, settle_compact_ix_with, settle_ix_with};
use crate::precompile::precompile_ix;
use crate::{SdkError, SignedIntent};
use solana_hash::Hash;
use solana_instruction::{AccountMeta, Instruction};
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_pubkey::Pubkey;
use solana_transaction::{versioned::VersionedTransaction, Transaction};

/// Largest serialized transaction the network accepts.
pub const PACKET_DATA_SIZE: usize = 1232;

/// One intent ready to settle.
#[derive(Clone, Debug)]
pub struct PackItem {
    /// Its bytes and signature.
    pub signed: SignedIntent,
    /// Its remaining accounts (SOL: 4, token: 9), in program order.
    pub metas: Vec<AccountMeta>,
    /// The relayer fee to ask (the intent's unit).
    pub fee: u64,
    /// Its nonce account (at most one intent per nonce per transaction).
    pub nonce: Pubkey,
}

/// Compute-budget instructions added to every transaction (their bytes count too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComputeBudget {
    /// Units for the transaction's fixed work.
    pub base_units: u32,
    /// Units per intent.
    pub units_per_intent: u32,
    /// Priority fee, micro-lamports per unit (0: no price instruction).
    pub micro_lamports_per_unit: u64,
}

impl Default for ComputeBudget {
    /// Sized from the program's measured budgets (tests/tests/program/compute_units.rs): ~2.5k
    /// fixed, ~4.3k per SOL intent, ~24k for an SPL Token intent; token-sized to be safe.
    fn default() -> Self {
        Self {
            base_units: 5_000,
            units_per_intent: 30_000,
            micro_lamports_per_unit: 0,
        }
    }
}

impl ComputeBudget {
    /// The compute-unit limit of a transaction settling `intents` intents.
    pub fn units(&self, intents: usize) -> u32 {
        let n = u32::try_from(intents).unwrap_or(u32::MAX);
        self.base_units
            .saturating_add(self.units_per_intent.saturating_mul(n))
    }

    /// The priority fee of a transaction settling `intents` intents, in lamports: its
    /// compute-unit limit times the price, rounded up (as the runtime charges it).
    pub fn priority_fee(&self, intents: usize) -> u64 {
        let micro = u128::from(self.units(intents)) * u128::from(self.micro_lamports_per_unit);
        u64::try_from(micro.div_ceil(1_000_000)).unwrap_or(u64::MAX)
    }

    /// The compute-budget instructions for a transaction settling `intents` intents.
    pub fn instructions(&self, intents: usize) -> Vec<Instruction> {
        use solana_compute_budget_interface::ComputeBudgetInstruction as Cb;
        let mut ixs = vec![Cb::set_compute_unit_limit(self.units(intents))];
        if self.micro_lamports_per_unit > 0 {
            ixs.push(Cb::set_compute_unit_price(self.micro_lamports_per_unit));
        }
        ixs
    }
}

/// Lamports the runtime charges per signature it verifies: the transaction's own and each
/// Ed25519 precompile signature (agave `solana-fee`).
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// How a settle transaction proves its payers' signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    /// An Ed25519 precompile instruction, then `intent_settle`: few compute units, but 5,000
    /// lamports per intent on top of the transaction's own signature, and the full signed
    /// bytes in the transaction (3 SOL intents per v0 transaction).
    Precompile,
    /// `intent_settle_compact`: the program rebuilds the signed bytes from the accounts and
    /// verifies them itself; ~21,000 compute units more per intent, no precompile fee, half
    /// the bytes (8 SOL intents per v0 transaction with every account in a lookup table).
    Compact,
}

impl Form {
    /// `precompile` / `compact` (metrics, logs, settings).
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Precompile => "precompile",
            Form::Compact => "compact",
        }
    }

    /// The instructions settling `items` in this form with `budget`.
    pub fn instructions(
        self,
        relayer: &Pubkey,
        items: &[&PackItem],
        budget: &ComputeBudget,
    ) -> Result<Vec<Instruction>, SdkError> {
        match self {
            Form::Precompile => Ok(settle_instructions(relayer, items, budget)),
            Form::Compact => settle_compact_instructions(relayer, items, budget),
        }
    }

    /// The signatures a transaction of `intents` intents in this form is charged for.
    pub fn charged_signatures(self, intents: usize) -> u64 {
        match self {
            Form::Precompile => 1 + intents as u64,
            Form::Compact => 1,
        }
    }

    /// What a transaction of `intents` intents in this form costs its fee payer: the base fee
    /// (5,000 lamports per charged signature) plus the priority fee of `budget`.
    pub fn transaction_fee(self, intents: usize, budget: &ComputeBudget) -> u64 {
        LAMPORTS_PER_SIGNATURE
            .saturating_mul(self.charged_signatures(intents))
            .saturating_add(budget.priority_fee(intents))
    }
}

/// One packed transaction.
#[derive(Clone, Debug)]
pub struct Packed {
    /// Indexes of the items it settles, in input order.
    pub items: Vec<usize>,
    /// Its instructions: compute budget, precompile, settle.
    pub instructions: Vec<Instruction>,
    /// Its serialized size with one signature.
    pub size: usize,
}

/// The instructions settling `items` with `budget`.
pub fn settle_instructions(
    relayer: &Pubkey,
    items: &[&PackItem],
    budget: &ComputeBudget,
) -> Vec<Instruction> {
    let mut ixs = budget.instructions(items.len());
    let signed: Vec<SignedIntent> = items.iter().map(|i| i.signed.clone()).collect();
    let fees: Vec<u64> = items.iter().map(|i| i.fee).collect();
    let metas: Vec<AccountMeta> = items.iter().flat_map(|i| i.metas.clone()).collect();
    ixs.push(precompile_ix(&signed));
    ixs.push(settle_ix_with(relayer, &fees, metas));
    ixs
}

/// The instructions settling `items` in the compact form (`intent_settle_compact`: the program
/// verifies the signatures, no precompile instruction) with `budget`. An item whose bytes do
/// not decode yields `SdkError`.
pub fn settle_compact_instructions(
    relayer: &Pubkey,
    items: &[&PackItem],
    budget: &ComputeBudget,
) -> Result<Vec<Instruction>, SdkError> {
    let mut ixs = budget.instructions(items.len());
    let entries = items
        .iter()
        .map(|i| compact_entry(&i.signed, i.fee))
        .collect::<Result<Vec<_>, SdkError>>()?;
    let metas: Vec<AccountMeta> = items.iter().flat_map(|i| i.metas.clone()).collect();
    ixs.push(settle_compact_ix_with(relayer, entries, metas));
    Ok(ixs)
}

/// Serialized size of a legacy transaction of `ixs` paid and signed by `payer` alone.
pub fn legacy_size(payer: &Pubkey, ixs: &[Instruction]) -> usize {
    let mut tx = Transaction::new_with_payer(ixs, Some(payer));
    tx.signatures =
        vec![Default::default(); usize::from(tx.message.header.num_required_signatures)];
    bincode::serialized_size(&tx).map_or(usize::MAX, |n| n as usize)
}

/// Serialized size of a v0 transaction of `ixs` paid and signed by `payer` alone, with its
/// accounts looked up in `tables` where they can be (`usize::MAX` if it cannot compile).
pub fn v0_size(payer: &Pubkey, ixs: &[Instruction], tables: &[AddressLookupTableAccount]) -> usize {
    let Ok(message) = v0::Message::try_compile(payer, ixs, tables, Hash::default()) else {
        return usize::MAX;
    };
    let signatures = usize::from(message.header.num_required_signatures);
    let tx = VersionedTransaction {
        signatures: vec![Default::default(); signatures],
        message: VersionedMessage::V0(message),
    };
    bincode::serialized_size(&tx).map_or(usize::MAX, |n| n as usize)
}

/// Every account of `items` and of the settle instruction that a lookup table can hold (all
/// but the signer and program ids), deduplicated, in first-seen order: what to put in the
/// relayer's table (see [`create_lookup_table_ix`], [`extend_lookup_table_ix`]).
pub fn lookup_table_addresses(relayer: &Pubkey, items: &[PackItem]) -> Vec<Pubkey> {
    let refs: Vec<&PackItem> = items.iter().collect();
    let ixs = settle_instructions(relayer, &refs, &ComputeBudget::default());
    let mut seen = std::collections::HashSet::new();
    let programs: std::collections::HashSet<Pubkey> = ixs.iter().map(|ix| ix.program_id).collect();
    ixs.iter()
        .flat_map(|ix| ix.accounts.iter())
        .filter(|m| !m.is_signer && !programs.contains(&m.pubkey))
        .map(|m| m.pubkey)
        .filter(|k| seen.insert(*k))
        .collect()
}

/// Creates a lookup table owned by `authority` (returns the instruction and the table address).
pub fn create_lookup_table_ix(
    authority: &Pubkey,
    payer: &Pubkey,
    recent_slot: u64,
) -> (Instruction, Pubkey) {
    solana_address_lookup_table_interface::instruction::create_lookup_table(
        *authority,
        *payer,
        recent_slot,
    )
}

/// Appends `addresses` to a lookup table (at most ~20 per transaction).
pub fn extend_lookup_table_ix(
    table: &Pubkey,
    authority: &Pubkey,
    payer: &Pubkey,
    addresses: Vec<Pubkey>,
) -> Instruction {
    solana_address_lookup_table_interface::instruction::extend_lookup_table(
        *table,
        *authority,
        Some(*payer),
        addresses,
    )
}

/// Deactivates a lookup table (it can be closed once the deactivation slot is no longer
/// recent, ~513 slots later).
pub fn deactivate_lookup_table_ix(table: &Pubkey, authority: &Pubkey) -> Instruction {
    solana_address_lookup_table_interface::instruction::deactivate_lookup_table(*table, *authority)
}

/// Closes a fully deactivated lookup table, its rent going to `recipient`.
pub fn close_lookup_table_ix(
    table: &Pubkey,
    authority: &Pubkey,
    recipient: &Pubkey,
) -> Instruction {
    solana_address_lookup_table_interface::instruction::close_lookup_table(
        *table, *authority, *recipient,
    )
}

/// Bytes of a lookup table's account holding `addresses` addresses.
pub fn lookup_table_len(addresses: usize) -> usize {
    solana_address_lookup_table_interface::state::LOOKUP_TABLE_META_SIZE + 32 * addresses
}

/// Most addresses one lookup table holds.
pub const LOOKUP_TABLE_MAX_ADDRESSES: usize =
    solana_address_lookup_table_interface::state::LOOKUP_TABLE_MAX_ADDRESSES;

/// A lookup table's on-chain state as its owner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupTableView {
    /// Every address it holds.
    pub addresses: Vec<Pubkey>,
    /// How many of them (from the first) a transaction at `slot` may use: addresses added in
    /// the slot of the last extension become usable in the next slot.
    pub usable: usize,
    /// Its deactivation slot, once deactivated.
    pub deactivated_at: Option<u64>,
    /// Its authority (`None`: frozen).
    pub authority: Option<Pubkey>,
}

impl LookupTableView {
    /// The table as a transaction at `slot` may use it.
    pub fn parse(data: &[u8], slot: u64) -> Result<Self, SdkError> {
        let table =
            solana_address_lookup_table_interface::state::AddressLookupTable::deserialize(data)
                .map_err(|_| SdkError::Account("not an address lookup table".into()))?;
        let meta = &table.meta;
        let usable = if slot > meta.last_extended_slot {
            table.addresses.len()
        } else {
            usize::from(meta.last_extended_slot_start_index).min(table.addresses.len())
        };
        Ok(Self {
            addresses: table.addresses.to_vec(),
            usable,
            deactivated_at: (meta.deactivation_slot != u64::MAX).then_some(meta.deactivation_slot),
            authority: meta.authority,
        })
    }
}

/// A lookup table as transactions use it, from its on-chain account data.
pub fn lookup_table_account(
    key: Pubkey,
    data: &[u8],
) -> Result<AddressLookupTableAccount, SdkError> {
    let table = solana_address_lookup_table_interface::state::AddressLookupTable::deserialize(data)
        .map_err(|_| SdkError::Account(format!("{key} is not an address lookup table")))?;
    Ok(AddressLookupTableAccount {
        key,
        addresses: table.addresses.to_vec(),
    })
}

/// Packs `items` in `form` into the fewest legacy transactions first fit finds, in input order.
pub fn pack_legacy(
    relayer: &Pubkey,
    items: &[PackItem],
    budget: &ComputeBudget,
    form: Form,
) -> Result<Vec<Packed>, SdkError> {
    pack_with(relayer, items, budget, form, |ixs| {
        legacy_size(relayer, ixs)
    })
}

/// Packs `items` in `form` into v0 transactions using `tables`, first fit in input order.
pub fn pack_v0(
    relayer: &Pubkey,
    items: &[PackItem],
    budget: &ComputeBudget,
    tables: &[AddressLookupTableAccount],
    form: Form,
) -> Result<Vec<Packed>, SdkError> {
    pack_with(relayer, items, budget, form, |ixs| {
        v0_size(relayer, ixs, tables)
    })
}

/// [`pack_legacy`] without tables, [`pack_v0`] with.
pub fn pack(
    relayer: &Pubkey,
    items: &[PackItem],
    budget: &ComputeBudget,
    tables: &[AddressLookupTableAccount],
    form: Form,
) -> Result<Vec<Packed>, SdkError> {
    if tables.is_empty() {
        pack_legacy(relayer, items, budget, form)
    } else {
        pack_v0(relayer, items, budget, tables, form)
    }
}

/// The serialized size of a transaction of `ixs`: legacy without tables, v0 with.
pub fn size_with(
    relayer: &Pubkey,
    ixs: &[Instruction],
    tables: &[AddressLookupTableAccount],
) -> usize {
    if tables.is_empty() {
        legacy_size(relayer, ixs)
    } else {
        v0_size(relayer, ixs, tables)
    }
}

fn pack_with(
    relayer: &Pubkey,
    items: &[PackItem],
    budget: &ComputeBudget,
    form: Form,
    size_of: impl Fn(&[Instruction]) -> usize,
) -> Result<Vec<Packed>, SdkError> {
    let mut batches: Vec<Packed> = Vec::new();
    // Batches an item still fitted into by size. A batch that refused an item for size is
    // closed (intents are of similar size), which keeps packing linear in practice.
    let mut open: Vec<usize> = Vec::new();
    'items: for (index, item) in items.iter().enumerate() {
        let mut position = 0;
        while position < open.len() {
            let batch = &mut batches[open[position]];
            if batch.items.iter().any(|&j| items[j].nonce == item.nonce) {
                position += 1;
                continue;
            }
            let mut members: Vec<&PackItem> = batch.items.iter().map(|&j| &items[j]).collect();
            members.push(item);
            let ixs = form.instructions(relayer, &members, budget)?;
            let size = size_of(&ixs);
            if size <= PACKET_DATA_SIZE {
                batch.items.push(index);
                batch.instructions = ixs;
                batch.size = size;
                continue 'items;
            }
            open.remove(position);
        }
        let ixs = form.instructions(relayer, &[item], budget)?;
        let size = size_of(&ixs);
        if size > PACKET_DATA_SIZE {
            return Err(SdkError::Encoding(
                "an intent does not fit a transaction alone",
            ));
        }
        open.push(batches.len());
        batches.push(Packed {
            items: vec![index],
            instructions: ixs,
            size,
        });
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instructions::{sol_intent_metas, token_intent_metas};
    use proptest::prelude::*;
    use solana_keypair::Keypair;
    use solana_signer::Signer;
    use toss_intent_processor::intent::Intent;

    /// Items of `kinds` (false: SOL, true: token) on nonces `nonce_of[i]` of a few shared ones.
    fn items(kinds: &[bool], nonce_of: &[u8]) -> Vec<PackItem> {
        let nonces: Vec<Pubkey> = (0..8).map(|_| Pubkey::new_unique()).collect();
        let mint = Pubkey::new_unique();
        kinds
            .iter()
            .zip(nonce_of)
            .map(|(&token, &n)| {
                let kp = Keypair::new();
                let nonce = nonces[usize::from(n) % nonces.len()];
                let intent = Intent {
                    sender: kp.pubkey(),
                    recipient: Pubkey::new_unique(),
                    mint: token.then_some(mint),
                    amount: 5,
                    nonce_account: nonce,
                    nonce_value: [1; 32],
                    expiry: 1_900_000_000,
                    max_fee: 10,
                    reference: None,
                };
                let metas = if token {
                    let p = Pubkey::new_unique();
                    token_intent_metas(&intent, &p, &p, &p, &p).unwrap()
                } else {
                    sol_intent_metas(&intent)
                };
                PackItem {
                    signed: SignedIntent::sign(&kp, &intent).unwrap(),
                    metas,
                    fee: 1,
                    nonce,
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn packs_fit_cover_everything_once_and_never_share_a_nonce(
            kinds in proptest::collection::vec(any::<bool>(), 1..12),
            nonce_of in proptest::collection::vec(any::<u8>(), 12),
        ) {
            let relayer = Pubkey::new_unique();
            let items = items(&kinds, &nonce_of[..kinds.len()]);
            let budget = ComputeBudget { micro_lamports_per_unit: 1_000, ..Default::default() };
            let packed = pack_legacy(&relayer, &items, &budget, Form::Precompile).unwrap();
            let mut seen = vec![0u8; items.len()];
            for p in &packed {
                prop_assert!(p.size <= PACKET_DATA_SIZE);
                prop_assert_eq!(p.size, legacy_size(&relayer, &p.instructions));
                let nonces: std::collections::HashSet<_> = p.items.iter().map(|&i| items[i].nonce).collect();
                prop_assert_eq!(nonces.len(), p.items.len());
                for &i in &p.items { seen[i] += 1; }
            }
            prop_assert!(seen.iter().all(|&n| n == 1));
            // Deterministic.
            let again = pack_legacy(&relayer, &items, &budget, Form::Precompile).unwrap();
            let a: Vec<_> = packed.iter().map(|p| p.items.clone()).collect();
            let b: Vec<_> = again.iter().map(|p| p.items.clone()).collect();
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn v0_with_a_lookup_table_fits_three_sol_intents() {
        let relayer = Pubkey::new_unique();
        let items = items(&[false; 6], &[0, 1, 2, 3, 4, 5]);
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: lookup_table_addresses(&relayer, &items),
        };
        let packed = pack_v0(
            &relayer,
            &items,
            &ComputeBudget::default(),
            &[table],
            Form::Precompile,
        )
        .unwrap();
        assert_eq!(packed.len(), 2);
        assert!(packed
            .iter()
            .all(|p| p.items.len() == 3 && p.size <= PACKET_DATA_SIZE));
    }

    /// The compact form with every account in a lookup table: how many distinct-payer SOL
    /// intents fit one v0 transaction (goal: at least 8), with and without references, and
    /// without a table.
    #[test]
    fn compact_v0_with_a_lookup_table_fits_eight_sol_intents() {
        let relayer = Pubkey::new_unique();
        // Distinct payers and nonce accounts (each call makes fresh ones).
        let all: Vec<PackItem> = (0..16).flat_map(|_| items(&[false], &[0])).collect();
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: lookup_table_addresses(&relayer, &all),
        };
        let fits = |tables: &[AddressLookupTableAccount]| {
            (1..=all.len())
                .take_while(|&n| {
                    let refs: Vec<&PackItem> = all[..n].iter().collect();
                    let ixs =
                        settle_compact_instructions(&relayer, &refs, &ComputeBudget::default())
                            .unwrap();
                    v0_size(&relayer, &ixs, tables) <= PACKET_DATA_SIZE
                })
                .count()
        };
        let covered = fits(std::slice::from_ref(&table));
        let uncovered = fits(&[]);
        println!("compact SOL intents per v0 tx: {covered} in a table, {uncovered} without");
        assert!(covered >= 8, "{covered}");
        assert!(uncovered >= 3, "{uncovered}");
    }

    /// The packer fills compact v0 transactions as far as bytes allow, and the fee model
    /// charges what the runtime charges.
    #[test]
    fn compact_packing_and_the_fee_of_each_form() {
        let relayer = Pubkey::new_unique();
        let all: Vec<PackItem> = (0..20).flat_map(|_| items(&[false], &[0])).collect();
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: lookup_table_addresses(&relayer, &all),
        };
        let budget = ComputeBudget::default();
        let packed = pack(&relayer, &all, &budget, &[table], Form::Compact).unwrap();
        assert!(packed[0].items.len() >= 8, "{}", packed[0].items.len());
        for p in &packed {
            assert!(p.size <= PACKET_DATA_SIZE);
            assert!(p
                .instructions
                .iter()
                .all(|ix| ix.program_id != solana_sdk_ids::ed25519_program::ID));
        }
        let legacy = pack(&relayer, &all, &budget, &[], Form::Compact).unwrap();
        assert!(legacy
            .iter()
            .all(|p| p.size == legacy_size(&relayer, &p.instructions)));
        // Base fees: 3 precompile intents 20,000 lamports; 8 compact intents 5,000.
        let free = ComputeBudget {
            micro_lamports_per_unit: 0,
            ..budget
        };
        assert_eq!(Form::Precompile.transaction_fee(3, &free), 20_000);
        assert_eq!(Form::Compact.transaction_fee(8, &free), 5_000);
        // Priority fee: limit × price / 10^6, rounded up.
        let priced = ComputeBudget {
            base_units: 1,
            units_per_intent: 0,
            micro_lamports_per_unit: 1,
        };
        assert_eq!(priced.priority_fee(1), 1);
        let priced = ComputeBudget {
            base_units: 200_000,
            units_per_intent: 0,
            micro_lamports_per_unit: 1_000_000,
        };
        assert_eq!(Form::Compact.transaction_fee(1, &priced), 205_000);
    }

    #[test]
    fn two_sol_intents_per_legacy_transaction_with_a_compute_limit() {
        let relayer = Pubkey::new_unique();
        let items = items(&[false; 6], &[0, 1, 2, 3, 4, 5]);
        let packed = pack_legacy(
            &relayer,
            &items,
            &ComputeBudget::default(),
            Form::Precompile,
        )
        .unwrap();
        assert_eq!(packed.len(), 3);
        assert!(packed.iter().all(|p| p.items.len() == 2));
    }
}
