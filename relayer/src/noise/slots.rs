//! Session slots: at most `[noise] max_sessions_per_ip` open sessions per client (keyed by
//! `crate::intake::client_key`: an IPv4 address, an IPv6 /64).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open sessions per client IP.
#[derive(Default)]
pub(super) struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// A claimed session slot; released on drop.
pub(super) struct Slot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    pub(super) fn claim(table: &Arc<PerIp>, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut map = table.0.lock().ok()?;
        let open = map.entry(ip).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(Slot {
            table: table.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.table.0.lock() {
            if let Some(open) = map.get_mut(&self.ip) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    map.remove(&self.ip);
                }
            }
        }
    }
}
