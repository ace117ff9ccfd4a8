//! Micro-batching intake: requests (HTTP or Noise) queue their intents; two workers each take
//! everything waiting (up to [`MAX_INTAKE_BATCH`] intents) and run it through [`intake`] at
//! once, so a burst of single-intent requests costs one store read, one parallel
//! verification, one nonce lookup and one group commit instead of one of each per request.
//! Nothing changes for the client: each request is answered after its own intents commit.

use super::accept::{intake, Submitted};
use super::error::ApiError;
use super::limits::Limits;
use crate::ctx::Ctx;
use crate::refusal::Code;
use solana_pubkey::Pubkey;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Most intents one worker takes in one go.
pub const MAX_INTAKE_BATCH: usize = 1_024;
/// Workers: one validates and commits while the other gathers the next group.
const WORKERS: usize = 2;

struct Job {
    texts: Vec<String>,
    source: Arc<str>,
    reply: oneshot::Sender<Vec<Result<Submitted, ApiError>>>,
}

/// The queue in front of [`intake`].
pub struct IntakeQueue {
    tx: mpsc::Sender<Job>,
}

impl IntakeQueue {
    /// Starts the workers (they stop when the queue is dropped).
    pub fn start(ctx: Arc<Ctx>, limits: Arc<Limits>) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(4_096);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..WORKERS {
            tokio::spawn(worker(ctx.clone(), limits.clone(), rx.clone()));
        }
        Self { tx }
    }

    /// Validates and stores `texts` from `source`; answers in input order.
    pub async fn submit(
        &self,
        texts: Vec<String>,
        source: Arc<str>,
    ) -> Vec<Result<Submitted, ApiError>> {
        let n = texts.len();
        let (reply, answer) = oneshot::channel();
        let job = Job {
            texts,
            source,
            reply,
        };
        if self.tx.send(job).await.is_err() {
            return vec![Err(unavailable()); n];
        }
        answer.await.unwrap_or_else(|_| vec![Err(unavailable()); n])
    }
}

fn unavailable() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        Code::ShuttingDown,
        "the relayer is shutting down; retry later",
    )
}

async fn worker(ctx: Arc<Ctx>, limits: Arc<Limits>, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let sender_ok = move |k: &Pubkey| limits.allow_sender(k);
    loop {
        let jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut total = first.texts.len();
            let mut jobs = vec![first];
            while total < MAX_INTAKE_BATCH {
                match rx.try_recv() {
                    Ok(job) => {
                        total += job.texts.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let mut items = Vec::new();
        let mut sizes = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            sizes.push(job.texts.len());
            let source = job.source;
            items.extend(job.texts.into_iter().map(|t| (t, source.clone())));
            replies.push(job.reply);
        }
        let mut results = intake(&ctx, items, &sender_ok).await.into_iter();
        for (size, reply) in sizes.into_iter().zip(replies) {
            let answer: Vec<_> = results.by_ref().take(size).collect();
            let _ = reply.send(answer);
        }
    }
}
