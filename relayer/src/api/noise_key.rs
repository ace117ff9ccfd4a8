//! `GET /v1/noise/key`: the relayer's Noise static key as a signed record, for clients to pin
//! (`docs/noise.md`).

use super::{ApiError, AppState};
use crate::refusal::Code;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use toss_sdk::noise::NoiseKeyRecord;

/// The record, or 404 `noise_disabled` when the Noise endpoint is off.
pub async fn get_noise_key(
    State(state): State<AppState>,
) -> Result<Json<NoiseKeyRecord>, ApiError> {
    match &state.noise_key {
        Some(record) => Ok(Json(record.as_ref().clone())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Code::NoiseDisabled,
            "this relayer has no Noise endpoint ([noise] enabled = false)",
        )),
    }
}
