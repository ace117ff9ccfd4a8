//! Prometheus metrics (`GET /metrics`): the TOSS guide's TossMetrics and the pipeline's
//! depths. One registry per relayer instance, so tests can run several side by side.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Every metric the relayer exports.
pub struct Metrics {
    registry: Registry,
    /// Intents received over any intake (before validation).
    pub received: IntCounter,
    /// Intents newly stored (acknowledged).
    pub accepted: IntCounter,
    /// Intents refused at intake, by error code.
    pub refused: IntCounterVec,
    /// Intents reaching a final state, by state (`settled`, `rejected`, `expired`, `conflict`).
    pub finals: IntCounterVec,
    /// Seconds from receipt to `settled`.
    pub settlement_latency: Histogram,
    /// Intents per sent settle transaction.
    pub batch_size: Histogram,
    /// Settle transactions by outcome (`landed`, `failed`, `expired`, `send_error`).
    pub transactions: IntCounterVec,
    /// Failed cluster requests.
    pub rpc_errors: IntCounter,
    /// The fee payer's balance, lamports.
    pub fee_payer_lamports: IntGauge,
    /// Intents in each non-final state.
    pub queue_depth: IntGaugeVec,
    /// 1 while submission is paused (admin or circuit breaker), else 0.
    pub paused: IntGauge,
    /// Senders backed off because their intents kept failing on-chain (`crate::funds`).
    pub sender_backoffs: IntCounter,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("toss".into()), None)?;
        let received = IntCounter::new("intents_received_total", "Intents received")?;
        let accepted = IntCounter::new("intents_accepted_total", "Intents durably accepted")?;
        let refused = IntCounterVec::new(
            Opts::new(
                "intents_refused_total",
                "Intents refused at intake, by code",
            ),
            &["code"],
        )?;
        let finals = IntCounterVec::new(
            Opts::new("intents_final_total", "Intents reaching a final state"),
            &["status"],
        )?;
        let settlement_latency = Histogram::with_opts(
            HistogramOpts::new(
                "settlement_latency_seconds",
                "Seconds from receipt to settlement",
            )
            .buckets(vec![
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ]),
        )?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("batch_size_intents", "Intents per settle transaction")
                .buckets(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 12.0, 16.0]),
        )?;
        let transactions = IntCounterVec::new(
            Opts::new("transactions_total", "Settle transactions by outcome"),
            &["outcome"],
        )?;
        let rpc_errors = IntCounter::new("rpc_errors_total", "Failed cluster requests")?;
        let fee_payer_lamports = IntGauge::new("fee_payer_lamports", "Fee payer balance")?;
        let queue_depth = IntGaugeVec::new(
            Opts::new("queue_depth", "Intents in each non-final state"),
            &["status"],
        )?;
        let paused = IntGauge::new("submission_paused", "1 while submission is paused")?;
        let sender_backoffs = IntCounter::new(
            "sender_backoffs_total",
            "Senders backed off because their intents kept failing on-chain",
        )?;
        registry.register(Box::new(sender_backoffs.clone()))?;
        registry.register(Box::new(received.clone()))?;
        registry.register(Box::new(accepted.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(finals.clone()))?;
        registry.register(Box::new(settlement_latency.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(transactions.clone()))?;
        registry.register(Box::new(rpc_errors.clone()))?;
        registry.register(Box::new(fee_payer_lamports.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(paused.clone()))?;
        Ok(Self {
            registry,
            received,
            accepted,
            refused,
            finals,
            settlement_latency,
            batch_size,
            transactions,
            rpc_errors,
            fee_payer_lamports,
            queue_depth,
            paused,
            sender_backoffs,
        })
    }

    /// Registers another stage's collector (e.g. the Noise endpoint's) in this registry, so
    /// `/metrics` shows it.
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// Settled ÷ (settled + rejected) so far (1 before any outcome).
    pub fn success_rate(&self) -> f64 {
        let settled = self.finals.with_label_values(&["settled"]).get();
        let rejected = self.finals.with_label_values(&["rejected"]).get();
        if settled + rejected == 0 {
            return 1.0;
        }
        settled as f64 / (settled + rejected) as f64
    }

    /// The Prometheus text exposition of every metric, plus the success-rate gauge.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics; an empty page is the
        // fallback.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        let mut text = String::from_utf8(out).unwrap_or_default();
        text.push_str(
            "# HELP toss_settlement_success_ratio Settled / (settled + rejected)\n\
             # TYPE toss_settlement_success_ratio gauge\n",
        );
        text.push_str(&format!(
            "toss_settlement_success_ratio {}\n",
            self.success_rate()
        ));
        text
    }
}
