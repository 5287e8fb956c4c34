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
