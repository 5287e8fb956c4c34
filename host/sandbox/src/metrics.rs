//! Calls into plugins, by outcome, and their duration.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::CallError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    provider: String,
    /// `ok`, `connector-error`, `fault`, `deadline`, `invalid-input`, `unsupported`.
    outcome: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// Counters of calls into plugins.
pub struct CallMetrics {
    calls: Family<CallLabels, Counter>,
    call_seconds: Family<ProviderLabels, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for CallMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallMetrics").finish_non_exhaustive()
    }
}

/// The `outcome` label of a call's result.
pub fn outcome_label<T>(outcome: &Result<T, CallError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(CallError::Connector(_)) => "connector-error",
        Err(CallError::Fault(_)) => "fault",
        Err(CallError::Deadline(_)) => "deadline",
        Err(CallError::Input(_)) => "invalid-input",
        Err(CallError::Unsupported(_)) => "unsupported",
    }
}

impl CallMetrics {
    /// New metrics, registered in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            calls: Family::default(),
            call_seconds: Family::new_with_constructor(latency_histogram),
        };
        registry.register("calls", "Calls into plugins, by outcome", metrics.calls.clone());
        registry.register(
            "call_duration_seconds",
            "Duration of calls into plugins",
            metrics.call_seconds.clone(),
        );
        metrics
    }

    pub(crate) fn record(&self, provider: &str, outcome: &'static str, seconds: f64) {
        self.calls
            .get_or_create(&CallLabels {
                provider: provider.to_string(),
                outcome: outcome.into(),
            })
            .inc();
        self.call_seconds
            .get_or_create(&ProviderLabels {
                provider: provider.to_string(),
            })
            .observe(seconds);
    }
}
