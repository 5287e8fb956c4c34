//! The pipeline's metrics: request attempts by status, their latency,
//! retries, rate-limit waits, refusals for want of a cost budget and
//! circuit state.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    provider: String,
    /// The HTTP status, or the error kind (`denied`, `timeout`, ...).
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    provider: String,
    connection: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// Counters and histograms of the outbound pipeline.
pub struct OutboundMetrics {
    requests: Family<StatusLabels, Counter>,
    request_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
    retries: Family<ProviderLabels, Counter>,
    rate_limit_waits: Family<ProviderLabels, Counter>,
    rate_limit_wait_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
    budget_refusals: Family<ProviderLabels, Counter>,
    circuit_blocked: Family<ConnectionLabels, Gauge>,
}

impl std::fmt::Debug for OutboundMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundMetrics").finish_non_exhaustive()
    }
}

fn provider(provider: &str) -> ProviderLabels {
    ProviderLabels {
        provider: provider.to_string(),
    }
}

impl OutboundMetrics {
    /// Metrics registered nowhere (for tests and custom policies).
    pub fn unregistered() -> Self {
        Self::new(&mut Registry::default())
    }

    /// New metrics, registered in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            retries: Family::default(),
            rate_limit_waits: Family::default(),
            rate_limit_wait_seconds: Family::new_with_constructor(latency_histogram),
            budget_refusals: Family::default(),
            circuit_blocked: Family::default(),
        };
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
            "rate_limit_budget_refusals",
            "Answers refusing a request for want of the provider's cost budget (GraphQL THROTTLED)",
            metrics.budget_refusals.clone(),
        );
        registry.register(
            "circuit_blocked",
            "1 while a connection's circuit refuses requests (open or disabled), else 0",
            metrics.circuit_blocked.clone(),
        );
        metrics
    }

    pub(crate) fn attempt(&self, provider_key: &str, status: String, seconds: f64) {
        self.requests
            .get_or_create(&StatusLabels {
                provider: provider_key.to_string(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&provider(provider_key))
            .observe(seconds);
    }

    pub(crate) fn retry(&self, provider_key: &str) {
        self.retries.get_or_create(&provider(provider_key)).inc();
    }

    pub(crate) fn rate_wait(&self, provider_key: &str, seconds: f64) {
        let labels = provider(provider_key);
        self.rate_limit_waits.get_or_create(&labels).inc();
        self.rate_limit_wait_seconds.get_or_create(&labels).observe(seconds);
    }

    pub(crate) fn budget_refusal(&self, provider_key: &str) {
        self.budget_refusals.get_or_create(&provider(provider_key)).inc();
    }

    pub(crate) fn circuit(&self, provider: &str, connection: &str, blocked: bool) {
        self.circuit_blocked
            .get_or_create(&ConnectionLabels {
                provider: provider.to_string(),
                connection: connection.to_string(),
            })
            .set(i64::from(blocked));
    }
}
