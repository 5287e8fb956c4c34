//! What the protocol doors (SMTP, file transfer) share with each other and
//! with the HTTP pipeline: one operation admitted through the connection's
//! circuit breaker and rate limit, run within the host's total timeout and
//! the call's deadline, and its end recorded (the circuit's outcome, the
//! attempt's metric).

use std::time::{Duration, Instant};

use super::RequestContext;
use super::circuit::Outcome;
use super::pipeline::{Pipeline, ceil_seconds};
use patchbay_store::Reservation;

/// Why a door's operation was not let through.
pub(crate) enum Unadmitted {
    /// The connection's circuit breaker is open: why.
    CircuitOpen(String),
    /// The rate limit has no budget within the call's deadline: the
    /// seconds until it has.
    RateLimited(u32),
}

impl Pipeline {
    /// Admits one operation of a door: the circuit breaker, then a rate
    /// budget waited for within the call's deadline (a store that fails is
    /// logged, not fatal). The time the operation may take from now on:
    /// the host's total timeout within the deadline.
    pub(crate) async fn admit_door(&self, ctx: &RequestContext) -> Result<Duration, Unadmitted> {
        self.circuit()
            .admit(&ctx.connection_id, &ctx.credentials_fingerprint)
            .await
            .map_err(Unadmitted::CircuitOpen)?;
        if let Some(quota) = ctx.rate_quota {
            let max_wait = ctx.deadline.saturating_duration_since(Instant::now());
            match self.rates().reserve(&ctx.rate_key, quota, max_wait).await {
                Ok(Reservation::Granted(wait)) => tokio::time::sleep(wait).await,
                Ok(Reservation::Refused(wait)) => return Err(Unadmitted::RateLimited(ceil_seconds(wait))),
                Err(error) => tracing::warn!(%error, connection = %ctx.connection_id, "cannot reserve a rate budget"),
            }
        }
        Ok(self
            .limits()
            .request_timeout
            .min(ctx.deadline.saturating_duration_since(Instant::now())))
    }

    /// Records how a door's operation that began at `started` ended: the
    /// circuit breaker's `outcome` (none for one that says nothing of the
    /// server's health) and the attempt's metric `label`.
    pub(crate) async fn record_door(
        &self,
        ctx: &RequestContext,
        outcome: Option<Outcome>,
        label: String,
        started: Instant,
    ) {
        if let Some(outcome) = outcome {
            self.circuit()
                .record(&ctx.connection_id, &ctx.credentials_fingerprint, outcome)
                .await;
        }
        self.metrics()
            .attempt(&ctx.provider, label, started.elapsed().as_secs_f64());
    }
}
