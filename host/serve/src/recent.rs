//! The last calls through the service, for the dashboard: who called what,
//! how it ended, how long it took. Bounded; nothing of the call's data.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use utoipa::ToSchema;

/// One call, as the dashboard shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallRecord {
    /// When it ended (Unix milliseconds).
    pub at_ms: u64,
    /// The tenant.
    pub tenant: String,
    /// The connection.
    pub connection: String,
    /// `interface.function`.
    pub function: String,
    /// The HTTP status it was answered with.
    pub status: u16,
    /// `ok`, or the problem's kind.
    pub outcome: String,
    /// How long it took, in milliseconds.
    pub latency_ms: f64,
}

/// The last `capacity` calls.
#[derive(Debug)]
pub struct RecentCalls {
    calls: Mutex<VecDeque<CallRecord>>,
    capacity: usize,
}

impl RecentCalls {
    /// Keeps the last `capacity` calls.
    pub fn new(capacity: usize) -> Self {
        Self {
            calls: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
        }
    }

    /// Records a call that ended.
    pub fn record(&self, tenant: &str, connection: &str, function: &str, status: u16, outcome: &str, took: Duration) {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        if calls.len() == self.capacity {
            calls.pop_front();
        }
        calls.push_back(CallRecord {
            at_ms,
            tenant: tenant.to_string(),
            connection: connection.to_string(),
            function: function.to_string(),
            status,
            outcome: outcome.to_string(),
            latency_ms: took.as_secs_f64() * 1000.0,
        });
    }

    /// The calls, newest first.
    pub fn newest_first(&self) -> Vec<CallRecord> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.iter().rev().cloned().collect()
    }
}
