//! [`ApiKeyStore`]: the `api_keys` table, hashes only.

use patchbay_store::{ApiKeyRecord, ApiKeyStore, StoreError};
use tokio_postgres::Row;

use crate::{PostgresStore, backend, get, is_conflict};

const COLUMNS: &str = "id, tenant, admin, hash, label, created_at";

fn read_row(row: &Row) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: get(row, 0)?,
        tenant: get(row, 1)?,
        admin: get(row, 2)?,
        hash: get(row, 3)?,
        label: get(row, 4)?,
        created_at: get(row, 5)?,
    })
}

#[async_trait::async_trait]
impl ApiKeyStore for PostgresStore {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                &format!("INSERT INTO api_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
                &[
                    &record.id,
                    &record.tenant,
                    &record.admin,
                    &record.hash,
                    &record.label,
                    &record.created_at,
                ],
            )
            .await
            .map(|_| ())
            .map_err(|e| {
                if is_conflict(&e) {
                    StoreError::Conflict(format!("an API key {:?} exists already", record.id))
                } else {
                    backend(e)
                }
            })
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"), &[&id])
            .await
            .map_err(backend)?
            .map(|row| read_row(&row))
            .transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let client = self.client().await?;
        client
            .query(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"), &[])
            .await
            .map_err(backend)?
            .iter()
            .map(read_row)
            .collect()
    }

    async fn delete_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM api_keys WHERE id = $1", &[&id])
            .await
            .map(|n| n > 0)
            .map_err(backend)
    }
}
