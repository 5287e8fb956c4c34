//! The library's and the pull API's door to events: a tenant's events in
//! store order after a cursor, waiting (long-polling) for the next ones.
//! At least once: a consumer keeps its cursor and resumes from it.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use patchbay::store::webhooks::EventRecord;
use patchbay::store::{StoreError, WebhookStore};
use tokio::sync::watch;

/// Events as they are stored.
#[derive(Clone)]
pub struct Feed {
    store: Arc<dyn WebhookStore>,
    latest: watch::Sender<i64>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").field("latest", &*self.latest.borrow()).finish()
    }
}

impl Feed {
    pub(crate) fn new(store: Arc<dyn WebhookStore>) -> Self {
        Self {
            store,
            latest: watch::channel(0).0,
        }
    }

    /// Tells waiting consumers that events up to `seq` are stored.
    pub(crate) fn stored(&self, seq: i64) {
        self.latest.send_if_modified(|latest| {
            let newer = seq > *latest;
            if newer {
                *latest = seq;
            }
            newer
        });
    }

    /// Up to `limit` events of `tenant` after the cursor `after`, waiting
    /// up to `wait` for one to arrive when there is none yet.
    pub async fn poll(
        &self,
        tenant: &str,
        after: i64,
        limit: usize,
        wait: Duration,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let mut changes = self.latest.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            changes.borrow_and_update();
            let events = self.store.events_after(tenant, after, limit).await?;
            if !events.is_empty() {
                return Ok(events);
            }
            // Another tenant's event wakes this loop too; it reads again.
            if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    /// Every event of `tenant` after the cursor `after`, then each new one
    /// as it is stored, for as long as the stream is held.
    pub fn subscribe(&self, tenant: &str, after: i64) -> impl Stream<Item = Result<EventRecord, StoreError>> + use<> {
        let feed = self.clone();
        let tenant = tenant.to_string();
        futures::stream::unfold(
            (feed, tenant, after, Vec::<EventRecord>::new()),
            |(feed, tenant, after, mut buffer)| async move {
                loop {
                    if !buffer.is_empty() {
                        let event = buffer.remove(0);
                        let next = event.seq;
                        return Some((Ok(event), (feed, tenant, next, buffer)));
                    }
                    match feed.poll(&tenant, after, 100, Duration::from_secs(30)).await {
                        Ok(events) => buffer = events,
                        Err(error) => return Some((Err(error), (feed, tenant, after, buffer))),
                    }
                }
            },
        )
    }
}
