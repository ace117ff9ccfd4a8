//! Per-client and per-sender rate limits, per instance (with N instances a client gets at most
//! N times the configured rate: README "Running several relayers").
//!
//! A client is its address, an IPv6 client its /64 prefix (what one subscriber or one host
//! usually holds whole, so a client cannot take a fresh bucket per address). Requests that
//! change state (`POST`, Noise sessions) and reads (`GET`) draw from two buckets of the same
//! configured size, so polling for a result never starves submitting. Buckets of clients and
//! senders that went quiet are forgotten every [`FORGET_EVERY`]: the tables stay as large as
//! the set of recently active keys, whatever number of addresses or keys come and go.

use crate::config::ServerConfig;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use solana_pubkey::Pubkey;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often buckets back at their full size are dropped from the tables.
pub const FORGET_EVERY: Duration = Duration::from_secs(10);

/// Per-client and per-sender rate limits (token buckets).
pub struct Limits {
    /// Requests that submit or open a session, per client ([`client_key`]).
    requests: DefaultKeyedRateLimiter<IpAddr>,
    /// Reads (`GET`), per client.
    reads: DefaultKeyedRateLimiter<IpAddr>,
    /// Intents per sender key.
    senders: DefaultKeyedRateLimiter<Pubkey>,
}

impl Limits {
    /// The limits `[server]` configures.
    pub fn new(server: &ServerConfig) -> Self {
        let per_client = quota(
            server.rate_limit_per_ip_per_s,
            server.rate_limit_per_ip_burst,
        );
        Self {
            requests: RateLimiter::keyed(per_client),
            reads: RateLimiter::keyed(per_client),
            senders: RateLimiter::keyed(quota(
                server.rate_limit_per_sender_per_s,
                server.rate_limit_per_sender_burst,
            )),
        }
    }

    /// Takes one request from `ip`'s bucket; `false` when it is empty.
    pub fn allow_request(&self, ip: IpAddr) -> bool {
        self.requests.check_key(&client_key(ip)).is_ok()
    }

    /// Takes one read from `ip`'s bucket of reads; `false` when it is empty.
    pub fn allow_read(&self, ip: IpAddr) -> bool {
        self.reads.check_key(&client_key(ip)).is_ok()
    }

    /// Takes one intent from `sender`'s bucket; `false` when it is empty.
    pub fn allow_sender(&self, sender: &Pubkey) -> bool {
        self.senders.check_key(sender).is_ok()
    }

    /// Drops the buckets that are full again (their keys would start afresh anyway).
    pub fn forget_idle(&self) {
        self.requests.retain_recent();
        self.requests.shrink_to_fit();
        self.reads.retain_recent();
        self.reads.shrink_to_fit();
        self.senders.retain_recent();
        self.senders.shrink_to_fit();
    }

    /// Keys held: (clients submitting, clients reading, senders).
    pub fn tracked(&self) -> (usize, usize, usize) {
        (self.requests.len(), self.reads.len(), self.senders.len())
    }

    /// Calls [`Self::forget_idle`] every `every` until the limits are dropped.
    pub fn forget_idle_every(limits: &Arc<Self>, every: Duration) -> JoinHandle<()> {
        let limits: Weak<Self> = Arc::downgrade(limits);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                match limits.upgrade() {
                    Some(l) => l.forget_idle(),
                    None => break,
                }
            }
        })
    }
}

/// The key a client's requests are counted under: an IPv4 address itself (also when it comes
/// IPv4-mapped in IPv6), an IPv6 address its /64 prefix.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn quota(per_s: u32, burst: u32) -> Quota {
    let per_s = NonZeroU32::new(per_s).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(per_s);
    Quota::per_second(per_s).allow_burst(burst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn limits(per_s: u32, burst: u32) -> Limits {
        Limits::new(&ServerConfig {
            rate_limit_per_ip_per_s: per_s,
            rate_limit_per_ip_burst: burst,
            rate_limit_per_sender_per_s: per_s,
            rate_limit_per_sender_burst: burst,
            ..ServerConfig::default()
        })
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        assert_eq!(client_key(a), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
        let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 8));
        assert_eq!(client_key(v4), v4);
    }

    #[test]
    fn addresses_of_one_ipv6_prefix_share_a_bucket_and_reads_have_their_own() {
        let l = limits(1, 2);
        let first: IpAddr = "2001:db8::1".parse().unwrap();
        let second: IpAddr = "2001:db8::2:3".parse().unwrap();
        assert!(l.allow_request(first));
        assert!(l.allow_request(second));
        assert!(!l.allow_request(first), "the /64's burst of 2 is spent");
        assert!(!l.allow_request("2001:db8::99".parse().unwrap()));
        // Reads are counted apart: the spent request bucket does not refuse them.
        assert!(l.allow_read(first));
        assert!(l.allow_read(second));
        assert!(!l.allow_read(first));
        // Another prefix starts full.
        assert!(l.allow_request("2001:db8:0:1::1".parse().unwrap()));
    }

    #[test]
    fn quiet_keys_are_forgotten_and_busy_ones_kept() {
        // 1,000 a second, burst 1: a bucket is full again 1 ms after its last request.
        let l = limits(1_000, 1);
        for i in 0..5_000u32 {
            assert!(l.allow_request(IpAddr::V4(Ipv4Addr::from(i))));
            assert!(l.allow_read(IpAddr::V4(Ipv4Addr::from(i))));
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            assert!(l.allow_sender(&Pubkey::new_from_array(key)));
        }
        assert_eq!(l.tracked(), (5_000, 5_000, 5_000));
        std::thread::sleep(Duration::from_millis(20));
        // A slow client (1 a second, burst 1) that just spent its token is kept.
        let slow = limits(1, 1);
        let busy = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        assert!(slow.allow_request(busy));
        l.forget_idle();
        slow.forget_idle();
        assert_eq!(l.tracked(), (0, 0, 0));
        assert_eq!(slow.tracked().0, 1);
        assert!(
            !slow.allow_request(busy),
            "forgetting must not refill a spent bucket"
        );
    }

    #[tokio::test]
    async fn the_forgetting_task_runs_until_the_limits_are_dropped() {
        let l = Arc::new(limits(1_000, 1));
        let task = Limits::forget_idle_every(&l, Duration::from_millis(50));
        assert!(l.allow_request(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(l.tracked().0, 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(l.tracked().0, 0, "forgotten by the task");
        drop(l);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(task.is_finished());
    }
}
