//! Property test: random transition sequences against an in-memory model.

use std::collections::HashMap;

use proptest::prelude::*;

use super::intent;
use crate::store::{SqliteStore, Status, Store, Transition};

/// The lifecycle rules, written out independently of `Status::allowed_from`.
fn model_allows(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (Pending, Queued | Expired | Rejected | Conflict)
            | (Queued, Submitted | Pending | Expired | Rejected | Conflict)
            | (
                Submitted,
                Settled | Rejected | Queued | Pending | Expired | Conflict
            )
    )
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct ModelIntent {
    status: Option<Status>,
    attempts: u32,
    audit_rows: usize,
}

fn status() -> impl Strategy<Value = Status> {
    proptest::sample::select(Status::ALL.to_vec())
}

/// One `apply` call: transitions on intents 0..4 (intent 3 is never inserted).
fn call() -> impl Strategy<Value = Vec<(u32, Status, bool)>> {
    proptest::collection::vec((0u32..4, status(), any::<bool>()), 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn transitions_follow_the_model(calls in proptest::collection::vec(call(), 1..12)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async {
            let store = SqliteStore::open_in_memory().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let fail = |e: crate::store::StoreError| TestCaseError::fail(e.to_string());
            store.insert_intents((0..3).map(intent).collect()).await.map_err(fail)?;
            let mut model: HashMap<u32, ModelIntent> = (0..4).map(|n| (n, ModelIntent::default())).collect();
            for n in 0..3 {
                model.insert(n, ModelIntent { status: Some(Status::Pending), attempts: 0, audit_rows: 1 });
            }
            for c in calls {
                let ts: Vec<Transition> = c.iter().map(|(n, to, bump)| {
                    let t = Transition::new(intent(*n).id, *to, crate::store::Actor::Operator);
                    if *bump { t.bump_attempts() } else { t }
                }).collect();
                let got = store.apply(ts).await.map_err(fail)?;
                let mut want = Vec::new();
                for (n, to, bump) in &c {
                    let m = model.entry(*n).or_default();
                    let ok = m.status.is_some_and(|from| model_allows(from, *to));
                    if ok {
                        m.status = Some(*to);
                        m.attempts += u32::from(*bump);
                        m.audit_rows += 1;
                    }
                    want.push(ok);
                }
                prop_assert_eq!(got, want);
            }
            for (n, m) in &model {
                let id = intent(*n).id;
                let rec = store.get(id).await.map_err(fail)?;
                prop_assert_eq!(rec.as_ref().map(|r| r.status), m.status);
                prop_assert_eq!(rec.map(|r| r.attempts).unwrap_or(0), m.attempts);
                let audit = store.audit(id).await.map_err(fail)?;
                prop_assert_eq!(audit.len(), m.audit_rows);
                // The trail is a chain: each row starts where the previous ended.
                for w in audit.windows(2) {
                    prop_assert_eq!(w[1].from, Some(w[0].to));
                }
            }
            Ok(())
        })?;
    }
}
