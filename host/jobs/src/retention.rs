//! Retention: finished webhook work is removed once it is older than the
//! configured age — done jobs and dead letters, then the events and the
//! deliveries nothing refers to any more — in small batches, so that the
//! store's writer is never held long. Pending work stays whatever its age.

use std::sync::Arc;
use std::time::Duration;

use patchbay::store::WebhookStore;
use patchbay::store::webhooks::Pruned;

/// How long finished work is kept, and how often it is looked for.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Age after which finished jobs, their events and deliveries go;
    /// `None` keeps everything.
    pub keep: Option<Duration>,
    /// How often the janitor runs (also once at start).
    pub every: Duration,
    /// Rows of each kind removed per transaction.
    pub batch: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            keep: Some(Duration::from_secs(30 * 24 * 3600)),
            every: Duration::from_secs(3600),
            batch: 1000,
        }
    }
}

/// Removes everything finished before `before_ms`, batch after batch;
/// what was removed in all.
pub async fn prune(
    store: &dyn WebhookStore,
    before_ms: i64,
    batch: usize,
) -> Result<Pruned, patchbay::store::StoreError> {
    let mut all = Pruned::default();
    loop {
        let pruned = store.prune(before_ms, batch.max(1)).await?;
        if pruned.total() == 0 {
            return Ok(all);
        }
        all.jobs += pruned.jobs;
        all.events += pruned.events;
        all.deliveries += pruned.deliveries;
        // Let deliveries waiting for the writer in between.
        tokio::task::yield_now().await;
    }
}

/// The janitor: prunes at start and then every `config.every`.
pub(crate) async fn run(store: Arc<dyn WebhookStore>, config: RetentionConfig) {
    let Some(keep) = config.keep else {
        return;
    };
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    loop {
        let before_ms = patchbay::now_ms().saturating_sub(keep_ms);
        match prune(&*store, before_ms, config.batch).await {
            Ok(pruned) if pruned.total() > 0 => tracing::info!(
                jobs = pruned.jobs,
                events = pruned.events,
                deliveries = pruned.deliveries,
                older_than_s = keep.as_secs(),
                "webhook retention removed finished work"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "webhook retention failed; it runs again later"),
        }
        tokio::time::sleep(config.every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay::store::MemoryStore;
    use patchbay::store::webhooks::{JobKind, NewDelivery};

    #[tokio::test]
    async fn prune_takes_every_batch_and_leaves_pending_work() {
        let store = MemoryStore::new();
        let delivery = |body: &str| NewDelivery {
            tenant: "acme".into(),
            connection_id: "c1".into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            received_at_ms: 1_000,
        };
        store
            .accept_deliveries((0..5).map(|i| delivery(&i.to_string())).collect(), 1_000)
            .await
            .unwrap();
        for job in store.claim_jobs(JobKind::Parse, 1_000, 30_000, 3).await.unwrap() {
            store
                .finish_parse(job.id, job.attempts, Vec::new(), 2_000)
                .await
                .unwrap();
        }
        let pruned = prune(&store, 10_000, 1).await.unwrap();
        assert_eq!((pruned.jobs, pruned.deliveries), (3, 3), "{pruned:?}");
        assert_eq!(store.job_counts().await.unwrap().parse_ready, 2, "pending work stays");
        assert_eq!(prune(&store, 10_000, 1).await.unwrap(), Pruned::default());
    }
}
