//! [`KvStore`] in the `kv` table.

use patchbay_store::{KvLimits, KvStore, StoreError};
use rusqlite::{OptionalExtension, params};

use crate::{SqliteStore, backend, now};

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
        limits.check(key, value)?;
        let (namespace, key, value) = (namespace.to_string(), key.to_string(), value.to_vec());
        let limits = limits.clone();
        self.with_db(move |db| {
            let now = now();
            let tx = db.transaction().map_err(backend)?;
            tx.execute(
                "DELETE FROM kv WHERE namespace = ?1 AND expires_at IS NOT NULL AND expires_at <= ?2",
                params![namespace, now],
            )
            .map_err(backend)?;
            let others: i64 = tx
                .query_row(
                    "SELECT COALESCE(SUM(length(value)), 0) FROM kv WHERE namespace = ?1 AND key != ?2",
                    params![namespace, key],
                    |row| row.get(0),
                )
                .map_err(backend)?;
            limits.check_room(others.max(0) as u64, value.len())?;
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
                if count >= limits.max_keys {
                    return Err(KvLimits::full(count));
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
