//! Prometheus metrics (`GET /metrics`): the TOSS guide's TossMetrics and the pipeline's
//! depths. One registry per relayer instance, so tests can run several side by side; every
//! metric carries the constant label `instance` (the instance id), so the series of several
//! instances scraped into one Prometheus stay apart.

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
    /// Unfinished batches this instance took over after their lease lapsed (a dead or
    /// restarted instance's work, or its own after a task gave up).
    pub lease_takeovers: IntCounter,
    /// Batches whose lease this instance failed to renew or lost to another instance.
    pub leases_lost: IntCounter,
    /// Times this process lost its hold on its instance id (`crate::store::InstanceHold`).
    pub instance_hold_lost: IntCounter,
    /// Age of the oldest non-final intent, seconds (0 when none).
    pub oldest_open_seconds: IntGauge,
    /// 1 while the circuit breaker holds sends, else 0.
    pub breaker_open: IntGauge,
    /// 1 while the store answers, 0 after a failed call (refreshed by every sweep).
    pub store_up: IntGauge,
    /// Settle transactions that landed, by form (`compact`, `precompile`; `unknown` for a
    /// signature recorded before a restart or takeover, signed in a form not known here).
    pub landed_by_form: IntCounterVec,
    /// What landed settle transactions cost the fee payer (base + priority fee by the cost
    /// model of `crate::forms`, exact for what the runtime charges), lamports, by form.
    pub settle_fees: IntCounterVec,
    /// This instance's lookup tables, by state (`active`, `deactivating`).
    pub lookup_tables: IntGaugeVec,
    /// Addresses its active lookup tables hold that transactions may use now.
    pub lookup_table_addresses: IntGauge,
    /// Lamports of rent its lookup tables lock.
    pub lookup_table_rent: IntGauge,
    /// Intents packed into settle transactions, by whether every account they name was in a
    /// lookup table (`covered` = `yes` / `no`): coverage = yes ÷ (yes + no).
    pub table_coverage: IntCounterVec,
    /// Intents the batcher's last pass held for the keeper to put their accounts in a
    /// lookup table (`tables.cover_wait_ms`).
    pub waiting_for_tables: IntGauge,
    instance: String,
}

impl Metrics {
    /// Registers every metric in a fresh registry, labelled with `instance`.
    pub fn new(instance: &str) -> Result<Self, prometheus::Error> {
        let labels =
            std::collections::HashMap::from([("instance".to_owned(), instance.to_owned())]);
        let registry = Registry::new_custom(Some("toss".into()), Some(labels))?;
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
        let lease_takeovers = IntCounter::new(
            "lease_takeovers_total",
            "Unfinished batches taken over after their lease lapsed",
        )?;
        let leases_lost = IntCounter::new(
            "leases_lost_total",
            "Batch leases this instance could not renew or lost to another instance",
        )?;
        let instance_hold_lost = IntCounter::new(
            "instance_hold_lost_total",
            "Times this process lost its hold on its instance id",
        )?;
        let oldest_open_seconds = IntGauge::new(
            "oldest_open_intent_seconds",
            "Age of the oldest non-final intent, seconds",
        )?;
        let breaker_open =
            IntGauge::new("breaker_open", "1 while the circuit breaker holds sends")?;
        let store_up = IntGauge::new("store_up", "1 while the store answers")?;
        let landed_by_form = IntCounterVec::new(
            Opts::new(
                "settle_transactions_landed_total",
                "Settle transactions that landed, by form",
            ),
            &["form"],
        )?;
        let settle_fees = IntCounterVec::new(
            Opts::new(
                "settle_fees_lamports_total",
                "Fees paid by landed settle transactions, lamports, by form",
            ),
            &["form"],
        )?;
        let lookup_tables = IntGaugeVec::new(
            Opts::new("lookup_tables", "This instance's lookup tables, by state"),
            &["state"],
        )?;
        let lookup_table_addresses = IntGauge::new(
            "lookup_table_addresses",
            "Usable addresses in this instance's active lookup tables",
        )?;
        let lookup_table_rent = IntGauge::new(
            "lookup_table_rent_lamports",
            "Rent this instance's lookup tables lock, lamports",
        )?;
        let table_coverage = IntCounterVec::new(
            Opts::new(
                "intents_packed_total",
                "Intents packed, by whether all their accounts were in a lookup table",
            ),
            &["covered"],
        )?;
        let waiting_for_tables = IntGauge::new(
            "intents_waiting_for_tables",
            "Intents held for a lookup table to cover their accounts",
        )?;
        for c in [&landed_by_form, &settle_fees, &table_coverage] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(lookup_tables.clone()))?;
        for g in [
            &lookup_table_addresses,
            &lookup_table_rent,
            &waiting_for_tables,
        ] {
            registry.register(Box::new(g.clone()))?;
        }
        for c in [&lease_takeovers, &leases_lost, &instance_hold_lost] {
            registry.register(Box::new(c.clone()))?;
        }
        for g in [&oldest_open_seconds, &breaker_open, &store_up] {
            registry.register(Box::new(g.clone()))?;
        }
        store_up.set(1);
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
            lease_takeovers,
            leases_lost,
            instance_hold_lost,
            oldest_open_seconds,
            breaker_open,
            store_up,
            landed_by_form,
            settle_fees,
            lookup_tables,
            lookup_table_addresses,
            lookup_table_rent,
            table_coverage,
            waiting_for_tables,
            instance: instance.to_owned(),
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

    /// The full name of every metric this registry exports (`toss_…`), whether or not it has
    /// a series yet.
    pub fn names(&self) -> Vec<String> {
        use prometheus::core::Collector;
        let collectors: [&dyn Collector; 25] = [
            &self.received,
            &self.accepted,
            &self.refused,
            &self.finals,
            &self.settlement_latency,
            &self.batch_size,
            &self.transactions,
            &self.rpc_errors,
            &self.fee_payer_lamports,
            &self.queue_depth,
            &self.paused,
            &self.sender_backoffs,
            &self.lease_takeovers,
            &self.leases_lost,
            &self.instance_hold_lost,
            &self.oldest_open_seconds,
            &self.breaker_open,
            &self.store_up,
            &self.landed_by_form,
            &self.settle_fees,
            &self.lookup_tables,
            &self.lookup_table_addresses,
            &self.lookup_table_rent,
            &self.table_coverage,
            &self.waiting_for_tables,
        ];
        let mut names: Vec<String> = collectors
            .iter()
            .flat_map(|c| c.desc().into_iter().map(|d| format!("toss_{}", d.fq_name)))
            .collect();
        names.push("toss_settlement_success_ratio".into());
        names.push("toss_log_lines_lost_total".into());
        names.sort();
        names.dedup();
        names
    }

    /// Counts `n` intents reaching the final `status`.
    pub fn count_final(&self, status: crate::store::Status, n: usize) {
        if n > 0 {
            self.finals
                .with_label_values(&[status.as_str()])
                .inc_by(n as u64);
        }
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

    /// The Prometheus text exposition of every metric, plus the success-rate gauge and the
    /// count of log lines lost.
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
            "toss_settlement_success_ratio{{instance=\"{}\"}} {}\n",
            self.instance,
            self.success_rate()
        ));
        // Process-wide, like the log itself.
        text.push_str(&format!(
            "# HELP toss_log_lines_lost_total Log lines dropped because they could not be \
             written (a full disk under the log)\n\
             # TYPE toss_log_lines_lost_total counter\n\
             toss_log_lines_lost_total{{instance=\"{}\"}} {}\n",
            self.instance,
            crate::logging::lines_lost()
        ));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    /// Every `toss_…` metric the shipped dashboard and alert rules name exists (histogram
    /// series by their base name).
    #[test]
    fn dashboard_and_alerts_name_only_real_metrics() -> Result<(), Box<dyn std::error::Error>> {
        let names = Metrics::new("test")?.names();
        let dashboard = include_str!("../deploy/grafana-dashboard.json");
        let alerts = include_str!("../deploy/prometheus-alerts.yml");
        let parsed: serde_json::Value = serde_json::from_str(dashboard)?;
        let panels = parsed["panels"].as_array().ok_or("no panels")?;
        assert!(panels.len() >= 10);
        for (file, text) in [("dashboard", dashboard), ("alerts", alerts)] {
            let mut seen = 0;
            for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !token.starts_with("toss_") {
                    continue;
                }
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| token.strip_suffix(s))
                    .filter(|b| names.iter().any(|n| n == b))
                    .unwrap_or(token);
                assert!(
                    names.iter().any(|n| n == base),
                    "{file} names {token}, which the relayer does not export; it does: {names:?}"
                );
                seen += 1;
            }
            assert!(seen >= 8, "{file} names only {seen} metrics");
        }
        // The alerts the operators' guide promises.
        for alert in [
            "TossFeePayerLow",
            "TossBreakerOpen",
            "TossSuccessRatioLow",
            "TossOldestIntentStuck",
            "TossLeaseTakeovers",
            "TossStoreDown",
        ] {
            assert!(alerts.contains(&format!("alert: {alert}")), "{alert}");
        }
        Ok(())
    }
}
