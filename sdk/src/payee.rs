//! The payee's offline check of a received intent: what a merchant can verify with no network,
//! from what it cached while online (the payer's nonce values and funds) and what it already
//! accepted.

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
    match view.known_nonce_value {
        None => return Verdict::Refuse(Refusal::UnknownNonce),
        Some(value) if value != intent.nonce_value => return Verdict::Refuse(Refusal::StaleNonce),
        Some(_) => {}
    }
    let reserve = intent.amount.saturating_add(intent.max_fee);
    let left = view.last_known_funds.saturating_sub(view.already_accepted);
    if reserve > left {
        return Verdict::Refuse(Refusal::InsufficientFunds);
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
        ];
        for (edit, refusal) in cases {
            let (mut v, mut s) = (view.clone(), signed.clone());
            edit(&mut v, &mut s);
            assert_eq!(check(&s, &v), Verdict::Refuse(refusal));
        }
    }
}
