//! Cluster reads on the acknowledgement path (nonce values, senders' funds): a wallet is
//! waiting on the answer, so each read is bounded and retried quickly instead of waiting out
//! the RPC client's own 30 s timeout, and a transient failure of one request does not refuse
//! the whole intake group when the next request would have succeeded.
//!
//! Worst case: [`ATTEMPTS`] × [`ATTEMPT_TIMEOUT`] plus the pauses between them (~4.7 s), then
//! the caller answers `503 cluster_unavailable` and the wallet retries. Measured by the
//! real-validator RPC-fault drill (30 % of requests failed, stalled 12 s or lost).

use std::future::Future;
use std::time::Duration;
use toss_sdk::cluster::{ClusterError, ClusterResult};

/// Attempts per read.
pub const ATTEMPTS: u32 = 3;
/// How long one attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1_500);
/// Pause before the second attempt (doubled before each further one).
pub const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// Runs `read` until it succeeds, fails for good (a non-transient error), or
/// [`ATTEMPTS`] attempts failed; an attempt that outlives [`ATTEMPT_TIMEOUT`] counts as a
/// [`ClusterError::Timeout`].
pub async fn bounded<T, F, Fut>(mut read: F) -> ClusterResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ClusterResult<T>>,
{
    let mut pause = FIRST_PAUSE;
    let mut last = ClusterError::Timeout;
    for attempt in 1..=ATTEMPTS {
        match tokio::time::timeout(ATTEMPT_TIMEOUT, read()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if !e.is_transient() => return Err(e),
            Ok(Err(e)) => last = e,
            Err(_) => last = ClusterError::Timeout,
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_transient_failures_and_hangs_then_gives_up() {
        let calls = AtomicU32::new(0);
        // A hang, then a transport error, then an answer.
        let v = bounded(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    Ok(0)
                }
                1 => Err(ClusterError::Transport("503".into())),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(v.ok(), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let started = std::time::Instant::now();
        let v: ClusterResult<u8> = bounded(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(1)
        })
        .await;
        assert!(matches!(v, Err(ClusterError::Timeout)));
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
        assert!(started.elapsed() < ATTEMPT_TIMEOUT * ATTEMPTS + Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_lasting_error_is_not_retried() {
        let calls = AtomicU32::new(0);
        let v: ClusterResult<u8> = bounded(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ClusterError::Other("invalid params".into()))
        })
        .await;
        assert!(matches!(v, Err(ClusterError::Other(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
