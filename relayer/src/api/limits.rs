//! Rate limits in front of the routes that do not go through [`crate::intake::gate`]: every
//! `GET` draws from the client's bucket of reads (status polls, health checks and scrapes
//! each read the store), the admin switch from its bucket of requests (a wrong token costs
//! a guess).

use super::AppState;
use crate::intake::ApiError;
use crate::refusal::Code;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Answers `429 rate_limited` once the client's reads are spent.
pub async fn reads(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if state.limits.allow_read(peer.ip()) {
        return next.run(request).await;
    }
    refused(&state, "too many reads from this address; slow down")
}

/// Answers `429 rate_limited` once the client's requests are spent.
pub async fn requests(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if state.limits.allow_request(peer.ip()) {
        return next.run(request).await;
    }
    refused(&state, "too many requests from this address; slow down")
}

fn refused(state: &AppState, message: &'static str) -> Response {
    state
        .ctx
        .metrics
        .refused
        .with_label_values(&[Code::RateLimited.as_str()])
        .inc();
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, Code::RateLimited, message).into_response()
}
