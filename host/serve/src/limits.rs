//! Calls in flight, bounded per tenant and overall: a call over a bound is
//! answered at once (`429` for the tenant's bound, `503` for the service's)
//! with `Retry-After`, instead of waiting in an unbounded queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::Problem;

/// The bounds and the permits in use.
#[derive(Debug)]
pub struct InFlight {
    overall: Arc<Semaphore>,
    per_tenant: usize,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Held while a call runs.
#[derive(Debug)]
pub struct Permit {
    _overall: OwnedSemaphorePermit,
    _tenant: OwnedSemaphorePermit,
}

impl InFlight {
    /// At most `overall` calls at once, `per_tenant` of them for one tenant.
    pub fn new(overall: usize, per_tenant: usize) -> Self {
        Self {
            overall: Arc::new(Semaphore::new(overall.max(1))),
            per_tenant: per_tenant.max(1),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// A permit for one call of `tenant`, or the problem to answer.
    pub fn acquire(&self, tenant: &str) -> Result<Permit, Problem> {
        let semaphore = {
            let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            // Idle tenants' semaphores go, so the map stays as small as the
            // set of tenants with calls in flight.
            tenants.retain(|_, s| s.available_permits() < self.per_tenant);
            Arc::clone(
                tenants
                    .entry(tenant.to_string())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant))),
            )
        };
        let tenant_permit = semaphore.try_acquire_owned().map_err(|_| {
            Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                format!(
                    "this tenant already has {} calls in flight; try again shortly",
                    self.per_tenant
                ),
            )
            .retry_after(1)
        })?;
        let overall = Arc::clone(&self.overall).try_acquire_owned().map_err(|_| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "the service is at its bound of calls in flight; try again shortly",
            )
            .retry_after(1)
        })?;
        Ok(Permit {
            _overall: overall,
            _tenant: tenant_permit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_per_tenant_and_overall() {
        let limits = InFlight::new(3, 2);
        let a1 = limits.acquire("a").unwrap();
        let _a2 = limits.acquire("a").unwrap();
        assert_eq!(limits.acquire("a").unwrap_err().status, 429, "the tenant's bound");
        let _b1 = limits.acquire("b").unwrap();
        assert_eq!(limits.acquire("c").unwrap_err().status, 503, "the service's bound");
        drop(a1);
        assert!(limits.acquire("c").is_ok(), "a finished call frees its place");
    }
}
