//! Direct lamport moves of one `intent_settle`, held back until every CPI of the instruction
//! has run.
//!
//! The runtime checks, when a program makes a CPI, that the lamports of the caller's accounts
//! it can see still add up; it only syncs the accounts passed to that CPI. If an earlier
//! intent's payment had already credited an account a later CPI touches (another payer's nonce
//! account or nonce-authority PDA, a token account), that CPI would fail with
//! `UnbalancedInstruction` and take the whole batch down: any payer could do it at will, since
//! nonce addresses are public. So SOL intents only *record* their moves here; later intents see
//! the recorded balances ([`Ledger::lamports`]); [`Ledger::apply`] writes them after the loop.

use crate::constants::MAX_INTENTS_PER_SETTLE;
use crate::error::TossError;
use alloc::vec::Vec;
use anchor_lang::prelude::*;

/// One account's pending change.
struct Entry<'a, 'info> {
    info: &'a AccountInfo<'info>,
    credit: u64,
    debit: u64,
}

/// Pending lamport moves, one entry per distinct account.
pub struct Ledger<'a, 'info> {
    entries: Vec<Entry<'a, 'info>>,
}

impl<'a, 'info> Ledger<'a, 'info> {
    /// An empty ledger sized for a full batch (vault and recipient per intent, and the relayer).
    pub fn new() -> Self {
        Self {
            entries: Vec::with_capacity(2 * MAX_INTENTS_PER_SETTLE + 1),
        }
    }

    fn entry(&mut self, info: &'a AccountInfo<'info>) -> &mut Entry<'a, 'info> {
        let at = match self.entries.iter().position(|e| e.info.key == info.key) {
            Some(at) => at,
            None => {
                self.entries.push(Entry {
                    info,
                    credit: 0,
                    debit: 0,
                });
                self.entries.len() - 1
            }
        };
        &mut self.entries[at]
    }

    /// The account's lamports once the recorded moves are applied (`None` on overflow).
    pub fn lamports(&self, info: &AccountInfo) -> Option<u64> {
        match self.entries.iter().find(|e| e.info.key == info.key) {
            Some(e) => info.lamports().checked_add(e.credit)?.checked_sub(e.debit),
            None => Some(info.lamports()),
        }
    }

    /// Records `lamports` leaving `info` (a vault this program owns).
    pub fn debit(&mut self, info: &'a AccountInfo<'info>, lamports: u64) -> Result<()> {
        let e = self.entry(info);
        e.debit = e
            .debit
            .checked_add(lamports)
            .ok_or(TossError::ArithmeticOverflow)?;
        Ok(())
    }

    /// Records `lamports` arriving at `info`.
    pub fn credit(&mut self, info: &'a AccountInfo<'info>, lamports: u64) -> Result<()> {
        let e = self.entry(info);
        e.credit = e
            .credit
            .checked_add(lamports)
            .ok_or(TossError::ArithmeticOverflow)?;
        Ok(())
    }

    /// Writes every recorded move. Call once, after the instruction's last CPI.
    pub fn apply(self) -> Result<()> {
        for e in &self.entries {
            let mut balance = e.info.try_borrow_mut_lamports()?;
            **balance = balance
                .checked_add(e.credit)
                .and_then(|b| b.checked_sub(e.debit))
                .ok_or(TossError::ArithmeticOverflow)?;
        }
        Ok(())
    }
}

impl Default for Ledger<'_, '_> {
    fn default() -> Self {
        Self::new()
    }
}
