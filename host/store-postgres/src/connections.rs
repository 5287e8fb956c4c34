//! [`ConnectionStore`] and [`AuthorizationStore`]: the `connections` and
//! `oauth_pending` tables. Secrets arrive sealed; nothing here sees one.
//! A token lease is a transaction holding the connection's row lock.

use std::collections::BTreeMap;

use deadpool_postgres::Object;
use patchbay_store::{
    AuthorizationStore, ConnectionRecord, ConnectionStore, PendingAuthorization, StoreError, TokenLease,
};
use tokio_postgres::Row;

use crate::{PostgresStore, backend, get, now};

pub(crate) const COLUMNS: &str = "id, tenant, provider, display_name, settings, credentials, tokens, enabled, connected, \
                       auth_failures, circuit_disabled, last_failure, last_failure_at, created_at, updated_at";

pub(crate) fn read_row(row: &Row) -> Result<ConnectionRecord, StoreError> {
    let settings: String = get(row, 4)?;
    Ok(ConnectionRecord {
        id: get(row, 0)?,
        tenant: get(row, 1)?,
        provider: get(row, 2)?,
        display_name: get(row, 3)?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Backend(format!("a connection's stored settings are unreadable: {e}")))?,
        credentials: get(row, 5)?,
        tokens: get(row, 6)?,
        enabled: get(row, 7)?,
        connected: get(row, 8)?,
        auth_failures: get::<i64>(row, 9)?.clamp(0, i64::from(u32::MAX)) as u32,
        circuit_disabled: get(row, 10)?,
        last_failure: get(row, 11)?,
        last_failure_at: get(row, 12)?,
        created_at: get(row, 13)?,
        updated_at: get(row, 14)?,
    })
}

/// How to store tokens: the statement of [`ConnectionStore::set_tokens`].
const SET_TOKENS: &str = "UPDATE connections SET tokens = $3, connected = $4,
         last_failure = coalesce($5, last_failure),
         last_failure_at = CASE WHEN $5::TEXT IS NULL THEN last_failure_at ELSE $6 END,
         updated_at = $6
     WHERE tenant = $1 AND id = $2";

#[async_trait::async_trait]
impl ConnectionStore for PostgresStore {
    async fn insert_connection(&self, row: ConnectionRecord) -> Result<(), StoreError> {
        let settings = serde_json::to_string(&row.settings).map_err(|e| backend(e.to_string()))?;
        let client = self.client().await?;
        let inserted = client
            .execute(
                "INSERT INTO connections (id, tenant, provider, display_name, settings, credentials, tokens,
                     enabled, connected, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &row.id,
                    &row.tenant,
                    &row.provider,
                    &row.display_name,
                    &settings,
                    &row.credentials,
                    &row.tokens,
                    &row.enabled,
                    &row.connected,
                    &now(),
                ],
            )
            .await
            .map_err(backend)?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "a connection with the id {:?} exists",
                row.id
            )));
        }
        Ok(())
    }

    async fn connection(&self, tenant: &str, id: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM connections WHERE tenant = $1 AND id = $2"),
                &[&tenant, &id],
            )
            .await
            .map_err(backend)?
            .map(|row| read_row(&row))
            .transpose()
    }

    async fn connections(&self, tenant: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        let client = self.client().await?;
        client
            .query(
                &format!("SELECT {COLUMNS} FROM connections WHERE tenant = $1 ORDER BY created_at, id"),
                &[&tenant],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(read_row)
            .collect()
    }

    async fn set_enabled(&self, tenant: &str, id: &str, enabled: bool) -> Result<bool, StoreError> {
        let sql = if enabled {
            // Turning a connection back on also forgets the breaker's verdict.
            "UPDATE connections SET enabled = TRUE, circuit_disabled = FALSE, auth_failures = 0, updated_at = $3
             WHERE tenant = $1 AND id = $2"
        } else {
            "UPDATE connections SET enabled = FALSE, updated_at = $3 WHERE tenant = $1 AND id = $2"
        };
        let client = self.client().await?;
        Ok(client.execute(sql, &[&tenant, &id, &now()]).await.map_err(backend)? > 0)
    }

    async fn set_credentials(&self, tenant: &str, id: &str, sealed: Vec<u8>) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE connections SET credentials = $3, circuit_fingerprint = NULL, auth_failures = 0,
                     circuit_disabled = FALSE, updated_at = $4
                 WHERE tenant = $1 AND id = $2",
                &[&tenant, &id, &sealed, &now()],
            )
            .await
            .map_err(backend)?;
        Ok(changed > 0)
    }

    async fn set_settings(
        &self,
        tenant: &str,
        id: &str,
        settings: BTreeMap<String, String>,
        sealed: Vec<u8>,
        connected: bool,
    ) -> Result<bool, StoreError> {
        let settings = serde_json::to_string(&settings).map_err(|e| backend(e.to_string()))?;
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE connections SET settings = $3, credentials = $4, tokens = NULL, connected = $5,
                     circuit_fingerprint = NULL, auth_failures = 0, circuit_disabled = FALSE, updated_at = $6
                 WHERE tenant = $1 AND id = $2",
                &[&tenant, &id, &settings, &sealed, &connected, &now()],
            )
            .await
            .map_err(backend)?;
        Ok(changed > 0)
    }

    async fn tokens(&self, tenant: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT tokens FROM connections WHERE tenant = $1 AND id = $2",
                &[&tenant, &id],
            )
            .await
            .map_err(backend)?;
        Ok(row.map(|row| get::<Option<Vec<u8>>>(&row, 0)).transpose()?.flatten())
    }

    async fn set_tokens(
        &self,
        tenant: &str,
        id: &str,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(SET_TOKENS, &[&tenant, &id, &sealed, &connected, &failure, &now()])
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn lease_tokens(&self, tenant: &str, id: &str) -> Result<Option<Box<dyn TokenLease>>, StoreError> {
        // The lease owns the connection from here: if this future is
        // dropped while waiting for the lock, the lease's drop rolls back.
        let mut lease = RowLease {
            client: Some(self.client().await?),
            tenant: tenant.to_string(),
            id: id.to_string(),
            tokens: None,
        };
        let client = lease.client.as_ref().expect("just set");
        // A holder that hangs (a token endpoint that never answers) cannot
        // block the connection's refreshes forever.
        client
            .batch_execute("BEGIN; SET LOCAL lock_timeout = '60s'")
            .await
            .map_err(backend)?;
        let row = client
            .query_opt(
                "SELECT tokens FROM connections WHERE tenant = $1 AND id = $2 FOR UPDATE",
                &[&tenant, &id],
            )
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        lease.tokens = get(&row, 0)?;
        Ok(Some(Box::new(lease)))
    }

    async fn delete_connection(&self, tenant: &str, id: &str, kv_namespace: &str) -> Result<bool, StoreError> {
        in_transaction!(self, |tx| async {
            let removed = tx
                .execute("DELETE FROM connections WHERE tenant = $1 AND id = $2", &[&tenant, &id])
                .await
                .map_err(backend)?;
            if removed > 0 {
                tx.execute("DELETE FROM kv WHERE namespace = $1", &[&kv_namespace])
                    .await
                    .map_err(backend)?;
                tx.execute("DELETE FROM circuit WHERE connection_id = $1", &[&id])
                    .await
                    .map_err(backend)?;
                tx.execute(
                    "DELETE FROM webhook_ingress WHERE tenant = $1 AND connection_id = $2",
                    &[&tenant, &id],
                )
                .await
                .map_err(backend)?;
            }
            Ok(removed > 0)
        }
        .await)
    }
}

/// A connection's row, locked by an open transaction on a pooled
/// connection until the lease stores or is dropped.
struct RowLease {
    client: Option<Object>,
    tenant: String,
    id: String,
    tokens: Option<Vec<u8>>,
}

impl Drop for RowLease {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        // Roll back before the connection goes back to the pool; without a
        // runtime to do it on, close the connection (the server rolls back).
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        drop(Object::take(client));
                    }
                });
            }
            Err(_) => drop(Object::take(client)),
        }
    }
}

#[async_trait::async_trait]
impl TokenLease for RowLease {
    fn tokens(&self) -> Option<&[u8]> {
        self.tokens.as_deref()
    }

    async fn store(
        mut self: Box<Self>,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError> {
        let client = self.client.as_ref().expect("held until stored or dropped");
        client
            .execute(
                SET_TOKENS,
                &[&self.tenant, &self.id, &sealed, &connected, &failure, &now()],
            )
            .await
            .map_err(backend)?;
        client.batch_execute("COMMIT").await.map_err(backend)?;
        // Committed: the connection goes back to the pool as it is.
        drop(self.client.take());
        Ok(())
    }
}

#[async_trait::async_trait]
impl AuthorizationStore for PostgresStore {
    async fn insert_pending(&self, state: &str, pending: PendingAuthorization) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM oauth_pending WHERE expires_at <= $1", &[&now()])
            .await
            .map_err(backend)?;
        client
            .execute(
                "INSERT INTO oauth_pending (state, tenant, connection_id, secret, expires_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &state,
                    &pending.tenant,
                    &pending.connection_id,
                    &pending.secret,
                    &pending.expires_at,
                ],
            )
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn take_pending(&self, state: &str) -> Result<Option<PendingAuthorization>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "DELETE FROM oauth_pending WHERE state = $1 RETURNING tenant, connection_id, secret, expires_at",
                &[&state],
            )
            .await
            .map_err(backend)?;
        row.map(|row| {
            Ok(PendingAuthorization {
                tenant: get(&row, 0)?,
                connection_id: get(&row, 1)?,
                secret: get(&row, 2)?,
                expires_at: get(&row, 3)?,
            })
        })
        .transpose()
    }
}
