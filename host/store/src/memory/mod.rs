//! The in-memory backend: every trait, one mutex, nothing survives the
//! process. For tests, and for rate budgets that need not be shared.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod webhooks;

use webhooks::Webhooks;

use crate::gcra::{self, Bucket};
use crate::{
    AUTH_FAILURE, ApiKeyRecord, ApiKeyStore, AuthorizationStore, CircuitRecord, CircuitStore, ConnectionRecord,
    ConnectionStore, KvLimits, KvStore, LocalLeases, PendingAuthorization, RateQuota, RateStore, Reseal, Reservation,
    SealedSlot, StoreError, TokenLease, VaultMeta, VaultStore, unix_now,
};

#[derive(Default)]
struct State {
    /// (namespace, key) → (value, expires at, Unix seconds).
    kv: BTreeMap<(String, String), (Vec<u8>, Option<i64>)>,
    /// Breakers of connections that are not stored.
    circuits: HashMap<String, CircuitRecord>,
    connections: BTreeMap<String, ConnectionRecord>,
    /// Breaker fingerprints of stored connections.
    fingerprints: HashMap<String, String>,
    pending: HashMap<String, PendingAuthorization>,
    vault: Option<VaultMeta>,
    rates: HashMap<String, Bucket>,
    api_keys: BTreeMap<String, ApiKeyRecord>,
    webhooks: Webhooks,
}

/// Every kind of state in process memory. Cheap to clone (shared).
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    epoch: Instant,
    leases: Arc<LocalLeases>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: Arc::default(),
            epoch: Instant::now(),
            leases: Arc::default(),
        }
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written record:
        // every change below is a single insert or remove.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

fn live(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_none_or(|at| at > now)
}

#[async_trait::async_trait]
impl KvStore for MemoryStore {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let state = self.state();
        Ok(state
            .kv
            .get(&(namespace.to_string(), key.to_string()))
            .filter(|(_, expires)| live(*expires, unix_now()))
            .map(|(value, _)| value.clone()))
    }

    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
        limits: &KvLimits,
    ) -> Result<(), StoreError> {
        limits.check(key, value)?;
        let now = unix_now();
        let mut state = self.state();
        state
            .kv
            .retain(|(ns, _), (_, expires)| ns != namespace || live(*expires, now));
        let id = (namespace.to_string(), key.to_string());
        let others: u64 = state
            .kv
            .iter()
            .filter(|((ns, k), _)| ns == namespace && k != key)
            .map(|(_, (v, _))| v.len() as u64)
            .sum();
        limits.check_room(others, value.len())?;
        if !state.kv.contains_key(&id) {
            let count = state.kv.keys().filter(|(ns, _)| ns == namespace).count() as u64;
            if count >= limits.max_keys {
                return Err(KvLimits::full(count));
            }
        }
        let expires = ttl_seconds.map(|ttl| now + i64::from(ttl));
        state.kv.insert(id, (value.to_vec(), expires));
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, StoreError> {
        let removed = self.state().kv.remove(&(namespace.to_string(), key.to_string()));
        Ok(removed.is_some_and(|(_, expires)| live(expires, unix_now())))
    }

    async fn list_keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let now = unix_now();
        Ok(self
            .state()
            .kv
            .iter()
            .filter(|((ns, key), (_, expires))| ns == namespace && key.starts_with(prefix) && live(*expires, now))
            .map(|((_, key), _)| key.clone())
            .collect())
    }
}

#[async_trait::async_trait]
impl CircuitStore for MemoryStore {
    async fn load_circuit(&self, connection: &str) -> Result<Option<CircuitRecord>, StoreError> {
        let state = self.state();
        if let (Some(row), Some(fingerprint)) = (state.connections.get(connection), state.fingerprints.get(connection))
        {
            return Ok(Some(CircuitRecord {
                fingerprint: fingerprint.clone(),
                auth_failures: row.auth_failures,
                disabled: row.circuit_disabled,
            }));
        }
        Ok(state.circuits.get(connection).cloned())
    }

    async fn save_circuit(&self, connection: &str, record: &CircuitRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        let State {
            connections,
            fingerprints,
            circuits,
            ..
        } = &mut *state;
        if let Some(row) = connections.get_mut(connection) {
            fingerprints.insert(connection.to_string(), record.fingerprint.clone());
            row.auth_failures = record.auth_failures;
            row.circuit_disabled = record.disabled;
            let now = unix_now();
            if record.auth_failures > 0 {
                row.last_failure = Some(AUTH_FAILURE.to_string());
                row.last_failure_at = Some(now);
            }
            row.updated_at = now;
            return Ok(());
        }
        circuits.insert(connection.to_string(), record.clone());
        Ok(())
    }

    async fn clear_circuit(&self, connection: &str) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(row) = state.connections.get_mut(connection) {
            row.auth_failures = 0;
            row.circuit_disabled = false;
        }
        state.fingerprints.remove(connection);
        state.circuits.remove(connection);
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionStore for MemoryStore {
    async fn insert_connection(&self, mut record: ConnectionRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.connections.contains_key(&record.id) {
            return Err(StoreError::Conflict(format!(
                "a connection with the id {:?} exists",
                record.id
            )));
        }
        let now = unix_now();
        (record.created_at, record.updated_at) = (now, now);
        (record.auth_failures, record.circuit_disabled) = (0, false);
        (record.last_failure, record.last_failure_at) = (None, None);
        state.connections.insert(record.id.clone(), record);
        Ok(())
    }

    async fn connection(&self, tenant: &str, id: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        Ok(self.state().connections.get(id).filter(|r| r.tenant == tenant).cloned())
    }

    async fn connections(&self, tenant: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        let mut rows: Vec<ConnectionRecord> = self
            .state()
            .connections
            .values()
            .filter(|r| r.tenant == tenant)
            .cloned()
            .collect();
        rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(rows)
    }

    async fn set_enabled(&self, tenant: &str, id: &str, enabled: bool) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(row) = state.connections.get_mut(id).filter(|r| r.tenant == tenant) else {
            return Ok(false);
        };
        row.enabled = enabled;
        if enabled {
            row.circuit_disabled = false;
            row.auth_failures = 0;
        }
        row.updated_at = unix_now();
        Ok(true)
    }

    async fn set_settings(
        &self,
        tenant: &str,
        id: &str,
        settings: BTreeMap<String, String>,
        sealed: Vec<u8>,
        connected: bool,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(row) = state.connections.get_mut(id).filter(|r| r.tenant == tenant) else {
            return Ok(false);
        };
        row.settings = settings;
        row.credentials = sealed;
        row.tokens = None;
        row.connected = connected;
        row.auth_failures = 0;
        row.circuit_disabled = false;
        row.updated_at = unix_now();
        state.fingerprints.remove(id);
        Ok(true)
    }

    async fn set_credentials(&self, tenant: &str, id: &str, sealed: Vec<u8>) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(row) = state.connections.get_mut(id).filter(|r| r.tenant == tenant) else {
            return Ok(false);
        };
        row.credentials = sealed;
        row.auth_failures = 0;
        row.circuit_disabled = false;
        row.updated_at = unix_now();
        state.fingerprints.remove(id);
        Ok(true)
    }

    async fn tokens(&self, tenant: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .state()
            .connections
            .get(id)
            .filter(|r| r.tenant == tenant)
            .and_then(|r| r.tokens.clone()))
    }

    async fn set_tokens(
        &self,
        tenant: &str,
        id: &str,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(row) = state.connections.get_mut(id).filter(|r| r.tenant == tenant) {
            let now = unix_now();
            row.tokens = sealed;
            row.connected = connected;
            if let Some(failure) = failure {
                row.last_failure = Some(failure);
                row.last_failure_at = Some(now);
            }
            row.updated_at = now;
        }
        Ok(())
    }

    async fn lease_tokens(&self, tenant: &str, id: &str) -> Result<Option<Box<dyn TokenLease>>, StoreError> {
        self.leases.lease(self, tenant, id).await
    }

    async fn delete_connection(&self, tenant: &str, id: &str, kv_namespace: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.connections.get(id).is_none_or(|r| r.tenant != tenant) {
            return Ok(false);
        }
        state.connections.remove(id);
        state.fingerprints.remove(id);
        state.circuits.remove(id);
        state.kv.retain(|(ns, _), _| ns != kv_namespace);
        state.pending.retain(|_, p| p.connection_id != id);
        state
            .webhooks
            .ingress
            .retain(|_, i| !(i.tenant == tenant && i.connection_id == id));
        Ok(true)
    }
}

#[async_trait::async_trait]
impl ApiKeyStore for MemoryStore {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.api_keys.contains_key(&record.id) {
            return Err(StoreError::Conflict(format!(
                "an API key {:?} exists already",
                record.id
            )));
        }
        state.api_keys.insert(record.id.clone(), record);
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.state().api_keys.get(id).cloned())
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut keys: Vec<ApiKeyRecord> = self.state().api_keys.values().cloned().collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn delete_api_key(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.state().api_keys.remove(id).is_some())
    }
}

#[async_trait::async_trait]
impl AuthorizationStore for MemoryStore {
    async fn insert_pending(&self, state_key: &str, pending: PendingAuthorization) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.connections.contains_key(&pending.connection_id) {
            return Err(StoreError::Conflict(format!(
                "no connection {:?} to authorize",
                pending.connection_id
            )));
        }
        let now = unix_now();
        state.pending.retain(|_, p| p.expires_at > now);
        if state.pending.contains_key(state_key) {
            return Err(StoreError::Conflict("the authorization state exists".into()));
        }
        state.pending.insert(state_key.to_string(), pending);
        Ok(())
    }

    async fn take_pending(&self, state_key: &str) -> Result<Option<PendingAuthorization>, StoreError> {
        Ok(self.state().pending.remove(state_key))
    }
}

#[async_trait::async_trait]
impl VaultStore for MemoryStore {
    async fn vault_meta(&self) -> Result<Option<VaultMeta>, StoreError> {
        Ok(self.state().vault.clone())
    }

    async fn set_vault_meta(&self, meta: VaultMeta) -> Result<(), StoreError> {
        self.state().vault = Some(meta);
        Ok(())
    }

    async fn reseal_all(&self, mut reseal: Reseal, meta: VaultMeta) -> Result<usize, StoreError> {
        let mut state = self.state();
        let mut again = |slot: SealedSlot<'_>, sealed: &[u8]| {
            reseal(slot, sealed)
                .map_err(|why| StoreError::Backend(format!("cannot re-encrypt {slot:?}: {why}; nothing was changed")))
        };
        // Work on copies: nothing changes unless every value re-seals.
        let mut connections = state.connections.clone();
        for row in connections.values_mut() {
            let before = row.clone();
            row.credentials = again(SealedSlot::Credentials(&before), &before.credentials)?;
            if let Some(tokens) = &before.tokens {
                row.tokens = Some(again(SealedSlot::Tokens(&before), tokens)?);
            }
        }
        let mut pending = state.pending.clone();
        for (key, p) in pending.iter_mut() {
            let slot = SealedSlot::Pending {
                state: key,
                connection: &p.connection_id,
            };
            p.secret = again(slot, &p.secret)?;
        }
        let mut ingress = state.webhooks.ingress.clone();
        for record in ingress.values_mut() {
            let slot = SealedSlot::IngressToken {
                tenant: &record.tenant,
                connection: &record.connection_id,
            };
            record.sealed_token = again(slot, &record.sealed_token)?;
        }
        let mut endpoints = state.webhooks.endpoints.clone();
        for endpoint in endpoints.values_mut() {
            let slot = SealedSlot::EndpointSecret {
                tenant: &endpoint.tenant,
                endpoint: &endpoint.id,
            };
            endpoint.sealed_secret = again(slot, &endpoint.sealed_secret)?;
        }
        let count = connections.len();
        state.connections = connections;
        state.pending = pending;
        state.webhooks.ingress = ingress;
        state.webhooks.endpoints = endpoints;
        state.vault = Some(meta);
        Ok(count)
    }
}

#[async_trait::async_trait]
impl RateStore for MemoryStore {
    async fn reserve(&self, key: &str, quota: RateQuota, max_wait: Duration) -> Result<Reservation, StoreError> {
        let now = self.now_ms();
        let mut state = self.state();
        let bucket = state.rates.get(key).copied().unwrap_or_default();
        Ok(match gcra::reserve(bucket, quota, now, max_wait) {
            Ok((bucket, wait)) => {
                state.rates.insert(key.to_string(), bucket);
                Reservation::Granted(wait)
            }
            Err(wait) => Reservation::Refused(wait),
        })
    }

    async fn pause(&self, key: &str, pause: Duration) -> Result<(), StoreError> {
        let now = self.now_ms();
        let mut state = self.state();
        let bucket = state.rates.get(key).copied().unwrap_or_default();
        state.rates.insert(key.to_string(), gcra::pause(bucket, now, pause));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;

    #[tokio::test]
    async fn kv() {
        conformance::kv(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn circuits() {
        conformance::circuits(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn connections() {
        conformance::connections(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn token_leases() {
        conformance::token_leases(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn authorizations() {
        conformance::authorizations(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn api_keys() {
        conformance::api_keys(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn webhooks() {
        conformance::webhooks(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn webhook_retention() {
        conformance::webhook_retention(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn vault() {
        conformance::vault(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn rates() {
        conformance::rates(&MemoryStore::new()).await;
    }
}
