//! Every intent-processor instruction, with its accounts in program order.

use crate::precompile::precompile_ix;
use crate::{SdkError, SignedIntent};
use anchor_lang::{InstructionData, ToAccountMetas};
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;
use toss_intent_processor::{
    constants::RECENT_BLOCKHASHES_ID,
    instructions::{CompactIntent, ConfigInitializeArgs, PROGRAM_DATA_ADDRESS},
    intent::Intent,
    state::{Config, Delegate, NonceAuthority, Vault},
};

/// A payer's program addresses that every intent of theirs names. Deriving them costs a few
/// curve checks each; a relayer settling many intents of one payer computes them once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderAddresses {
    /// `["vault", owner]`.
    pub vault: Pubkey,
    /// `["nonce-authority", owner]`: authority of the payer's nonce accounts.
    pub nonce_authority: Pubkey,
    /// `["delegate", owner]`: the token delegate.
    pub delegate: Pubkey,
}

impl SenderAddresses {
    /// Derives the addresses of `owner`.
    pub fn find(owner: &Pubkey) -> Self {
        SenderAddresses {
            vault: Vault::find_address(owner).0,
            nonce_authority: NonceAuthority::find_address(owner).0,
            delegate: Delegate::find_address(owner).0,
        }
    }
}

/// The four remaining accounts of a SOL intent, in program order.
pub fn sol_intent_metas(intent: &Intent) -> Vec<AccountMeta> {
    sol_intent_metas_at(intent, &SenderAddresses::find(&intent.sender))
}

/// [`sol_intent_metas`] with the sender's addresses already derived.
pub fn sol_intent_metas_at(intent: &Intent, sender: &SenderAddresses) -> Vec<AccountMeta> {
    vec![
        AccountMeta::new(sender.vault, false),
        AccountMeta::new(intent.nonce_account, false),
        AccountMeta::new_readonly(sender.nonce_authority, false),
        AccountMeta::new(intent.recipient, false),
    ]
}

/// `intent_settle` for SOL `intents` (in precompile order) with the given fees.
pub fn settle_ix(relayer: &Pubkey, intents: &[Intent], fees: &[u64]) -> Instruction {
    let metas = intents.iter().flat_map(sol_intent_metas).collect();
    settle_ix_with(relayer, fees, metas)
}

/// The precompile instruction and `intent_settle` for signed SOL intents, decoded from their
/// bytes.
pub fn settle_ixs(
    relayer: &Pubkey,
    signed: &[SignedIntent],
    fees: &[u64],
) -> Result<Vec<Instruction>, SdkError> {
    let intents = signed
        .iter()
        .map(SignedIntent::intent)
        .collect::<Result<Vec<Intent>, SdkError>>()?;
    Ok(vec![
        precompile_ix(signed),
        settle_ix(relayer, &intents, fees),
    ])
}

/// The compact-form entry of a signed intent: what `intent_settle_compact` needs beyond the
/// intent's accounts (signature, amounts, expiry, kind, reference, nonce prefix) and `fee`.
pub fn compact_entry(signed: &SignedIntent, fee: u64) -> Result<CompactIntent, SdkError> {
    let intent = signed.intent()?;
    let mut nonce_hint = [0u8; 4];
    nonce_hint.copy_from_slice(&intent.nonce_value[..4]);
    Ok(CompactIntent {
        signature: signed.signature,
        kind: intent.kind() as u8,
        amount: intent.amount,
        expiry: intent.expiry,
        max_fee: intent.max_fee,
        fee,
        nonce_hint,
        reference: intent.reference,
    })
}

/// `intent_settle_compact` for signed SOL intents (no precompile instruction).
pub fn settle_compact_ix(
    relayer: &Pubkey,
    signed: &[SignedIntent],
    fees: &[u64],
) -> Result<Instruction, SdkError> {
    let mut entries = Vec::with_capacity(signed.len());
    let mut metas = Vec::with_capacity(signed.len() * 4);
    for (s, fee) in signed.iter().zip(fees) {
        entries.push(compact_entry(s, *fee)?);
        metas.extend(sol_intent_metas(&s.intent()?));
    }
    Ok(settle_compact_ix_with(relayer, entries, metas))
}

/// `intent_settle_compact` with explicit entries and per-intent account metas (the same
/// metas, in the same order, as for `intent_settle`; SOL and token intents mixed).
pub fn settle_compact_ix_with(
    relayer: &Pubkey,
    intents: Vec<CompactIntent>,
    intent_metas: Vec<AccountMeta>,
) -> Instruction {
    let mut accounts = toss_intent_processor::accounts::IntentSettleCompact {
        relayer: *relayer,
        config: toss_intent_processor::state::Config::ADDRESS,
        recent_blockhashes: toss_intent_processor::constants::RECENT_BLOCKHASHES_ID,
        system_program: solana_sdk_ids::system_program::ID,
    }
    .to_account_metas(None);
    accounts.extend(intent_metas);
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts,
        data: toss_intent_processor::instruction::IntentSettleCompact {
            args: toss_intent_processor::instructions::IntentSettleCompactArgs { intents },
        }
        .data(),
    }
}

/// `config_initialize`, signed by the upgrade authority.
pub fn config_initialize_ix(authority: &Pubkey, args: ConfigInitializeArgs) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts: toss_intent_processor::accounts::ConfigInitialize {
            authority: *authority,
            config: Config::ADDRESS,
            program_data: PROGRAM_DATA_ADDRESS,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        data: toss_intent_processor::instruction::ConfigInitialize { args }.data(),
    }
}

/// `config_set_paused`, signed by `admin`.
pub fn config_set_paused_ix(admin: &Pubkey, paused: bool) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts: toss_intent_processor::accounts::ConfigSetPaused {
            admin: *admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        data: toss_intent_processor::instruction::ConfigSetPaused { paused }.data(),
    }
}

/// `vault_deposit` of `amount` lamports by `owner`.
pub fn vault_deposit_ix(owner: &Pubkey, amount: u64) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts: toss_intent_processor::accounts::VaultDeposit {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        data: toss_intent_processor::instruction::VaultDeposit { amount }.data(),
    }
}

fn toss_ix(accounts: Vec<AccountMeta>, data: Vec<u8>) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts,
        data,
    }
}

/// `config_propose_admin`, signed by `admin`.
pub fn config_propose_admin_ix(admin: &Pubkey, proposed: Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::ConfigProposeAdmin {
            admin: *admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::ConfigProposeAdmin { proposed }.data(),
    )
}

/// `config_accept_admin`, signed by `new_admin`.
pub fn config_accept_admin_ix(new_admin: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::ConfigAcceptAdmin {
            new_admin: *new_admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::ConfigAcceptAdmin {}.data(),
    )
}

/// `config_update`, signed by `admin`.
pub fn config_update_ix(
    admin: &Pubkey,
    args: toss_intent_processor::instructions::ConfigUpdateArgs,
) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::ConfigUpdate {
            admin: *admin,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::ConfigUpdate { args }.data(),
    )
}

/// `vault_withdraw_request` of `amount` by `owner`.
pub fn vault_withdraw_request_ix(owner: &Pubkey, amount: u64) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::VaultWithdrawRequest {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::VaultWithdrawRequest { amount }.data(),
    )
}

/// `vault_withdraw_execute` by `owner`.
pub fn vault_withdraw_execute_ix(owner: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::VaultWithdrawExecute {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::VaultWithdrawExecute {}.data(),
    )
}

/// `vault_withdraw_cancel` by `owner`.
pub fn vault_withdraw_cancel_ix(owner: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::VaultWithdrawCancel {
            owner: *owner,
            vault: Vault::find_address(owner).0,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::VaultWithdrawCancel {}.data(),
    )
}

/// `nonce_close_request` for `owner`'s `nonce`.
pub fn nonce_close_request_ix(owner: &Pubkey, nonce: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::NonceCloseRequest {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            nonce: *nonce,
            request: toss_intent_processor::state::NonceClose::find_address(nonce).0,
            config: Config::ADDRESS,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::NonceCloseRequest {}.data(),
    )
}

/// `nonce_close_execute` for `owner`'s `nonce`.
pub fn nonce_close_execute_ix(owner: &Pubkey, nonce: &Pubkey) -> Instruction {
    toss_ix(
        toss_intent_processor::accounts::NonceCloseExecute {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            request: toss_intent_processor::state::NonceClose::find_address(nonce).0,
            nonce: *nonce,
            nonce_authority: NonceAuthority::find_address(owner).0,
            recent_blockhashes: RECENT_BLOCKHASHES_ID,
            rent: solana_sdk_ids::sysvar::rent::ID,
            system_program: solana_sdk_ids::system_program::ID,
            config: Config::ADDRESS,
        }
        .to_account_metas(None),
        toss_intent_processor::instruction::NonceCloseExecute {}.data(),
    )
}

/// The accounts of a token intent, in program order (see `TOKEN_INTENT_ACCOUNTS`).
pub fn token_intent_metas(
    intent: &Intent,
    token_program: &Pubkey,
    source: &Pubkey,
    destination: &Pubkey,
    fee_destination: &Pubkey,
) -> Result<Vec<AccountMeta>, SdkError> {
    token_intent_metas_at(
        intent,
        &SenderAddresses::find(&intent.sender),
        token_program,
        source,
        destination,
        fee_destination,
    )
}

/// [`token_intent_metas`] with the sender's addresses already derived.
pub fn token_intent_metas_at(
    intent: &Intent,
    sender: &SenderAddresses,
    token_program: &Pubkey,
    source: &Pubkey,
    destination: &Pubkey,
    fee_destination: &Pubkey,
) -> Result<Vec<AccountMeta>, SdkError> {
    let mint = intent
        .mint
        .ok_or_else(|| SdkError::Intent("not a token intent".into()))?;
    Ok(vec![
        AccountMeta::new_readonly(sender.vault, false),
        AccountMeta::new(intent.nonce_account, false),
        AccountMeta::new_readonly(sender.nonce_authority, false),
        AccountMeta::new_readonly(sender.delegate, false),
        AccountMeta::new(*source, false),
        AccountMeta::new(*destination, false),
        AccountMeta::new(*fee_destination, false),
        AccountMeta::new_readonly(mint, false),
        AccountMeta::new_readonly(*token_program, false),
    ])
}

/// `intent_settle` with explicit per-intent account metas (SOL and token intents mixed).
pub fn settle_ix_with(
    relayer: &Pubkey,
    fees: &[u64],
    intent_metas: Vec<AccountMeta>,
) -> Instruction {
    let mut accounts = toss_intent_processor::accounts::IntentSettle {
        relayer: *relayer,
        config: toss_intent_processor::state::Config::ADDRESS,
        instructions_sysvar: toss_intent_processor::constants::INSTRUCTIONS_SYSVAR_ID,
        recent_blockhashes: toss_intent_processor::constants::RECENT_BLOCKHASHES_ID,
        system_program: solana_sdk_ids::system_program::ID,
    }
    .to_account_metas(None);
    accounts.extend(intent_metas);
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts,
        data: toss_intent_processor::instruction::IntentSettle {
            args: toss_intent_processor::instructions::IntentSettleArgs {
                fees: fees.to_vec(),
            },
        }
        .data(),
    }
}

/// `vault_open` by `owner`.
pub fn vault_open_ix(owner: &Pubkey) -> Instruction {
    Instruction {
        program_id: toss_intent_processor::ID,
        accounts: toss_intent_processor::accounts::VaultOpen {
            owner: *owner,
            vault: Vault::find_address(owner).0,
            system_program: solana_sdk_ids::system_program::ID,
        }
        .to_account_metas(None),
        data: toss_intent_processor::instruction::VaultOpen {}.data(),
    }
}
