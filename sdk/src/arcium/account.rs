//! The Arcium program's `MXEAccount`, decoded from its published layout (the `arcium` IDL of
//! Arcium 0.16.0; Borsh, after the 8-byte Anchor discriminator `sha256("account:MXEAccount")[..8]`):
//!
//! | field | type |
//! |---|---|
//! | `_padding` | `u8` (was the tag of `cluster: Option<u32>`) |
//! | `cluster` | `u32`, the offset of the cluster executing the MXE |
//! | `keygen_offset`, `key_recovery_init_offset` | `u64`, `u64` |
//! | `mxe_program_id` | `Pubkey` |
//! | `authority` | `Option<Pubkey>` |
//! | `utility_pubkeys` | `SetUnset<UtilityPubkeys>`: tag 0 `Set(T)`, tag 1 `Unset(T, Vec<bool>)` |
//! | `lut_offset_slot` | `u64` |
//! | `computation_definitions` | `Vec<u32>` |
//! | `status` | enum `u8`: 0 `Active`, 1 `Migration` |
//! | `bump` | `u8` |
//! | `current_epoch_recovery_rewards`, `recovery_rewards_epoch` | `u64`, `u64` (appended later; optional here) |
//!
//! `UtilityPubkeys` = `x25519_pubkey [u8; 32]`, `ed25519_verifying_key [u8; 32]`,
//! `elgamal_pubkey [u8; 32]`, `pubkey_validity_proof [u8; 64]`. The X25519 key is usable only
//! once `utility_pubkeys` is `Set` (the nodes fill it in during key generation).

use super::cipher::MxePublicKey;
use super::ArciumError;
use solana_pubkey::Pubkey;

/// Anchor discriminator of `MXEAccount`: `sha256("account:MXEAccount")[..8]`.
pub const MXE_ACCOUNT_DISCRIMINATOR: [u8; 8] = [103, 26, 85, 250, 179, 159, 17, 117];

/// The keys the MXE nodes publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UtilityPubkeys {
    /// X25519 public key for key exchange with clients.
    pub x25519_pubkey: [u8; 32],
    /// Ed25519 verifying key.
    pub ed25519_verifying_key: [u8; 32],
    /// ElGamal public key (confidential SPL).
    pub elgamal_pubkey: [u8; 32],
    /// Validity proof of the ElGamal key.
    pub pubkey_validity_proof: [u8; 64],
}

/// `SetUnset<UtilityPubkeys>`: set, or still being filled in by the nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UtilityKeys {
    /// Generated and final.
    Set(UtilityPubkeys),
    /// Not final; one flag per node that has contributed.
    Unset(UtilityPubkeys, Vec<bool>),
}

/// MXE status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MxeStatus {
    /// Serving computations.
    Active,
    /// Being migrated to another cluster.
    Migration,
}

/// A decoded `MXEAccount`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxeAccount {
    /// Offset of the cluster executing this MXE (seeds its cluster, mempool, pool accounts).
    pub cluster: u32,
    /// Offset of the key-generation computation.
    pub keygen_offset: u64,
    /// Offset of the key-recovery-init computation.
    pub key_recovery_init_offset: u64,
    /// The MXE program this account belongs to.
    pub mxe_program_id: Pubkey,
    /// Management authority.
    pub authority: Option<Pubkey>,
    /// The published keys.
    pub utility_pubkeys: UtilityKeys,
    /// Slot the MXE's lookup table was derived from.
    pub lut_offset_slot: u64,
    /// Offsets of the MXE's computation definitions.
    pub computation_definitions: Vec<u32>,
    /// Status.
    pub status: MxeStatus,
    /// PDA bump.
    pub bump: u8,
    /// Recovery rewards of the current epoch and that epoch (absent in older accounts).
    pub recovery_rewards: Option<(u64, u64)>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ArciumError> {
        if self.0.len() < n {
            return Err(ArciumError::Account(format!("truncated at {what}")));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ArciumError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
    fn u8(&mut self, what: &str) -> Result<u8, ArciumError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, ArciumError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, ArciumError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn pubkey(&mut self, what: &str) -> Result<Pubkey, ArciumError> {
        Ok(Pubkey::new_from_array(self.array(what)?))
    }
    fn len(&mut self, what: &str, item: usize) -> Result<usize, ArciumError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(item) > self.0.len() {
            return Err(ArciumError::Account(format!(
                "{what}: length {n} past the end"
            )));
        }
        Ok(n)
    }
    fn utility(&mut self) -> Result<UtilityPubkeys, ArciumError> {
        Ok(UtilityPubkeys {
            x25519_pubkey: self.array("x25519_pubkey")?,
            ed25519_verifying_key: self.array("ed25519_verifying_key")?,
            elgamal_pubkey: self.array("elgamal_pubkey")?,
            pubkey_validity_proof: self.array("pubkey_validity_proof")?,
        })
    }
}

impl MxeAccount {
    /// Decodes account data (discriminator included). Trailing bytes (reallocated space, fields
    /// added by later versions) are ignored, as Anchor's own decoder does.
    pub fn decode(data: &[u8]) -> Result<MxeAccount, ArciumError> {
        let mut r = Reader(data);
        if r.array::<8>("discriminator")? != MXE_ACCOUNT_DISCRIMINATOR {
            return Err(ArciumError::Account(
                "not an MXEAccount (discriminator)".into(),
            ));
        }
        r.u8("_padding")?;
        let cluster = r.u32("cluster")?;
        let keygen_offset = r.u64("keygen_offset")?;
        let key_recovery_init_offset = r.u64("key_recovery_init_offset")?;
        let mxe_program_id = r.pubkey("mxe_program_id")?;
        let authority = match r.u8("authority")? {
            0 => None,
            1 => Some(r.pubkey("authority")?),
            t => return Err(ArciumError::Account(format!("authority: option tag {t}"))),
        };
        let utility_pubkeys = match r.u8("utility_pubkeys")? {
            0 => UtilityKeys::Set(r.utility()?),
            1 => {
                let keys = r.utility()?;
                let n = r.len("utility_pubkeys flags", 1)?;
                let flags = r
                    .take(n, "utility_pubkeys flags")?
                    .iter()
                    .map(|&b| match b {
                        0 => Ok(false),
                        1 => Ok(true),
                        _ => Err(ArciumError::Account(format!("bool byte {b}"))),
                    })
                    .collect::<Result<Vec<bool>, _>>()?;
                UtilityKeys::Unset(keys, flags)
            }
            t => return Err(ArciumError::Account(format!("utility_pubkeys: tag {t}"))),
        };
        let lut_offset_slot = r.u64("lut_offset_slot")?;
        let n = r.len("computation_definitions", 4)?;
        let computation_definitions = (0..n)
            .map(|_| r.u32("computation_definitions"))
            .collect::<Result<Vec<u32>, _>>()?;
        let status = match r.u8("status")? {
            0 => MxeStatus::Active,
            1 => MxeStatus::Migration,
            t => return Err(ArciumError::Account(format!("status: variant {t}"))),
        };
        let bump = r.u8("bump")?;
        let recovery_rewards = if r.0.len() >= 16 {
            Some((r.u64("rewards")?, r.u64("rewards epoch")?))
        } else {
            None
        };
        Ok(MxeAccount {
            cluster,
            keygen_offset,
            key_recovery_init_offset,
            mxe_program_id,
            authority,
            utility_pubkeys,
            lut_offset_slot,
            computation_definitions,
            status,
            bump,
            recovery_rewards,
        })
    }

    /// Encodes the account in the same layout (for fixtures: an in-process cluster that plays
    /// the Arcium program's role).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MXE_ACCOUNT_DISCRIMINATOR.to_vec();
        out.push(0);
        out.extend_from_slice(&self.cluster.to_le_bytes());
        out.extend_from_slice(&self.keygen_offset.to_le_bytes());
        out.extend_from_slice(&self.key_recovery_init_offset.to_le_bytes());
        out.extend_from_slice(self.mxe_program_id.as_ref());
        match &self.authority {
            None => out.push(0),
            Some(a) => {
                out.push(1);
                out.extend_from_slice(a.as_ref());
            }
        }
        let utility = |out: &mut Vec<u8>, k: &UtilityPubkeys| {
            out.extend_from_slice(&k.x25519_pubkey);
            out.extend_from_slice(&k.ed25519_verifying_key);
            out.extend_from_slice(&k.elgamal_pubkey);
            out.extend_from_slice(&k.pubkey_validity_proof);
        };
        match &self.utility_pubkeys {
            UtilityKeys::Set(k) => {
                out.push(0);
                utility(&mut out, k);
            }
            UtilityKeys::Unset(k, flags) => {
                out.push(1);
                utility(&mut out, k);
                out.extend_from_slice(&(flags.len() as u32).to_le_bytes());
                out.extend(flags.iter().map(|&f| u8::from(f)));
            }
        }
        out.extend_from_slice(&self.lut_offset_slot.to_le_bytes());
        out.extend_from_slice(&(self.computation_definitions.len() as u32).to_le_bytes());
        for c in &self.computation_definitions {
            out.extend_from_slice(&c.to_le_bytes());
        }
        out.push(match self.status {
            MxeStatus::Active => 0,
            MxeStatus::Migration => 1,
        });
        out.push(self.bump);
        if let Some((rewards, epoch)) = self.recovery_rewards {
            out.extend_from_slice(&rewards.to_le_bytes());
            out.extend_from_slice(&epoch.to_le_bytes());
        }
        out
    }

    /// The MXE's X25519 key: [`ArciumError::MxeKeyUnset`] while `utility_pubkeys` is `Unset`
    /// or the key is all zero.
    pub fn x25519_key(&self) -> Result<MxePublicKey, ArciumError> {
        match &self.utility_pubkeys {
            UtilityKeys::Set(k) => MxePublicKey::new(k.x25519_pubkey),
            UtilityKeys::Unset(..) => Err(ArciumError::MxeKeyUnset),
        }
    }
}
