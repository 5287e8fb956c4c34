//! Which connection a webhook ingress token names, and the cache of
//! recent answers: the one thing both the stored connections (which forget
//! a removed connection's entries) and the webhooks (which look tokens up
//! and rotate them) need.

use std::collections::HashMap;

/// The connection an ingress token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressTarget {
    /// Its tenant.
    pub tenant: String,
    /// The connection.
    pub connection_id: String,
}

/// How long a looked-up ingress token is trusted without the store: a
/// token rotated on another replica stops working within this time (on this
/// one, at once).
const INGRESS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Ingress tokens found in the store recently, by hash: every delivery
/// names its connection by token, and a busy ingress should not read the
/// store for each. Rotating a token forgets the connection's entries.
#[derive(Default)]
pub(crate) struct IngressCache(std::sync::Mutex<HashMap<Vec<u8>, (std::time::Instant, IngressTarget)>>);

impl IngressCache {
    pub(crate) fn get(&self, hash: &[u8]) -> Option<IngressTarget> {
        let cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(hash)
            .filter(|(found, _)| found.elapsed() < INGRESS_TTL)
            .map(|(_, target)| target.clone())
    }

    pub(crate) fn put(&self, hash: Vec<u8>, target: IngressTarget) {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= 10_000 {
            cache.retain(|_, (found, _)| found.elapsed() < INGRESS_TTL);
        }
        cache.insert(hash, (std::time::Instant::now(), target));
    }

    pub(crate) fn forget(&self, tenant: &str, connection_id: &str) {
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (_, t)| t.tenant != tenant || t.connection_id != connection_id);
    }
}
