//! [`KvStore`] in the `kv` table. A namespace's writes are serialized by a
//! transaction lock on the namespace, so that replicas writing at once
//! cannot both pass the quota check.

use patchbay_store::{KvLimits, KvStore, StoreError};

use crate::{PostgresStore, backend, get, now};

/// The advisory lock of a namespace's writes.
const LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended('kv:' || $1, 0))";

#[async_trait::async_trait]
impl KvStore for PostgresStore {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT value FROM kv WHERE namespace = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)",
                &[&namespace, &key, &now()],
            )
            .await
            .map_err(backend)?;
        row.map(|row| get(&row, 0)).transpose()
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
        let now = now();
        in_transaction!(self, |tx| async {
            tx.execute(LOCK, &[&namespace]).await.map_err(backend)?;
            tx.execute(
                "DELETE FROM kv WHERE namespace = $1 AND expires_at IS NOT NULL AND expires_at <= $2",
                &[&namespace, &now],
            )
            .await
            .map_err(backend)?;
            let row = tx
                .query_one(
                    "SELECT COALESCE(SUM(octet_length(value)) FILTER (WHERE key <> $2), 0)::BIGINT,
                            COUNT(*), COUNT(*) FILTER (WHERE key = $2)
                     FROM kv WHERE namespace = $1",
                    &[&namespace, &key],
                )
                .await
                .map_err(backend)?;
            let (others, count, exists): (i64, i64, i64) = (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
            limits.check_room(others.max(0) as u64, value.len())?;
            if exists == 0 && count.max(0) as u64 >= limits.max_keys {
                return Err(KvLimits::full(count.max(0) as u64));
            }
            let expires_at = ttl_seconds.map(|ttl| now + i64::from(ttl));
            tx.execute(
                "INSERT INTO kv (namespace, key, value, expires_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                &[&namespace, &key, &value, &expires_at],
            )
            .await
            .map_err(backend)?;
            Ok(())
        }
        .await)
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "DELETE FROM kv WHERE namespace = $1 AND key = $2 RETURNING (expires_at IS NULL OR expires_at > $3)",
                &[&namespace, &key, &now()],
            )
            .await
            .map_err(backend)?;
        row.map_or(Ok(false), |row| get(&row, 0))
    }

    async fn list_keys(&self, namespace: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT key FROM kv WHERE namespace = $1 AND starts_with(key, $2)
                 AND (expires_at IS NULL OR expires_at > $3) ORDER BY key",
                &[&namespace, &prefix, &now()],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(|row| get(row, 0)).collect()
    }
}
