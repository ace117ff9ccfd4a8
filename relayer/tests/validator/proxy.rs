//! A JSON-RPC proxy between the relayer and the validator that can lose transactions: while
//! `dropping` is set, `sendTransaction` answers with the transaction's signature (what a node
//! says before the packet is lost) and forwards nothing. Everything else passes through.
//!
//! With `fault_per_mille` above 0 it also misbehaves at that rate, for the RPC-fault drill:
//! each faulty request is, in turn, answered `503` without reaching the node, stalled for
//! `stall_ms` and then forwarded (a slow node), or, for `sendTransaction`, answered with the
//! signature and not forwarded (other methods: stalled, then `504` without reaching the node).
//! Which requests fail is drawn from a fixed seed, so a run's figures are repeatable.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Shared switches and counters.
#[derive(Default)]
pub struct Switches {
    /// Lose every `sendTransaction` while true.
    pub dropping: AtomicBool,
    /// `sendTransaction` calls lost so far.
    pub dropped: AtomicUsize,
    /// `sendTransaction` calls forwarded so far.
    pub forwarded: AtomicUsize,
    /// Faulty requests per thousand (0: none).
    pub fault_per_mille: AtomicU64,
    /// How long a stalled request waits (ms).
    pub stall_ms: AtomicU64,
    /// Requests seen (the fault draw's counter).
    pub requests: AtomicU64,
    /// Requests answered 503 without reaching the node.
    pub failed: AtomicU64,
    /// Requests stalled (then forwarded, or answered 504).
    pub stalled: AtomicU64,
    /// Sends answered with their signature and not forwarded, by the fault draw.
    pub lost: AtomicU64,
}

/// What the fault draw did to one request.
enum Fault {
    None,
    Unavailable,
    Stall,
    Lose,
}

impl Switches {
    fn draw(&self) -> Fault {
        let rate = self.fault_per_mille.load(Ordering::SeqCst);
        if rate == 0 {
            return Fault::None;
        }
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        // splitmix64 of the request's number: a fixed, well-spread sequence.
        let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        if z % 1000 >= rate {
            return Fault::None;
        }
        match (z / 1000) % 3 {
            0 => Fault::Unavailable,
            1 => Fault::Stall,
            _ => Fault::Lose,
        }
    }
}

#[derive(Clone)]
struct Upstream {
    url: String,
    http: reqwest::Client,
    switches: Arc<Switches>,
}

/// A running proxy.
pub struct Proxy {
    /// Its URL (give this to the relayer).
    pub url: String,
    /// Its switches.
    pub switches: Arc<Switches>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let switches = Arc::new(Switches::default());
        let state = Upstream {
            url: upstream.to_string(),
            http: reqwest::Client::new(),
            switches: switches.clone(),
        };
        let app = Router::new().route("/", post(handle)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy listener");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            switches,
            task,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The base58 signature of a base64 wire transaction (its first signature).
fn first_signature(wire_b64: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(wire_b64)
        .ok()?;
    // One signer: the compact-u16 count is one byte, then 64 signature bytes.
    let sig = bytes.get(1..65)?;
    Some(bs58::encode(sig).into_string())
}

fn is_send(body: &[u8]) -> bool {
    body.windows(15).any(|w| w == b"sendTransaction")
}

/// The answer a node gives to a send it then loses: the transaction's signature.
fn lost_send(body: &[u8]) -> Option<Bytes> {
    let req = serde_json::from_slice::<Value>(body).ok()?;
    if req["method"] != "sendTransaction" {
        return None;
    }
    let sig = req["params"][0].as_str().and_then(first_signature)?;
    let answer = json!({"jsonrpc": "2.0", "id": req["id"], "result": sig});
    Some(Bytes::from(answer.to_string()))
}

async fn handle(State(up): State<Upstream>, body: Bytes) -> (StatusCode, Bytes) {
    let sw = &up.switches;
    match sw.draw() {
        Fault::None => {}
        Fault::Unavailable => {
            sw.failed.fetch_add(1, Ordering::SeqCst);
            return (StatusCode::SERVICE_UNAVAILABLE, Bytes::new());
        }
        Fault::Stall => {
            sw.stalled.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(sw.stall_ms.load(Ordering::SeqCst))).await;
        }
        Fault::Lose => {
            if let Some(answer) = lost_send(&body) {
                sw.lost.fetch_add(1, Ordering::SeqCst);
                return (StatusCode::OK, answer);
            }
            sw.stalled.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(sw.stall_ms.load(Ordering::SeqCst))).await;
            return (StatusCode::GATEWAY_TIMEOUT, Bytes::new());
        }
    }
    if up.switches.dropping.load(Ordering::SeqCst) {
        if let Some(answer) = lost_send(&body) {
            up.switches.dropped.fetch_add(1, Ordering::SeqCst);
            return (StatusCode::OK, answer);
        }
    } else if is_send(&body) {
        up.switches.forwarded.fetch_add(1, Ordering::SeqCst);
    }
    let forwarded = up
        .http
        .post(&up.url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    match forwarded {
        Ok(r) => {
            let status =
                StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, r.bytes().await.unwrap_or_default())
        }
        Err(_) => (StatusCode::BAD_GATEWAY, Bytes::new()),
    }
}
