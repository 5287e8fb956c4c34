//! Rate budgets per (provider, connection).

use std::time::Duration;

use crate::StoreError;

/// A sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateQuota {
    /// Requests per second.
    pub per_second: f64,
    /// Requests allowed at once.
    pub burst: u32,
}

/// The answer to a request for a slot of a rate budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// A slot is reserved: send after waiting this long.
    Granted(Duration),
    /// No slot within the allowed wait; nothing was reserved. How long it
    /// would have taken.
    Refused(Duration),
}

/// Rate budgets, decided by [`gcra`](crate::gcra) on the backend's clock.
#[async_trait::async_trait]
pub trait RateStore: Send + Sync + 'static {
    /// Reserves a slot of `key`'s budget, if one comes within `max_wait`.
    async fn reserve(&self, key: &str, quota: RateQuota, max_wait: Duration) -> Result<Reservation, StoreError>;
    /// Pauses `key`'s budget for everyone for `pause` (a 429's `Retry-After`).
    async fn pause(&self, key: &str, pause: Duration) -> Result<(), StoreError>;
}

/// One replica's share of every quota: `1/replicas` of the rate and of the
/// burst (at least one), kept in `inner`. Replicas that cannot share their
/// budgets (no Redis, or Redis away) each keep this much, so that together
/// they stay within the provider's limit.
#[derive(Debug, Clone)]
pub struct QuotaShare<S> {
    inner: S,
    replicas: u32,
}

impl<S> QuotaShare<S> {
    /// `inner` keeping `1/replicas` of every quota.
    pub fn new(inner: S, replicas: u32) -> Self {
        Self {
            inner,
            replicas: replicas.max(1),
        }
    }

    /// This replica's share of `quota`.
    pub fn share(&self, quota: RateQuota) -> RateQuota {
        RateQuota {
            per_second: quota.per_second / f64::from(self.replicas),
            burst: (quota.burst / self.replicas).max(1),
        }
    }
}

#[async_trait::async_trait]
impl<S: RateStore> RateStore for QuotaShare<S> {
    async fn reserve(&self, key: &str, quota: RateQuota, max_wait: Duration) -> Result<Reservation, StoreError> {
        self.inner.reserve(key, self.share(quota), max_wait).await
    }

    async fn pause(&self, key: &str, pause: Duration) -> Result<(), StoreError> {
        self.inner.pause(key, pause).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[tokio::test]
    async fn a_share_is_the_quota_divided_by_the_replicas() {
        let share = QuotaShare::new(MemoryStore::new(), 3);
        let quota = RateQuota {
            per_second: 12.0,
            burst: 7,
        };
        assert_eq!(
            share.share(quota),
            RateQuota {
                per_second: 4.0,
                burst: 2
            }
        );
        for _ in 0..2 {
            assert_eq!(
                share.reserve("k", quota, Duration::ZERO).await.unwrap(),
                Reservation::Granted(Duration::ZERO)
            );
        }
        assert!(
            matches!(
                share.reserve("k", quota, Duration::ZERO).await.unwrap(),
                Reservation::Refused(_)
            ),
            "a burst of 7 shared by 3 is 2 here"
        );
        let tiny = RateQuota {
            per_second: 1.0,
            burst: 1,
        };
        assert_eq!(share.share(tiny).burst, 1, "never less than one at once");
    }
}
