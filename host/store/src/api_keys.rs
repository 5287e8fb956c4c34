//! The service's API keys: only a hash of each key is kept.

use crate::StoreError;

/// An API key as stored: its public id and the hash of its secret, never
/// the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The key's public id (the part of the key that finds its record).
    pub id: String,
    /// The tenant the key acts for.
    pub tenant: String,
    /// Whether it may use the operator's endpoints.
    pub admin: bool,
    /// The hash of the key's secret.
    pub hash: Vec<u8>,
    /// What the operator called it.
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// API keys.
#[async_trait::async_trait]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// Records a new key; an id that exists is a [`StoreError::Conflict`].
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError>;
    /// The key with this id.
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Every key, oldest first.
    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Revokes a key; whether it existed.
    async fn delete_api_key(&self, id: &str) -> Result<bool, StoreError>;
}
