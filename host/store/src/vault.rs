//! The vault's metadata, and re-sealing every secret under a new key.

use crate::{ConnectionRecord, StoreError};

/// What identifies the vault key a database was sealed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultMeta {
    /// The key's public fingerprint.
    pub fingerprint: String,
    /// A known value sealed with the key.
    pub check: Vec<u8>,
}

/// Which sealed value a re-seal callback is given, with what it is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedSlot<'a> {
    /// A connection's credentials.
    Credentials(&'a ConnectionRecord),
    /// A connection's tokens.
    Tokens(&'a ConnectionRecord),
    /// A pending authorization's secret.
    Pending {
        /// Its state.
        state: &'a str,
        /// The connection it authorizes.
        connection: &'a str,
    },
    /// A connection's webhook ingress token.
    IngressToken {
        /// The connection's tenant.
        tenant: &'a str,
        /// The connection.
        connection: &'a str,
    },
    /// A webhook endpoint's signing secret.
    EndpointSecret {
        /// The tenant.
        tenant: &'a str,
        /// The endpoint.
        endpoint: &'a str,
    },
}

/// Turns a value sealed under the old key into one sealed under the new.
pub type Reseal = Box<dyn FnMut(SealedSlot<'_>, &[u8]) -> Result<Vec<u8>, String> + Send>;

/// The vault's metadata.
#[async_trait::async_trait]
pub trait VaultStore: Send + Sync + 'static {
    /// The recorded key fingerprint and check, if any.
    async fn vault_meta(&self) -> Result<Option<VaultMeta>, StoreError>;
    /// Records the key fingerprint and check.
    async fn set_vault_meta(&self, meta: VaultMeta) -> Result<(), StoreError>;
    /// Re-seals every sealed value (credentials, tokens, pending secrets,
    /// webhook ingress tokens and endpoint secrets)
    /// with `reseal` and records `meta`, atomically: either everything
    /// changes or nothing does. Returns how many connections were re-sealed.
    async fn reseal_all(&self, reseal: Reseal, meta: VaultMeta) -> Result<usize, StoreError>;
}
