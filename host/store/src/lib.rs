//! # patchbay-store
//!
//! Every kind of state the Patchbay host keeps sits behind a trait here,
//! one file per kind:
//!
//! | trait                  | what it keeps                                              |
//! |------------------------|------------------------------------------------------------|
//! | [`KvStore`]            | the plugins' per-connection key-value data (TTL, quotas)   |
//! | [`CircuitStore`]       | what a connection's circuit breaker must not forget        |
//! | [`ConnectionStore`]    | stored connections with their sealed credentials and tokens|
//! | [`AuthorizationStore`] | pending OAuth2 authorizations (single use, expiring)       |
//! | [`VaultStore`]         | the vault key's fingerprint and check; re-sealing          |
//! | [`RateStore`]          | rate budgets (GCRA) and the pauses providers ask for       |
//! | [`ApiKeyStore`]        | the service's API keys, as hashes                          |
//! | [`WebhookStore`]       | the webhook inbox, events, endpoints and their durable jobs |
//!
//! Backends are sibling crates (`patchbay-store-sqlite`, ...); this crate
//! has the in-memory backend ([`MemoryStore`]) and, in [`conformance`], the
//! suites that define the traits: every backend runs them.
//!
//! Sealed values are opaque bytes here: stores never see a secret in clear.
#![deny(missing_docs)]

mod api_keys;
mod authorizations;
mod circuit;
pub mod conformance;
mod connections;
pub mod gcra;
mod kv;
mod leases;
mod memory;
mod rate;
mod vault;
pub mod webhooks;

pub use api_keys::{ApiKeyRecord, ApiKeyStore};
pub use authorizations::{AuthorizationStore, PendingAuthorization};
pub use circuit::{AUTH_FAILURE, CircuitRecord, CircuitStore};
pub use connections::{ConnectionRecord, ConnectionStore, TokenLease};
pub use kv::{KvLimits, KvStore};
pub use leases::LocalLeases;
pub use memory::MemoryStore;
pub use rate::{QuotaShare, RateQuota, RateStore, Reservation};
pub use vault::{Reseal, SealedSlot, VaultMeta, VaultStore};
pub use webhooks::WebhookStore;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A quota was exceeded.
    #[error("quota exceeded: {0}")]
    Quota(String),
    /// The key is empty or too long.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The record exists already.
    #[error("{0}")]
    Conflict(String),
    /// The backend failed (unreachable, corrupt, out of space, ...).
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// Seconds since the Unix epoch, the time unit of stored records.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// One backend for every kind of state, as the host uses it.
#[derive(Clone)]
pub struct Stores {
    /// Plugins' key-value data.
    pub kv: Arc<dyn KvStore>,
    /// Circuit-breaker records.
    pub circuits: Arc<dyn CircuitStore>,
    /// Stored connections.
    pub connections: Arc<dyn ConnectionStore>,
    /// Pending OAuth2 authorizations.
    pub authorizations: Arc<dyn AuthorizationStore>,
    /// Vault metadata.
    pub vault: Arc<dyn VaultStore>,
    /// Rate budgets.
    pub rates: Arc<dyn RateStore>,
    /// The service's API keys.
    pub api_keys: Arc<dyn ApiKeyStore>,
    /// The webhook inbox, events, endpoints and jobs.
    pub webhooks: Arc<dyn WebhookStore>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl Stores {
    /// Every kind of state in one backend.
    pub fn all_in<S>(backend: S) -> Self
    where
        S: KvStore
            + CircuitStore
            + ConnectionStore
            + AuthorizationStore
            + VaultStore
            + RateStore
            + ApiKeyStore
            + WebhookStore,
    {
        let backend = Arc::new(backend);
        Self {
            kv: backend.clone(),
            circuits: backend.clone(),
            connections: backend.clone(),
            authorizations: backend.clone(),
            vault: backend.clone(),
            api_keys: backend.clone(),
            webhooks: backend.clone(),
            rates: backend,
        }
    }

    /// Keeps rate budgets in `rates` instead (rate budgets are written on
    /// every request: in process unless replicas must share them).
    pub fn with_rates(self, rates: Arc<dyn RateStore>) -> Self {
        Self { rates, ..self }
    }
}
