//! What every ingress answers for a request: [`gate`] (shutting down, per-IP rate limit),
//! then [`answer_body`] (HTTP `POST /v1/intents`) or [`answer_noise`] (the Noise endpoint,
//! which also carries confidential mode's operations). Both go through the same
//! [`super::IntakeQueue`], so HTTP and Noise validate, deduplicate and refuse alike.

use super::accept::record_json;
use super::error::{bad, reply, ApiError};
use super::AppState;
use crate::refusal::Code;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::sync::Arc;

/// The `intent` field of one body item.
fn item_text(item: &Value) -> Result<String, ApiError> {
    item.get("intent")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            bad(
                Code::MalformedJson,
                "expected {\"intent\": \"<base64>\"} (or an array of them)",
            )
        })
}

/// Refuses a request before its body is looked at: 503 while shutting down, 429 over the
/// per-IP rate limit. Every ingress (HTTP, Noise) calls it once per request.
pub fn gate(state: &AppState, ip: IpAddr) -> Result<(), ApiError> {
    let ctx = &state.ctx;
    if !ctx.is_accepting() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ShuttingDown,
            "the relayer is shutting down; retry with another one or later",
        ));
    }
    if !state.limits.allow_request(ip) {
        ctx.metrics
            .refused
            .with_label_values(&[Code::RateLimited.as_str()])
            .inc();
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            Code::RateLimited,
            "too many requests from this address; slow down",
        ));
    }
    Ok(())
}

/// The answer to a `POST /v1/intents` body (one `{"intent"}` or an array of them) from
/// `source`, after [`gate`]: the status code and JSON body. The HTTP and Noise ingresses both
/// answer with it, so they validate, deduplicate and refuse alike.
pub async fn answer_body(state: &AppState, source: Arc<str>, body: &[u8]) -> (StatusCode, Value) {
    match serde_json::from_slice(body) {
        Ok(value) => answer_value(state, source, value).await,
        Err(e) => reply(bad(Code::MalformedJson, format!("body is not JSON: {e}"))),
    }
}

/// The Noise ingress: a `POST /v1/intents` body as [`answer_body`] answers it, or an
/// operation `{"op": "arcium_encrypt", "intent": "<base64>"}` / `{"op": "arcium_mxe_key"}`
/// answered as `POST /v1/arcium/encrypt` / `GET /v1/arcium/mxe-key` would be.
pub async fn answer_noise(state: &AppState, source: Arc<str>, body: &[u8]) -> (StatusCode, Value) {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return reply(bad(Code::MalformedJson, format!("body is not JSON: {e}"))),
    };
    match value.get("op").map(|op| op.as_str()) {
        None => answer_value(state, source, value).await,
        Some(Some("arcium_encrypt")) => super::confidential::answer_encrypt(state, &value).await,
        Some(Some("arcium_mxe_key")) => match super::confidential::mxe_key_json(state).await {
            Ok(v) => (StatusCode::OK, v),
            Err(e) => reply(e),
        },
        Some(_) => reply(bad(
            Code::UnknownOp,
            "op must be \"arcium_encrypt\" or \"arcium_mxe_key\" (or absent: intents)",
        )),
    }
}

/// What a `POST /v1/intents` body asks for, before anything is decoded or stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Each intent's base64 text, in request order.
    pub texts: Vec<String>,
    /// The array form (answered per item, `200` with `results`), not the single one.
    pub bulk: bool,
}

/// The intents a JSON body names: `{"intent": "<base64>"}` or a non-empty array of at most
/// `max_bulk` of them; anything else is a refusal with its code.
pub fn request_texts(value: Value, max_bulk: usize) -> Result<Request, ApiError> {
    match value {
        Value::Array(items) => {
            if items.len() > max_bulk {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Code::TooManyIntents,
                    format!(
                        "{} intents in one request; the limit is {max_bulk}",
                        items.len()
                    ),
                ));
            }
            if items.is_empty() {
                return Err(bad(Code::MalformedJson, "empty array"));
            }
            let texts = items.iter().map(item_text).collect::<Result<_, _>>()?;
            Ok(Request { texts, bulk: true })
        }
        other => Ok(Request {
            texts: vec![item_text(&other)?],
            bulk: false,
        }),
    }
}

async fn answer_value(state: &AppState, source: Arc<str>, value: Value) -> (StatusCode, Value) {
    let request = match request_texts(value, state.ctx.config.server.max_bulk) {
        Ok(r) => r,
        Err(e) => return reply(e),
    };
    let mut results = state.intake.submit(request.texts, source).await;
    if request.bulk {
        let out: Vec<Value> = results
            .iter()
            .map(|r| match r {
                Ok(s) => {
                    let mut v = record_json(&s.record);
                    v["created"] = json!(s.created);
                    v
                }
                Err(e) => e.body(),
            })
            .collect();
        return (StatusCode::OK, json!({ "results": out }));
    }
    match results.pop() {
        Some(Ok(s)) => {
            let status = if s.created {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            (status, record_json(&s.record))
        }
        Some(Err(e)) => reply(e),
        None => reply(ApiError::internal("no result")),
    }
}
