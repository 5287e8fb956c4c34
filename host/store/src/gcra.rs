//! The generic cell rate algorithm, shared by every [`RateStore`] backend so
//! that a budget means the same thing in process, in SQLite and in Redis.
//!
//! A bucket is two numbers: its theoretical arrival time (TAT) and the time
//! until which a provider asked everyone to pause. A request at `now` is
//! admitted at `max(now, paused_until, tat - tolerance)`; admitting it moves
//! the TAT one emission interval on. A request that would have to wait
//! longer than it may leaves the bucket as it was.
//!
//! Times are milliseconds on the backend's clock (monotonic in process, the
//! server's clock for shared backends); all arithmetic saturates.
//!
//! [`RateStore`]: crate::RateStore

use std::time::Duration;

use crate::RateQuota;

/// A bucket's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Theoretical arrival time of the next request, in ms.
    pub tat_ms: u64,
    /// No request is admitted before this, in ms.
    pub paused_until_ms: u64,
}

/// The emission interval of a quota in ms (at least 1 µs worth, at most a
/// day), or `None` for a quota that limits nothing.
fn interval_ms(quota: RateQuota) -> Option<f64> {
    (quota.per_second.is_finite() && quota.per_second > 0.0)
        .then(|| (1000.0 / quota.per_second).clamp(0.001, 86_400_000.0))
}

fn ms(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.min(u64::MAX as f64 / 2.0).ceil() as u64
    } else {
        0
    }
}

/// Decides a request at `now_ms`: `Ok((bucket, wait))` when it is admitted
/// within `max_wait` (the new state to store, and how long the caller must
/// wait first), `Err(wait)` when it would have to wait longer.
pub fn reserve(
    bucket: Bucket,
    quota: RateQuota,
    now_ms: u64,
    max_wait: Duration,
) -> Result<(Bucket, Duration), Duration> {
    let Some(interval) = interval_ms(quota) else {
        return Ok((bucket, Duration::ZERO));
    };
    let tolerance = interval * f64::from(quota.burst.max(1) - 1);
    let start = now_ms.max(bucket.paused_until_ms);
    let tat = (bucket.tat_ms as f64).max(start as f64);
    let admitted = (start as f64).max(tat - tolerance);
    let wait = Duration::from_millis(ms(admitted).saturating_sub(now_ms));
    if wait > max_wait {
        return Err(wait);
    }
    Ok((
        Bucket {
            tat_ms: ms(tat + interval),
            paused_until_ms: bucket.paused_until_ms,
        },
        wait,
    ))
}

/// Pauses a bucket until `now_ms + pause` (a later pause wins).
pub fn pause(bucket: Bucket, now_ms: u64, pause: Duration) -> Bucket {
    let until = now_ms.saturating_add(u64::try_from(pause.as_millis()).unwrap_or(u64::MAX));
    Bucket {
        paused_until_ms: bucket.paused_until_ms.max(until),
        ..bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_interval_apart() {
        let quota = RateQuota {
            per_second: 20.0,
            burst: 2,
        };
        let max = Duration::from_secs(1);
        let (b, w1) = reserve(Bucket::default(), quota, 1000, max).unwrap();
        let (b, w2) = reserve(b, quota, 1000, max).unwrap();
        let (_, w3) = reserve(b, quota, 1000, max).unwrap();
        assert_eq!(
            (w1, w2, w3),
            (Duration::ZERO, Duration::ZERO, Duration::from_millis(50))
        );
    }

    #[test]
    fn pauses_and_refusals_leave_the_bucket_alone() {
        let quota = RateQuota {
            per_second: 10.0,
            burst: 5,
        };
        let paused = pause(Bucket::default(), 1000, Duration::from_secs(30));
        assert_eq!(
            reserve(paused, quota, 1000, Duration::from_secs(1)),
            Err(Duration::from_secs(30))
        );
        let (_, wait) = reserve(paused, quota, 1000, Duration::from_secs(31)).unwrap();
        assert_eq!(wait, Duration::from_secs(30));
    }

    #[test]
    fn extreme_quotas_and_pauses_do_not_panic() {
        for per_second in [1e-300, f64::MIN_POSITIVE, 1e300, f64::NAN, f64::INFINITY, -1.0, 0.0] {
            let quota = RateQuota {
                per_second,
                burst: u32::MAX,
            };
            let b = pause(Bucket::default(), u64::MAX - 5, Duration::MAX);
            let _ = reserve(b, quota, u64::MAX, Duration::MAX);
            let _ = reserve(Bucket::default(), quota, 0, Duration::ZERO);
        }
    }
}
