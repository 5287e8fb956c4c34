//! Stored connections: settings in clear, credentials and tokens sealed.

use std::collections::BTreeMap;

use crate::StoreError;

/// A stored connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// Unique across tenants.
    pub id: String,
    /// The owning tenant.
    pub tenant: String,
    /// `family/name` of the provider.
    pub provider: String,
    /// Human name.
    pub display_name: String,
    /// Non-secret settings.
    pub settings: BTreeMap<String, String>,
    /// Sealed JSON object of credential fields.
    pub credentials: Vec<u8>,
    /// Sealed OAuth token set, when authorized.
    pub tokens: Option<Vec<u8>>,
    /// The operator's switch.
    pub enabled: bool,
    /// False until authorized, and after the provider revokes it.
    pub connected: bool,
    /// Consecutive authentication failures seen by the circuit breaker.
    pub auth_failures: u32,
    /// Whether the circuit breaker disabled it.
    pub circuit_disabled: bool,
    /// The last failure, if any.
    pub last_failure: Option<String>,
    /// When it happened (Unix seconds).
    pub last_failure_at: Option<i64>,
    /// Unix seconds; set by the store on insert.
    pub created_at: i64,
    /// Unix seconds; set by the store on every change.
    pub updated_at: i64,
}

/// Stored connections, per tenant.
#[async_trait::async_trait]
pub trait ConnectionStore: Send + Sync + 'static {
    /// Stores a new connection; [`StoreError::Conflict`] when the id is taken.
    async fn insert_connection(&self, record: ConnectionRecord) -> Result<(), StoreError>;
    /// One connection of a tenant.
    async fn connection(&self, tenant: &str, id: &str) -> Result<Option<ConnectionRecord>, StoreError>;
    /// A tenant's connections, oldest first.
    async fn connections(&self, tenant: &str) -> Result<Vec<ConnectionRecord>, StoreError>;
    /// Sets the operator's switch; turning it on also clears the breaker's
    /// verdict. Whether the connection exists.
    async fn set_enabled(&self, tenant: &str, id: &str, enabled: bool) -> Result<bool, StoreError>;
    /// Replaces the sealed credentials; the breaker starts over. Whether the
    /// connection exists.
    async fn set_credentials(&self, tenant: &str, id: &str, sealed: Vec<u8>) -> Result<bool, StoreError>;
    /// Replaces the settings with the credentials sealed for them: the
    /// tokens (issued for the old settings) are dropped, the breaker starts
    /// over, and `connected` says whether it works without a new
    /// authorization. Whether the connection exists.
    async fn set_settings(
        &self,
        tenant: &str,
        id: &str,
        settings: BTreeMap<String, String>,
        sealed: Vec<u8>,
        connected: bool,
    ) -> Result<bool, StoreError>;
    /// The sealed tokens of a tenant's connection, if it has any.
    async fn tokens(&self, tenant: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores (or clears) the sealed tokens and the connected state of a
    /// tenant's connection; a failure message is recorded when given.
    async fn set_tokens(
        &self,
        tenant: &str,
        id: &str,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError>;
    /// Holds a tenant's connection's tokens for a refresh (waiting while
    /// another holder has them); `None` when there is no such connection.
    async fn lease_tokens(&self, tenant: &str, id: &str) -> Result<Option<Box<dyn TokenLease>>, StoreError>;
    /// Removes a connection with everything kept for it: its key-value data
    /// (`kv_namespace`), circuit record and pending authorizations. Whether
    /// it existed.
    async fn delete_connection(&self, tenant: &str, id: &str, kv_namespace: &str) -> Result<bool, StoreError>;
}

/// A connection's tokens held for a refresh, from
/// [`ConnectionStore::lease_tokens`]: while it is held, no other lease of
/// the same tokens is granted — in this process or, on a shared backend,
/// in any replica — so a provider that rotates refresh tokens never sees
/// two refreshes of one grant at once. Dropping it ends it, changing
/// nothing.
#[async_trait::async_trait]
pub trait TokenLease: Send {
    /// The sealed tokens as they stand under the lease.
    fn tokens(&self) -> Option<&[u8]>;
    /// Stores (or clears) the tokens as [`ConnectionStore::set_tokens`]
    /// does, and ends the lease.
    async fn store(
        self: Box<Self>,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError>;
}
