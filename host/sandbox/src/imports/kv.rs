//! `kv`: per-connection storage with quotas.

use std::sync::Arc;

use patchbay_contract::bindings::patchbay::connector::kv::{self as wit, KvError};
use patchbay_store::{KvLimits, KvStore, StoreError};
use wasmtime::component::HasData;

/// What `kv` sees of a call: the connection's namespace (none while a
/// manifest is read), the store and its quotas.
pub(crate) struct KvView<'a> {
    pub namespace: Option<&'a str>,
    pub store: &'a Arc<dyn KvStore>,
    pub limits: &'a KvLimits,
}

/// Links `kv` to a [`KvView`].
pub(crate) struct Kv;

impl HasData for Kv {
    type Data<'a> = KvView<'a>;
}

fn guest_error(error: StoreError) -> KvError {
    match error {
        StoreError::Quota(m) => KvError::QuotaExceeded(m),
        StoreError::InvalidKey(m) => KvError::InvalidKey(m),
        StoreError::Backend(m) | StoreError::Conflict(m) => {
            tracing::error!(error = %m, "key-value store failed");
            KvError::Unavailable("the host's storage failed; see the host log".into())
        }
    }
}

impl KvView<'_> {
    /// The connection's namespace, or the error a plugin sees without one.
    fn namespace(&self) -> Result<&str, KvError> {
        self.namespace
            .ok_or_else(|| KvError::Unavailable("no connection: storage is per connection".into()))
    }
}

impl wit::Host for KvView<'_> {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, KvError>> {
        let namespace = match self.namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.store.get(namespace, &key).await.map_err(guest_error))
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> wasmtime::Result<Result<(), KvError>> {
        let namespace = match self.namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .store
            .set(namespace, &key, &value, ttl_seconds, self.limits)
            .await
            .map_err(guest_error))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, KvError>> {
        let namespace = match self.namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.store.delete(namespace, &key).await.map_err(guest_error))
    }

    async fn list_keys(&mut self, prefix: String) -> wasmtime::Result<Result<Vec<String>, KvError>> {
        let namespace = match self.namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.store.list_keys(namespace, &prefix).await.map_err(guest_error))
    }
}

#[cfg(test)]
mod tests {
    use patchbay_store::MemoryStore;

    use super::*;
    use wit::Host as _;

    #[tokio::test]
    async fn kv_is_per_namespace_with_quotas_and_typed_errors() {
        let store: Arc<dyn KvStore> = Arc::new(MemoryStore::new());
        let limits = KvLimits {
            max_keys: 1,
            ..KvLimits::default()
        };
        let mut a = KvView {
            namespace: Some("conn:a"),
            store: &store,
            limits: &limits,
        };
        a.set("k".into(), b"v".to_vec(), None).await.unwrap().unwrap();
        assert_eq!(a.get("k".into()).await.unwrap().unwrap().as_deref(), Some(&b"v"[..]));
        assert!(matches!(
            a.set("other".into(), b"v".to_vec(), None).await.unwrap(),
            Err(KvError::QuotaExceeded(_))
        ));
        let mut b = KvView {
            namespace: Some("conn:b"),
            store: &store,
            limits: &limits,
        };
        assert_eq!(
            b.get("k".into()).await.unwrap().unwrap(),
            None,
            "another connection sees nothing"
        );
        let mut none = KvView {
            namespace: None,
            store: &store,
            limits: &limits,
        };
        assert!(matches!(
            none.get("k".into()).await.unwrap(),
            Err(KvError::Unavailable(_))
        ));
    }
}
