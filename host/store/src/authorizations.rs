//! Pending OAuth2 authorizations: started, not yet called back.

use crate::StoreError;

/// A started authorization-code flow, keyed by its `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// The tenant of the connection: the provider's callback carries no
    /// API key, only the `state`, and this says whose connection it is.
    pub tenant: String,
    /// The connection being authorized (removing it removes this).
    pub connection_id: String,
    /// Sealed PKCE verifier and redirect URI.
    pub secret: Vec<u8>,
    /// Unix seconds after which it is void.
    pub expires_at: i64,
}

/// Pending authorizations.
#[async_trait::async_trait]
pub trait AuthorizationStore: Send + Sync + 'static {
    /// Records a pending authorization (and forgets expired ones).
    async fn insert_pending(&self, state: &str, pending: PendingAuthorization) -> Result<(), StoreError>;
    /// Takes a pending authorization: it can be taken once.
    async fn take_pending(&self, state: &str) -> Result<Option<PendingAuthorization>, StoreError>;
}
