//! Intent and batch lifecycle states and the rules for moving between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Lifecycle state of one intent, stored as lowercase text.
///
/// `Pending`, `Queued` and `Submitted` are in flight; the other four are
/// final and never change once reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Validated, durably stored and acknowledged to the sender.
    Pending,
    /// Taken by the batcher for inclusion in a transaction.
    Queued,
    /// Inside a transaction that has been sent to the cluster.
    Submitted,
    /// Final: the transaction carrying the intent landed successfully.
    Settled,
    /// Final: the intent can never settle (invalid, failed on chain, ...).
    Rejected,
    /// Final: the intent's expiry passed before it settled.
    Expired,
    /// Final: lost to another intent on the same nonce ("first received wins").
    Conflict,
}

impl Status {
    /// Every status, in declaration (and `Ord`) order.
    pub const ALL: [Status; 7] = [
        Status::Pending,
        Status::Queued,
        Status::Submitted,
        Status::Settled,
        Status::Rejected,
        Status::Expired,
        Status::Conflict,
    ];

    /// The non-final statuses.
    pub const NON_FINAL: [Status; 3] = [Status::Pending, Status::Queued, Status::Submitted];

    /// The lowercase text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Queued => "queued",
            Status::Submitted => "submitted",
            Status::Settled => "settled",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Conflict => "conflict",
        }
    }

    /// True for states that never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Settled | Status::Rejected | Status::Expired | Status::Conflict
        )
    }

    /// The statuses from which an intent may move to `to`.
    ///
    /// This is the single source of the transition rules; the SQL
    /// compare-and-set and [`Status::can_transition_to`] are both built on it.
    pub fn allowed_from(to: Status) -> &'static [Status] {
        match to {
            Status::Pending => &[Status::Queued, Status::Submitted],
            Status::Queued => &[Status::Pending, Status::Submitted],
            Status::Submitted => &[Status::Queued],
            Status::Settled => &[Status::Submitted],
            Status::Rejected | Status::Expired | Status::Conflict => &Status::NON_FINAL,
        }
    }

    /// Whether an intent in `self` may move to `to`.
    pub fn can_transition_to(self, to: Status) -> bool {
        Status::allowed_from(to).contains(&self)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for text that names no known state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown state {0:?}")]
pub struct UnknownState(pub String);

impl FromStr for Status {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// State of one batch (one logical transaction, possibly re-signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    /// Created by the batcher, not sent yet.
    Open,
    /// Sent at least once; see the batch's signature history.
    Sent,
    /// Final: one of its signatures landed.
    Landed,
    /// Final: it failed on chain or was abandoned with an error.
    Failed,
    /// Final: it never landed and its blockhash expired.
    Dropped,
}

impl BatchState {
    /// Every batch state, in declaration order.
    pub const ALL: [BatchState; 5] = [
        BatchState::Open,
        BatchState::Sent,
        BatchState::Landed,
        BatchState::Failed,
        BatchState::Dropped,
    ];

    /// The lowercase text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Open => "open",
            BatchState::Sent => "sent",
            BatchState::Landed => "landed",
            BatchState::Failed => "failed",
            BatchState::Dropped => "dropped",
        }
    }

    /// True for states that never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BatchState::Landed | BatchState::Failed | BatchState::Dropped
        )
    }
}

impl fmt::Display for BatchState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BatchState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BatchState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        for s in BatchState::ALL {
            assert_eq!(s.as_str().parse::<BatchState>(), Ok(s));
        }
        assert!("Pending".parse::<Status>().is_err());
    }

    #[test]
    fn rules_match_the_spec() {
        use Status::*;
        let allowed = [
            (Pending, vec![Queued, Expired, Rejected, Conflict]),
            (
                Queued,
                vec![Submitted, Pending, Expired, Rejected, Conflict],
            ),
            (
                Submitted,
                vec![Settled, Rejected, Queued, Pending, Expired, Conflict],
            ),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, _)| *f == from)
                    .is_some_and(|(_, tos)| tos.contains(&to));
                assert_eq!(from.can_transition_to(to), expected, "{from} -> {to}");
            }
            assert_eq!(from.is_final(), !Status::NON_FINAL.contains(&from));
        }
    }
}
