//! Prometheus metrics of the host: calls, outbound requests by status,
//! retries, rate-limit waits, latencies and circuit state.
//!
//! [`Host::metrics_text`](crate::Host::metrics_text) renders them in the
//! OpenMetrics text format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ProviderLabels {
    pub provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StatusLabels {
    pub provider: String,
    /// The HTTP status, or the error kind (`denied`, `timeout`, ...).
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ConnectionLabels {
    pub provider: String,
    pub connection: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CallLabels {
    pub provider: String,
    /// `ok`, `connector-error`, `fault`, `deadline`, `invalid-input`, `unsupported`.
    pub outcome: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// The host's metrics.
pub struct Metrics {
    registry: Registry,
    pub(crate) calls: Family<CallLabels, Counter>,
    pub(crate) call_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
    pub(crate) requests: Family<StatusLabels, Counter>,
    pub(crate) request_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
    pub(crate) retries: Family<ProviderLabels, Counter>,
    pub(crate) rate_limit_waits: Family<ProviderLabels, Counter>,
    pub(crate) rate_limit_wait_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
    pub(crate) circuit_blocked: Family<ConnectionLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("patchbay");
        let metrics = Self {
            calls: Family::default(),
            call_seconds: Family::new_with_constructor(latency_histogram),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            retries: Family::default(),
            rate_limit_waits: Family::default(),
            rate_limit_wait_seconds: Family::new_with_constructor(latency_histogram),
            circuit_blocked: Family::default(),
            registry: Registry::default(),
        };
        registry.register("calls", "Calls into plugins, by outcome", metrics.calls.clone());
        registry.register(
            "call_duration_seconds",
            "Duration of calls into plugins",
            metrics.call_seconds.clone(),
        );
        registry.register(
            "http_requests",
            "Outbound request attempts, by status or error kind",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Duration of outbound request attempts",
            metrics.request_seconds.clone(),
        );
        registry.register("http_retries", "Outbound requests retried", metrics.retries.clone());
        registry.register(
            "rate_limit_waits",
            "Requests that waited for a rate-limit token",
            metrics.rate_limit_waits.clone(),
        );
        registry.register(
            "rate_limit_wait_seconds",
            "Time spent waiting for rate-limit tokens",
            metrics.rate_limit_wait_seconds.clone(),
        );
        registry.register(
            "circuit_blocked",
            "1 while a connection's circuit refuses requests (open or disabled), else 0",
            metrics.circuit_blocked.clone(),
        );
        Self { registry, ..metrics }
    }
}

impl Metrics {
    /// Renders every metric in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }

    pub(crate) fn provider(provider: &str) -> ProviderLabels {
        ProviderLabels {
            provider: provider.to_string(),
        }
    }
}
