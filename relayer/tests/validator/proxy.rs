//! A JSON-RPC proxy between the relayer and the validator that can lose transactions: while
//! `dropping` is set, `sendTransaction` answers with the transaction's signature (what a node
//! says before the packet is lost) and forwards nothing. Everything else passes through.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Shared switches and counters.
#[derive(Default)]
pub struct Switches {
    /// Lose every `sendTransaction` while true.
    pub dropping: AtomicBool,
    /// `sendTransaction` calls lost so far.
    pub dropped: AtomicUsize,
    /// `sendTransaction` calls forwarded so far.
    pub forwarded: AtomicUsize,
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

async fn handle(State(up): State<Upstream>, body: Bytes) -> (StatusCode, Bytes) {
    if up.switches.dropping.load(Ordering::SeqCst) {
        if let Ok(req) = serde_json::from_slice::<Value>(&body) {
            if req["method"] == "sendTransaction" {
                if let Some(sig) = req["params"][0].as_str().and_then(first_signature) {
                    up.switches.dropped.fetch_add(1, Ordering::SeqCst);
                    let answer = json!({"jsonrpc": "2.0", "id": req["id"], "result": sig});
                    return (StatusCode::OK, Bytes::from(answer.to_string()));
                }
            }
        }
    } else if body.windows(15).any(|w| w == b"sendTransaction") {
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
