//! # patchbay-jobs
//!
//! The webhook runtime, over the host's store ([`patchbay::store::WebhookStore`]):
//!
//! 1. **Ingress** ([`Inbox`]): a delivery to `/v1/webhooks/{token}` is
//!    verified by its plugin in the sandbox, committed durably (commits are
//!    grouped: one transaction for every delivery waiting), and only then
//!    acknowledged.
//! 2. **Parse** (a job per delivery): the plugin's `parse` turns it into
//!    normalized events, stored once per (connection, idempotency key) by
//!    the store's unique constraint; a push job is queued for each of the
//!    tenant's endpoints that takes the event.
//! 3. **Delivery, at least once**, through three doors: [`Feed::subscribe`]
//!    (the library), [`Feed::poll`] (the pull API, long-polling), and pushes
//!    signed per Standard Webhooks ([`signature`]) retried on a published
//!    [`Schedule`] into dead letters that replay.
//!
//! 4. **Retention** ([`RetentionConfig`]): finished jobs, and the events
//!    and deliveries nothing refers to any more, go once older than 30 days
//!    (by default), in small batches.
//!
//! Jobs live in the store with their attempts, next run time and lease: a
//! crash at any point loses nothing that was acknowledged, and work in
//! flight is taken up again when its lease runs out. Ordering is best
//! effort per connection: events are stored in delivery order and pushed
//! oldest first, but a retried push may arrive after a later one.
#![deny(missing_docs)]

mod feed;
mod inbox;
mod retention;
pub mod schedule;
pub mod signature;
mod workers;

use std::sync::Arc;

use patchbay::Host;
use patchbay::store::webhooks::EventRecord;
use tokio::sync::Notify;

pub use feed::Feed;
pub use inbox::{Answer, Inbound, Inbox, InboxConfig, InboxStats, MAX_ANSWER_BYTES, Received, Refused};
pub use retention::{RetentionConfig, prune};
pub use schedule::Schedule;
pub use workers::WorkerConfig;

/// The whole runtime's configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The ingress.
    pub inbox: InboxConfig,
    /// The workers.
    pub workers: WorkerConfig,
    /// How long finished work is kept.
    pub retention: RetentionConfig,
}

/// The running webhook runtime: an inbox, a feed, and the workers that
/// parse and push. The workers stop when the last handle is dropped (or at
/// [`Runtime::shutdown`]); jobs they held are taken up again when their
/// leases run out.
#[derive(Clone)]
pub struct Runtime {
    store: Arc<dyn patchbay::store::WebhookStore>,
    inbox: Inbox,
    feed: Feed,
    wake: [Arc<Notify>; 2],
    tasks: Arc<Tasks>,
}

/// The workers' tasks, stopped when dropped.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    /// Starts the inbox and the workers over the host's store.
    pub fn start(host: Host, config: Config) -> Result<Self, String> {
        let store = host.webhook_store();
        let stored = Arc::new(Notify::new());
        let queued = Arc::new(Notify::new());
        let feed = Feed::new(Arc::clone(&store));
        let inbox = Inbox::start(host.clone(), config.inbox.clone(), Arc::clone(&stored));
        let client = patchbay_outbound::guarded_client(&patchbay_outbound::HttpLimits {
            allow_private_network: config.workers.allow_private_network,
            request_timeout: config.workers.push_timeout,
            ..Default::default()
        })
        .map_err(|e| format!("cannot build the push client: {e}"))?;
        let wake = [Arc::clone(&stored), Arc::clone(&queued)];
        let (finished, outcomes) = tokio::sync::mpsc::channel(1024);
        let workers = Arc::new(workers::Workers {
            host,
            store: Arc::clone(&store),
            feed: feed.clone(),
            config: config.workers,
            stored,
            queued,
            client,
            inbox: inbox.clone(),
            endpoints: std::sync::Mutex::default(),
            finished,
        });
        let mut tasks = vec![
            tokio::spawn(Arc::clone(&workers).parse_loop()),
            tokio::spawn(Arc::clone(&workers).commit_loop(outcomes)),
            tokio::spawn(workers.push_loop()),
            tokio::spawn(retention::run(Arc::clone(&store), config.retention)),
        ];
        // Other replicas sharing the store queue work and store events too.
        if let Some(changes) = store.changes() {
            tasks.push(tokio::spawn(follow(changes, wake.clone(), feed.clone())));
        }
        Ok(Self {
            store,
            inbox,
            feed,
            wake,
            tasks: Arc::new(Tasks(tasks)),
        })
    }

    /// The ingress.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The events.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// How the runtime stands: the store's backlog and the inbox's counts.
    pub async fn status(&self) -> Result<Status, patchbay::store::StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        let counts = self.store.job_counts().await?;
        let stats = self.inbox.stats();
        Ok(Status {
            inbox_depth: counts.parse_ready,
            pushes_pending: counts.push_ready,
            retry_backlog: counts.push_retrying,
            dead_letters: counts.dead,
            accepted: stats.accepted.load(Relaxed),
            not_verified: stats.not_verified.load(Relaxed),
            unknown: stats.unknown.load(Relaxed),
            too_large: stats.too_large.load(Relaxed),
            answered: stats.answered.load(Relaxed),
            wrong_method: stats.wrong_method.load(Relaxed),
            unavailable: stats.unavailable.load(Relaxed),
        })
    }

    /// Wakes the workers: jobs were made due outside them (a replay).
    pub fn wake(&self) {
        for notify in &self.wake {
            notify.notify_one();
        }
    }

    /// Stops the workers (jobs they hold are taken up again when their
    /// leases run out).
    pub fn shutdown(&self) {
        for task in &self.tasks.0 {
            task.abort();
        }
    }
}

/// Wakes this replica's workers and feed for what every replica sharing
/// the store did (`wake`: the parse and the push workers).
async fn follow(
    mut changes: tokio::sync::broadcast::Receiver<patchbay::store::webhooks::Change>,
    wake: [Arc<Notify>; 2],
    feed: Feed,
) {
    use patchbay::store::webhooks::{Change, JobKind};
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changes.recv().await {
            Ok(Change::Jobs(JobKind::Parse)) => wake[0].notify_one(),
            Ok(Change::Jobs(JobKind::Push)) => wake[1].notify_one(),
            Ok(Change::Events(seq)) => feed.stored(seq),
            // Missed some: look at everything again.
            Err(RecvError::Lagged(_)) => {
                for notify in &wake {
                    notify.notify_one();
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// How the webhook runtime stands, for the dashboard and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// Deliveries stored and waiting to be parsed (the inbox depth).
    pub inbox_depth: u64,
    /// Pushes waiting or in flight, none failed yet.
    pub pushes_pending: u64,
    /// Pushes waiting after a failed attempt (the retry backlog).
    pub retry_backlog: u64,
    /// Dead letters.
    pub dead_letters: u64,
    /// Deliveries verified and stored, since the process started.
    pub accepted: u64,
    /// Deliveries refused by verification.
    pub not_verified: u64,
    /// Deliveries for no known ingress.
    pub unknown: u64,
    /// Deliveries over the size limit.
    pub too_large: u64,
    /// Challenges the plugin answered (handshakes; nothing stored).
    pub answered: u64,
    /// Requests that were not `POST`s, for a plugin without a handshake.
    pub wrong_method: u64,
    /// Deliveries not taken (503; the provider sends again).
    pub unavailable: u64,
}

impl Status {
    /// The status as OpenMetrics lines (without `# EOF`).
    pub fn metrics_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (name, help, value) in [
            (
                "patchbay_webhook_inbox_depth",
                "Deliveries stored and waiting to be parsed",
                self.inbox_depth,
            ),
            (
                "patchbay_webhook_pushes_pending",
                "Pushes waiting or in flight, none failed yet",
                self.pushes_pending,
            ),
            (
                "patchbay_webhook_retry_backlog",
                "Pushes waiting after a failed attempt",
                self.retry_backlog,
            ),
            (
                "patchbay_webhook_dead_letters",
                "Parses and pushes out of attempts",
                self.dead_letters,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} gauge\n{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP patchbay_webhook_deliveries Webhook deliveries received, by outcome.\n# TYPE patchbay_webhook_deliveries counter"
        );
        for (outcome, value) in [
            ("accepted", self.accepted),
            ("not-verified", self.not_verified),
            ("unknown", self.unknown),
            ("too-large", self.too_large),
            ("answered", self.answered),
            ("wrong-method", self.wrong_method),
            ("unavailable", self.unavailable),
        ] {
            let _ = writeln!(
                out,
                "patchbay_webhook_deliveries_total{{outcome=\"{outcome}\"}} {value}"
            );
        }
        out
    }
}

/// Headers as the contract's `webhooks` functions take them.
pub(crate) fn wit_headers(headers: &[(String, String)]) -> Vec<patchbay::types::Header> {
    headers
        .iter()
        .map(|(name, value)| patchbay::types::Header {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// What an event looks like to the user's system, pushed or pulled:
/// Standard Webhooks' `{type, timestamp, data}`.
pub fn message(event: &EventRecord) -> serde_json::Value {
    let payload: serde_json::Value = serde_json::from_str(&event.event.payload_json)
        .unwrap_or_else(|_| serde_json::Value::String(event.event.payload_json.clone()));
    serde_json::json!({
        "type": event.event.event_type,
        "timestamp": rfc3339(event.created_at_ms),
        "data": {
            "id": event.event.id,
            "connection": event.connection_id,
            "provider_event_id": event.event.provider_event_id,
            "provider_event_type": event.event.provider_event_type,
            "occurred_at": event.event.occurred_at,
            "payload": payload,
        },
    })
}

/// Unix milliseconds as RFC 3339 (UTC, milliseconds).
fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_614_265_330_123), "2021-02-25T15:02:10.123Z");
        assert_eq!(rfc3339(1_796_083_200_000), "2026-12-01T00:00:00.000Z");
    }
}
