//! Host state. The embedded default is SQLite ([`SqliteStore`]); other
//! backends implement the same traits.

pub(crate) mod connections;
mod sqlite;

pub use sqlite::SqliteStore;

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
    /// The backend failed.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// Quotas of the per-connection key-value store.
#[derive(Debug, Clone)]
pub struct KvLimits {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Live keys per connection.
    pub max_keys: u64,
}

impl Default for KvLimits {
    fn default() -> Self {
        Self {
            max_key_bytes: 512,
            max_value_bytes: 1024 * 1024,
            max_keys: 10_000,
        }
    }
}

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

/// Where circuit breakers keep what must survive a restart.
#[async_trait::async_trait]
pub trait CircuitStore: Send + Sync + 'static {
    /// The record of a connection.
    async fn load_circuit(&self, connection: &str) -> Result<Option<CircuitRecord>, StoreError>;
    /// Saves the record of a connection.
    async fn save_circuit(&self, connection: &str, record: &CircuitRecord) -> Result<(), StoreError>;
    /// Forgets the record of a connection.
    async fn clear_circuit(&self, connection: &str) -> Result<(), StoreError>;
}

/// Key-value storage, namespaced per connection.
#[async_trait::async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// Reads a live value.
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes a value, expiring after `ttl_seconds` when given; enforces `limits`.
    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
        limits: &KvLimits,
    ) -> Result<(), StoreError>;
    /// Deletes a key; whether it was live.
    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, StoreError>;
    /// Live keys starting with `prefix`, in order.
    async fn list_keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StoreError>;
}
