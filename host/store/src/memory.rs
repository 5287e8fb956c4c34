//! The in-memory backend: every trait, one mutex, nothing survives the
//! process. For tests, and for rate budgets that need not be shared.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::gcra::{self, Bucket};
use crate::webhooks::{
    Delivery, Endpoint, EventRecord, IngressRecord, Job, JobCounts, JobKind, JobState, NewDelivery, NewEvent, Outcome,
    Pruned, WebhookStore,
};
use crate::{
    AUTH_FAILURE, ApiKeyRecord, ApiKeyStore, AuthorizationStore, CircuitRecord, CircuitStore, ConnectionRecord,
    ConnectionStore, KvLimits, KvStore, PendingAuthorization, RateQuota, RateStore, Reseal, Reservation, SealedSlot,
    StoreError, VaultMeta, VaultStore, unix_now,
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

/// The webhook inbox, events, endpoints and jobs.
#[derive(Default)]
struct Webhooks {
    /// Token hash → ingress.
    ingress: HashMap<Vec<u8>, IngressRecord>,
    deliveries: BTreeMap<i64, Delivery>,
    /// Job id → (job, lease until, Unix ms).
    jobs: BTreeMap<i64, (Job, i64)>,
    /// `parse:{delivery}` / `push:{seq}:{endpoint}` → job id.
    job_keys: HashMap<String, i64>,
    events: BTreeMap<i64, EventRecord>,
    /// (connection, idempotency key) of every event.
    idempotency: std::collections::HashSet<(String, String)>,
    endpoints: BTreeMap<String, Endpoint>,
    next_id: i64,
}

impl Webhooks {
    fn next(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// Queues a job under `key`; an existing one is made ready again when
    /// `again`, left alone otherwise.
    fn enqueue(&mut self, key: String, job: Job, again: bool) -> bool {
        if let Some(id) = self.job_keys.get(&key) {
            if !again {
                return false;
            }
            if let Some((existing, lease)) = self.jobs.get_mut(id) {
                existing.state = JobState::Ready;
                existing.attempts = 0;
                existing.run_at_ms = job.run_at_ms;
                existing.last_error = None;
                existing.last_status = None;
                existing.updated_at_ms = job.updated_at_ms;
                *lease = 0;
            }
            return true;
        }
        let id = self.next();
        self.job_keys.insert(key, id);
        self.jobs.insert(id, (Job { id, ..job }, 0));
        true
    }

    /// Ends one attempt of a job; whether it still held the job.
    fn finish(&mut self, id: i64, attempts: u32, outcome: Outcome, now_ms: i64) -> bool {
        let Some((job, lease)) = self.jobs.get_mut(&id) else {
            return false;
        };
        if job.attempts != attempts || job.state != JobState::Ready {
            return false;
        }
        match outcome {
            Outcome::Done { status } => {
                job.state = JobState::Done;
                job.last_status = status.or(job.last_status);
            }
            Outcome::Retry {
                run_at_ms,
                error,
                status,
            } => {
                job.run_at_ms = run_at_ms;
                job.last_error = Some(error);
                job.last_status = status;
            }
            Outcome::Dead { error, status } => {
                job.state = JobState::Dead;
                job.last_error = Some(error);
                job.last_status = status;
            }
        }
        job.updated_at_ms = now_ms;
        *lease = 0;
        true
    }

    /// Ends one parse attempt with its events; the new events, or `None`
    /// when the attempt no longer held the job.
    fn finish_parse(&mut self, id: i64, attempts: u32, events: Vec<NewEvent>, now_ms: i64) -> Option<Vec<EventRecord>> {
        let webhooks = self; // the same field names as the store's other methods
        let (job, _) = webhooks.jobs.get(&id)?;
        if job.attempts != attempts || job.state != JobState::Ready || job.kind != JobKind::Parse {
            return None;
        }
        let (tenant, connection_id, delivery_id) = (
            job.tenant.clone(),
            job.connection_id.clone(),
            job.delivery_id.unwrap_or_default(),
        );
        let mut stored = Vec::new();
        for event in events {
            if !webhooks
                .idempotency
                .insert((connection_id.clone(), event.idempotency_key.clone()))
            {
                continue;
            }
            let seq = webhooks.next();
            let record = EventRecord {
                seq,
                tenant: tenant.clone(),
                connection_id: connection_id.clone(),
                delivery_id,
                created_at_ms: now_ms,
                event,
            };
            webhooks.events.insert(seq, record.clone());
            let takers: Vec<Endpoint> = webhooks
                .endpoints
                .values()
                .filter(|e| e.tenant == tenant && e.takes(&record.event.event_type))
                .cloned()
                .collect();
            for endpoint in takers {
                let (key, push) = Webhooks::push_job(&tenant, &record, &endpoint, now_ms);
                webhooks.enqueue(key, push, false);
            }
            stored.push(record);
        }
        if let Some((job, lease)) = webhooks.jobs.get_mut(&id) {
            job.state = JobState::Done;
            job.updated_at_ms = now_ms;
            *lease = 0;
        }
        Some(stored)
    }

    fn push_job(tenant: &str, event: &EventRecord, endpoint: &Endpoint, now_ms: i64) -> (String, Job) {
        (
            format!("push:{}:{}", event.seq, endpoint.id),
            Job {
                id: 0,
                kind: JobKind::Push,
                tenant: tenant.to_string(),
                connection_id: event.connection_id.clone(),
                delivery_id: None,
                event_seq: Some(event.seq),
                endpoint_id: Some(endpoint.id.clone()),
                state: JobState::Ready,
                attempts: 0,
                run_at_ms: now_ms,
                last_error: None,
                last_status: None,
                updated_at_ms: now_ms,
            },
        )
    }
}

/// Every kind of state in process memory. Cheap to clone (shared).
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    epoch: Instant,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            state: Arc::default(),
            epoch: Instant::now(),
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

#[async_trait::async_trait]
impl WebhookStore for MemoryStore {
    async fn set_ingress(&self, record: IngressRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        let webhooks = &mut state.webhooks;
        webhooks
            .ingress
            .retain(|_, i| !(i.tenant == record.tenant && i.connection_id == record.connection_id));
        webhooks.ingress.insert(record.token_hash.clone(), record);
        Ok(())
    }

    async fn ingress(&self, token_hash: &[u8]) -> Result<Option<IngressRecord>, StoreError> {
        Ok(self.state().webhooks.ingress.get(token_hash).cloned())
    }

    async fn ingress_of(&self, tenant: &str, connection_id: &str) -> Result<Option<IngressRecord>, StoreError> {
        Ok(self
            .state()
            .webhooks
            .ingress
            .values()
            .find(|i| i.tenant == tenant && i.connection_id == connection_id)
            .cloned())
    }

    async fn accept_deliveries(&self, deliveries: Vec<NewDelivery>, now_ms: i64) -> Result<Vec<i64>, StoreError> {
        let mut state = self.state();
        let webhooks = &mut state.webhooks;
        let mut ids = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let id = webhooks.next();
            let job = Job {
                id: 0,
                kind: JobKind::Parse,
                tenant: delivery.tenant.clone(),
                connection_id: delivery.connection_id.clone(),
                delivery_id: Some(id),
                event_seq: None,
                endpoint_id: None,
                state: JobState::Ready,
                attempts: 0,
                run_at_ms: now_ms,
                last_error: None,
                last_status: None,
                updated_at_ms: now_ms,
            };
            webhooks.deliveries.insert(id, Delivery { id, delivery });
            webhooks.enqueue(format!("parse:{id}"), job, false);
            ids.push(id);
        }
        Ok(ids)
    }

    async fn delivery(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        Ok(self.state().webhooks.deliveries.get(&id).cloned())
    }

    async fn claim_jobs(
        &self,
        kind: JobKind,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let mut state = self.state();
        let mut due: Vec<(i64, i64)> = state
            .webhooks
            .jobs
            .values()
            .filter(|(job, lease)| {
                job.kind == kind && job.state == JobState::Ready && job.run_at_ms <= now_ms && *lease <= now_ms
            })
            .map(|(job, _)| (job.run_at_ms, job.id))
            .collect();
        due.sort_unstable();
        let mut claimed = Vec::new();
        for (_, id) in due.into_iter().take(limit) {
            if let Some((job, lease)) = state.webhooks.jobs.get_mut(&id) {
                job.attempts += 1;
                job.updated_at_ms = now_ms;
                *lease = now_ms + lease_ms;
                claimed.push(job.clone());
            }
        }
        Ok(claimed)
    }

    async fn finish_jobs(&self, finished: Vec<(i64, u32, Outcome)>, now_ms: i64) -> Result<Vec<bool>, StoreError> {
        let mut state = self.state();
        Ok(finished
            .into_iter()
            .map(|(id, attempts, outcome)| state.webhooks.finish(id, attempts, outcome, now_ms))
            .collect())
    }

    async fn finish_parses(
        &self,
        finished: Vec<(i64, u32, Vec<NewEvent>)>,
        now_ms: i64,
    ) -> Result<Vec<Option<Vec<EventRecord>>>, StoreError> {
        let mut state = self.state();
        Ok(finished
            .into_iter()
            .map(|(id, attempts, events)| state.webhooks.finish_parse(id, attempts, events, now_ms))
            .collect())
    }

    async fn job(&self, tenant: &str, id: i64) -> Result<Option<Job>, StoreError> {
        Ok(self
            .state()
            .webhooks
            .jobs
            .get(&id)
            .filter(|(job, _)| job.tenant == tenant)
            .map(|(job, _)| job.clone()))
    }

    async fn jobs(&self, tenant: &str, job_state: JobState, limit: usize) -> Result<Vec<Job>, StoreError> {
        let state = self.state();
        let mut jobs: Vec<Job> = state
            .webhooks
            .jobs
            .values()
            .filter(|(job, _)| job.tenant == tenant && job.state == job_state)
            .map(|(job, _)| job.clone())
            .collect();
        jobs.sort_by_key(|job| std::cmp::Reverse((job.updated_at_ms, job.id)));
        jobs.truncate(limit);
        Ok(jobs)
    }

    async fn replay_job(&self, tenant: &str, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some((job, lease)) = state.webhooks.jobs.get_mut(&id) else {
            return Ok(false);
        };
        if job.tenant != tenant || job.state == JobState::Ready {
            return Ok(false);
        }
        job.state = JobState::Ready;
        job.attempts = 0;
        job.run_at_ms = now_ms;
        job.last_error = None;
        job.last_status = None;
        job.updated_at_ms = now_ms;
        *lease = 0;
        Ok(true)
    }

    async fn replay_events(
        &self,
        tenant: &str,
        connection_id: &str,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let webhooks = &mut state.webhooks;
        let events: Vec<EventRecord> = webhooks
            .events
            .values()
            .filter(|e| {
                e.tenant == tenant && e.connection_id == connection_id && (from_ms..to_ms).contains(&e.created_at_ms)
            })
            .cloned()
            .collect();
        let endpoints: Vec<Endpoint> = webhooks
            .endpoints
            .values()
            .filter(|e| e.tenant == tenant)
            .cloned()
            .collect();
        let mut queued = 0;
        for event in &events {
            for endpoint in endpoints.iter().filter(|e| e.takes(&event.event.event_type)) {
                let (key, push) = Webhooks::push_job(tenant, event, endpoint, now_ms);
                if webhooks.enqueue(key, push, true) {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    async fn job_counts(&self) -> Result<JobCounts, StoreError> {
        let state = self.state();
        let mut counts = JobCounts::default();
        for (job, _) in state.webhooks.jobs.values() {
            match (job.kind, job.state) {
                (JobKind::Parse, JobState::Ready) => counts.parse_ready += 1,
                (JobKind::Push, JobState::Ready) if job.last_error.is_none() => counts.push_ready += 1,
                (JobKind::Push, JobState::Ready) => counts.push_retrying += 1,
                (_, JobState::Dead) => counts.dead += 1,
                (_, JobState::Done) => {}
            }
        }
        Ok(counts)
    }

    async fn prune(&self, before_ms: i64, limit: usize) -> Result<Pruned, StoreError> {
        let mut state = self.state();
        let webhooks = &mut state.webhooks;
        let finished: Vec<i64> = webhooks
            .jobs
            .values()
            .filter(|(job, _)| matches!(job.state, JobState::Done | JobState::Dead) && job.updated_at_ms < before_ms)
            .map(|(job, _)| job.id)
            .take(limit)
            .collect();
        for id in &finished {
            webhooks.jobs.remove(id);
        }
        webhooks.job_keys.retain(|_, id| !finished.contains(id));
        let referred_events: std::collections::HashSet<i64> =
            webhooks.jobs.values().filter_map(|(job, _)| job.event_seq).collect();
        let events: Vec<i64> = webhooks
            .events
            .values()
            .filter(|e| e.created_at_ms < before_ms && !referred_events.contains(&e.seq))
            .map(|e| e.seq)
            .take(limit)
            .collect();
        for seq in &events {
            if let Some(event) = webhooks.events.remove(seq) {
                webhooks
                    .idempotency
                    .remove(&(event.connection_id, event.event.idempotency_key));
            }
        }
        let referred_deliveries: std::collections::HashSet<i64> =
            webhooks.jobs.values().filter_map(|(job, _)| job.delivery_id).collect();
        let deliveries: Vec<i64> = webhooks
            .deliveries
            .values()
            .filter(|d| d.delivery.received_at_ms < before_ms && !referred_deliveries.contains(&d.id))
            .map(|d| d.id)
            .take(limit)
            .collect();
        for id in &deliveries {
            webhooks.deliveries.remove(id);
        }
        Ok(Pruned {
            jobs: finished.len() as u64,
            events: events.len() as u64,
            deliveries: deliveries.len() as u64,
        })
    }

    async fn events_after(&self, tenant: &str, after_seq: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        Ok(self
            .state()
            .webhooks
            .events
            .range(after_seq.saturating_add(1)..)
            .map(|(_, e)| e)
            .filter(|e| e.tenant == tenant)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn event(&self, seq: i64) -> Result<Option<EventRecord>, StoreError> {
        Ok(self.state().webhooks.events.get(&seq).cloned())
    }

    async fn insert_endpoint(&self, endpoint: Endpoint) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.webhooks.endpoints.contains_key(&endpoint.id) {
            return Err(StoreError::Conflict(format!(
                "an endpoint {:?} exists already",
                endpoint.id
            )));
        }
        state.webhooks.endpoints.insert(endpoint.id.clone(), endpoint);
        Ok(())
    }

    async fn endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, StoreError> {
        let mut endpoints: Vec<Endpoint> = self
            .state()
            .webhooks
            .endpoints
            .values()
            .filter(|e| e.tenant == tenant)
            .cloned()
            .collect();
        endpoints.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        Ok(endpoints)
    }

    async fn endpoint(&self, tenant: &str, id: &str) -> Result<Option<Endpoint>, StoreError> {
        Ok(self
            .state()
            .webhooks
            .endpoints
            .get(id)
            .filter(|e| e.tenant == tenant)
            .cloned())
    }

    async fn delete_endpoint(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        let webhooks = &mut state.webhooks;
        if webhooks.endpoints.get(id).is_none_or(|e| e.tenant != tenant) {
            return Ok(false);
        }
        webhooks.endpoints.remove(id);
        let dropped: Vec<i64> = webhooks
            .jobs
            .values()
            .filter(|(job, _)| job.endpoint_id.as_deref() == Some(id) && job.state == JobState::Ready)
            .map(|(job, _)| job.id)
            .collect();
        for job in dropped {
            webhooks.jobs.remove(&job);
        }
        webhooks.job_keys.retain(|_, job| webhooks.jobs.contains_key(job));
        Ok(true)
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
