//! [`WebhookStore`]: the `webhook_*` tables and `jobs`. Jobs are claimed by
//! one `UPDATE … RETURNING` (SQLite has one writer: no `SKIP LOCKED`
//! needed), events are de-duplicated by their unique constraint
//! (`INSERT … ON CONFLICT DO NOTHING`), never by a read first.

use patchbay_store::StoreError;
use patchbay_store::webhooks::{
    Delivery, Endpoint, EventRecord, IngressRecord, Job, JobCounts, JobKind, JobState, NewDelivery, NewEvent, Outcome,
    Pruned, WebhookStore,
};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::{SqliteStore, backend};

const JOB_COLUMNS: &str = "id, kind, tenant, connection_id, delivery_id, event_seq, endpoint_id, state, attempts, \
                           run_at_ms, last_error, last_status, updated_at_ms";

fn read_job(row: &Row<'_>) -> rusqlite::Result<Job> {
    let kind: String = row.get(1)?;
    let state: String = row.get(7)?;
    let unknown = |what: &str, value: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown job {what} {value:?}").into(),
        )
    };
    Ok(Job {
        id: row.get(0)?,
        kind: JobKind::from_name(&kind).ok_or_else(|| unknown("kind", &kind))?,
        tenant: row.get(2)?,
        connection_id: row.get(3)?,
        delivery_id: row.get(4)?,
        event_seq: row.get(5)?,
        endpoint_id: row.get(6)?,
        state: JobState::from_name(&state).ok_or_else(|| unknown("state", &state))?,
        attempts: row.get(8)?,
        run_at_ms: row.get(9)?,
        last_error: row.get(10)?,
        last_status: row.get(11)?,
        updated_at_ms: row.get(12)?,
    })
}

const EVENT_COLUMNS: &str = "seq, tenant, connection_id, delivery_id, created_at_ms, id, provider_event_id, event_type, \
                             provider_event_type, payload_json, idempotency_key, occurred_at";

fn read_event(row: &Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        seq: row.get(0)?,
        tenant: row.get(1)?,
        connection_id: row.get(2)?,
        delivery_id: row.get(3)?,
        created_at_ms: row.get(4)?,
        event: NewEvent {
            id: row.get(5)?,
            provider_event_id: row.get(6)?,
            event_type: row.get(7)?,
            provider_event_type: row.get(8)?,
            payload_json: row.get(9)?,
            idempotency_key: row.get(10)?,
            occurred_at: row.get(11)?,
        },
    })
}

fn read_endpoint(row: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let types: String = row.get(3)?;
    Ok(Endpoint {
        id: row.get(0)?,
        tenant: row.get(1)?,
        url: row.get(2)?,
        event_types: serde_json::from_str(&types)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e)))?,
        sealed_secret: row.get(4)?,
        created_at_ms: row.get(5)?,
    })
}

fn read_ingress(row: &Row<'_>) -> rusqlite::Result<IngressRecord> {
    Ok(IngressRecord {
        token_hash: row.get(0)?,
        sealed_token: row.get(1)?,
        tenant: row.get(2)?,
        connection_id: row.get(3)?,
    })
}

fn endpoints_of(tx: &Transaction<'_>, tenant: &str) -> rusqlite::Result<Vec<Endpoint>> {
    let mut statement = tx.prepare_cached(
        "SELECT id, tenant, url, event_types, sealed_secret, created_at_ms FROM webhook_endpoints
         WHERE tenant = ?1 ORDER BY created_at_ms, id",
    )?;
    statement.query_map(params![tenant], read_endpoint)?.collect()
}

/// Queues the push of `event` to `endpoint`; with `again`, a push that
/// exists is made ready again. Whether one was queued.
fn queue_push(
    tx: &Transaction<'_>,
    event: &EventRecord,
    endpoint: &Endpoint,
    now_ms: i64,
    again: bool,
) -> rusqlite::Result<bool> {
    let conflict = if again {
        "ON CONFLICT (key) DO UPDATE SET state = 'ready', attempts = 0, run_at_ms = excluded.run_at_ms,
         lease_until_ms = 0, last_error = NULL, last_status = NULL, updated_at_ms = excluded.updated_at_ms"
    } else {
        "ON CONFLICT (key) DO NOTHING"
    };
    let changed = tx
        .prepare_cached(&format!(
            "INSERT INTO jobs (key, kind, tenant, connection_id, event_seq, endpoint_id, state, run_at_ms, updated_at_ms)
             VALUES (?1, 'push', ?2, ?3, ?4, ?5, 'ready', ?6, ?6) {conflict}"
        ))?
        .execute(params![
            format!("push:{}:{}", event.seq, endpoint.id),
            event.tenant,
            event.connection_id,
            event.seq,
            endpoint.id,
            now_ms
        ])?;
    Ok(changed > 0)
}

/// Ends one attempt of a job, inside a transaction; whether it still held
/// the job.
fn finish(tx: &Transaction<'_>, id: i64, attempts: u32, outcome: Outcome, now_ms: i64) -> rusqlite::Result<bool> {
    let fence = "WHERE id = ?1 AND attempts = ?2 AND state = 'ready'";
    let changed = match outcome {
        Outcome::Done { status } => tx
            .prepare_cached(&format!(
                "UPDATE jobs SET state = 'done', last_status = COALESCE(?3, last_status), lease_until_ms = 0,
             updated_at_ms = ?4 {fence}"
            ))?
            .execute(params![id, attempts, status, now_ms])?,
        Outcome::Retry {
            run_at_ms,
            error,
            status,
        } => tx
            .prepare_cached(&format!(
                "UPDATE jobs SET run_at_ms = ?3, last_error = ?4, last_status = ?5, lease_until_ms = 0,
             updated_at_ms = ?6 {fence}"
            ))?
            .execute(params![id, attempts, run_at_ms, error, status, now_ms])?,
        Outcome::Dead { error, status } => tx
            .prepare_cached(&format!(
                "UPDATE jobs SET state = 'dead', last_error = ?3, last_status = ?4, lease_until_ms = 0,
             updated_at_ms = ?5 {fence}"
            ))?
            .execute(params![id, attempts, error, status, now_ms])?,
    };
    Ok(changed > 0)
}

/// Ends one parse attempt with its events, inside a transaction (the
/// tenants' endpoints read once per batch); the new events, or `None` when
/// the attempt no longer held the job.
fn finish_parse(
    tx: &Transaction<'_>,
    endpoints: &mut std::collections::HashMap<String, Vec<Endpoint>>,
    id: i64,
    attempts: u32,
    events: Vec<NewEvent>,
    now_ms: i64,
) -> rusqlite::Result<Option<Vec<EventRecord>>> {
    let job = tx
        .prepare_cached(
            "SELECT tenant, connection_id, delivery_id FROM jobs
             WHERE id = ?1 AND attempts = ?2 AND state = 'ready' AND kind = 'parse'",
        )?
        .query_row(params![id, attempts], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })
        .optional()?;
    let Some((tenant, connection_id, delivery_id)) = job else {
        return Ok(None);
    };
    let delivery_id = delivery_id.unwrap_or_default();
    if !endpoints.contains_key(&tenant) {
        endpoints.insert(tenant.clone(), endpoints_of(tx, &tenant)?);
    }
    let takers = &endpoints[&tenant];
    let mut stored = Vec::new();
    for event in events {
        let seq: Option<i64> = tx
            .prepare_cached(
                "INSERT INTO webhook_events (id, tenant, connection_id, delivery_id, provider_event_id,
                     event_type, provider_event_type, payload_json, idempotency_key, occurred_at, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT DO NOTHING RETURNING seq",
            )?
            .query_row(
                params![
                    event.id,
                    tenant,
                    connection_id,
                    delivery_id,
                    event.provider_event_id,
                    event.event_type,
                    event.provider_event_type,
                    event.payload_json,
                    event.idempotency_key,
                    event.occurred_at,
                    now_ms
                ],
                |row| row.get(0),
            )
            .optional()?;
        let Some(seq) = seq else { continue };
        let record = EventRecord {
            seq,
            tenant: tenant.clone(),
            connection_id: connection_id.clone(),
            delivery_id,
            created_at_ms: now_ms,
            event,
        };
        for endpoint in takers.iter().filter(|e| e.takes(&record.event.event_type)) {
            queue_push(tx, &record, endpoint, now_ms, false)?;
        }
        stored.push(record);
    }
    tx.prepare_cached("UPDATE jobs SET state = 'done', lease_until_ms = 0, updated_at_ms = ?2 WHERE id = ?1")?
        .execute(params![id, now_ms])?;
    Ok(Some(stored))
}

#[async_trait::async_trait]
impl WebhookStore for SqliteStore {
    async fn set_ingress(&self, record: IngressRecord) -> Result<(), StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            tx.execute(
                "DELETE FROM webhook_ingress WHERE tenant = ?1 AND connection_id = ?2",
                params![record.tenant, record.connection_id],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT INTO webhook_ingress (token_hash, sealed_token, tenant, connection_id) VALUES (?1, ?2, ?3, ?4)",
                params![
                    record.token_hash,
                    record.sealed_token,
                    record.tenant,
                    record.connection_id
                ],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict(format!(
                        "the connection {:?} is not stored, or the token is taken",
                        record.connection_id
                    ))
                }
                other => backend(other),
            })?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn ingress(&self, token_hash: &[u8]) -> Result<Option<IngressRecord>, StoreError> {
        let token_hash = token_hash.to_vec();
        self.with_db(move |db| {
            db.prepare_cached(
                "SELECT token_hash, sealed_token, tenant, connection_id FROM webhook_ingress WHERE token_hash = ?1",
            )
            .and_then(|mut s| s.query_row(params![token_hash], read_ingress).optional())
            .map_err(backend)
        })
        .await
    }

    async fn ingress_of(&self, tenant: &str, connection_id: &str) -> Result<Option<IngressRecord>, StoreError> {
        let (tenant, connection_id) = (tenant.to_string(), connection_id.to_string());
        self.with_db(move |db| {
            db.query_row(
                "SELECT token_hash, sealed_token, tenant, connection_id FROM webhook_ingress
                 WHERE tenant = ?1 AND connection_id = ?2",
                params![tenant, connection_id],
                read_ingress,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn accept_deliveries(&self, deliveries: Vec<NewDelivery>, now_ms: i64) -> Result<Vec<i64>, StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let mut ids = Vec::with_capacity(deliveries.len());
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO webhook_deliveries (tenant, connection_id, headers, body, received_at_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(backend)?;
                let mut job = tx
                    .prepare_cached(
                        "INSERT INTO jobs (key, kind, tenant, connection_id, delivery_id, state, run_at_ms, updated_at_ms)
                         VALUES (?1, 'parse', ?2, ?3, ?4, 'ready', ?5, ?5)",
                    )
                    .map_err(backend)?;
                for delivery in &deliveries {
                    let headers = serde_json::to_string(&delivery.headers).map_err(backend)?;
                    insert
                        .execute(params![
                            delivery.tenant,
                            delivery.connection_id,
                            headers,
                            delivery.body,
                            delivery.received_at_ms
                        ])
                        .map_err(backend)?;
                    let id = tx.last_insert_rowid();
                    job.execute(params![
                        format!("parse:{id}"),
                        delivery.tenant,
                        delivery.connection_id,
                        id,
                        now_ms
                    ])
                    .map_err(backend)?;
                    ids.push(id);
                }
            }
            tx.commit().map_err(backend)?;
            Ok(ids)
        })
        .await
    }

    async fn delivery(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        self.with_db(move |db| {
            let row = db
                .query_row(
                    "SELECT tenant, connection_id, headers, body, received_at_ms FROM webhook_deliveries WHERE id = ?1",
                    params![id],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, Vec<u8>>(3)?,
                            row.get::<_, i64>(4)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)?;
            row.map(|(tenant, connection_id, headers, body, received_at_ms)| {
                Ok(Delivery {
                    id,
                    delivery: NewDelivery {
                        tenant,
                        connection_id,
                        headers: serde_json::from_str(&headers).map_err(backend)?,
                        body,
                        received_at_ms,
                    },
                })
            })
            .transpose()
        })
        .await
    }

    async fn claim_jobs(
        &self,
        kind: JobKind,
        now_ms: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        self.with_db(move |db| {
            let mut statement = db
                .prepare_cached(&format!(
                    "UPDATE jobs SET attempts = attempts + 1, lease_until_ms = ?2 + ?3, updated_at_ms = ?2
                     WHERE id IN (
                         SELECT id FROM jobs
                         WHERE kind = ?1 AND state = 'ready' AND run_at_ms <= ?2 AND lease_until_ms <= ?2
                         ORDER BY run_at_ms, id LIMIT ?4)
                     RETURNING {JOB_COLUMNS}"
                ))
                .map_err(backend)?;
            let mut jobs: Vec<Job> = statement
                .query_map(params![kind.name(), now_ms, lease_ms, limit as i64], read_job)
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            jobs.sort_by_key(|j| (j.run_at_ms, j.id));
            Ok(jobs)
        })
        .await
    }

    async fn finish_jobs(&self, finished: Vec<(i64, u32, Outcome)>, now_ms: i64) -> Result<Vec<bool>, StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let mut held = Vec::with_capacity(finished.len());
            for (id, attempts, outcome) in finished {
                held.push(finish(&tx, id, attempts, outcome, now_ms).map_err(backend)?);
            }
            tx.commit().map_err(backend)?;
            Ok(held)
        })
        .await
    }

    async fn finish_parses(
        &self,
        finished: Vec<(i64, u32, Vec<NewEvent>)>,
        now_ms: i64,
    ) -> Result<Vec<Option<Vec<EventRecord>>>, StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let mut endpoints: std::collections::HashMap<String, Vec<Endpoint>> = std::collections::HashMap::new();
            let mut results = Vec::with_capacity(finished.len());
            for (id, attempts, events) in finished {
                results.push(finish_parse(&tx, &mut endpoints, id, attempts, events, now_ms).map_err(backend)?);
            }
            tx.commit().map_err(backend)?;
            Ok(results)
        })
        .await
    }

    async fn job(&self, tenant: &str, id: i64) -> Result<Option<Job>, StoreError> {
        let tenant = tenant.to_string();
        self.with_db(move |db| {
            db.query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1 AND tenant = ?2"),
                params![id, tenant],
                read_job,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn jobs(&self, tenant: &str, state: JobState, limit: usize) -> Result<Vec<Job>, StoreError> {
        let tenant = tenant.to_string();
        self.with_db(move |db| {
            let mut statement = db
                .prepare_cached(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant = ?1 AND state = ?2
                     ORDER BY updated_at_ms DESC, id DESC LIMIT ?3"
                ))
                .map_err(backend)?;
            statement
                .query_map(params![tenant, state.name(), limit as i64], read_job)
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
        .await
    }

    async fn replay_job(&self, tenant: &str, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let tenant = tenant.to_string();
        self.with_db(move |db| {
            db.execute(
                "UPDATE jobs SET state = 'ready', attempts = 0, run_at_ms = ?3, lease_until_ms = 0, last_error = NULL,
                 last_status = NULL, updated_at_ms = ?3
                 WHERE id = ?1 AND tenant = ?2 AND state != 'ready'",
                params![id, tenant, now_ms],
            )
            .map(|changed| changed > 0)
            .map_err(backend)
        })
        .await
    }

    async fn replay_events(
        &self,
        tenant: &str,
        connection_id: &str,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let (tenant, connection_id) = (tenant.to_string(), connection_id.to_string());
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let endpoints = endpoints_of(&tx, &tenant).map_err(backend)?;
            let events: Vec<EventRecord> = tx
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM webhook_events
                     WHERE tenant = ?1 AND connection_id = ?2 AND created_at_ms >= ?3 AND created_at_ms < ?4
                     ORDER BY seq"
                ))
                .and_then(|mut s| {
                    s.query_map(params![tenant, connection_id, from_ms, to_ms], read_event)?
                        .collect()
                })
                .map_err(backend)?;
            let mut queued = 0;
            for event in &events {
                for endpoint in endpoints.iter().filter(|e| e.takes(&event.event.event_type)) {
                    if queue_push(&tx, event, endpoint, now_ms, true).map_err(backend)? {
                        queued += 1;
                    }
                }
            }
            tx.commit().map_err(backend)?;
            Ok(queued)
        })
        .await
    }

    async fn prune(&self, before_ms: i64, limit: usize) -> Result<Pruned, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            // In this order: finished jobs first, then what they referred to.
            let mut removed = [0u64; 3];
            for (count, sql) in removed.iter_mut().zip([
                "DELETE FROM jobs WHERE id IN (
                     SELECT id FROM jobs WHERE state IN ('done', 'dead') AND updated_at_ms < ?1 LIMIT ?2)",
                "DELETE FROM webhook_events WHERE seq IN (
                     SELECT seq FROM webhook_events e WHERE created_at_ms < ?1
                     AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.event_seq = e.seq) LIMIT ?2)",
                "DELETE FROM webhook_deliveries WHERE id IN (
                     SELECT id FROM webhook_deliveries d WHERE received_at_ms < ?1
                     AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.delivery_id = d.id) LIMIT ?2)",
            ]) {
                *count = tx
                    .prepare_cached(sql)
                    .and_then(|mut s| s.execute(params![before_ms, limit]))
                    .map_err(backend)? as u64;
            }
            tx.commit().map_err(backend)?;
            let [jobs, events, deliveries] = removed;
            Ok(Pruned {
                jobs,
                events,
                deliveries,
            })
        })
        .await
    }

    async fn job_counts(&self) -> Result<JobCounts, StoreError> {
        self.with_db(|db| {
            let mut statement = db
                .prepare_cached(
                    "SELECT kind, state, last_error IS NULL, COUNT(*) FROM jobs WHERE state != 'done'
                     GROUP BY kind, state, last_error IS NULL",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, bool>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                })
                .map_err(backend)?;
            let mut counts = JobCounts::default();
            for row in rows {
                let (kind, state, clean, n) = row.map_err(backend)?;
                let n = n as u64;
                match (kind.as_str(), state.as_str(), clean) {
                    ("parse", "ready", _) => counts.parse_ready += n,
                    ("push", "ready", true) => counts.push_ready += n,
                    ("push", "ready", false) => counts.push_retrying += n,
                    (_, "dead", _) => counts.dead += n,
                    _ => {}
                }
            }
            Ok(counts)
        })
        .await
    }

    async fn events_after(&self, tenant: &str, after_seq: i64, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let tenant = tenant.to_string();
        self.with_db(move |db| {
            let mut statement = db
                .prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
                ))
                .map_err(backend)?;
            statement
                .query_map(params![tenant, after_seq, limit as i64], read_event)
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
        .await
    }

    async fn event(&self, seq: i64) -> Result<Option<EventRecord>, StoreError> {
        self.with_db(move |db| {
            db.query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE seq = ?1"),
                params![seq],
                read_event,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn insert_endpoint(&self, endpoint: Endpoint) -> Result<(), StoreError> {
        self.with_db(move |db| {
            let types = serde_json::to_string(&endpoint.event_types).map_err(backend)?;
            db.execute(
                "INSERT INTO webhook_endpoints (id, tenant, url, event_types, sealed_secret, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    endpoint.id,
                    endpoint.tenant,
                    endpoint.url,
                    types,
                    endpoint.sealed_secret,
                    endpoint.created_at_ms
                ],
            )
            .map(|_| ())
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict(format!("an endpoint {:?} exists already", endpoint.id))
                }
                other => backend(other),
            })
        })
        .await
    }

    async fn endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, StoreError> {
        let tenant = tenant.to_string();
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let endpoints = endpoints_of(&tx, &tenant).map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(endpoints)
        })
        .await
    }

    async fn endpoint(&self, tenant: &str, id: &str) -> Result<Option<Endpoint>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.with_db(move |db| {
            db.query_row(
                "SELECT id, tenant, url, event_types, sealed_secret, created_at_ms FROM webhook_endpoints
                 WHERE id = ?1 AND tenant = ?2",
                params![id, tenant],
                read_endpoint,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn delete_endpoint(&self, tenant: &str, id: &str) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let deleted = tx
                .execute(
                    "DELETE FROM webhook_endpoints WHERE id = ?1 AND tenant = ?2",
                    params![id, tenant],
                )
                .map_err(backend)?;
            if deleted > 0 {
                tx.execute(
                    "DELETE FROM jobs WHERE kind = 'push' AND endpoint_id = ?1 AND tenant = ?2 AND state = 'ready'",
                    params![id, tenant],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(deleted > 0)
        })
        .await
    }
}
