//! The in-memory webhook inbox, events, endpoints and their jobs.

use std::collections::{BTreeMap, HashMap};

use super::MemoryStore;
use crate::StoreError;
use crate::webhooks::{
    Delivery, Endpoint, EventRecord, IngressRecord, Job, JobCounts, JobKind, JobState, NewDelivery, NewEvent, Outcome,
    Pruned, WebhookStore,
};

/// The webhook inbox, events, endpoints and jobs.
#[derive(Default)]
pub(super) struct Webhooks {
    /// Token hash → ingress.
    pub(super) ingress: HashMap<Vec<u8>, IngressRecord>,
    deliveries: BTreeMap<i64, Delivery>,
    /// Job id → (job, lease until, Unix ms).
    jobs: BTreeMap<i64, (Job, i64)>,
    /// `parse:{delivery}` / `push:{seq}:{endpoint}` → job id.
    job_keys: HashMap<String, i64>,
    events: BTreeMap<i64, EventRecord>,
    /// (connection, idempotency key) of every event.
    idempotency: std::collections::HashSet<(String, String)>,
    pub(super) endpoints: BTreeMap<String, Endpoint>,
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
