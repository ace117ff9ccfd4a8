//! Wiring: one [`Relayer`] is the HTTP intake (and the Noise endpoint, when enabled) plus the
//! batcher and sweeper tasks over one store and one cluster. [`RelayerHandle::shutdown`]
//! stops them in order.

use crate::api;
use crate::batch;
use crate::breaker::Breaker;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::noise;
use crate::reconcile;
use crate::store::{IntentId, Lease, Store};
use crate::validate::Validator;
use crate::RelayerError;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_pubkey::Pubkey;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinHandle;
use toss_sdk::cluster::Cluster;

/// State shared by every stage (one per relayer instance; no globals).
pub struct Ctx {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Where transactions go.
    pub cluster: Arc<dyn Cluster>,
    /// Where intents live.
    pub store: Arc<dyn Store>,
    /// Signs and pays for settle transactions, receives relayer fees.
    pub fee_payer: Arc<Keypair>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Intake checks.
    pub validator: Arc<Validator>,
    /// Pauses submission when the cluster keeps failing.
    pub breaker: Arc<Breaker>,
    /// Admin pause: intake continues, submission stops.
    pub paused: AtomicBool,
    /// False once shutdown began: intake answers 503.
    pub accepting: AtomicBool,
    /// Woken when new intents are stored.
    pub wake: Notify,
    /// Bounds batches in flight (`submit.in_flight_max`).
    pub in_flight: Arc<Semaphore>,
    /// Batches a live task is handling (the sweeper resumes the others).
    pub active_batches: Mutex<HashSet<i64>>,
    /// Nonce accounts with an intent in a live batch (the next one waits).
    pub busy_nonces: Mutex<HashSet<Pubkey>>,
    /// Intents whose batch failed as a whole: they are retried alone to isolate the culprit.
    pub solo: Mutex<HashSet<IntentId>>,
    /// Most intents a settle transaction held in the last packing that filled one (sizes the
    /// batcher's window; starts at `batch.max_intents`).
    pub fit_hint: std::sync::atomic::AtomicUsize,
    /// Every signature in flight, polled by one task.
    pub watcher: crate::watcher::Watcher,
    /// Payers' vault, nonce-authority, delegate and token-account addresses, derived once.
    pub addresses: crate::addresses::AddressCache,
    /// Token program owning each mint seen so far.
    pub token_programs: Mutex<HashMap<Pubkey, Pubkey>>,
    /// Lookup tables for v0 transactions (empty: legacy transactions).
    pub lookup_tables: Mutex<Vec<AddressLookupTableAccount>>,
    /// No new batches before this instant (the program reported itself paused).
    pub hold_until: Mutex<Option<std::time::Instant>>,
    /// Confidential mode (`[arcium] enabled`).
    pub arcium: Option<crate::arcium::Confidential>,
    /// This instance's id and lease length: it owns the batches it drives (see
    /// `crate::claims`).
    pub lease: Lease,
}

impl Ctx {
    /// True when the admin paused submission.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Holds new batches for `duration` (a paused program: sending would only burn fees).
    pub fn hold_for(&self, duration: Duration) {
        if let Ok(mut h) = self.hold_until.lock() {
            *h = Some(std::time::Instant::now() + duration);
        }
    }

    /// True while a hold is in force.
    pub fn is_held(&self) -> bool {
        self.hold_until
            .lock()
            .ok()
            .and_then(|h| *h)
            .is_some_and(|until| std::time::Instant::now() < until)
    }

    /// Pauses or resumes submission.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
        self.metrics.paused.set(i64::from(paused));
        if !paused {
            self.wake.notify_one();
        }
    }
}

/// `[store] instance_id`, or `toss-` and the first 8 characters of the fee payer's address.
pub fn instance_id(config: &Config, fee_payer: &Keypair) -> String {
    config.store.instance_id.clone().unwrap_or_else(|| {
        let key = solana_signer::Signer::pubkey(fee_payer).to_string();
        format!("toss-{}", &key[..8.min(key.len())])
    })
}

/// A relayer being assembled.
pub struct Relayer {
    ctx: Arc<Ctx>,
}

/// A running relayer.
pub struct RelayerHandle {
    /// Shared state (tests inspect it).
    pub ctx: Arc<Ctx>,
    /// The address the HTTP server listens on.
    pub addr: SocketAddr,
    /// The address the Noise endpoint listens on (`[noise] enabled`).
    pub noise_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    noise: Option<JoinHandle<()>>,
    batcher: JoinHandle<()>,
    sweeper: JoinHandle<()>,
    /// Renews the leases of batches in flight; stops with the watcher, after the last batch.
    renewer: JoinHandle<()>,
    /// The status watcher outlives the batcher and the sweeper (their batches use it).
    watcher: JoinHandle<()>,
    watcher_stop: watch::Sender<bool>,
}

impl Relayer {
    /// A relayer over `cluster` and `store`, paying with `fee_payer`.
    pub fn new(
        config: Arc<Config>,
        cluster: Arc<dyn Cluster>,
        store: Arc<dyn Store>,
        fee_payer: Keypair,
    ) -> Result<Self, RelayerError> {
        let instance = instance_id(&config, &fee_payer);
        let lease = Lease::new(
            instance.clone(),
            i64::try_from(config.store.lease_ms).unwrap_or(i64::MAX),
        );
        let metrics = Metrics::new(&instance).map_err(|e| RelayerError::Other(e.to_string()))?;
        let validator = Validator::new(config.intake.clone(), cluster.clone());
        let s = &config.submit;
        let breaker = Breaker::new(
            s.breaker_window,
            s.breaker_failure_ratio,
            Duration::from_millis(s.breaker_cooldown_ms),
        );
        let arcium = crate::arcium::Confidential::new(&config.arcium, &metrics)
            .map_err(RelayerError::Other)?;
        let max_intents = config.batch.max_intents.max(1);
        let ctx = Ctx {
            lease,
            arcium,
            in_flight: Arc::new(Semaphore::new(s.in_flight_max.max(1))),
            config,
            cluster,
            store,
            fee_payer: Arc::new(fee_payer),
            metrics: Arc::new(metrics),
            validator: Arc::new(validator),
            breaker: Arc::new(breaker),
            paused: AtomicBool::new(false),
            accepting: AtomicBool::new(true),
            wake: Notify::new(),
            active_batches: Mutex::new(HashSet::new()),
            busy_nonces: Mutex::new(HashSet::new()),
            solo: Mutex::new(HashSet::new()),
            fit_hint: std::sync::atomic::AtomicUsize::new(max_intents),
            addresses: Default::default(),
            watcher: Default::default(),
            token_programs: Mutex::new(HashMap::new()),
            lookup_tables: Mutex::new(Vec::new()),
            hold_until: Mutex::new(None),
        };
        Ok(Self { ctx: Arc::new(ctx) })
    }

    /// Settles with v0 transactions using `tables`.
    pub fn with_lookup_tables(self, tables: Vec<AddressLookupTableAccount>) -> Self {
        if let Ok(mut t) = self.ctx.lookup_tables.lock() {
            *t = tables;
        }
        self
    }

    /// Recovers from any earlier crash, then serves on `listener` and starts the pipeline.
    pub async fn start(self, listener: TcpListener) -> Result<RelayerHandle, RelayerError> {
        let ctx = self.ctx;
        match ctx.validator.chain.refresh().await {
            Ok(()) => {
                tracing::info!(program_config = %ctx.validator.chain.summary(), "intake checks the program's own config and the cluster clock")
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the program config yet; intake retries on each request")
            }
        }
        reconcile::recover(&ctx).await?;
        // Intents still open keep their funds reserved across a restart.
        let open: Vec<crate::funds::Spend> = ctx
            .store
            .nonfinal()
            .await?
            .iter()
            .map(|r| crate::funds::Spend::of(&r.intent))
            .collect();
        ctx.validator.funds.hold(&open);
        let addr = listener
            .local_addr()
            .map_err(|e| RelayerError::Server(e.to_string()))?;
        let (stop, stop_rx) = watch::channel(false);
        let noise_identity = if ctx.config.noise.enabled {
            Some(Arc::new(noise::load_identity(
                &ctx.config.noise,
                &ctx.fee_payer,
            )?))
        } else {
            None
        };
        let noise_record = noise_identity.as_ref().map(|i| Arc::new(i.record.clone()));
        // One state for every ingress: the HTTP router and the Noise listener share the
        // intake queue and the rate limiters.
        let state = api::AppState::new(ctx.clone(), noise_record);
        let (noise_addr, noise) = match noise_identity {
            Some(identity) => {
                let listen = &ctx.config.noise.listen;
                let listener = TcpListener::bind(listen)
                    .await
                    .map_err(|e| RelayerError::Server(format!("noise listener {listen}: {e}")))?;
                let noise_addr = listener
                    .local_addr()
                    .map_err(|e| RelayerError::Server(e.to_string()))?;
                tracing::info!(%noise_addr, x25519 = %identity.record.x25519, "noise endpoint listening");
                let task = noise::spawn(listener, state.clone(), identity, stop_rx.clone())?;
                (Some(noise_addr), Some(task))
            }
            None => (None, None),
        };
        let app = api::router(state);
        let mut server_stop = stop_rx.clone();
        // Small JSON answers on keep-alive connections: without TCP_NODELAY, Nagle's algorithm
        // and the client's delayed ACK hold many of them for ~40 ms.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let server = tokio::spawn(async move {
            let serve = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "http server stopped");
            }
        });
        let (watcher_stop, watcher_rx) = watch::channel(false);
        let renewer = tokio::spawn(crate::claims::renew_loop(ctx.clone(), watcher_rx.clone()));
        let watcher = tokio::spawn(crate::watcher::run(ctx.clone(), watcher_rx));
        let batcher = tokio::spawn(batch::run(ctx.clone(), stop_rx.clone()));
        let sweeper = tokio::spawn(crate::claims::sweep_loop(ctx.clone(), stop_rx));
        tracing::info!(%addr, instance = %ctx.lease.owner, store = ctx.store.backend(), fee_payer = %solana_signer::Signer::pubkey(ctx.fee_payer.as_ref()), "relayer started");
        Ok(RelayerHandle {
            ctx,
            addr,
            noise_addr,
            stop,
            server,
            noise,
            batcher,
            sweeper,
            renewer,
            watcher,
            watcher_stop,
        })
    }
}

impl RelayerHandle {
    /// The base URL of the HTTP API.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops in order: intake (new requests get 503; the HTTP server and the Noise endpoint
    /// finish the requests they are handling and close), the batcher (after one last flush of
    /// what is pending), in-flight transactions (bounded by `submit.confirm_timeout_ms`),
    /// then flushes the store. Whatever is not final resumes at the next start.
    pub async fn shutdown(self) -> Result<(), RelayerError> {
        self.ctx.accepting.store(false, Ordering::SeqCst);
        let _ = self.stop.send(true);
        let _ = self.server.await;
        if let Some(noise) = self.noise {
            let _ = noise.await;
        }
        let _ = self.batcher.await;
        let _ = self.sweeper.await;
        let _ = self.watcher_stop.send(true);
        let _ = self.watcher.await;
        let _ = self.renewer.await;
        self.ctx.store.flush().await?;
        tracing::info!("relayer stopped");
        Ok(())
    }

    /// Simulates a crash: every task (and, with the batcher's and sweeper's task sets, every
    /// in-flight batch) is aborted at once; nothing is drained beyond what the store already
    /// committed.
    pub fn abort(self) {
        self.server.abort();
        if let Some(noise) = &self.noise {
            noise.abort();
        }
        self.batcher.abort();
        self.sweeper.abort();
        self.renewer.abort();
        self.watcher.abort();
    }
}
