//! # patchbay-store-sqlite
//!
//! The embedded default backend: every store trait of `patchbay-store` in
//! one SQLite file (or in memory), with schema migrations counted by
//! `PRAGMA user_version`. Blocking database work runs off the async
//! runtime; one connection, WAL journal.
#![deny(missing_docs)]

mod api_keys;
mod circuit;
mod connections;
mod kv;
mod rate;
mod vault;
mod webhooks;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

use patchbay_store::{LocalLeases, StoreError};

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE kv (
        namespace  TEXT NOT NULL,
        key        TEXT NOT NULL,
        value      BLOB NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (namespace, key)
    ) WITHOUT ROWID;",
    "CREATE TABLE circuit (
        connection_id TEXT PRIMARY KEY,
        fingerprint   TEXT NOT NULL,
        auth_failures INTEGER NOT NULL,
        disabled      INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    );",
    "CREATE TABLE connections (
        id                  TEXT PRIMARY KEY,
        tenant              TEXT NOT NULL,
        provider            TEXT NOT NULL,
        display_name        TEXT NOT NULL,
        settings            TEXT NOT NULL,
        credentials         BLOB NOT NULL,
        tokens              BLOB,
        enabled             INTEGER NOT NULL DEFAULT 1,
        connected           INTEGER NOT NULL DEFAULT 1,
        auth_failures       INTEGER NOT NULL DEFAULT 0,
        circuit_fingerprint TEXT,
        circuit_disabled    INTEGER NOT NULL DEFAULT 0,
        last_failure        TEXT,
        last_failure_at     INTEGER,
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL
    );
    CREATE INDEX connections_by_tenant ON connections (tenant, id);
    CREATE TABLE oauth_pending (
        state         TEXT PRIMARY KEY,
        connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
        secret        BLOB NOT NULL,
        expires_at    INTEGER NOT NULL
    );
    CREATE TABLE vault_meta (
        name  TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );",
    "CREATE TABLE rate_budgets (
        key             TEXT PRIMARY KEY,
        tat_ms          INTEGER NOT NULL,
        paused_until_ms INTEGER NOT NULL
    ) WITHOUT ROWID;",
    "CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        tenant     TEXT NOT NULL,
        admin      INTEGER NOT NULL,
        hash       BLOB NOT NULL,
        label      TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );",
    // The tenant of a pending authorization, for the service's callback
    // (older rows belong to tenants nobody can name: they expire unused).
    "ALTER TABLE oauth_pending ADD COLUMN tenant TEXT NOT NULL DEFAULT '';",
    // Webhooks: the ingress of each connection, the inbox, events, the
    // tenants' endpoints, and the jobs that parse and push.
    "CREATE TABLE webhook_ingress (
        token_hash    BLOB PRIMARY KEY,
        sealed_token  BLOB NOT NULL,
        tenant        TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        UNIQUE (tenant, connection_id)
    );
    CREATE TABLE webhook_deliveries (
        id             INTEGER PRIMARY KEY,
        tenant         TEXT NOT NULL,
        connection_id  TEXT NOT NULL,
        headers        TEXT NOT NULL,
        body           BLOB NOT NULL,
        received_at_ms INTEGER NOT NULL
    );
    CREATE TABLE webhook_events (
        seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
        id                  TEXT NOT NULL UNIQUE,
        tenant              TEXT NOT NULL,
        connection_id       TEXT NOT NULL,
        delivery_id         INTEGER NOT NULL,
        provider_event_id   TEXT NOT NULL,
        event_type          TEXT NOT NULL,
        provider_event_type TEXT NOT NULL,
        payload_json        TEXT NOT NULL,
        idempotency_key     TEXT NOT NULL,
        occurred_at         TEXT,
        created_at_ms       INTEGER NOT NULL,
        UNIQUE (connection_id, idempotency_key)
    );
    CREATE INDEX webhook_events_by_tenant ON webhook_events (tenant, seq);
    CREATE INDEX webhook_events_by_connection ON webhook_events (tenant, connection_id, created_at_ms);
    CREATE TABLE webhook_endpoints (
        id            TEXT PRIMARY KEY,
        tenant        TEXT NOT NULL,
        url           TEXT NOT NULL,
        event_types   TEXT NOT NULL,
        sealed_secret BLOB NOT NULL,
        created_at_ms INTEGER NOT NULL
    );
    CREATE TABLE jobs (
        id             INTEGER PRIMARY KEY,
        key            TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL,
        tenant         TEXT NOT NULL,
        connection_id  TEXT NOT NULL,
        delivery_id    INTEGER,
        event_seq      INTEGER,
        endpoint_id    TEXT,
        state          TEXT NOT NULL,
        attempts       INTEGER NOT NULL DEFAULT 0,
        run_at_ms      INTEGER NOT NULL,
        lease_until_ms INTEGER NOT NULL DEFAULT 0,
        last_error     TEXT,
        last_status    INTEGER,
        updated_at_ms  INTEGER NOT NULL
    );
    CREATE INDEX jobs_due ON jobs (kind, state, run_at_ms);
    CREATE INDEX jobs_by_tenant ON jobs (tenant, state, updated_at_ms);",
    // Retention: finished jobs by age, and what still refers to an event or
    // a delivery; deliveries by age.
    "CREATE INDEX jobs_finished ON jobs (state, updated_at_ms);
    CREATE INDEX jobs_by_event ON jobs (event_seq);
    CREATE INDEX jobs_by_delivery ON jobs (delivery_id);
    CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (received_at_ms);
    CREATE INDEX webhook_events_by_age ON webhook_events (created_at_ms);",
];

/// Host state in one SQLite file (or in memory).
#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<Mutex<Connection>>,
    leases: Arc<LocalLeases>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

pub(crate) fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl SqliteStore {
    /// Opens (creating when needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        // The database holds settings, kv data and failure messages in clear:
        // a new one is private to its owner (0700 directory, 0600 file, and
        // SQLite gives its journal files the file's mode).
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(parent)
                .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", parent.display())))?;
        }
        if !path.exists() {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(StoreError::Backend(format!(
                        "cannot create {}: {error}",
                        path.display()
                    )));
                }
            }
        }
        let db =
            Connection::open(path).map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
        db.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
        db.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend)?;
        Self::init(db)
    }

    /// A private in-memory database.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(db: Connection) -> Result<Self, StoreError> {
        db.pragma_update(None, "foreign_keys", "ON").map_err(backend)?;
        let version: usize = db
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(backend)?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::Backend(format!(
                "the database schema is version {version}, newer than this host understands ({})",
                MIGRATIONS.len()
            )));
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            db.execute_batch(&format!(
                "BEGIN; {migration} PRAGMA user_version = {}; COMMIT;",
                index + 1
            ))
            .map_err(backend)?;
        }
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
            leases: Arc::default(),
        })
    }

    /// Runs a blocking database operation off the async runtime.
    pub(crate) async fn with_db<R: Send + 'static>(
        &self,
        op: impl FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let mut guard = db
                .lock()
                .map_err(|_| StoreError::Backend("the database lock is poisoned".into()))?;
            op(&mut guard)
        })
        .await
        .map_err(backend)?
    }
}

#[cfg(test)]
mod tests {
    use patchbay_store::{KvLimits, KvStore, conformance};

    use super::*;

    #[tokio::test]
    async fn kv() {
        conformance::kv(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn circuits() {
        conformance::circuits(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn connections() {
        conformance::connections(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn token_leases() {
        conformance::token_leases(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn authorizations() {
        conformance::authorizations(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn vault() {
        conformance::vault(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn rates() {
        conformance::rates(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn api_keys() {
        conformance::api_keys(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn webhooks() {
        conformance::webhooks(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn webhook_retention() {
        conformance::webhook_retention(&SqliteStore::in_memory().unwrap()).await;
    }

    /// Security review F20: a new database and its directory are private.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/patchbay.db");
        SqliteStore::open(&path).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&path), 0o600);
    }

    #[tokio::test]
    async fn data_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/patchbay.db");
        SqliteStore::open(&path)
            .unwrap()
            .set("c", "k", b"v", None, &KvLimits::default())
            .await
            .unwrap();
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.get("c", "k").await.unwrap().as_deref(), Some(&b"v"[..]));
    }
}
