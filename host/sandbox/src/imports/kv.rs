//! `kv`: per-connection storage with quotas.

use crate::state::CallState;
use patchbay_contract::bindings::patchbay::connector::kv::{self as wit, KvError};
use patchbay_store::StoreError;

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

impl CallState {
    /// The connection's namespace, or the error a plugin sees without one.
    fn kv_namespace(&self) -> Result<String, KvError> {
        self.ctx
            .connection
            .as_ref()
            .map(|c| c.kv_namespace.clone())
            .ok_or_else(|| KvError::Unavailable("no connection: storage is per connection".into()))
    }
}

impl wit::Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, KvError>> {
        let namespace = match self.kv_namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.ctx.services.kv.get(&namespace, &key).await.map_err(guest_error))
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> wasmtime::Result<Result<(), KvError>> {
        let namespace = match self.kv_namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        let services = &self.ctx.services;
        Ok(services
            .kv
            .set(&namespace, &key, &value, ttl_seconds, &services.kv_limits)
            .await
            .map_err(guest_error))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<Result<bool, KvError>> {
        let namespace = match self.kv_namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.ctx.services.kv.delete(&namespace, &key).await.map_err(guest_error))
    }

    async fn list_keys(&mut self, prefix: String) -> wasmtime::Result<Result<Vec<String>, KvError>> {
        let namespace = match self.kv_namespace() {
            Ok(ns) => ns,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .ctx
            .services
            .kv
            .list_keys(&namespace, &prefix)
            .await
            .map_err(guest_error))
    }
}
