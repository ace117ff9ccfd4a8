//! Ed25519 precompile introspection: the program reads the signed intents from the precompile
//! instruction itself, in place, through the instructions sysvar.
//!
//! The precompile verified every signature before this program ran (a bad signature fails the
//! whole transaction). What is left to this module is to make sure that what was verified is
//! what gets settled:
//! - the instruction is the Ed25519 program's, carries no accounts, and directly precedes
//!   `intent_settle`;
//! - every offsets entry reads its signature, public key and message from the precompile
//!   instruction's own data (`*_instruction_index` is `u16::MAX` or its own index);
//! - the data is in the **canonical layout** below, with exact offsets, so entries can neither
//!   overlap nor share bytes: one signature entry settles exactly one intent;
//! - the public key is the intent's sender field, inside the signed message.
//!
//! Canonical precompile data for `n` intents (`n` = signature count):
//! ```text
//! [n: u8][0: u8]                              header
//! n × [14-byte Ed25519SignatureOffsets]       entry i
//! n × [signature: 64][message: len_i]         payload i, back to back, in entry order
//! ```
//! with, for entry i whose payload starts at `p_i` (`p_0 = 2 + 14n`):
//! `signature_offset = p_i`, `message_data_offset = p_i + 64`,
//! `public_key_offset = p_i + 64 + 8` (the sender field of the intent),
//! `message_data_size = len_i`, `p_{i+1} = p_i + 64 + len_i`, and the data ends at `p_n`.

use crate::constants::ED25519_PROGRAM_ID;
use crate::error::TossError;
use crate::intent::SENDER_OFFSET;
use anchor_lang::prelude::*;

/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of one `Ed25519SignatureOffsets` entry.
pub const OFFSETS_LEN: usize = 14;
/// Bytes before the first offsets entry (count + padding).
pub const HEADER_LEN: usize = 2;
/// `*_instruction_index` value meaning "this instruction".
pub const THIS_INSTRUCTION: u16 = u16::MAX;

fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([bytes[0], bytes[1]]))
}

/// An instruction read in place from the instructions sysvar's data.
pub struct SysvarInstruction<'a> {
    /// The instruction's program id.
    pub program_id: Pubkey,
    /// How many account metas it carries.
    pub num_accounts: u16,
    /// Its data.
    pub data: &'a [u8],
}

/// Index of the currently executing top-level instruction (the sysvar's last two bytes).
pub fn current_index(sysvar_data: &[u8]) -> Result<u16> {
    let at = sysvar_data
        .len()
        .checked_sub(2)
        .ok_or(TossError::InvalidInstructionsSysvar)?;
    read_u16(sysvar_data, at).ok_or_else(|| TossError::InvalidInstructionsSysvar.into())
}

/// Reads instruction `index` in place. Layout (`construct_instructions_data`):
/// `[count: u16][offset: u16; count]` then per instruction
/// `[num_accounts: u16][(flags: u8, pubkey: 32); num_accounts][program_id: 32][len: u16][data]`.
pub fn load_instruction(sysvar_data: &[u8], index: u16) -> Result<SysvarInstruction<'_>> {
    let parse = || -> Option<SysvarInstruction<'_>> {
        let count = read_u16(sysvar_data, 0)?;
        if index >= count {
            return None;
        }
        let mut at = usize::from(read_u16(sysvar_data, 2 + 2 * usize::from(index))?);
        let num_accounts = read_u16(sysvar_data, at)?;
        at = at.checked_add(2 + 33 * usize::from(num_accounts))?;
        let program_id = sysvar_data.get(at..at + 32)?;
        at += 32;
        let len = usize::from(read_u16(sysvar_data, at)?);
        at += 2;
        let data = sysvar_data.get(at..at.checked_add(len)?)?;
        let mut key = [0u8; 32];
        key.copy_from_slice(program_id);
        Some(SysvarInstruction {
            program_id: Pubkey::new_from_array(key),
            num_accounts,
            data,
        })
    };
    parse().ok_or_else(|| TossError::PrecompileMissing.into())
}

/// A bound Ed25519 precompile instruction.
pub struct Precompile<'a> {
    data: &'a [u8],
    own_index: u16,
    count: usize,
}

impl<'a> Precompile<'a> {
    /// Loads and checks the Ed25519 instruction directly before instruction `current`.
    pub fn load_preceding(sysvar_data: &'a [u8], current: u16) -> Result<Self> {
        let own_index = current.checked_sub(1).ok_or(TossError::PrecompileMissing)?;
        let ix = load_instruction(sysvar_data, own_index)?;
        require_keys_eq!(
            ix.program_id,
            ED25519_PROGRAM_ID,
            TossError::PrecompileMissing
        );
        require_eq!(ix.num_accounts, 0, TossError::PrecompileHasAccounts);
        let (&count, rest) = ix
            .data
            .split_first()
            .ok_or(TossError::PrecompileMalformed)?;
        require!(rest.first() == Some(&0), TossError::PrecompileMalformed);
        let count = usize::from(count);
        require!(
            ix.data.len() >= HEADER_LEN + OFFSETS_LEN * count,
            TossError::PrecompileMalformed
        );
        Ok(Self {
            data: ix.data,
            own_index,
            count,
        })
    }

    /// Number of signatures the precompile verified.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The signed messages, in entry order.
    pub fn messages(&self) -> Messages<'a> {
        Messages {
            data: self.data,
            own_index: self.own_index,
            count: self.count,
            next: 0,
            cursor: HEADER_LEN + OFFSETS_LEN * self.count,
        }
    }
}

/// Walks the precompile's entries, checking the canonical layout as it goes.
pub struct Messages<'a> {
    data: &'a [u8],
    own_index: u16,
    count: usize,
    next: usize,
    cursor: usize,
}

impl<'a> Messages<'a> {
    /// The next entry's signed message. Checks the entry's instruction indexes and that its
    /// offsets are exactly the canonical ones.
    pub fn next_message(&mut self) -> Result<&'a [u8]> {
        require!(self.next < self.count, TossError::SignatureCountMismatch);
        let entry = HEADER_LEN + OFFSETS_LEN * self.next;
        let field =
            |i: usize| read_u16(self.data, entry + 2 * i).ok_or(TossError::PrecompileMalformed);
        let (signature_offset, signature_ix) = (field(0)?, field(1)?);
        let (public_key_offset, public_key_ix) = (field(2)?, field(3)?);
        let (message_offset, message_size, message_ix) = (field(4)?, field(5)?, field(6)?);
        for ix in [signature_ix, public_key_ix, message_ix] {
            require!(
                ix == THIS_INSTRUCTION || ix == self.own_index,
                TossError::PrecompileForeignInstructionIndex
            );
        }
        let signature_at = self.cursor;
        let message_at = signature_at + SIGNATURE_LEN;
        require!(
            usize::from(signature_offset) == signature_at
                && usize::from(message_offset) == message_at
                && usize::from(public_key_offset) == message_at + SENDER_OFFSET,
            TossError::PrecompileMalformed
        );
        let message_end = message_at + usize::from(message_size);
        let message = self
            .data
            .get(message_at..message_end)
            .ok_or(TossError::PrecompileMalformed)?;
        self.cursor = message_end;
        self.next += 1;
        Ok(message)
    }

    /// Fails unless every entry was consumed and no byte follows the last message.
    pub fn finish(self) -> Result<()> {
        require_eq!(self.next, self.count, TossError::SignatureCountMismatch);
        require_eq!(self.cursor, self.data.len(), TossError::PrecompileMalformed);
        Ok(())
    }
}
