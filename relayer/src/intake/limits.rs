//! Per-IP and per-sender rate limits, per instance (with N instances a client gets at most
//! N times the configured rate: README "Running several relayers").

use governor::{DefaultKeyedRateLimiter, Quota};
use solana_pubkey::Pubkey;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Per-IP and per-sender rate limits (token buckets).
pub struct Limits {
    /// Requests per client IP.
    pub per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Intents per sender key.
    pub per_sender: DefaultKeyedRateLimiter<Pubkey>,
}

pub(crate) fn quota(per_s: u32, burst: u32) -> Quota {
    let per_s = NonZeroU32::new(per_s).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(per_s);
    Quota::per_second(per_s).allow_burst(burst)
}
