//! Host-wide services every call uses: storage and the outbound policy.

use std::sync::Arc;

use crate::anomaly::CallSpikes;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::outbound::OutboundPolicy;
use crate::store::{KvLimits, KvStore};

/// What the host shares with every call.
pub(crate) struct Services {
    pub kv: Arc<dyn KvStore>,
    pub kv_limits: KvLimits,
    pub outbound: Arc<dyn OutboundPolicy>,
    pub limits: Limits,
    /// Per-provider limits that replace `limits`.
    pub plugin_limits: std::collections::BTreeMap<String, Limits>,
    pub metrics: Arc<Metrics>,
    pub spikes: CallSpikes,
    /// The client for OAuth2 token requests (same address guard as the pipeline).
    pub oauth_http: reqwest::Client,
}

impl Services {
    /// The limits of a provider's calls.
    pub fn limits_for(&self, provider: &str) -> &Limits {
        self.plugin_limits.get(provider).unwrap_or(&self.limits)
    }
}
