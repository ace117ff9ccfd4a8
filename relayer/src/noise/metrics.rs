//! The Noise endpoint's Prometheus metrics (prefix `toss_`, in the relayer's registry).

use crate::metrics::Metrics;
use prometheus::{IntCounterVec, IntGauge, Opts};

/// Handshakes, closed sessions and open sessions.
pub struct NoiseMetrics {
    /// `noise_handshakes_total{pattern, outcome}`: `outcome` is `ok` or a close reason.
    pub handshakes: IntCounterVec,
    /// `noise_sessions_closed_total{reason}` (see `session::Close`).
    pub closed: IntCounterVec,
    /// `noise_requests_total{pattern}`: requests handled after a handshake.
    pub requests: IntCounterVec,
    /// `noise_sessions_active`: connections being served (handshakes included).
    pub active: IntGauge,
}

impl NoiseMetrics {
    /// Creates the metrics and registers them in `metrics`' registry.
    pub fn register(metrics: &Metrics) -> Result<Self, prometheus::Error> {
        let handshakes = IntCounterVec::new(
            Opts::new(
                "noise_handshakes_total",
                "Noise handshakes by pattern and outcome",
            ),
            &["pattern", "outcome"],
        )?;
        let closed = IntCounterVec::new(
            Opts::new(
                "noise_sessions_closed_total",
                "Noise sessions closed, by reason",
            ),
            &["reason"],
        )?;
        let requests = IntCounterVec::new(
            Opts::new("noise_requests_total", "Requests over Noise, by pattern"),
            &["pattern"],
        )?;
        let active = IntGauge::new("noise_sessions_active", "Noise sessions being served")?;
        metrics.register(Box::new(handshakes.clone()))?;
        metrics.register(Box::new(closed.clone()))?;
        metrics.register(Box::new(requests.clone()))?;
        metrics.register(Box::new(active.clone()))?;
        Ok(Self {
            handshakes,
            closed,
            requests,
            active,
        })
    }
}
