//! Reading the program's settle outcomes back from transaction logs.

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine as _;
use toss_intent_processor::events::{IntentRejected, IntentSettled, RejectReason};

/// One settlement outcome, in log order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `IntentSettled` with its id, amount and fee.
    Settled {
        /// Intent id (SHA-256 of the intent bytes).
        id: [u8; 32],
        /// Amount moved to the recipient.
        amount: u64,
        /// Relayer fee paid.
        fee: u64,
    },
    /// `IntentRejected` with its id and reason.
    Rejected {
        /// Intent id.
        id: [u8; 32],
        /// Why the program skipped it.
        reason: RejectReason,
    },
}

impl Outcome {
    /// The intent id this outcome is about.
    pub fn id(&self) -> [u8; 32] {
        match self {
            Outcome::Settled { id, .. } | Outcome::Rejected { id, .. } => *id,
        }
    }
}

/// The settle outcomes logged by the program: `Program data:` lines (SBF), or the same behind
/// `Program log: ` (native runs, see `toss_intent_processor::events::emit_event`). Lines that
/// are not TOSS events are ignored; so are events that do not decode.
pub fn outcomes(logs: &[String]) -> Vec<Outcome> {
    let mut out = Vec::new();
    for line in logs {
        let line = line.strip_prefix("Program log: ").unwrap_or(line);
        let Some(b64) = line.strip_prefix("Program data: ") else {
            continue;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            continue;
        };
        if bytes.len() < 8 {
            continue;
        }
        let (disc, mut body) = bytes.split_at(8);
        if disc == IntentSettled::DISCRIMINATOR {
            if let Ok(e) = IntentSettled::deserialize(&mut body) {
                out.push(Outcome::Settled {
                    id: e.id,
                    amount: e.amount,
                    fee: e.fee,
                });
            }
        } else if disc == IntentRejected::DISCRIMINATOR {
            if let Ok(e) = IntentRejected::deserialize(&mut body) {
                out.push(Outcome::Rejected {
                    id: e.id,
                    reason: e.reason,
                });
            }
        }
    }
    out
}
