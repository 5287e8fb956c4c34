//! [`ApiKeyStore`]: the `api_keys` table, hashes only.

use patchbay_store::{ApiKeyRecord, ApiKeyStore, StoreError};
use rusqlite::{OptionalExtension, Row, params};

use crate::{SqliteStore, backend};

fn read_row(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        tenant: row.get(1)?,
        admin: row.get(2)?,
        hash: row.get(3)?,
        label: row.get(4)?,
        created_at: row.get(5)?,
    })
}

#[async_trait::async_trait]
impl ApiKeyStore for SqliteStore {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        self.with_db(move |db| {
            db.execute(
                "INSERT INTO api_keys (id, tenant, admin, hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    record.id,
                    record.tenant,
                    record.admin,
                    record.hash,
                    record.label,
                    record.created_at
                ],
            )
            .map(|_| ())
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict(format!("an API key {:?} exists already", record.id))
                }
                other => backend(other),
            })
        })
        .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let id = id.to_string();
        self.with_db(move |db| {
            db.query_row(
                "SELECT id, tenant, admin, hash, label, created_at FROM api_keys WHERE id = ?1",
                params![id],
                read_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.with_db(|db| {
            let mut statement = db
                .prepare("SELECT id, tenant, admin, hash, label, created_at FROM api_keys ORDER BY created_at, id")
                .map_err(backend)?;
            let rows = statement.query_map([], read_row).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn delete_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.with_db(move |db| {
            db.execute("DELETE FROM api_keys WHERE id = ?1", params![id])
                .map(|n| n > 0)
                .map_err(backend)
        })
        .await
    }
}
