//! Reading the program's settle outcomes back from transaction logs.

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine as _;
use toss_intent_processor::events::{
    CompactIntentRejected, IntentRejected, IntentSettled, RejectReason,
};

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
/// `Program log: ` (native runs, see `toss_intent_processor::events::emit_event`), counted only
/// while this program is the one executing: the runtime's `Program <id> invoke [n]` /
/// `Program <id> success|failed` lines are followed as a stack, so another program (invoked
/// in the same transaction, or by CPI) cannot forge an outcome by logging look-alike data.
/// Lines that are not TOSS events are ignored; so are events that do not decode.
pub fn outcomes(logs: &[String]) -> Vec<Outcome> {
    let mut out = Vec::new();
    for bytes in program_data(logs) {
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

/// The compact form's rejections of intents whose bytes could not be rebuilt (no id: named
/// by nonce account and nonce prefix), read from the logs as [`outcomes`] reads.
pub fn compact_rejections(logs: &[String]) -> Vec<CompactIntentRejected> {
    program_data(logs)
        .into_iter()
        .filter_map(|bytes| {
            let (disc, mut body) = bytes.split_at(8);
            (disc == CompactIntentRejected::DISCRIMINATOR)
                .then(|| CompactIntentRejected::deserialize(&mut body).ok())
                .flatten()
        })
        .collect()
}

/// Every event payload (discriminator first) the program logged while executing.
fn program_data(logs: &[String]) -> Vec<Vec<u8>> {
    let toss = toss_intent_processor::ID.to_string();
    let mut stack: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for line in logs {
        if let Some(rest) = line.strip_prefix("Program ") {
            let mut words = rest.split(' ');
            match (words.next(), words.next()) {
                (Some(id), Some("invoke")) => {
                    stack.push(id);
                    continue;
                }
                (Some(id), Some("success" | "failed:")) if stack.last() == Some(&id) => {
                    stack.pop();
                    continue;
                }
                _ => {}
            }
        }
        if stack.last() != Some(&toss.as_str()) {
            continue;
        }
        let line = line.strip_prefix("Program log: ").unwrap_or(line);
        let Some(b64) = line.strip_prefix("Program data: ") else {
            continue;
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            continue;
        };
        if bytes.len() >= 8 {
            out.push(bytes);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::AnchorSerialize;

    fn data_line(id: u8) -> String {
        let mut bytes = IntentSettled::DISCRIMINATOR.to_vec();
        IntentSettled {
            id: [id; 32],
            sender: Default::default(),
            recipient: Default::default(),
            amount: 5,
            fee: 1,
        }
        .serialize(&mut bytes)
        .unwrap();
        format!(
            "Program data: {}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    #[test]
    fn only_this_programs_events_count() {
        let toss = toss_intent_processor::ID.to_string();
        let other = "Ev11111111111111111111111111111111111111111";
        let logs = vec![
            format!("Program {other} invoke [1]"),
            // Look-alike events from another program, raw and behind `Program log:`.
            data_line(1),
            format!("Program log: {}", data_line(2)),
            // A forged frame line, as another program's msg! would print it.
            format!("Program log: Program {toss} invoke [2]"),
            data_line(3),
            format!("Program {other} success"),
            format!("Program {toss} invoke [1]"),
            "Program 11111111111111111111111111111111 invoke [2]".into(),
            data_line(4),
            "Program 11111111111111111111111111111111 success".into(),
            data_line(5),
            format!("Program log: {}", data_line(6)),
            format!("Program {toss} success"),
            data_line(7),
        ];
        let ids: Vec<u8> = outcomes(&logs).iter().map(|o| o.id()[0]).collect();
        assert_eq!(ids, vec![5, 6]);
    }
}
