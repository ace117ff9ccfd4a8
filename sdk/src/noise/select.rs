//! Which pattern to use, following the Paykit guide's flowchart:
//!
//! ```text
//! no identities wanted at all ───────────────────────────────▶ NN
//! recipient's X25519 key known? ── no ───────────────────────▶ XX  (first contact)
//!          │ yes
//!          ▼
//! sender must be authenticated? ── yes ──────────────────────▶ IK
//!          │ no
//!          ▼
//!          N   (anonymous, one-way)
//! ```
//!
//! The flowchart sends every first contact to `XX`, which identifies the sender. A sender who
//! wants to stay anonymous and has no key yet fetches the relayer's record first
//! (`GET /v1/noise/key`) and then uses `N`.

use super::Pattern;

/// What the sender knows and wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Situation {
    /// The sender has the recipient's (relayer's) X25519 static key, e.g. pinned from its
    /// record.
    pub recipient_key_known: bool,
    /// The recipient must learn who the sender is (the sender's key and binding).
    pub sender_auth: bool,
    /// Neither side should use a static key (ephemeral negotiation; no authentication).
    pub no_identities: bool,
}

/// The pattern for `situation` (see the module docs).
pub fn select_pattern(situation: Situation) -> Pattern {
    if situation.no_identities {
        return Pattern::Nn;
    }
    match (situation.recipient_key_known, situation.sender_auth) {
        (false, _) => Pattern::Xx,
        (true, true) => Pattern::Ik,
        (true, false) => Pattern::N,
    }
}
