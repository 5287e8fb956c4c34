//! Token buckets per (provider, connection), built on `governor`.
//!
//! The quota comes from the plugin's manifest hint or an operator override.
//! A 429 with `Retry-After` pauses the bucket for every call that shares it.
//! Waiting counts against the call's deadline: when the wait would pass it,
//! the request fails at once with `rate-limited`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Bucket};

/// A sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateQuota {
    /// Requests per second.
    pub per_second: f64,
    /// Requests allowed at once.
    pub burst: u32,
}

impl RateQuota {
    fn to_governor(self) -> Option<Quota> {
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / self.per_second);
        let burst = NonZeroU32::new(self.burst.max(1))?;
        Some(Quota::with_period(period)?.allow_burst(burst))
    }
}

struct Entry {
    quota: RateQuota,
    bucket: Bucket<NotKeyed, InMemoryState, DefaultClock>,
    paused_until: Option<Instant>,
}

/// Every bucket of the host.
#[derive(Default, Clone)]
pub struct RateLimiter {
    buckets: Arc<Mutex<HashMap<String, Arc<Mutex<Entry>>>>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

/// The limiter could not admit a request before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WouldExceedDeadline {
    /// How long admission would have taken.
    pub wait: Duration,
}

impl RateLimiter {
    fn entry(&self, key: &str, quota: RateQuota) -> Option<Arc<Mutex<Entry>>> {
        let governor_quota = quota.to_governor()?;
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let entry = buckets.entry(key.to_string()).or_insert_with(|| {
            Arc::new(Mutex::new(Entry {
                quota,
                bucket: Bucket::direct(governor_quota),
                paused_until: None,
            }))
        });
        {
            let mut e = entry.lock().expect("bucket lock");
            if e.quota != quota {
                e.quota = quota;
                e.bucket = Bucket::direct(governor_quota);
            }
        }
        Some(Arc::clone(entry))
    }

    /// Waits for a token of `key`'s bucket; returns how long it waited.
    pub async fn acquire(
        &self,
        key: &str,
        quota: RateQuota,
        deadline: Instant,
    ) -> Result<Duration, WouldExceedDeadline> {
        let Some(entry) = self.entry(key, quota) else {
            return Ok(Duration::ZERO);
        };
        let started = Instant::now();
        let mut waited = false;
        loop {
            let wait = {
                let e = entry.lock().expect("bucket lock");
                let now = Instant::now();
                match e.paused_until.filter(|until| *until > now) {
                    Some(until) => until - now,
                    None => match e.bucket.check() {
                        Ok(()) => return Ok(if waited { started.elapsed() } else { Duration::ZERO }),
                        Err(not_until) => not_until.wait_time_from(DefaultClock::default().now()),
                    },
                }
            };
            if Instant::now() + wait > deadline {
                return Err(WouldExceedDeadline { wait });
            }
            waited = true;
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Pauses `key`'s bucket for `pause` (a 429's `Retry-After`).
    pub fn pause(&self, key: &str, quota: RateQuota, pause: Duration) {
        if let Some(entry) = self.entry(key, quota) {
            let until = Instant::now() + pause;
            let mut e = entry.lock().expect("bucket lock");
            if e.paused_until.is_none_or(|current| current < until) {
                e.paused_until = Some(until);
            }
        }
    }
}

/// A pause a provider asks for in its rate-limit headers before it starts
/// answering 429: Shopify's `X-Shopify-Shop-Api-Call-Limit: 39/40` (leaky
/// bucket nearly full: wait for one leak, half a second at 2 rps), and the
/// common `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After` (seconds,
/// Discord) or `X-RateLimit-Reset` (Unix time, GitHub).
pub fn header_pause(headers: &[(String, String)], now_unix: u64) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    if let Some((used, max)) = get("x-shopify-shop-api-call-limit").and_then(|v| v.split_once('/')) {
        let (used, max) = (used.trim().parse::<u32>().ok()?, max.trim().parse::<u32>().ok()?);
        if max > 0 && used * 10 >= max * 9 {
            return Some(Duration::from_millis(500));
        }
    }
    if get("x-ratelimit-remaining")?.parse::<f64>().ok()? > 0.0 {
        return None;
    }
    if let Some(after) = get("x-ratelimit-reset-after").and_then(|v| v.parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64(after.clamp(0.0, 3600.0)));
    }
    let reset = get("x-ratelimit-reset")?.parse::<u64>().ok()?;
    // Small values are a delta in seconds, large ones a Unix time.
    Some(Duration::from_secs(
        if reset > 1_000_000_000 {
            reset.saturating_sub(now_unix)
        } else {
            reset
        }
        .min(3600),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_headers_ask_for_pauses() {
        let h = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            header_pause(&h(&[("X-Shopify-Shop-Api-Call-Limit", "39/40")]), 0),
            Some(Duration::from_millis(500))
        );
        assert_eq!(header_pause(&h(&[("X-Shopify-Shop-Api-Call-Limit", "10/40")]), 0), None);
        assert_eq!(
            header_pause(
                &h(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset-after", "1.5")]),
                0
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            header_pause(
                &h(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000030")]),
                1_700_000_000
            ),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            header_pause(&h(&[("x-ratelimit-remaining", "12"), ("x-ratelimit-reset", "5")]), 0),
            None
        );
    }

    #[tokio::test]
    async fn a_burst_passes_then_requests_are_spaced() {
        let limiter = RateLimiter::default();
        let quota = RateQuota {
            per_second: 20.0,
            burst: 2,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(limiter.acquire("k", quota, deadline).await.unwrap(), Duration::ZERO);
        assert_eq!(limiter.acquire("k", quota, deadline).await.unwrap(), Duration::ZERO);
        let waited = limiter.acquire("k", quota, deadline).await.unwrap();
        assert!(
            waited >= Duration::from_millis(30),
            "the third waits for a token: {waited:?}"
        );
        assert_eq!(
            limiter.acquire("other", quota, deadline).await.unwrap(),
            Duration::ZERO,
            "buckets are per key"
        );
    }

    #[tokio::test]
    async fn a_pause_applies_to_everyone_and_respects_the_deadline() {
        let limiter = RateLimiter::default();
        let quota = RateQuota {
            per_second: 100.0,
            burst: 10,
        };
        limiter.pause("k", quota, Duration::from_secs(30));
        let refused = limiter
            .acquire("k", quota, Instant::now() + Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(refused.wait > Duration::from_secs(29));
        limiter.pause("j", quota, Duration::from_millis(50));
        let waited = limiter
            .acquire("j", quota, Instant::now() + Duration::from_secs(1))
            .await
            .unwrap();
        assert!(waited >= Duration::from_millis(40), "{waited:?}");
    }
}
