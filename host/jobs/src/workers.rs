//! The workers: claim due jobs under a lease, run them, record the outcome.
//! A worker that dies mid-job loses nothing: the lease runs out and the job
//! is claimed again (at least once). Nothing waits in memory: the next run
//! time of a failed job is in the store.

use std::sync::Arc;
use std::time::Duration;

use patchbay::store::webhooks::{Job, JobKind, NewEvent, Outcome};
use patchbay::store::{StoreError, WebhookStore};
use patchbay::{CallError, ConnectionsError, Host};
use sha2::Digest as _;
use tokio::sync::{Notify, Semaphore};

use crate::feed::Feed;
use crate::schedule::Schedule;
use crate::signature;

/// How the workers run.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// When a failed push is tried again.
    pub push_schedule: Schedule,
    /// When a failed parse is tried again (a plugin fixed and reloaded
    /// meanwhile then parses what it could not).
    pub parse_schedule: Schedule,
    /// How long a claimed job is a worker's before another may take it.
    pub lease: Duration,
    /// Jobs claimed at once.
    pub batch: usize,
    /// Pushes in flight at once.
    pub push_concurrency: usize,
    /// Time allowed for one push.
    pub push_timeout: Duration,
    /// Whether pushes may go to private, loopback and link-local addresses
    /// (off: the same address checks as plugins' requests).
    pub allow_private_network: bool,
    /// How often the workers look for due jobs when nothing woke them.
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            push_schedule: Schedule::default(),
            parse_schedule: Schedule {
                delays: vec![s(1), s(5), s(30), s(300), s(1800)],
                jitter: 0.2,
            },
            lease: s(60),
            batch: 64,
            push_concurrency: 32,
            push_timeout: s(15),
            allow_private_network: false,
            poll: Duration::from_millis(500),
        }
    }
}

/// Endpoints by (tenant, id): when read, the URL, the signing key.
pub(crate) type EndpointCache =
    std::sync::Mutex<std::collections::HashMap<(String, String), (std::time::Instant, String, Vec<u8>)>>;

/// What the workers share.
pub(crate) struct Workers {
    pub host: Host,
    pub store: Arc<dyn WebhookStore>,
    pub feed: Feed,
    pub config: WorkerConfig,
    /// Woken when deliveries are stored.
    pub stored: Arc<Notify>,
    /// Woken when pushes are queued.
    pub queued: Arc<Notify>,
    pub client: reqwest::Client,
    /// Opens (and briefly reuses) stored connections.
    pub inbox: crate::Inbox,
    /// Endpoints' URLs and signing keys, briefly reused.
    pub endpoints: EndpointCache,
    /// Pushes' outcomes, to the committer.
    pub finished: tokio::sync::mpsc::Sender<(i64, u32, Outcome)>,
}

impl Workers {
    /// Parses deliveries as they come, for as long as the runtime lives.
    pub async fn parse_loop(self: Arc<Self>) {
        loop {
            match self.parse_due().await {
                Ok(0) => {
                    let _ = tokio::time::timeout(self.config.poll, self.stored.notified()).await;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "cannot claim parse jobs");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    /// Pushes events as they come, for as long as the runtime lives.
    pub async fn push_loop(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.config.push_concurrency.max(1)));
        loop {
            match self.push_due(&slots).await {
                Ok(0) => {
                    let _ = tokio::time::timeout(self.config.poll, self.queued.notified()).await;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "cannot claim push jobs");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }
    }

    fn lease_ms(&self) -> i64 {
        self.config.lease.as_millis() as i64
    }

    /// Claims and parses the due deliveries, then records every outcome in
    /// one commit for the parsed and one for the failed; how many it claimed.
    async fn parse_due(&self) -> Result<usize, StoreError> {
        let jobs = self
            .store
            .claim_jobs(JobKind::Parse, patchbay::now_ms(), self.lease_ms(), self.config.batch)
            .await?;
        let claimed = jobs.len();
        let outcomes = futures::future::join_all(jobs.iter().map(|job| self.try_parse(job))).await;
        let now = patchbay::now_ms();
        let mut parsed = Vec::new();
        let mut failed = Vec::new();
        for (job, outcome) in jobs.iter().zip(outcomes) {
            match outcome {
                Ok(events) => parsed.push((job.id, job.attempts, events)),
                Err(Failure::Permanent(error)) => {
                    tracing::warn!(job = job.id, connection = %job.connection_id, %error, "a delivery cannot be parsed: dead letter");
                    failed.push((job.id, job.attempts, Outcome::Dead { error, status: None }));
                }
                Err(Failure::Transient(error)) => {
                    tracing::info!(job = job.id, connection = %job.connection_id, %error, "parsing a delivery failed");
                    let outcome = match self.config.parse_schedule.next(job.attempts, None) {
                        Some(wait) => Outcome::Retry {
                            run_at_ms: now + wait.as_millis() as i64,
                            error,
                            status: None,
                        },
                        None => Outcome::Dead { error, status: None },
                    };
                    failed.push((job.id, job.attempts, outcome));
                }
            }
        }
        if !failed.is_empty()
            && let Err(error) = self.store.finish_jobs(failed, now).await
        {
            tracing::error!(%error, "cannot record failed parses; their leases will run out");
        }
        if !parsed.is_empty() {
            match self.store.finish_parses(parsed, now).await {
                Ok(stored) => {
                    let newest = stored.iter().flatten().flatten().map(|e| e.seq).max().unwrap_or(0);
                    if newest > 0 {
                        self.feed.stored(newest);
                        self.queued.notify_one();
                    }
                }
                Err(error) => tracing::error!(%error, "cannot record parsed deliveries; their leases will run out"),
            }
        }
        Ok(claimed)
    }

    async fn try_parse(&self, job: &Job) -> Result<Vec<NewEvent>, Failure> {
        let delivery_id = job
            .delivery_id
            .ok_or_else(|| Failure::Permanent("the job names no delivery".into()))?;
        let delivery = self
            .store
            .delivery(delivery_id)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?
            .ok_or_else(|| Failure::Permanent(format!("the delivery {delivery_id} is gone")))?;
        let connection = self
            .inbox
            .opened(&job.tenant, &job.connection_id)
            .await
            .map_err(|e| match e {
                ConnectionsError::NotFound { .. } => Failure::Permanent(e.to_string()),
                other => Failure::Transient(other.to_string()),
            })?;
        let headers = crate::wit_headers(&delivery.delivery.headers);
        let port = connection.webhooks().map_err(|e| Failure::Permanent(e.to_string()))?;
        let events = port
            .parse(&headers, &delivery.delivery.body)
            .await
            .map_err(|e| match e {
                CallError::Connector(_) | CallError::Fault(_) | CallError::Deadline(_) => {
                    Failure::Transient(e.to_string())
                }
                CallError::Unsupported(_) | CallError::Input(_) => Failure::Permanent(e.to_string()),
            })?;
        Ok(events
            .into_iter()
            .map(|event| {
                // A plugin that names no key de-duplicates by the event id,
                // and one that names neither by the payload.
                let idempotency_key = [&event.idempotency_key, &event.event_id]
                    .into_iter()
                    .find(|k| !k.is_empty())
                    .cloned()
                    .unwrap_or_else(|| hex::encode(sha2::Sha256::digest(event.payload_json.as_bytes())));
                NewEvent {
                    id: format!("evt_{}", hex::encode(rand::random::<[u8; 12]>())),
                    provider_event_id: event.event_id,
                    event_type: event.event_type,
                    provider_event_type: event.provider_event_type,
                    payload_json: event.payload_json,
                    idempotency_key,
                    occurred_at: event.occurred_at,
                }
            })
            .collect())
    }

    /// Claims the due pushes and starts them; how many it claimed.
    async fn push_due(self: &Arc<Self>, slots: &Arc<Semaphore>) -> Result<usize, StoreError> {
        // A whole batch is claimed at once, even when every slot is busy:
        // its jobs wait (under their lease) for slots to free up, so a claim
        // — a write to the store — serves many pushes, not one each.
        let jobs = self
            .store
            .claim_jobs(JobKind::Push, patchbay::now_ms(), self.lease_ms(), self.config.batch)
            .await?;
        let claimed = jobs.len();
        for job in jobs {
            let permit = Arc::clone(slots)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let workers = Arc::clone(self);
            tokio::spawn(async move {
                workers.push(job).await;
                drop(permit);
            });
        }
        Ok(claimed)
    }

    /// Pushes one event to one endpoint and records how it went.
    async fn push(&self, job: Job) {
        let attempt = self.try_push(&job).await;
        let now = patchbay::now_ms();
        let outcome = match attempt {
            Ok(status) => Outcome::Done { status: Some(status) },
            Err(PushFailure {
                error,
                status,
                retry_after,
                permanent,
            }) => match (permanent, self.config.push_schedule.next(job.attempts, retry_after)) {
                (false, Some(wait)) => Outcome::Retry {
                    run_at_ms: now + wait.as_millis() as i64,
                    error,
                    status,
                },
                _ => Outcome::Dead { error, status },
            },
        };
        match &outcome {
            Outcome::Dead { error, .. } => {
                tracing::warn!(job = job.id, endpoint = ?job.endpoint_id, %error, attempts = job.attempts, "push failed for good: dead letter")
            }
            Outcome::Retry { error, run_at_ms, .. } => {
                tracing::info!(job = job.id, endpoint = ?job.endpoint_id, %error, in_ms = run_at_ms - now, "push failed; retrying")
            }
            Outcome::Done { .. } => {}
        }
        if self.finished.send((job.id, job.attempts, outcome)).await.is_err() {
            tracing::error!(job = job.id, "the push committer is gone; the job's lease will run out");
        }
    }

    /// Records pushes' outcomes as they come, every one waiting in one
    /// commit (a sync per batch, not per push).
    pub async fn commit_loop(self: Arc<Self>, mut outcomes: tokio::sync::mpsc::Receiver<(i64, u32, Outcome)>) {
        let mut batch = Vec::with_capacity(256);
        while outcomes.recv_many(&mut batch, 256).await > 0 {
            let finished = std::mem::take(&mut batch);
            let count = finished.len();
            if let Err(error) = self.store.finish_jobs(finished, patchbay::now_ms()).await {
                tracing::error!(%error, count, "cannot record pushes' outcomes; their leases will run out");
            }
        }
    }

    async fn try_push(&self, job: &Job) -> Result<u16, PushFailure> {
        let (Some(seq), Some(endpoint_id)) = (job.event_seq, job.endpoint_id.as_deref()) else {
            return Err(PushFailure::permanent("the job names no event or endpoint"));
        };
        let event = self
            .store
            .event(seq)
            .await
            .map_err(|e| PushFailure::transient(e.to_string()))?
            .ok_or_else(|| PushFailure::permanent(format!("the event {seq} is gone")))?;
        let (endpoint_url, key) = self.endpoint(&job.tenant, endpoint_id).await?;
        let url = url::Url::parse(&endpoint_url).map_err(|e| PushFailure::permanent(e.to_string()))?;
        patchbay_outbound::network::check_url(&url, self.config.allow_private_network)
            .map_err(|blocked| PushFailure::permanent(blocked.to_string()))?;
        let body = serde_json::to_vec(&crate::message(&event)).expect("JSON values serialize");
        let timestamp = patchbay::now_ms() / 1000;
        let response = self
            .client
            .post(url)
            .timeout(self.config.push_timeout)
            .header("content-type", "application/json")
            .header("webhook-id", &event.event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature::sign(&key, &event.event.id, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| PushFailure::transient(describe(&e)))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(status);
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, std::time::SystemTime::now()));
        Err(PushFailure {
            error: format!("the endpoint answered {status}"),
            status: Some(status),
            retry_after,
            permanent: false,
        })
    }
}

impl Workers {
    /// An endpoint's URL and signing key, read and unsealed at most every
    /// few seconds.
    async fn endpoint(&self, tenant: &str, id: &str) -> Result<(String, Vec<u8>), PushFailure> {
        let cache_key = (tenant.to_string(), id.to_string());
        if let Some((read, url, key)) = self.endpoints.lock().unwrap_or_else(|p| p.into_inner()).get(&cache_key)
            && read.elapsed() < Duration::from_secs(5)
        {
            return Ok((url.clone(), key.clone()));
        }
        let webhooks = self.host.webhooks(tenant);
        let removed = || PushFailure::permanent(format!("the endpoint {id} was removed"));
        let endpoint = webhooks
            .endpoint(id)
            .await
            .map_err(|e| PushFailure::transient(e.to_string()))?
            .ok_or_else(removed)?;
        let secret = webhooks
            .endpoint_secret(id)
            .await
            .map_err(|e| PushFailure::transient(e.to_string()))?
            .ok_or_else(removed)?;
        let key = signature::secret_key(&secret).map_err(PushFailure::permanent)?;
        let mut cache = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(
            cache_key,
            (std::time::Instant::now(), endpoint.url.clone(), key.clone()),
        );
        Ok((endpoint.url, key))
    }
}

/// A transport error without its URL, with its causes.
fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "cannot connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(7 * 24 * 3600)));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

/// Why parsing failed: worth a retry, or not.
enum Failure {
    Transient(String),
    Permanent(String),
}

/// Why a push failed.
struct PushFailure {
    error: String,
    status: Option<u16>,
    retry_after: Option<Duration>,
    permanent: bool,
}

impl PushFailure {
    fn transient(error: String) -> Self {
        Self {
            error,
            status: None,
            retry_after: None,
            permanent: false,
        }
    }

    fn permanent(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            status: None,
            retry_after: None,
            permanent: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(retry_after("30", now), Some(Duration::from_secs(30)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("soon", now), None);
    }
}
