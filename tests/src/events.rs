//! Reading the program's events back from transaction logs.

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine as _;
use toss_intent_processor::events::{IntentRejected, IntentSettled, RejectReason};

/// One settlement outcome, in log order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `IntentSettled` with its id, amount and fee.
    Settled { id: [u8; 32], amount: u64, fee: u64 },
    /// `IntentRejected` with its id and reason.
    Rejected { id: [u8; 32], reason: RejectReason },
}

/// The settle outcomes logged by the program: `Program data:` lines (SBF), or the same behind
/// `Program log: ` (native runs, see `toss_intent_processor::events::emit_event`).
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
            let e = IntentSettled::deserialize(&mut body).expect("IntentSettled");
            out.push(Outcome::Settled {
                id: e.id,
                amount: e.amount,
                fee: e.fee,
            });
        } else if disc == IntentRejected::DISCRIMINATOR {
            let e = IntentRejected::deserialize(&mut body).expect("IntentRejected");
            out.push(Outcome::Rejected {
                id: e.id,
                reason: e.reason,
            });
        }
    }
    out
}
