//! Arcium's program-derived addresses, with the seeds Arcium derives them from (the `arcium`
//! IDL's `pda` seeds, Arcium 0.16.0), and the account set of a queue-computation transaction.
//!
//! Offsets enter the seeds little-endian: the cluster offset as `u32`, the computation offset
//! as `u64`, the computation-definition offset as `u32` (the first four bytes of
//! `sha256(circuit name)`, little-endian).

use super::account::MxeAccount;
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;

/// The Arcium program.
pub const ARCIUM_PROGRAM_ID: Pubkey =
    Pubkey::from_str_const("Arcj82pX7HxYKLR92qvgZUAd7vGS1k4hQvAFcPATFdEQ");

fn find(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &ARCIUM_PROGRAM_ID).0
}

/// `["MXEAccount", mxe_program]`: the MXE's account, which holds its X25519 key.
pub fn mxe_account(mxe_program: &Pubkey) -> Pubkey {
    find(&[b"MXEAccount", mxe_program.as_ref()])
}

/// `["Mempool", cluster_offset]`: the cluster's queue of pending computations.
pub fn mempool(cluster_offset: u32) -> Pubkey {
    find(&[b"Mempool", &cluster_offset.to_le_bytes()])
}

/// `["Execpool", cluster_offset]`: the cluster's executing pool.
pub fn executing_pool(cluster_offset: u32) -> Pubkey {
    find(&[b"Execpool", &cluster_offset.to_le_bytes()])
}

/// `["ComputationAccount", cluster_offset, computation_offset]`: one queued computation.
pub fn computation(cluster_offset: u32, computation_offset: u64) -> Pubkey {
    find(&[
        b"ComputationAccount",
        &cluster_offset.to_le_bytes(),
        &computation_offset.to_le_bytes(),
    ])
}

/// `["ComputationDefinitionAccount", mxe_program, comp_def_offset]`: a circuit's definition.
pub fn computation_definition(mxe_program: &Pubkey, comp_def_offset: u32) -> Pubkey {
    find(&[
        b"ComputationDefinitionAccount",
        mxe_program.as_ref(),
        &comp_def_offset.to_le_bytes(),
    ])
}

/// `["Cluster", cluster_offset]`: the cluster account.
pub fn cluster(cluster_offset: u32) -> Pubkey {
    find(&[b"Cluster", &cluster_offset.to_le_bytes()])
}

/// `["FeePool"]`: where computation fees go.
pub fn fee_pool() -> Pubkey {
    find(&[b"FeePool"])
}

/// `["ClockAccount"]`: Arcium's clock.
pub fn clock() -> Pubkey {
    find(&[b"ClockAccount"])
}

/// `["ArciumSignerAccount"]` under the **MXE program** (not Arcium's): the PDA the MXE program
/// signs its `queue_computation` CPI with.
pub fn signer(mxe_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[b"ArciumSignerAccount"], mxe_program).0
}

/// The computation-definition offset of a circuit: `u32::from_le_bytes(sha256(name)[..4])`.
pub fn comp_def_offset(circuit_name: &str) -> u32 {
    let digest = Sha256::digest(circuit_name.as_bytes());
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Every Arcium account a queue-computation transaction names, in the order of Arcium's
/// `queue_computation` instruction (after the payer, which signs and pays).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueAccounts {
    /// The MXE program's signer PDA (signs the CPI).
    pub sign_seed: Pubkey,
    /// The new computation account (writable).
    pub computation: Pubkey,
    /// The MXE account.
    pub mxe: Pubkey,
    /// The cluster's executing pool (writable).
    pub executing_pool: Pubkey,
    /// The cluster's mempool (writable).
    pub mempool: Pubkey,
    /// The circuit's computation definition.
    pub comp_def: Pubkey,
    /// The cluster (writable).
    pub cluster: Pubkey,
    /// Arcium's fee pool (writable).
    pub fee_pool: Pubkey,
    /// Arcium's clock (writable).
    pub clock: Pubkey,
}

impl QueueAccounts {
    /// The accounts for queueing `circuit_name` of `mxe_program` as computation
    /// `computation_offset` (a number the submitter picks, unique per computation), on the
    /// cluster named by the MXE account.
    pub fn new(
        mxe_program: &Pubkey,
        mxe: &MxeAccount,
        circuit_name: &str,
        computation_offset: u64,
    ) -> QueueAccounts {
        QueueAccounts {
            sign_seed: signer(mxe_program),
            computation: computation(mxe.cluster, computation_offset),
            mxe: mxe_account(mxe_program),
            executing_pool: executing_pool(mxe.cluster),
            mempool: mempool(mxe.cluster),
            comp_def: computation_definition(mxe_program, comp_def_offset(circuit_name)),
            cluster: cluster(mxe.cluster),
            fee_pool: fee_pool(),
            clock: clock(),
        }
    }
}
