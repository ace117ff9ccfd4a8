//! API errors: a status and `{"error": {"code": "...", "message": "..."}}`.

use crate::refusal::{Code, Rejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// An error answer.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code.
    pub code: Code,
    /// One-line detail (never key material).
    pub message: String,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// The body, for bulk results.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }

    /// The store failed: our fault, not the client's.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::StoreUnavailable,
            "the relayer cannot store intents right now; retry later",
        )
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        let status =
            StatusCode::from_u16(r.code.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        Self::new(status, r.code, r.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// A 400 answer.
pub fn bad(code: Code, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// An error as a status and body.
pub fn reply(e: ApiError) -> (StatusCode, Value) {
    (e.status, e.body())
}
