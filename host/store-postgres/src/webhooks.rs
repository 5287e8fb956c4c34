//! [`WebhookStore`]: the `webhook_*` tables and `jobs`. Replicas claim jobs
//! with `FOR UPDATE SKIP LOCKED` (none waits for another's claim, none
//! claims a job twice), announce queued work and stored events with
//! `NOTIFY` (delivered when the transaction commits), and number events
//! in commit order: inserting events takes a transaction lock, so an event
//! never becomes visible behind a cursor that moved past it.

use std::collections::HashMap;

use deadpool_postgres::Transaction;
use patchbay_store::StoreError;
use patchbay_store::webhooks::{
    Change, Delivery, Endpoint, EventRecord, IngressRecord, Job, JobCounts, JobKind, JobState, NewDelivery, NewEvent,
    Outcome, Pruned, WebhookStore,
};
use tokio_postgres::Row;

use crate::listen::CHANNEL;
use crate::{PostgresStore, backend, get, is_conflict};

/// The transaction lock that orders event inserts ("events" in ASCII).
const EVENTS_LOCK: i64 = 0x6576_656e_7473;

const JOB_COLUMNS: &str = "id, kind, tenant, connection_id, delivery_id, event_seq, endpoint_id, state, attempts, \
                           run_at_ms, last_error, last_status, updated_at_ms";

fn read_job(row: &Row) -> Result<Job, StoreError> {
    let kind: String = get(row, 1)?;
    let state: String = get(row, 7)?;
    let unknown = |what: &str, value: &str| StoreError::Backend(format!("unknown job {what} {value:?}"));
    Ok(Job {
        id: get(row, 0)?,
        kind: JobKind::from_name(&kind).ok_or_else(|| unknown("kind", &kind))?,
        tenant: get(row, 2)?,
        connection_id: get(row, 3)?,
        delivery_id: get(row, 4)?,
        event_seq: get(row, 5)?,
        endpoint_id: get(row, 6)?,
        state: JobState::from_name(&state).ok_or_else(|| unknown("state", &state))?,
        attempts: get::<i64>(row, 8)?.clamp(0, i64::from(u32::MAX)) as u32,
        run_at_ms: get(row, 9)?,
        last_error: get(row, 10)?,
        last_status: get::<Option<i64>>(row, 11)?.and_then(|s| u16::try_from(s).ok()),
        updated_at_ms: get(row, 12)?,
    })
}

const EVENT_COLUMNS: &str = "seq, tenant, connection_id, delivery_id, created_at_ms, id, provider_event_id, event_type, \
                             provider_event_type, payload_json, idempotency_key, occurred_at";

fn read_event(row: &Row) -> Result<EventRecord, StoreError> {
    Ok(EventRecord {
        seq: get(row, 0)?,
        tenant: get(row, 1)?,
        connection_id: get(row, 2)?,
        delivery_id: get(row, 3)?,
        created_at_ms: get(row, 4)?,
        event: NewEvent {
            id: get(row, 5)?,
            provider_event_id: get(row, 6)?,
            event_type: get(row, 7)?,
            provider_event_type: get(row, 8)?,
            payload_json: get(row, 9)?,
            idempotency_key: get(row, 10)?,
            occurred_at: get(row, 11)?,
        },
    })
}

const ENDPOINT_COLUMNS: &str = "id, tenant, url, event_types, sealed_secret, created_at_ms";

fn read_endpoint(row: &Row) -> Result<Endpoint, StoreError> {
    let types: String = get(row, 3)?;
    Ok(Endpoint {
        id: get(row, 0)?,
        tenant: get(row, 1)?,
        url: get(row, 2)?,
        event_types: serde_json::from_str(&types)
            .map_err(|e| StoreError::Backend(format!("an endpoint's stored event types are unreadable: {e}")))?,
        sealed_secret: get(row, 4)?,
        created_at_ms: get(row, 5)?,
    })
}

fn read_ingress(row: &Row) -> Result<IngressRecord, StoreError> {
    Ok(IngressRecord {
        token_hash: get(row, 0)?,
        sealed_token: get(row, 1)?,
        tenant: get(row, 2)?,
        connection_id: get(row, 3)?,
    })
}

fn status(status: Option<u16>) -> Option<i64> {
    status.map(i64::from)
}

/// Announces `change` to every replica when the transaction commits.
async fn announce(tx: &Transaction<'_>, change: Change) -> Result<(), StoreError> {
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &change.to_text()])
        .await
        .map(|_| ())
        .map_err(backend)
}

async fn endpoints_of(tx: &Transaction<'_>, tenant: &str) -> Result<Vec<Endpoint>, StoreError> {
    let statement = tx
        .prepare_cached(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant = $1 ORDER BY created_at_ms, id"
        ))
        .await
        .map_err(backend)?;
    tx.query(&statement, &[&tenant])
        .await
        .map_err(backend)?
        .iter()
        .map(read_endpoint)
        .collect()
}

/// Queues the push of `event` to `endpoint`; with `again`, a push that
/// exists is made ready again. Whether one was queued.
async fn queue_push(
    tx: &Transaction<'_>,
    event: &EventRecord,
    endpoint: &Endpoint,
    now_ms: i64,
    again: bool,
) -> Result<bool, StoreError> {
    let conflict = if again {
        "ON CONFLICT (key) DO UPDATE SET state = 'ready', attempts = 0, run_at_ms = excluded.run_at_ms,
         lease_until_ms = 0, last_error = NULL, last_status = NULL, updated_at_ms = excluded.updated_at_ms"
    } else {
        "ON CONFLICT (key) DO NOTHING"
    };
    let statement = tx
        .prepare_cached(&format!(
            "INSERT INTO jobs (key, kind, tenant, connection_id, event_seq, endpoint_id, state, run_at_ms, updated_at_ms)
             VALUES ($1, 'push', $2, $3, $4, $5, 'ready', $6, $6) {conflict}"
        ))
        .await
        .map_err(backend)?;
    let changed = tx
        .execute(
            &statement,
            &[
                &format!("push:{}:{}", event.seq, endpoint.id),
                &event.tenant,
                &event.connection_id,
                &event.seq,
                &endpoint.id,
                &now_ms,
            ],
        )
        .await
        .map_err(backend)?;
    Ok(changed > 0)
}

/// Ends one attempt of a job, inside a transaction; whether it still held
/// the job.
async fn finish(
    tx: &Transaction<'_>,
    id: i64,
    attempts: u32,
    outcome: Outcome,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let attempts = i64::from(attempts);
    let (sql, state, run_at, error, last_status) = match outcome {
        Outcome::Done { status: s } => ("done", "done", None, None, status(s)),
        Outcome::Retry {
            run_at_ms,
            error,
            status: s,
        } => ("retry", "ready", Some(run_at_ms), Some(error), status(s)),
        Outcome::Dead { error, status: s } => ("dead", "dead", None, Some(error), status(s)),
    };
    // A done job keeps the last error it had; the others record theirs.
    let statement = tx
        .prepare_cached(
            "UPDATE jobs SET state = $3, run_at_ms = COALESCE($4, run_at_ms),
                 last_error = CASE WHEN $5 THEN last_error ELSE $6 END,
                 last_status = CASE WHEN $5 THEN COALESCE($7, last_status) ELSE $7 END,
                 lease_until_ms = 0, updated_at_ms = $8
             WHERE id = $1 AND attempts = $2 AND state = 'ready'",
        )
        .await
        .map_err(backend)?;
    let done = sql == "done";
    let changed = tx
        .execute(
            &statement,
            &[&id, &attempts, &state, &run_at, &done, &error, &last_status, &now_ms],
        )
        .await
        .map_err(backend)?;
    Ok(changed > 0)
}

/// Ends one parse attempt with its events, inside a transaction (the
/// tenants' endpoints read once per batch); the new events, or `None` when
/// the attempt no longer held the job.
async fn finish_parse(
    tx: &Transaction<'_>,
    endpoints: &mut HashMap<String, Vec<Endpoint>>,
    events_locked: &mut bool,
    id: i64,
    attempts: u32,
    events: Vec<NewEvent>,
    now_ms: i64,
) -> Result<Option<(Vec<EventRecord>, bool)>, StoreError> {
    let job = tx
        .query_opt(
            "SELECT tenant, connection_id, delivery_id FROM jobs
             WHERE id = $1 AND attempts = $2 AND state = 'ready' AND kind = 'parse' FOR UPDATE",
            &[&id, &i64::from(attempts)],
        )
        .await
        .map_err(backend)?;
    let Some(job) = job else {
        return Ok(None);
    };
    let (tenant, connection_id, delivery_id): (String, String, Option<i64>) =
        (get(&job, 0)?, get(&job, 1)?, get(&job, 2)?);
    let delivery_id = delivery_id.unwrap_or_default();
    if !events.is_empty() && !*events_locked {
        // Held until commit: events commit in the order of their numbers.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENTS_LOCK])
            .await
            .map_err(backend)?;
        *events_locked = true;
    }
    if !events.is_empty() && !endpoints.contains_key(&tenant) {
        endpoints.insert(tenant.clone(), endpoints_of(tx, &tenant).await?);
    }
    let insert = tx
        .prepare_cached(
            "INSERT INTO webhook_events (id, tenant, connection_id, delivery_id, provider_event_id,
                 event_type, provider_event_type, payload_json, idempotency_key, occurred_at, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT DO NOTHING RETURNING seq",
        )
        .await
        .map_err(backend)?;
    let mut stored = Vec::new();
    let mut pushes = false;
    for event in events {
        let seq = tx
            .query_opt(
                &insert,
                &[
                    &event.id,
                    &tenant,
                    &connection_id,
                    &delivery_id,
                    &event.provider_event_id,
                    &event.event_type,
                    &event.provider_event_type,
                    &event.payload_json,
                    &event.idempotency_key,
                    &event.occurred_at,
                    &now_ms,
                ],
            )
            .await
            .map_err(backend)?;
        let Some(seq) = seq else { continue };
        let record = EventRecord {
            seq: get(&seq, 0)?,
            tenant: tenant.clone(),
            connection_id: connection_id.clone(),
            delivery_id,
            created_at_ms: now_ms,
            event,
        };
        for endpoint in endpoints[&tenant].iter().filter(|e| e.takes(&record.event.event_type)) {
            pushes |= queue_push(tx, &record, endpoint, now_ms, false).await?;
        }
        stored.push(record);
    }
    tx.execute(
        "UPDATE jobs SET state = 'done', lease_until_ms = 0, updated_at_ms = $2 WHERE id = $1",
        &[&id, &now_ms],
    )
    .await
    .map_err(backend)?;
    Ok(Some((stored, pushes)))
}

#[async_trait::async_trait]
impl WebhookStore for PostgresStore {
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<Change>> {
        Some(self.changes.subscribe())
    }

    async fn set_ingress(&self, record: IngressRecord) -> Result<(), StoreError> {
        in_transaction!(self, |tx| async {
            tx.execute(
                "DELETE FROM webhook_ingress WHERE tenant = $1 AND connection_id = $2",
                &[&record.tenant, &record.connection_id],
            )
            .await
            .map_err(backend)?;
            tx.execute(
                "INSERT INTO webhook_ingress (token_hash, sealed_token, tenant, connection_id) VALUES ($1, $2, $3, $4)",
                &[
                    &record.token_hash,
                    &record.sealed_token,
                    &record.tenant,
                    &record.connection_id,
                ],
            )
            .await
            .map_err(|e| {
                if is_conflict(&e) {
                    StoreError::Conflict(format!(
                        "the connection {:?} is not stored, or the token is taken",
                        record.connection_id
                    ))
                } else {
                    backend(e)
                }
            })?;
            Ok(())
        }
        .await)
    }

    async fn ingress(&self, token_hash: &[u8]) -> Result<Option<IngressRecord>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT token_hash, sealed_token, tenant, connection_id FROM webhook_ingress WHERE token_hash = $1",
            )
            .await
            .map_err(backend)?;
        client
            .query_opt(&statement, &[&token_hash])
            .await
            .map_err(backend)?
            .map(|row| read_ingress(&row))
            .transpose()
    }

    async fn ingress_of(&self, tenant: &str, connection_id: &str) -> Result<Option<IngressRecord>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                "SELECT token_hash, sealed_token, tenant, connection_id FROM webhook_ingress
                 WHERE tenant = $1 AND connection_id = $2",
                &[&tenant, &connection_id],
            )
            .await
            .map_err(backend)?
            .map(|row| read_ingress(&row))
            .transpose()
    }

    async fn accept_deliveries(&self, deliveries: Vec<NewDelivery>, now_ms: i64) -> Result<Vec<i64>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        in_transaction!(self, |tx| async {
            let insert = tx
                .prepare_cached(
                    "INSERT INTO webhook_deliveries (tenant, connection_id, headers, body, received_at_ms)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .await
                .map_err(backend)?;
            let job = tx
                .prepare_cached(
                    "INSERT INTO jobs (key, kind, tenant, connection_id, delivery_id, state, run_at_ms, updated_at_ms)
                     VALUES ($1, 'parse', $2, $3, $4, 'ready', $5, $5)",
                )
                .await
                .map_err(backend)?;
            let mut ids = Vec::with_capacity(deliveries.len());
            for delivery in &deliveries {
                let headers = serde_json::to_string(&delivery.headers).map_err(|e| backend(e.to_string()))?;
                let row = tx
                    .query_one(
                        &insert,
                        &[
                            &delivery.tenant,
                            &delivery.connection_id,
                            &headers,
                            &delivery.body,
                            &delivery.received_at_ms,
                        ],
                    )
                    .await
                    .map_err(backend)?;
                let id: i64 = get(&row, 0)?;
                tx.execute(
                    &job,
                    &[
                        &format!("parse:{id}"),
                        &delivery.tenant,
                        &delivery.connection_id,
                        &id,
                        &now_ms,
                    ],
                )
                .await
                .map_err(backend)?;
                ids.push(id);
            }
            announce(&tx, Change::Jobs(JobKind::Parse)).await?;
            Ok(ids)
        }
        .await)
    }

    async fn delivery(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        let client = self.client().await?;
        let Some(row) = client
            .query_opt(
                "SELECT tenant, connection_id, headers, body, received_at_ms FROM webhook_deliveries WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let headers: String = get(&row, 2)?;
        Ok(Some(Delivery {
            id,
            delivery: NewDelivery {
                tenant: get(&row, 0)?,
                connection_id: get(&row, 1)?,
                headers: serde_json::from_str(&headers)
                    .map_err(|e| StoreError::Backend(format!("a delivery's stored headers are unreadable: {e}")))?,
                body: get(&row, 3)?,
                received_at_ms: get(&row, 4)?,
            },
        }))
    }

    async fn claim_jobs(
        &self,
        kind: JobKind,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "UPDATE jobs SET attempts = attempts + 1, lease_until_ms = $2 + $3, updated_at_ms = $2
                 WHERE id IN (
                     SELECT id FROM jobs
                     WHERE kind = $1 AND state = 'ready' AND run_at_ms <= $2 AND lease_until_ms <= $2
                     ORDER BY run_at_ms, id LIMIT $4
                     FOR UPDATE SKIP LOCKED)
                 RETURNING {JOB_COLUMNS}"
            ))
            .await
            .map_err(backend)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut jobs = client
            .query(&statement, &[&kind.name(), &now_ms, &lease_ms, &limit])
            .await
            .map_err(backend)?
            .iter()
            .map(read_job)
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| (j.run_at_ms, j.id));
        Ok(jobs)
    }

    async fn finish_jobs(&self, finished: Vec<(i64, u32, Outcome)>, now_ms: i64) -> Result<Vec<bool>, StoreError> {
        in_transaction!(self, |tx| async {
            let mut held = Vec::with_capacity(finished.len());
            for (id, attempts, outcome) in finished {
                held.push(finish(&tx, id, attempts, outcome, now_ms).await?);
            }
            Ok(held)
        }
        .await)
    }

    async fn finish_parses(
        &self,
        finished: Vec<(i64, u32, Vec<NewEvent>)>,
        now_ms: i64,
    ) -> Result<Vec<Option<Vec<EventRecord>>>, StoreError> {
        in_transaction!(self, |tx| async {
            let mut endpoints = HashMap::new();
            let mut events_locked = false;
            let mut results = Vec::with_capacity(finished.len());
            let (mut last_seq, mut pushes) = (None, false);
            for (id, attempts, events) in finished {
                let result =
                    finish_parse(&tx, &mut endpoints, &mut events_locked, id, attempts, events, now_ms).await?;
                results.push(result.map(|(stored, queued)| {
                    pushes |= queued;
                    last_seq = stored.iter().map(|e| e.seq).max().max(last_seq);
                    stored
                }));
            }
            if let Some(seq) = last_seq {
                announce(&tx, Change::Events(seq)).await?;
            }
            if pushes {
                announce(&tx, Change::Jobs(JobKind::Push)).await?;
            }
            Ok(results)
        }
        .await)
    }

    async fn job(&self, tenant: &str, id: i64) -> Result<Option<Job>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant = $2"),
                &[&id, &tenant],
            )
            .await
            .map_err(backend)?
            .map(|row| read_job(&row))
            .transpose()
    }

    async fn jobs(&self, tenant: &str, state: JobState, limit: usize) -> Result<Vec<Job>, StoreError> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        client
            .query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant = $1 AND state = $2
                     ORDER BY updated_at_ms DESC, id DESC LIMIT $3"
                ),
                &[&tenant, &state.name(), &limit],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(read_job)
            .collect()
    }

    async fn replay_job(&self, tenant: &str, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        in_transaction!(self, |tx| async {
            let row = tx
                .query_opt(
                    "UPDATE jobs SET state = 'ready', attempts = 0, run_at_ms = $3, lease_until_ms = 0,
                         last_error = NULL, last_status = NULL, updated_at_ms = $3
                     WHERE id = $1 AND tenant = $2 AND state <> 'ready' RETURNING kind",
                    &[&id, &tenant, &now_ms],
                )
                .await
                .map_err(backend)?;
            let Some(row) = row else { return Ok(false) };
            let kind: String = get(&row, 0)?;
            if let Some(kind) = JobKind::from_name(&kind) {
                announce(&tx, Change::Jobs(kind)).await?;
            }
            Ok(true)
        }
        .await)
    }

    async fn replay_events(
        &self,
        tenant: &str,
        connection_id: &str,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        in_transaction!(self, |tx| async {
            let endpoints = endpoints_of(&tx, tenant).await?;
            let events = tx
                .query(
                    &format!(
                        "SELECT {EVENT_COLUMNS} FROM webhook_events
                         WHERE tenant = $1 AND connection_id = $2 AND created_at_ms >= $3 AND created_at_ms < $4
                         ORDER BY seq"
                    ),
                    &[&tenant, &connection_id, &from_ms, &to_ms],
                )
                .await
                .map_err(backend)?
                .iter()
                .map(read_event)
                .collect::<Result<Vec<_>, _>>()?;
            let mut queued = 0;
            for event in &events {
                for endpoint in endpoints.iter().filter(|e| e.takes(&event.event.event_type)) {
                    if queue_push(&tx, event, endpoint, now_ms, true).await? {
                        queued += 1;
                    }
                }
            }
            if queued > 0 {
                announce(&tx, Change::Jobs(JobKind::Push)).await?;
            }
            Ok(queued)
        }
        .await)
    }

    async fn prune(&self, before_ms: i64, limit: usize) -> Result<Pruned, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        in_transaction!(self, |tx| async {
            // In this order: finished jobs first, then what they referred to.
            let mut removed = [0u64; 3];
            for (count, sql) in removed.iter_mut().zip([
                "DELETE FROM jobs WHERE id IN (
                     SELECT id FROM jobs WHERE state IN ('done', 'dead') AND updated_at_ms < $1 LIMIT $2
                     FOR UPDATE SKIP LOCKED)",
                "DELETE FROM webhook_events WHERE seq IN (
                     SELECT seq FROM webhook_events e WHERE created_at_ms < $1
                     AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_seq = e.seq) LIMIT $2
                     FOR UPDATE SKIP LOCKED)",
                "DELETE FROM webhook_deliveries WHERE id IN (
                     SELECT id FROM webhook_deliveries d WHERE received_at_ms < $1
                     AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.delivery_id = d.id) LIMIT $2
                     FOR UPDATE SKIP LOCKED)",
            ]) {
                *count = tx.execute(sql, &[&before_ms, &limit]).await.map_err(backend)?;
            }
            let [jobs, events, deliveries] = removed;
            Ok(Pruned {
                jobs,
                events,
                deliveries,
            })
        }
        .await)
    }

    async fn job_counts(&self) -> Result<JobCounts, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT kind, state, last_error IS NULL, COUNT(*) FROM jobs WHERE state <> 'done'
                 GROUP BY kind, state, last_error IS NULL",
                &[],
            )
            .await
            .map_err(backend)?;
        let mut counts = JobCounts::default();
        for row in &rows {
            let (kind, state, clean, n): (String, String, bool, i64) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?, get(row, 3)?);
            let n = n.max(0) as u64;
            match (kind.as_str(), state.as_str(), clean) {
                ("parse", "ready", _) => counts.parse_ready += n,
                ("push", "ready", true) => counts.push_ready += n,
                ("push", "ready", false) => counts.push_retrying += n,
                (_, "dead", _) => counts.dead += n,
                _ => {}
            }
        }
        Ok(counts)
    }

    async fn events_after(&self, tenant: &str, after_seq: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let statement = client
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ))
            .await
            .map_err(backend)?;
        client
            .query(&statement, &[&tenant, &after_seq, &limit])
            .await
            .map_err(backend)?
            .iter()
            .map(read_event)
            .collect()
    }

    async fn event(&self, seq: i64) -> Result<Option<EventRecord>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE seq = $1"),
                &[&seq],
            )
            .await
            .map_err(backend)?
            .map(|row| read_event(&row))
            .transpose()
    }

    async fn insert_endpoint(&self, endpoint: Endpoint) -> Result<(), StoreError> {
        let types = serde_json::to_string(&endpoint.event_types).map_err(|e| backend(e.to_string()))?;
        let client = self.client().await?;
        client
            .execute(
                &format!("INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
                &[
                    &endpoint.id,
                    &endpoint.tenant,
                    &endpoint.url,
                    &types,
                    &endpoint.sealed_secret,
                    &endpoint.created_at_ms,
                ],
            )
            .await
            .map(|_| ())
            .map_err(|e| {
                if is_conflict(&e) {
                    StoreError::Conflict(format!("an endpoint {:?} exists already", endpoint.id))
                } else {
                    backend(e)
                }
            })
    }

    async fn endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, StoreError> {
        let client = self.client().await?;
        client
            .query(
                &format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant = $1 ORDER BY created_at_ms, id"
                ),
                &[&tenant],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(read_endpoint)
            .collect()
    }

    async fn endpoint(&self, tenant: &str, id: &str) -> Result<Option<Endpoint>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND tenant = $2"),
                &[&id, &tenant],
            )
            .await
            .map_err(backend)?
            .map(|row| read_endpoint(&row))
            .transpose()
    }

    async fn delete_endpoint(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        in_transaction!(self, |tx| async {
            let deleted = tx
                .execute(
                    "DELETE FROM webhook_endpoints WHERE id = $1 AND tenant = $2",
                    &[&id, &tenant],
                )
                .await
                .map_err(backend)?;
            if deleted > 0 {
                tx.execute(
                    "DELETE FROM jobs WHERE kind = 'push' AND endpoint_id = $1 AND tenant = $2 AND state = 'ready'",
                    &[&id, &tenant],
                )
                .await
                .map_err(backend)?;
            }
            Ok(deleted > 0)
        }
        .await)
    }
}
