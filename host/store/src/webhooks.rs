//! The webhook inbox and what it becomes: deliveries as they arrived, the
//! normalized events parsed from them (unique per connection and
//! idempotency key), the tenants' endpoints, and the durable jobs that move
//! them — parse a delivery, push an event to an endpoint — with attempts,
//! the next run time and a lease persisted, so that a crash loses nothing
//! that was acknowledged.
//!
//! A job is claimed by an update that takes a lease and counts the attempt;
//! finishing it names that attempt, so a worker whose lease ran out (and
//! whose job another worker claimed) changes nothing.

use crate::StoreError;

/// The ingress of a connection: `POST /v1/webhooks/{token}` finds it by a
/// keyed hash of the token; the token itself is kept sealed, to show again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressRecord {
    /// The keyed hash of the token, the lookup key.
    pub token_hash: Vec<u8>,
    /// The token, sealed under the vault key.
    pub sealed_token: Vec<u8>,
    /// The connection's tenant.
    pub tenant: String,
    /// The connection.
    pub connection_id: String,
}

/// A delivery to accept: verified, not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The connection's tenant.
    pub tenant: String,
    /// The connection it was sent to.
    pub connection_id: String,
    /// Its headers, as received.
    pub headers: Vec<(String, String)>,
    /// Its body, as received.
    pub body: Vec<u8>,
    /// When it arrived, Unix milliseconds.
    pub received_at_ms: i64,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id.
    pub id: i64,
    /// What arrived.
    pub delivery: NewDelivery,
}

/// An event parsed from a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The event's id in the host (`webhook-id` when pushed): unique.
    pub id: String,
    /// The provider's event id.
    pub provider_event_id: String,
    /// Normalized type (`order.created`, ..., `unknown`).
    pub event_type: String,
    /// The provider's type, verbatim.
    pub provider_event_type: String,
    /// The payload, JSON text.
    pub payload_json: String,
    /// De-duplicates deliveries of one event, per connection.
    pub idempotency_key: String,
    /// When it happened, RFC 3339, when the provider says.
    pub occurred_at: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Its place in the store's order: the pull cursor.
    pub seq: i64,
    /// The connection's tenant.
    pub tenant: String,
    /// The connection.
    pub connection_id: String,
    /// The delivery it came in.
    pub delivery_id: i64,
    /// When it was stored, Unix milliseconds.
    pub created_at_ms: i64,
    /// The event.
    pub event: NewEvent,
}

/// Where a tenant's events are pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id.
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// The URL events are POSTed to.
    pub url: String,
    /// The event types it takes (`order.created`, `order.*`); empty: all.
    pub event_types: Vec<String>,
    /// The signing secret, sealed under the vault key.
    pub sealed_secret: Vec<u8>,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

impl Endpoint {
    /// Whether it takes events of `event_type` (`order.*` takes `order.created`).
    pub fn takes(&self, event_type: &str) -> bool {
        self.event_types.is_empty()
            || self.event_types.iter().any(|t| match t.strip_suffix(".*") {
                Some(prefix) => event_type
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.')),
                None => t == event_type || t == "*",
            })
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Parse a delivery into events.
    Parse,
    /// Push an event to an endpoint.
    Push,
}

impl JobKind {
    /// `parse` or `push`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Parse => "parse",
            Self::Push => "push",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "parse" => Some(Self::Parse),
            "push" => Some(Self::Push),
            _ => None,
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// To run at its run time (again, after a failed attempt).
    Ready,
    /// Done.
    Done,
    /// Out of attempts: a dead letter, until replayed.
    Dead,
}

impl JobState {
    /// `ready`, `done` or `dead`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    /// The state named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ready" => Some(Self::Ready),
            "done" => Some(Self::Done),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }
}

/// A job as stored (or as claimed: `attempts` then counts this attempt and
/// fences it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// What it does.
    pub kind: JobKind,
    /// The tenant it works for.
    pub tenant: String,
    /// The connection the delivery or event belongs to.
    pub connection_id: String,
    /// The delivery to parse ([`JobKind::Parse`]).
    pub delivery_id: Option<i64>,
    /// The event to push ([`JobKind::Push`]).
    pub event_seq: Option<i64>,
    /// The endpoint to push to ([`JobKind::Push`]).
    pub endpoint_id: Option<String>,
    /// Where it stands.
    pub state: JobState,
    /// Attempts so far (a claim counts one).
    pub attempts: u32,
    /// When it runs next, Unix milliseconds.
    pub run_at_ms: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The HTTP status of the last push, when there was one.
    pub last_status: Option<u16>,
    /// When it last changed, Unix milliseconds.
    pub updated_at_ms: i64,
}

/// How a finished attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Done {
        /// The HTTP status of a push.
        status: Option<u16>,
    },
    /// Failed; run again at `run_at_ms`.
    Retry {
        /// When.
        run_at_ms: i64,
        /// Why it failed.
        error: String,
        /// The HTTP status of a push, when there was one.
        status: Option<u16>,
    },
    /// Failed for good: a dead letter.
    Dead {
        /// Why.
        error: String,
        /// The HTTP status of a push, when there was one.
        status: Option<u16>,
    },
}

/// What a process sharing the store did, for the others' workers and
/// feeds to wake up to (see [`WebhookStore::changes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Jobs of this kind were queued or made ready.
    Jobs(JobKind),
    /// Events up to this store order were stored.
    Events(i64),
}

impl Change {
    /// The change as the text a backend may carry it in (`parse`, `push`,
    /// `events:42`).
    pub fn to_text(self) -> String {
        match self {
            Self::Jobs(kind) => kind.name().to_string(),
            Self::Events(seq) => format!("events:{seq}"),
        }
    }

    /// The change `text` names, if any.
    pub fn from_text(text: &str) -> Option<Self> {
        match text.strip_prefix("events:") {
            Some(seq) => seq.parse().ok().map(Self::Events),
            None => JobKind::from_name(text).map(Self::Jobs),
        }
    }
}

/// How much work waits, for the dashboard and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Deliveries waiting to be parsed.
    pub parse_ready: u64,
    /// Pushes waiting or in flight, none failed yet.
    pub push_ready: u64,
    /// Pushes waiting after a failed attempt (the retry backlog).
    pub push_retrying: u64,
    /// Dead letters, parse and push.
    pub dead: u64,
}

/// What one [`WebhookStore::prune`] batch removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Finished jobs (done, and dead letters).
    pub jobs: u64,
    /// Events no job refers to any more.
    pub events: u64,
    /// Deliveries no job refers to any more.
    pub deliveries: u64,
}

impl Pruned {
    /// Rows removed in all.
    pub fn total(&self) -> u64 {
        self.jobs + self.events + self.deliveries
    }
}

/// The webhook inbox, events, endpoints and their jobs.
#[async_trait::async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// The changes every process sharing the backend makes (this one's
    /// included), as they commit; `None` for a backend no other process
    /// writes to, where the runtime's own wake-ups are enough. A receiver
    /// that lags is told so and should look at everything again.
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<Change>> {
        None
    }

    /// Sets the ingress of a connection (replacing its previous token).
    async fn set_ingress(&self, record: IngressRecord) -> Result<(), StoreError>;
    /// The ingress a token hash names.
    async fn ingress(&self, token_hash: &[u8]) -> Result<Option<IngressRecord>, StoreError>;
    /// The ingress of a connection.
    async fn ingress_of(&self, tenant: &str, connection_id: &str) -> Result<Option<IngressRecord>, StoreError>;

    /// Stores deliveries and a parse job for each, all in one transaction
    /// (one commit for many: the ingress batches them); their ids, in order.
    async fn accept_deliveries(&self, deliveries: Vec<NewDelivery>, now_ms: i64) -> Result<Vec<i64>, StoreError>;
    /// A delivery.
    async fn delivery(&self, id: i64) -> Result<Option<Delivery>, StoreError>;

    /// Claims up to `limit` ready jobs of `kind` whose run time has come
    /// and whose lease, if any, has run out: each gets a lease until
    /// `now_ms + lease_ms` and one more attempt.
    async fn claim_jobs(&self, kind: JobKind, now_ms: i64, lease_ms: i64, limit: usize)
    -> Result<Vec<Job>, StoreError>;
    /// Ends attempts of jobs, `(id, attempts, outcome)` each, all in one
    /// transaction (one commit for a batch of pushes); for each, `false`
    /// when that attempt no longer holds the job (its lease ran out and it
    /// was claimed again).
    async fn finish_jobs(&self, finished: Vec<(i64, u32, Outcome)>, now_ms: i64) -> Result<Vec<bool>, StoreError>;
    /// Ends parse jobs' attempts with the events of their deliveries,
    /// `(id, attempts, events)` each, all in one transaction: events new on
    /// (connection, idempotency key) are stored, a push job is queued for
    /// each endpoint of the tenant that takes them, the job is done. For
    /// each, the new events; `None` when the attempt no longer holds the job.
    async fn finish_parses(
        &self,
        finished: Vec<(i64, u32, Vec<NewEvent>)>,
        now_ms: i64,
    ) -> Result<Vec<Option<Vec<EventRecord>>>, StoreError>;
    /// [`finish_jobs`](Self::finish_jobs) for one job.
    async fn finish_job(&self, id: i64, attempts: u32, outcome: Outcome, now_ms: i64) -> Result<bool, StoreError> {
        Ok(self
            .finish_jobs(vec![(id, attempts, outcome)], now_ms)
            .await?
            .pop()
            .unwrap_or(false))
    }
    /// [`finish_parses`](Self::finish_parses) for one job.
    async fn finish_parse(
        &self,
        id: i64,
        attempts: u32,
        events: Vec<NewEvent>,
        now_ms: i64,
    ) -> Result<Option<Vec<EventRecord>>, StoreError> {
        Ok(self
            .finish_parses(vec![(id, attempts, events)], now_ms)
            .await?
            .pop()
            .flatten())
    }
    /// A job of a tenant.
    async fn job(&self, tenant: &str, id: i64) -> Result<Option<Job>, StoreError>;
    /// A tenant's jobs in `state`, newest change first.
    async fn jobs(&self, tenant: &str, state: JobState, limit: usize) -> Result<Vec<Job>, StoreError>;
    /// Makes a dead (or done) job of a tenant ready again, its attempts
    /// and last error reset; whether there was one.
    async fn replay_job(&self, tenant: &str, id: i64, now_ms: i64) -> Result<bool, StoreError>;
    /// Queues again the push of every event of a connection stored in
    /// `[from_ms, to_ms)` to every endpoint that takes it, whatever came of
    /// earlier pushes; how many pushes were queued.
    async fn replay_events(
        &self,
        tenant: &str,
        connection_id: &str,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError>;
    /// How much work waits.
    async fn job_counts(&self) -> Result<JobCounts, StoreError>;
    /// Retention, one batch of at most `limit` rows of each kind: finished
    /// jobs (done or dead) last changed before `before_ms`, then events
    /// stored before it that no job refers to, then deliveries received
    /// before it that no job refers to. Work still pending is never removed.
    async fn prune(&self, before_ms: i64, limit: usize) -> Result<Pruned, StoreError>;

    /// A tenant's events after `after_seq`, oldest first.
    async fn events_after(&self, tenant: &str, after_seq: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError>;
    /// An event by its store order.
    async fn event(&self, seq: i64) -> Result<Option<EventRecord>, StoreError>;

    /// Adds an endpoint; an id that exists is a [`StoreError::Conflict`].
    async fn insert_endpoint(&self, endpoint: Endpoint) -> Result<(), StoreError>;
    /// A tenant's endpoints, oldest first.
    async fn endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, StoreError>;
    /// An endpoint of a tenant.
    async fn endpoint(&self, tenant: &str, id: &str) -> Result<Option<Endpoint>, StoreError>;
    /// Removes an endpoint of a tenant (its queued pushes are dropped);
    /// whether it existed.
    async fn delete_endpoint(&self, tenant: &str, id: &str) -> Result<bool, StoreError>;
}
