//! Token leases within one process, for the backends that serve one
//! replica (memory, SQLite): a lock per connection, held by the lease.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

use crate::{ConnectionStore, StoreError, TokenLease};

/// A connection's lock, shared by its lease and those waiting for one.
type Lock = tokio::sync::Mutex<()>;

/// One lock per connection (tenant, id), created when first leased and
/// forgotten when no lease holds or waits for it.
#[derive(Default)]
pub struct LocalLeases {
    locks: Mutex<HashMap<(String, String), Weak<Lock>>>,
}

impl std::fmt::Debug for LocalLeases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLeases").finish_non_exhaustive()
    }
}

impl LocalLeases {
    /// Leases the tokens of `tenant`'s connection `id` in `store` (which
    /// stores them when the lease does): waits for the connection's lock,
    /// then reads the tokens; `None` when there is no such connection.
    pub async fn lease<S: ConnectionStore + Clone>(
        &self,
        store: &S,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Box<dyn TokenLease>>, StoreError> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            locks.retain(|_, lock| lock.strong_count() > 0);
            let key = (tenant.to_string(), id.to_string());
            match locks.get(&key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(Lock::new(()));
                    locks.insert(key, Arc::downgrade(&lock));
                    lock
                }
            }
        };
        let guard = lock.lock_owned().await;
        if store.connection(tenant, id).await?.is_none() {
            return Ok(None);
        }
        let tokens = store.tokens(tenant, id).await?;
        Ok(Some(Box::new(LocalLease {
            store: store.clone(),
            tenant: tenant.to_string(),
            id: id.to_string(),
            tokens,
            _guard: guard,
        })))
    }
}

struct LocalLease<S> {
    store: S,
    tenant: String,
    id: String,
    tokens: Option<Vec<u8>>,
    _guard: OwnedMutexGuard<()>,
}

#[async_trait::async_trait]
impl<S: ConnectionStore + Clone> TokenLease for LocalLease<S> {
    fn tokens(&self) -> Option<&[u8]> {
        self.tokens.as_deref()
    }

    async fn store(
        self: Box<Self>,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError> {
        self.store
            .set_tokens(&self.tenant, &self.id, sealed, connected, failure)
            .await
    }
}
