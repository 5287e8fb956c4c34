//! What every call shares: storage, the outbound policy, limits, metrics.

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_outbound::OutboundPolicy;
use patchbay_store::{KvLimits, KvStore};

use crate::limits::Limits;
use crate::metrics::CallMetrics;
use crate::spikes::CallSpikes;

/// What every call shares: storage, the outbound policy, limits, metrics.
pub struct Services {
    /// The plugins' key-value data.
    pub kv: Arc<dyn KvStore>,
    /// Its quotas.
    pub kv_limits: KvLimits,
    /// Where every HTTP request of every plugin goes.
    pub outbound: Arc<dyn OutboundPolicy>,
    /// Per-call limits.
    pub limits: Limits,
    /// Per-provider limits that replace `limits`.
    pub plugin_limits: BTreeMap<String, Limits>,
    /// Call counters.
    pub metrics: Arc<CallMetrics>,
    /// Where the answers plugins write into blobs are spooled (each in a
    /// temporary file deleted with its last handle).
    pub spool: patchbay_outbound::Spool,
}

/// The services, and what the sandbox derives from them.
pub(crate) struct Shared {
    pub services: Services,
    pub spikes: CallSpikes,
}

impl std::ops::Deref for Shared {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl Services {
    /// The limits of a provider's calls.
    pub fn limits_for(&self, provider: &str) -> &Limits {
        self.plugin_limits.get(provider).unwrap_or(&self.limits)
    }
}
