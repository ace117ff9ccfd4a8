//! The payee's offline check of a received intent: what a merchant can verify with no network,
//! from what it cached while online (the payer's nonce values, funds, pending withdrawal and
//! nonce closes) and what it already accepted.
//!
//! The rule for a pending withdrawal (or nonce close): the program lets it execute only in
//! `[unlocks_at, window_ends_at]` (later if settlement is paused, never after the window). A
//! request the payee has seen is reserved: an intent is accepted only if it still settles when
//! every withdrawal that could execute before the intent's expiry is executed first, and an
//! intent on a nonce whose close could execute before its expiry is refused. A request the
//! payee has *not* seen (made after its last sync) unlocks no earlier than `sync time + the
//! shortest withdrawal delay + 1 s`, so an intent must expire by `sync time + that delay`
//! (`sync_deadline`): a merchant who synced long ago must sync again, or accept only intents
//! that expire sooner.

use crate::pool_file::{PendingWindow, PendingWithdrawal, PoolFile};
use crate::SignedIntent;
use solana_pubkey::Pubkey;

/// What the payee knows, offline.
#[derive(Clone, Debug)]
pub struct PayeeView {
    /// This merchant's wallet (the intent must pay it).
    pub me: Pubkey,
    /// Current unix time on the device.
    pub now: i64,
    /// The program's max intent lifetime (seconds) as last seen online.
    pub max_lifetime_secs: i64,
    /// The nonce value the payee last saw for the intent's nonce account, if any.
    pub known_nonce_value: Option<[u8; 32]>,
    /// The payer's spendable funds as last seen online: vault balance above the rent floor
    /// (SOL) or the allowance, capped by the balance (tokens).
    pub last_known_funds: u64,
    /// The sum (amount + max fee) of the payer's intents this payee already accepted and that
    /// have not settled yet, on the same funds.
    pub already_accepted: u64,
    /// The payer's pending vault withdrawal as last seen online (SOL intents only).
    pub pending_withdrawal: Option<PendingWithdrawal>,
    /// A pending close request of the intent's nonce account as last seen online.
    pub nonce_close: Option<PendingWindow>,
    /// The last expiry safe against requests made after the payee's sync: sync time plus the
    /// shortest withdrawal delay in force or scheduled then (`None`: not known, not checked —
    /// only for callers that watch the chain themselves).
    pub sync_deadline: Option<i64>,
}

impl PayeeView {
    /// The view of a SOL `intent` from the payer's synced pool file (`toss nonce list`), for
    /// the merchant `me` at `now`, with `already_accepted` of this payer's intents held.
    /// `None` when the pool file carries no vault snapshot (written by an older version), and
    /// for token intents: the pool file carries the vault, not the token allowance, so a
    /// merchant accepting token intents offline builds the view from its own sync of the
    /// payer's token account.
    pub fn from_pool(
        pool: &PoolFile,
        me: Pubkey,
        now: i64,
        intent: &toss_intent_processor::intent::Intent,
        already_accepted: u64,
    ) -> Option<Self> {
        if intent.mint.is_some() {
            return None;
        }
        let vault = pool.vault?;
        let entry = pool.entry_of(&intent.nonce_account);
        let known_nonce_value = entry.and_then(|e| {
            bs58::decode(&e.value)
                .into_vec()
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
        });
        Some(Self {
            me,
            now,
            max_lifetime_secs: vault.max_intent_lifetime_secs,
            known_nonce_value,
            last_known_funds: vault.spendable,
            already_accepted,
            pending_withdrawal: vault.pending_withdrawal,
            nonce_close: entry.and_then(|e| e.close),
            sync_deadline: Some(
                vault
                    .synced_at
                    .saturating_add(vault.min_withdrawal_delay_secs),
            ),
        })
    }
}

/// Why an intent was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Bytes do not decode or the signature does not verify.
    BadSignature,
    /// The intent pays someone else.
    NotForMe,
    /// Already past its expiry.
    Expired,
    /// Expires further ahead than the program allows: it could not settle now, and a payer's
    /// withdrawal could execute before it does.
    LifetimeTooLong,
    /// The nonce value differs from the one last seen (used, or not the payer's current one).
    StaleNonce,
    /// The payee never saw this nonce account: it cannot tell whether it was used.
    UnknownNonce,
    /// Amount + fee exceeds what is left of the payer's last known funds.
    InsufficientFunds,
    /// Amount + fee fits the funds, but not once the payer's pending withdrawal, which could
    /// execute before the intent expires, is taken out.
    WithdrawalPending,
    /// A close request of the intent's nonce could execute before the intent expires.
    NonceClosing,
    /// The intent expires after `sync_deadline`: a withdrawal or nonce close requested since
    /// the payee's last sync could execute first. Sync again (or ask for a shorter expiry).
    SyncTooOld,
}

/// The verdict of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Safe to accept as far as can be known offline; `reserve` is what to add to
    /// `already_accepted` for this payer.
    Accept { reserve: u64 },
    /// Refused, with the reason.
    Refuse(Refusal),
}

/// Checks a received intent offline.
pub fn check(signed: &SignedIntent, view: &PayeeView) -> Verdict {
    let Ok(intent) = signed.verify() else {
        return Verdict::Refuse(Refusal::BadSignature);
    };
    if intent.recipient != view.me {
        return Verdict::Refuse(Refusal::NotForMe);
    }
    if view.now > intent.expiry {
        return Verdict::Refuse(Refusal::Expired);
    }
    if intent.expiry.saturating_sub(view.now) > view.max_lifetime_secs {
        return Verdict::Refuse(Refusal::LifetimeTooLong);
    }
    if view
        .sync_deadline
        .is_some_and(|deadline| intent.expiry > deadline)
    {
        return Verdict::Refuse(Refusal::SyncTooOld);
    }
    match view.known_nonce_value {
        None => return Verdict::Refuse(Refusal::UnknownNonce),
        Some(value) if value != intent.nonce_value => return Verdict::Refuse(Refusal::StaleNonce),
        Some(_) => {}
    }
    if view
        .nonce_close
        .is_some_and(|close| close.could_execute_between(view.now, intent.expiry))
    {
        return Verdict::Refuse(Refusal::NonceClosing);
    }
    let reserve = intent.amount.saturating_add(intent.max_fee);
    let left = view.last_known_funds.saturating_sub(view.already_accepted);
    if reserve > left {
        return Verdict::Refuse(Refusal::InsufficientFunds);
    }
    // Token intents spend the allowance, which a vault withdrawal does not touch.
    let withdrawable = match view.pending_withdrawal {
        Some(w)
            if intent.mint.is_none()
                && w.window().could_execute_between(view.now, intent.expiry) =>
        {
            w.amount
        }
        _ => 0,
    };
    if reserve > left.saturating_sub(withdrawable) {
        return Verdict::Refuse(Refusal::WithdrawalPending);
    }
    Verdict::Accept { reserve }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_keypair::Keypair;
    use solana_signer::Signer;
    use toss_intent_processor::intent::Intent;

    fn setup() -> (SignedIntent, PayeeView) {
        let payer = Keypair::new();
        let me = Pubkey::new_unique();
        let intent = Intent {
            sender: payer.pubkey(),
            recipient: me,
            mint: None,
            amount: 1_000,
            nonce_account: Pubkey::new_unique(),
            nonce_value: [9; 32],
            expiry: 10_000,
            max_fee: 10,
            reference: None,
        };
        let view = PayeeView {
            me,
            now: 9_500,
            max_lifetime_secs: 3_600,
            known_nonce_value: Some([9; 32]),
            last_known_funds: 5_000,
            already_accepted: 0,
            pending_withdrawal: None,
            nonce_close: None,
            sync_deadline: Some(10_000),
        };
        (SignedIntent::sign(&payer, &intent).unwrap(), view)
    }

    #[test]
    fn accepts_a_good_intent_and_reserves_amount_plus_fee() {
        let (signed, view) = setup();
        assert_eq!(check(&signed, &view), Verdict::Accept { reserve: 1_010 });
    }

    #[test]
    fn refuses_each_problem_with_its_reason() {
        let (signed, view) = setup();
        type Edit = Box<dyn Fn(&mut PayeeView, &mut SignedIntent)>;
        let cases: Vec<(Edit, Refusal)> = vec![
            (Box::new(|_, s| s.signature[0] ^= 1), Refusal::BadSignature),
            (
                Box::new(|v, _| v.me = Pubkey::new_unique()),
                Refusal::NotForMe,
            ),
            (Box::new(|v, _| v.now = 10_001), Refusal::Expired),
            (Box::new(|v, _| v.now = 1_000), Refusal::LifetimeTooLong),
            (
                Box::new(|v, _| v.known_nonce_value = Some([8; 32])),
                Refusal::StaleNonce,
            ),
            (
                Box::new(|v, _| v.known_nonce_value = None),
                Refusal::UnknownNonce,
            ),
            (
                Box::new(|v, _| v.already_accepted = 4_000),
                Refusal::InsufficientFunds,
            ),
            (
                Box::new(|v, _| {
                    v.pending_withdrawal = Some(PendingWithdrawal {
                        amount: 4_000,
                        unlocks_at: 9_000,
                        window_ends_at: 9_600,
                    })
                }),
                Refusal::WithdrawalPending,
            ),
            (
                Box::new(|v, _| v.sync_deadline = Some(9_999)),
                Refusal::SyncTooOld,
            ),
            (
                Box::new(|v, _| {
                    v.nonce_close = Some(PendingWindow {
                        unlocks_at: 10_000,
                        window_ends_at: 20_000,
                    })
                }),
                Refusal::NonceClosing,
            ),
        ];
        for (edit, refusal) in cases {
            let (mut v, mut s) = (view.clone(), signed.clone());
            edit(&mut v, &mut s);
            assert_eq!(check(&s, &v), Verdict::Refuse(refusal));
        }
    }

    #[test]
    fn a_withdrawal_that_cannot_execute_before_expiry_or_has_lapsed_is_not_reserved() {
        let (signed, mut view) = setup();
        for (unlocks_at, window_ends_at) in [(10_001, 20_000), (8_000, 9_499)] {
            view.pending_withdrawal = Some(PendingWithdrawal {
                amount: 4_500,
                unlocks_at,
                window_ends_at,
            });
            assert_eq!(check(&signed, &view), Verdict::Accept { reserve: 1_010 });
        }
        // Executable at the last second before expiry: reserved.
        view.pending_withdrawal = Some(PendingWithdrawal {
            amount: 4_500,
            unlocks_at: 10_000,
            window_ends_at: 20_000,
        });
        assert_eq!(
            check(&signed, &view),
            Verdict::Refuse(Refusal::WithdrawalPending)
        );
        // A smaller pending withdrawal leaves room.
        view.pending_withdrawal = Some(PendingWithdrawal {
            amount: 3_990,
            unlocks_at: 10_000,
            window_ends_at: 20_000,
        });
        assert_eq!(check(&signed, &view), Verdict::Accept { reserve: 1_010 });
        // A lapsed nonce close does not matter either.
        view.nonce_close = Some(PendingWindow {
            unlocks_at: 1_000,
            window_ends_at: 9_499,
        });
        assert_eq!(check(&signed, &view), Verdict::Accept { reserve: 1_010 });
    }
}
