//! Wiring: one [`Relayer`] is the HTTP intake (and the Noise endpoint, when enabled) plus the
//! pipeline's tasks over one store and one cluster, connected one way:
//!
//! ```text
//! intake ──store──▶ batcher ─┐
//!                    sweeper ─┴─ Batch ──▶ submitter ── Sent ──▶ reconciler
//!        lookup-table keeper ──▶ (tables the batcher packs against)
//! ```
//!
//! No stage imports this module; it is the only place that knows them all.
//! [`RelayerHandle::shutdown`] stops them in that order.

use crate::api;
use crate::batch::{self, Batch};
use crate::breaker::Breaker;
use crate::config::Config;
pub use crate::ctx::Ctx;
use crate::ctx::{Claims, Flow, Packing};
use crate::metrics::Metrics;
use crate::noise;
use crate::reconcile;
use crate::store::{InstanceHold, Lease, Store};
use crate::submit;
use crate::validate::Validator;
use crate::RelayerError;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinHandle};
use toss_sdk::cluster::Cluster;

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
    submitter: JoinHandle<()>,
    reconciler: JoinHandle<()>,
    /// Where batches go to the submitter (weak: the stages hold the live senders, so the
    /// submitter stops once they did).
    batches: mpsc::WeakUnboundedSender<Batch>,
    /// The lookup-table keeper (`tables.manage`).
    keeper: Option<JoinHandle<()>>,
    /// Keeps this process's hold on the instance id (released when it ends).
    instance: JoinHandle<()>,
    /// Why the relayer stopped on its own, once it did (see [`RelayerHandle::failed`]).
    fatal: watch::Receiver<Option<String>>,
    /// Renews the leases of batches in flight; stops with the watcher, after the last batch.
    renewer: JoinHandle<()>,
    /// The status watcher outlives the submitter (its batches use it).
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
        let in_flight_max = config.submit.in_flight_max;
        let ctx = Ctx {
            lease,
            arcium,
            config,
            cluster,
            store,
            fee_payer: Arc::new(fee_payer),
            metrics: Arc::new(metrics),
            validator: Arc::new(validator),
            flow: Flow::new(breaker, in_flight_max),
            claims: Claims::default(),
            packing: Packing::new(max_intents),
            watcher: Default::default(),
        };
        Ok(Self { ctx: Arc::new(ctx) })
    }

    /// Settles with v0 transactions using the operator's `tables` (and this instance's own,
    /// when `tables.manage` is on).
    pub fn with_lookup_tables(self, tables: Vec<AddressLookupTableAccount>) -> Self {
        self.ctx.packing.set_operator_tables(tables);
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
        // One live process per instance id, before anything of this id's is touched.
        let hold = take_instance(&ctx).await?;
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
        let poller = crate::watcher::Poller {
            watcher: ctx.watcher.clone(),
            cluster: ctx.cluster.clone(),
            breaker: ctx.flow.breaker.clone(),
            metrics: ctx.metrics.clone(),
            interval: Duration::from_millis(ctx.config.submit.poll_interval_ms),
        };
        let watcher = tokio::spawn(crate::watcher::run(poller, watcher_rx));
        let (batches, to_submit) = mpsc::unbounded_channel();
        let (sent, to_reconcile) = mpsc::unbounded_channel();
        let weak_batches = batches.downgrade();
        let reconciler = tokio::spawn(reconcile::run(ctx.clone(), to_reconcile));
        let submitter = tokio::spawn(submit::run(ctx.clone(), to_submit, sent));
        let batcher = tokio::spawn(batch::run(ctx.clone(), batches.clone(), stop_rx.clone()));
        let keeper = if ctx.config.tables.manage {
            let path = crate::tables::state_path(&ctx.config, &ctx.lease.owner);
            let keeper = crate::tables::Keeper::open(&path)?;
            tracing::info!(state = %path.display(), tables = keeper.registry().tables.len(), "lookup-table keeper started");
            Some(tokio::spawn(crate::tables::run(
                ctx.clone(),
                keeper,
                stop_rx.clone(),
            )))
        } else {
            None
        };
        let sweeper = tokio::spawn(crate::claims::sweep_loop(ctx.clone(), batches, stop_rx));
        // Losing the id to another process stops every task here at once (as a crash would).
        let mut tasks = vec![
            server.abort_handle(),
            batcher.abort_handle(),
            sweeper.abort_handle(),
            submitter.abort_handle(),
            reconciler.abort_handle(),
            renewer.abort_handle(),
            watcher.abort_handle(),
        ];
        tasks.extend(noise.iter().map(JoinHandle::abort_handle));
        tasks.extend(keeper.iter().map(JoinHandle::abort_handle));
        let (fatal_tx, fatal) = watch::channel(None);
        let instance = tokio::spawn(keep_instance(ctx.clone(), hold, tasks, fatal_tx));
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
            submitter,
            reconciler,
            batches: weak_batches,
            keeper,
            renewer,
            watcher,
            watcher_stop,
            instance,
            fatal,
        })
    }
}

/// Takes this process's hold on its instance id, waiting up to `store.lease_ms` for a
/// previous process under the id to finish exiting; refuses to start after that.
async fn take_instance(ctx: &Ctx) -> Result<InstanceHold, RelayerError> {
    let owner = &ctx.lease.owner;
    let patience = Duration::from_millis(ctx.config.store.lease_ms);
    let deadline = tokio::time::Instant::now() + patience;
    let mut warned = false;
    loop {
        if let Some(hold) = ctx.store.hold_instance(owner).await? {
            return Ok(hold);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(RelayerError::InstanceInUse(owner.clone()));
        }
        if !warned {
            tracing::warn!(instance = %owner, "another live process holds this instance id; waiting for it to exit");
            warned = true;
        }
        tokio::time::sleep(INSTANCE_RETRY).await;
    }
}

/// How often a hold that is not had (yet) is asked for again.
const INSTANCE_RETRY: Duration = Duration::from_millis(250);

/// Keeps the hold on the instance id for as long as the relayer runs. A hold lost with its
/// connection (PostgreSQL restarted, the session killed) is taken again; if another process
/// took the id meanwhile, every task is aborted and `fatal` says why: two processes under
/// one id would pass each other's lease fences.
async fn keep_instance(
    ctx: Arc<Ctx>,
    mut hold: InstanceHold,
    tasks: Vec<AbortHandle>,
    fatal: watch::Sender<Option<String>>,
) {
    let owner = ctx.lease.owner.clone();
    loop {
        hold.lost().await;
        ctx.flow.instance_held.store(false, Ordering::SeqCst);
        ctx.metrics.instance_hold_lost.inc();
        tracing::warn!(instance = %owner, "the hold on this instance id was lost with its connection; nothing is signed until it is taken again");
        hold = loop {
            tokio::time::sleep(INSTANCE_RETRY).await;
            match ctx.store.hold_instance(&owner).await {
                Ok(Some(h)) => {
                    tracing::info!(instance = %owner, "instance id held again");
                    ctx.flow.instance_held.store(true, Ordering::SeqCst);
                    ctx.flow.wake.notify_one();
                    break h;
                }
                Ok(None) => {
                    let why = format!(
                        "instance id {owner} was taken by another process while this one's hold \
                         was lost: stopped (two live processes must never share an id)"
                    );
                    tracing::error!(instance = %owner, "{why}");
                    ctx.flow.accepting.store(false, Ordering::SeqCst);
                    for task in &tasks {
                        task.abort();
                    }
                    let _ = fatal.send(Some(why));
                    return;
                }
                Err(e) => {
                    tracing::debug!(instance = %owner, error = %e, "cannot take the instance id back yet")
                }
            }
        };
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
        self.ctx.flow.accepting.store(false, Ordering::SeqCst);
        let _ = self.stop.send(true);
        let _ = self.server.await;
        if let Some(noise) = self.noise {
            let _ = noise.await;
        }
        let _ = self.batcher.await;
        if let Some(keeper) = self.keeper {
            let _ = keeper.await;
        }
        let _ = self.sweeper.await;
        let _ = self.submitter.await;
        let _ = self.reconciler.await;
        let _ = self.watcher_stop.send(true);
        let _ = self.watcher.await;
        let _ = self.renewer.await;
        self.ctx.store.flush().await?;
        self.instance.abort();
        let _ = self.instance.await;
        tracing::info!("relayer stopped");
        Ok(())
    }

    /// A sender to the submitter (tests and drills hand it batches, as the sweeper does);
    /// `None` once the pipeline stopped.
    pub fn batches(&self) -> Option<mpsc::UnboundedSender<Batch>> {
        self.batches.upgrade()
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
        if let Some(keeper) = &self.keeper {
            keeper.abort();
        }
        self.sweeper.abort();
        self.submitter.abort();
        self.reconciler.abort();
        self.renewer.abort();
        self.watcher.abort();
        self.instance.abort();
    }

    /// Resolves with the reason once the relayer stopped on its own (its instance id was
    /// taken by another process); never while it runs.
    pub async fn failed(&self) -> String {
        let mut fatal = self.fatal.clone();
        let why = match fatal.wait_for(Option::is_some).await {
            Ok(why) => why.clone(),
            Err(_) => None,
        };
        match why {
            Some(why) => why,
            None => std::future::pending().await,
        }
    }
}
