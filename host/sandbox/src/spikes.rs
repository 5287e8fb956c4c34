//! Warnings about unusual traffic: a spike of calls on one connection over
//! a sliding window. (Bursts of authentication failures are reported by the
//! circuit breaker, which also acts on them.)

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The recent calls of one connection, and when the host last warned.
#[derive(Debug, Default)]
struct Recent {
    calls: VecDeque<Instant>,
    warned: Option<Instant>,
}

/// Counts calls per connection over a sliding window.
#[derive(Debug)]
pub(crate) struct CallSpikes {
    window: Duration,
    threshold: u32,
    seen: Mutex<HashMap<String, Recent>>,
}

impl CallSpikes {
    pub(crate) fn new(window: Duration, threshold: u32) -> Self {
        Self {
            window,
            threshold,
            seen: Mutex::default(),
        }
    }

    /// Records a call; returns the number of calls in the window when this
    /// one crossed the threshold (once per window per connection).
    pub(crate) fn record(&self, provider: &str, connection: &str) -> Option<usize> {
        if self.threshold == 0 {
            return None;
        }
        let now = Instant::now();
        let mut seen = self.seen.lock().expect("anomaly lock");
        let Recent { calls, warned } = seen.entry(connection.to_string()).or_default();
        calls.push_back(now);
        while calls.front().is_some_and(|t| now.duration_since(*t) > self.window) {
            calls.pop_front();
        }
        let recently_warned = warned.is_some_and(|t| now.duration_since(t) < self.window);
        if calls.len() > self.threshold as usize && !recently_warned {
            *warned = Some(now);
            tracing::warn!(
                provider,
                connection,
                calls = calls.len(),
                window_seconds = self.window.as_secs(),
                "spike of calls on one connection"
            );
            return Some(calls.len());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_per_window_when_the_threshold_is_crossed() {
        let spikes = CallSpikes::new(Duration::from_secs(60), 3);
        let warnings: Vec<_> = (0..10).filter_map(|_| spikes.record("p", "c")).collect();
        assert_eq!(warnings, vec![4]);
        assert_eq!(spikes.record("p", "other"), None, "per connection");
    }
}
