//! A circuit breaker over the cluster: when the share of failed requests among the last
//! `window` crosses `ratio`, submission pauses for `cooldown`, then one probe is let through;
//! a success closes the breaker, a failure opens it again.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Breaker state, for metrics and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// Requests wait until the cooldown ends.
    Open,
    /// The cooldown ended: the next result decides.
    HalfOpen,
}

struct Inner {
    recent: VecDeque<bool>,
    opened_at: Option<Instant>,
    trips: u64,
}

/// The breaker; cheap to share behind an `Arc`.
pub struct Breaker {
    window: usize,
    ratio: f64,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(window: u32, ratio: f64, cooldown: Duration) -> Self {
        Self {
            window: usize::try_from(window.max(1)).unwrap_or(1),
            ratio,
            cooldown,
            inner: Mutex::new(Inner {
                recent: VecDeque::new(),
                opened_at: None,
                trips: 0,
            }),
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        let Ok(inner) = self.inner.lock() else {
            return BreakerState::Open;
        };
        match inner.opened_at {
            None => BreakerState::Closed,
            Some(at) if at.elapsed() < self.cooldown => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// How long to wait before the next request may go (zero when closed or half-open).
    pub fn wait(&self) -> Duration {
        let Ok(inner) = self.inner.lock() else {
            return self.cooldown;
        };
        inner
            .opened_at
            .map(|at| self.cooldown.saturating_sub(at.elapsed()))
            .unwrap_or_default()
    }

    /// How many times it opened.
    pub fn trips(&self) -> u64 {
        self.inner.lock().map(|i| i.trips).unwrap_or(0)
    }

    /// Records one request's result.
    pub fn record(&self, ok: bool) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(at) = inner.opened_at {
            if at.elapsed() >= self.cooldown {
                // Half-open: this result decides.
                if ok {
                    inner.opened_at = None;
                    inner.recent.clear();
                } else {
                    inner.opened_at = Some(Instant::now());
                    inner.trips += 1;
                }
            }
            return;
        }
        inner.recent.push_back(ok);
        while inner.recent.len() > self.window {
            inner.recent.pop_front();
        }
        if inner.recent.len() >= self.window {
            let failures = inner.recent.iter().filter(|ok| !**ok).count();
            if failures as f64 >= self.ratio * self.window as f64 {
                inner.opened_at = Some(Instant::now());
                inner.trips += 1;
                inner.recent.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_on_failures_and_closes_after_a_good_probe() {
        let b = Breaker::new(4, 0.5, Duration::from_millis(30));
        b.record(true);
        b.record(false);
        b.record(true);
        assert_eq!(b.state(), BreakerState::Closed);
        b.record(false);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.trips(), 1);
        assert!(b.wait() > Duration::ZERO);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.record(false);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.trips(), 2);
        std::thread::sleep(Duration::from_millis(40));
        b.record(true);
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
