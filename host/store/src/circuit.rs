//! What a connection's circuit breaker must not forget across restarts.

use crate::StoreError;

/// The durable part of a connection's circuit breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitRecord {
    /// Fingerprint of the credentials the failures happened with.
    pub fingerprint: String,
    /// Consecutive authentication failures.
    pub auth_failures: u32,
    /// Disabled until the credentials change or it is re-enabled.
    pub disabled: bool,
}

/// The message recorded on a stored connection when its breaker counts
/// authentication failures.
pub const AUTH_FAILURE: &str = "the provider refused the credentials (HTTP 401/403)";

/// Where circuit breakers keep what must survive a restart. A stored
/// connection keeps its record on its own row (so [`ConnectionRecord`]
/// shows it, with [`AUTH_FAILURE`] as its last failure); others by id.
///
/// [`ConnectionRecord`]: crate::ConnectionRecord
#[async_trait::async_trait]
pub trait CircuitStore: Send + Sync + 'static {
    /// The record of a connection.
    async fn load_circuit(&self, connection: &str) -> Result<Option<CircuitRecord>, StoreError>;
    /// Saves the record of a connection.
    async fn save_circuit(&self, connection: &str, record: &CircuitRecord) -> Result<(), StoreError>;
    /// Forgets the record of a connection.
    async fn clear_circuit(&self, connection: &str) -> Result<(), StoreError>;
}
