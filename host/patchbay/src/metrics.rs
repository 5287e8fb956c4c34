//! Prometheus metrics of the host: calls (the sandbox's), outbound requests
//! by status, retries, rate-limit waits, latencies and circuit state (the
//! pipeline's), in one registry.
//!
//! [`Host::metrics_text`](crate::Host::metrics_text) renders them in the
//! OpenMetrics text format.

use std::sync::Arc;

use patchbay_outbound::OutboundMetrics;
use patchbay_sandbox::CallMetrics;
use prometheus_client::registry::Registry;

/// The host's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) calls: Arc<CallMetrics>,
    pub(crate) outbound: Arc<OutboundMetrics>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("patchbay");
        let calls = Arc::new(CallMetrics::new(&mut registry));
        let outbound = Arc::new(OutboundMetrics::new(&mut registry));
        Self {
            registry,
            calls,
            outbound,
        }
    }

    /// Renders every metric in the OpenMetrics text format.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
