//! Key-value storage, namespaced per connection.

use crate::StoreError;

/// Quotas of the per-connection key-value store.
#[derive(Debug, Clone)]
pub struct KvLimits {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Live keys per connection.
    pub max_keys: u64,
    /// Bytes of values per connection.
    pub max_bytes: u64,
}

impl Default for KvLimits {
    fn default() -> Self {
        Self {
            max_key_bytes: 512,
            max_value_bytes: 1024 * 1024,
            max_keys: 10_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl KvLimits {
    /// Checks a key and a value against the limits (the count is the
    /// backend's to check, in the same transaction as the write).
    pub fn check(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if key.is_empty() {
            return Err(StoreError::InvalidKey("keys cannot be empty".into()));
        }
        if key.len() > self.max_key_bytes {
            return Err(StoreError::InvalidKey(format!(
                "a key of {} bytes is over the limit of {} bytes",
                key.len(),
                self.max_key_bytes
            )));
        }
        if value.len() > self.max_value_bytes {
            return Err(StoreError::Quota(format!(
                "a value of {} bytes is over the limit of {} bytes",
                value.len(),
                self.max_value_bytes
            )));
        }
        Ok(())
    }

    /// Checks that a namespace holding `others` bytes in its other keys has
    /// room for a value of `len` bytes.
    pub fn check_room(&self, others: u64, len: usize) -> Result<(), StoreError> {
        if others.saturating_add(len as u64) > self.max_bytes {
            return Err(StoreError::Quota(format!(
                "the connection's values would take {} bytes, over the limit of {} bytes",
                others.saturating_add(len as u64),
                self.max_bytes
            )));
        }
        Ok(())
    }

    /// The error for a namespace that holds `count` keys, the limit.
    pub fn full(count: u64) -> StoreError {
        StoreError::Quota(format!("the connection already stores {count} keys, the limit"))
    }
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
