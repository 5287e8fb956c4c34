//! The embedded SQLite store.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use super::{CircuitRecord, CircuitStore, KvLimits, KvStore, StoreError};

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
];

/// Host state in one SQLite file (or in memory).
#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

pub(super) fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl SqliteStore {
    /// Opens (creating when needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", parent.display())))?;
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
        })
    }

    /// Runs a blocking database operation off the async runtime.
    pub(super) async fn with_db<R: Send + 'static>(
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

#[async_trait::async_trait]
impl KvStore for SqliteStore {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (namespace, key) = (namespace.to_string(), key.to_string());
        self.with_db(move |db| {
            db.query_row(
                "SELECT value FROM kv WHERE namespace = ?1 AND key = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
                params![namespace, key, now()],
                |row| row.get(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
        limits: &KvLimits,
    ) -> Result<(), StoreError> {
        if key.is_empty() {
            return Err(StoreError::InvalidKey("keys cannot be empty".into()));
        }
        if key.len() > limits.max_key_bytes {
            return Err(StoreError::InvalidKey(format!(
                "a key of {} bytes is over the limit of {} bytes",
                key.len(),
                limits.max_key_bytes
            )));
        }
        if value.len() > limits.max_value_bytes {
            return Err(StoreError::Quota(format!(
                "a value of {} bytes is over the limit of {} bytes",
                value.len(),
                limits.max_value_bytes
            )));
        }
        let (namespace, key, value) = (namespace.to_string(), key.to_string(), value.to_vec());
        let max_keys = limits.max_keys;
        self.with_db(move |db| {
            let now = now();
            let tx = db.transaction().map_err(backend)?;
            tx.execute(
                "DELETE FROM kv WHERE namespace = ?1 AND expires_at IS NOT NULL AND expires_at <= ?2",
                params![namespace, now],
            )
            .map_err(backend)?;
            let exists: bool = tx
                .query_row(
                    "SELECT 1 FROM kv WHERE namespace = ?1 AND key = ?2",
                    params![namespace, key],
                    |_| Ok(true),
                )
                .optional()
                .map_err(backend)?
                .unwrap_or(false);
            if !exists {
                let count: u64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM kv WHERE namespace = ?1",
                        params![namespace],
                        |row| row.get(0),
                    )
                    .map_err(backend)?;
                if count >= max_keys {
                    return Err(StoreError::Quota(format!(
                        "the connection already stores {count} keys, the limit"
                    )));
                }
            }
            let expires_at = ttl_seconds.map(|ttl| now + i64::from(ttl));
            tx.execute(
                "INSERT INTO kv (namespace, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                params![namespace, key, value, expires_at],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, StoreError> {
        let (namespace, key) = (namespace.to_string(), key.to_string());
        self.with_db(move |db| {
            let live: bool = db
                .query_row(
                    "SELECT 1 FROM kv WHERE namespace = ?1 AND key = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
                    params![namespace, key, now()],
                    |_| Ok(true),
                )
                .optional()
                .map_err(backend)?
                .unwrap_or(false);
            db.execute(
                "DELETE FROM kv WHERE namespace = ?1 AND key = ?2",
                params![namespace, key],
            )
            .map_err(backend)?;
            Ok(live)
        })
        .await
    }

    async fn list_keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let (namespace, prefix) = (namespace.to_string(), prefix.to_string());
        self.with_db(move |db| {
            let mut statement = db
                .prepare(
                    "SELECT key FROM kv WHERE namespace = ?1 AND substr(key, 1, length(?2)) = ?2
                     AND (expires_at IS NULL OR expires_at > ?3) ORDER BY key",
                )
                .map_err(backend)?;
            let keys = statement
                .query_map(params![namespace, prefix, now()], |row| row.get(0))
                .map_err(backend)?
                .collect::<Result<Vec<String>, _>>()
                .map_err(backend)?;
            Ok(keys)
        })
        .await
    }
}

#[async_trait::async_trait]
impl CircuitStore for SqliteStore {
    async fn load_circuit(&self, connection: &str) -> Result<Option<CircuitRecord>, StoreError> {
        let connection = connection.to_string();
        let record = |row: &rusqlite::Row<'_>| {
            Ok(CircuitRecord {
                fingerprint: row.get(0)?,
                auth_failures: row.get(1)?,
                disabled: row.get(2)?,
            })
        };
        self.with_db(move |db| {
            // A stored connection keeps its breaker on its own row; others in `circuit`.
            for sql in [
                "SELECT circuit_fingerprint, auth_failures, circuit_disabled FROM connections
                 WHERE id = ?1 AND circuit_fingerprint IS NOT NULL",
                "SELECT fingerprint, auth_failures, disabled FROM circuit WHERE connection_id = ?1",
            ] {
                let found = db
                    .query_row(sql, params![connection], record)
                    .optional()
                    .map_err(backend)?;
                if found.is_some() {
                    return Ok(found);
                }
            }
            Ok(None)
        })
        .await
    }

    async fn save_circuit(&self, connection: &str, record: &CircuitRecord) -> Result<(), StoreError> {
        let (connection, record) = (connection.to_string(), record.clone());
        self.with_db(move |db| {
            // A stored connection keeps its breaker on its own row.
            let failure = (record.auth_failures > 0).then_some("the provider refused the credentials (HTTP 401/403)");
            let updated = db
                .execute(
                    "UPDATE connections SET circuit_fingerprint = ?2, auth_failures = ?3, circuit_disabled = ?4,
                         last_failure = coalesce(?5, last_failure),
                         last_failure_at = CASE WHEN ?5 IS NULL THEN last_failure_at ELSE ?6 END,
                         updated_at = ?6
                     WHERE id = ?1",
                    params![
                        connection,
                        record.fingerprint,
                        record.auth_failures,
                        record.disabled,
                        failure,
                        now()
                    ],
                )
                .map_err(backend)?;
            if updated > 0 {
                return Ok(());
            }
            db.execute(
                "INSERT INTO circuit (connection_id, fingerprint, auth_failures, disabled, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (connection_id) DO UPDATE SET fingerprint = excluded.fingerprint,
                     auth_failures = excluded.auth_failures, disabled = excluded.disabled, updated_at = excluded.updated_at",
                params![connection, record.fingerprint, record.auth_failures, record.disabled, now()],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn clear_circuit(&self, connection: &str) -> Result<(), StoreError> {
        let connection = connection.to_string();
        self.with_db(move |db| {
            db.execute(
                "UPDATE connections SET circuit_fingerprint = NULL, auth_failures = 0, circuit_disabled = 0
                 WHERE id = ?1",
                params![connection],
            )
            .map_err(backend)?;
            db.execute("DELETE FROM circuit WHERE connection_id = ?1", params![connection])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn namespaces_are_isolated_and_values_round_trip() {
        let store = SqliteStore::in_memory().unwrap();
        let limits = KvLimits::default();
        store.set("conn-a", "token", b"one", None, &limits).await.unwrap();
        store.set("conn-b", "token", b"two", None, &limits).await.unwrap();
        assert_eq!(
            store.get("conn-a", "token").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(
            store.get("conn-b", "token").await.unwrap().as_deref(),
            Some(&b"two"[..])
        );
        assert!(store.delete("conn-a", "token").await.unwrap());
        assert!(!store.delete("conn-a", "token").await.unwrap());
        assert_eq!(store.get("conn-a", "token").await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_values_are_gone() {
        let store = SqliteStore::in_memory().unwrap();
        store.set("c", "k", b"v", Some(0), &KvLimits::default()).await.unwrap();
        assert_eq!(store.get("c", "k").await.unwrap(), None);
        assert!(store.list_keys("c", "").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn quotas_are_enforced() {
        let store = SqliteStore::in_memory().unwrap();
        let limits = KvLimits {
            max_key_bytes: 8,
            max_value_bytes: 4,
            max_keys: 2,
        };
        assert!(matches!(
            store.set("c", "", b"v", None, &limits).await,
            Err(StoreError::InvalidKey(_))
        ));
        assert!(matches!(
            store.set("c", "123456789", b"v", None, &limits).await,
            Err(StoreError::InvalidKey(_))
        ));
        assert!(matches!(
            store.set("c", "k", b"12345", None, &limits).await,
            Err(StoreError::Quota(_))
        ));
        store.set("c", "a", b"1", None, &limits).await.unwrap();
        store.set("c", "b", b"1", None, &limits).await.unwrap();
        store.set("c", "a", b"2", None, &limits).await.unwrap(); // replacing is fine
        assert!(matches!(
            store.set("c", "c", b"1", None, &limits).await,
            Err(StoreError::Quota(_))
        ));
    }

    #[tokio::test]
    async fn keys_list_by_prefix_in_order() {
        let store = SqliteStore::in_memory().unwrap();
        let limits = KvLimits::default();
        for key in ["cursor:b", "cursor:a", "token", "cursor_%"] {
            store.set("c", key, b"x", None, &limits).await.unwrap();
        }
        assert_eq!(
            store.list_keys("c", "cursor:").await.unwrap(),
            vec!["cursor:a", "cursor:b"]
        );
        assert_eq!(store.list_keys("c", "cursor_").await.unwrap(), vec!["cursor_%"]);
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
