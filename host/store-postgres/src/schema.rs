//! The schema, as migrations applied in order. `patchbay_schema` counts
//! the applied ones; they run in one transaction under an advisory lock,
//! so replicas that start together apply each once, and a replica older
//! than the schema refuses to start instead of misreading it.

use deadpool_postgres::Object;
use patchbay_store::StoreError;

use crate::{backend, get};

/// The advisory lock migrations run under ("patchbay" in ASCII).
const MIGRATION_LOCK: i64 = 0x7061_7463_6862_6179;

/// Schema migrations, applied in order.
pub const MIGRATIONS: &[&str] = &[
    // Keys sort bytewise (`COLLATE "C"`), whatever the database's locale.
    r#"CREATE TABLE kv (
        namespace  TEXT NOT NULL,
        key        TEXT COLLATE "C" NOT NULL,
        value      BYTEA NOT NULL,
        expires_at BIGINT,
        PRIMARY KEY (namespace, key)
    );
    CREATE TABLE circuit (
        connection_id TEXT PRIMARY KEY,
        fingerprint   TEXT NOT NULL,
        auth_failures BIGINT NOT NULL,
        disabled      BOOLEAN NOT NULL,
        updated_at    BIGINT NOT NULL
    );
    CREATE TABLE connections (
        id                  TEXT PRIMARY KEY,
        tenant              TEXT NOT NULL,
        provider            TEXT NOT NULL,
        display_name        TEXT NOT NULL,
        settings            TEXT NOT NULL,
        credentials         BYTEA NOT NULL,
        tokens              BYTEA,
        enabled             BOOLEAN NOT NULL DEFAULT TRUE,
        connected           BOOLEAN NOT NULL DEFAULT TRUE,
        auth_failures       BIGINT NOT NULL DEFAULT 0,
        circuit_fingerprint TEXT,
        circuit_disabled    BOOLEAN NOT NULL DEFAULT FALSE,
        last_failure        TEXT,
        last_failure_at     BIGINT,
        created_at          BIGINT NOT NULL,
        updated_at          BIGINT NOT NULL
    );
    CREATE INDEX connections_by_tenant ON connections (tenant, created_at, id);
    CREATE TABLE oauth_pending (
        state         TEXT PRIMARY KEY,
        tenant        TEXT NOT NULL,
        connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        secret        BYTEA NOT NULL,
        expires_at    BIGINT NOT NULL
    );
    CREATE INDEX oauth_pending_by_connection ON oauth_pending (connection_id);
    CREATE TABLE vault_meta (
        name  TEXT PRIMARY KEY,
        value BYTEA NOT NULL
    );
    CREATE TABLE rate_budgets (
        key             TEXT PRIMARY KEY,
        tat_ms          BIGINT NOT NULL,
        paused_until_ms BIGINT NOT NULL
    );
    CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        tenant     TEXT NOT NULL,
        admin      BOOLEAN NOT NULL,
        hash       BYTEA NOT NULL,
        label      TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE webhook_ingress (
        token_hash    BYTEA PRIMARY KEY,
        sealed_token  BYTEA NOT NULL,
        tenant        TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        UNIQUE (tenant, connection_id)
    );
    CREATE TABLE webhook_deliveries (
        id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant         TEXT NOT NULL,
        connection_id  TEXT NOT NULL,
        headers        TEXT NOT NULL,
        body           BYTEA NOT NULL,
        received_at_ms BIGINT NOT NULL
    );
    CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (received_at_ms);
    CREATE TABLE webhook_events (
        seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        tenant              TEXT NOT NULL,
        connection_id       TEXT NOT NULL,
        delivery_id         BIGINT NOT NULL,
        provider_event_id   TEXT NOT NULL,
        event_type          TEXT NOT NULL,
        provider_event_type TEXT NOT NULL,
        payload_json        TEXT NOT NULL,
        idempotency_key     TEXT NOT NULL,
        occurred_at         TEXT,
        created_at_ms       BIGINT NOT NULL,
        UNIQUE (connection_id, idempotency_key)
    );
    CREATE INDEX webhook_events_by_tenant ON webhook_events (tenant, seq);
    CREATE INDEX webhook_events_by_connection ON webhook_events (tenant, connection_id, created_at_ms);
    CREATE INDEX webhook_events_by_age ON webhook_events (created_at_ms);
    CREATE TABLE webhook_endpoints (
        id            TEXT PRIMARY KEY,
        tenant        TEXT NOT NULL,
        url           TEXT NOT NULL,
        event_types   TEXT NOT NULL,
        sealed_secret BYTEA NOT NULL,
        created_at_ms BIGINT NOT NULL
    );
    CREATE TABLE jobs (
        id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key            TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL,
        tenant         TEXT NOT NULL,
        connection_id  TEXT NOT NULL,
        delivery_id    BIGINT,
        event_seq      BIGINT,
        endpoint_id    TEXT,
        state          TEXT NOT NULL,
        attempts       BIGINT NOT NULL DEFAULT 0,
        run_at_ms      BIGINT NOT NULL,
        lease_until_ms BIGINT NOT NULL DEFAULT 0,
        last_error     TEXT,
        last_status    BIGINT,
        updated_at_ms  BIGINT NOT NULL
    );
    CREATE INDEX jobs_due ON jobs (kind, state, run_at_ms, id);
    CREATE INDEX jobs_by_tenant ON jobs (tenant, state, updated_at_ms);
    CREATE INDEX jobs_finished ON jobs (state, updated_at_ms);
    CREATE INDEX jobs_by_event ON jobs (event_seq);
    CREATE INDEX jobs_by_delivery ON jobs (delivery_id);"#,
];

/// Removes every table of the store.
pub(crate) const DROP: &str = "DROP TABLE IF EXISTS kv, circuit, oauth_pending, connections, vault_meta, \
     rate_budgets, api_keys, webhook_ingress, webhook_deliveries, webhook_events, webhook_endpoints, jobs, \
     patchbay_schema CASCADE";

/// Applies the migrations the database lacks, under the advisory lock.
pub(crate) async fn migrate(client: &mut Object) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS patchbay_schema (version BIGINT NOT NULL)")
        .await
        .map_err(backend)?;
    let version: i64 = match tx
        .query_opt("SELECT version FROM patchbay_schema", &[])
        .await
        .map_err(backend)?
    {
        Some(row) => get(&row, 0)?,
        None => {
            tx.execute("INSERT INTO patchbay_schema (version) VALUES (0)", &[])
                .await
                .map_err(backend)?;
            0
        }
    };
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::Backend(format!(
            "the database schema is version {version}, newer than this host understands ({known})"
        )));
    }
    for migration in &MIGRATIONS[version as usize..] {
        tx.batch_execute(migration).await.map_err(backend)?;
    }
    tx.execute("UPDATE patchbay_schema SET version = $1", &[&known])
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)
}
