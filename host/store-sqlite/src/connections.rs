//! [`ConnectionStore`] and [`AuthorizationStore`]: the `connections` and
//! `oauth_pending` tables. Secrets arrive sealed; nothing here sees one.

use patchbay_store::{
    AuthorizationStore, ConnectionRecord, ConnectionStore, PendingAuthorization, StoreError, TokenLease,
};
use rusqlite::{OptionalExtension, Row, params};

use crate::{SqliteStore, backend, now};

pub(crate) const COLUMNS: &str = "id, tenant, provider, display_name, settings, credentials, tokens, enabled, connected, \
                       auth_failures, circuit_disabled, last_failure, last_failure_at, created_at, updated_at";

pub(crate) fn read_row(row: &Row<'_>) -> rusqlite::Result<ConnectionRecord> {
    let settings: String = row.get(4)?;
    Ok(ConnectionRecord {
        id: row.get(0)?,
        tenant: row.get(1)?,
        provider: row.get(2)?,
        display_name: row.get(3)?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e)))?,
        credentials: row.get(5)?,
        tokens: row.get(6)?,
        enabled: row.get(7)?,
        connected: row.get(8)?,
        auth_failures: row.get(9)?,
        circuit_disabled: row.get(10)?,
        last_failure: row.get(11)?,
        last_failure_at: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
    })
}

#[async_trait::async_trait]
impl ConnectionStore for SqliteStore {
    async fn insert_connection(&self, row: ConnectionRecord) -> Result<(), StoreError> {
        self.with_db(move |db| {
            let settings = serde_json::to_string(&row.settings).map_err(backend)?;
            let inserted = db
                .execute(
                    "INSERT INTO connections (id, tenant, provider, display_name, settings, credentials, tokens,
                         enabled, connected, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
                     ON CONFLICT (id) DO NOTHING",
                    params![
                        row.id,
                        row.tenant,
                        row.provider,
                        row.display_name,
                        settings,
                        row.credentials,
                        row.tokens,
                        row.enabled,
                        row.connected,
                        now()
                    ],
                )
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "a connection with the id {:?} exists",
                    row.id
                )));
            }
            Ok(())
        })
        .await
    }

    async fn connection(&self, tenant: &str, id: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.with_db(move |db| {
            db.query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE tenant = ?1 AND id = ?2"),
                params![tenant, id],
                read_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn connections(&self, tenant: &str) -> Result<Vec<ConnectionRecord>, StoreError> {
        let tenant = tenant.to_string();
        self.with_db(move |db| {
            let mut statement = db
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM connections WHERE tenant = ?1 ORDER BY created_at, id"
                ))
                .map_err(backend)?;
            let rows = statement
                .query_map(params![tenant], read_row)
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            Ok(rows)
        })
        .await
    }

    async fn set_enabled(&self, tenant: &str, id: &str, enabled: bool) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.with_db(move |db| {
            let sql = if enabled {
                // Turning a connection back on also forgets the breaker's verdict.
                "UPDATE connections SET enabled = 1, circuit_disabled = 0, auth_failures = 0, updated_at = ?3
                 WHERE tenant = ?1 AND id = ?2"
            } else {
                "UPDATE connections SET enabled = 0, updated_at = ?3 WHERE tenant = ?1 AND id = ?2"
            };
            Ok(db.execute(sql, params![tenant, id, now()]).map_err(backend)? > 0)
        })
        .await
    }

    async fn set_credentials(&self, tenant: &str, id: &str, sealed: Vec<u8>) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.with_db(move |db| {
            let changed = db
                .execute(
                    "UPDATE connections SET credentials = ?3, circuit_fingerprint = NULL, auth_failures = 0,
                         circuit_disabled = 0, updated_at = ?4
                     WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id, sealed, now()],
                )
                .map_err(backend)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn set_settings(
        &self,
        tenant: &str,
        id: &str,
        settings: std::collections::BTreeMap<String, String>,
        sealed: Vec<u8>,
        connected: bool,
    ) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        let settings = serde_json::to_string(&settings).map_err(backend)?;
        self.with_db(move |db| {
            let changed = db
                .execute(
                    "UPDATE connections SET settings = ?3, credentials = ?4, tokens = NULL, connected = ?5,
                         circuit_fingerprint = NULL, auth_failures = 0, circuit_disabled = 0, updated_at = ?6
                     WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id, settings, sealed, connected, now()],
                )
                .map_err(backend)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn tokens(&self, tenant: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.with_db(move |db| {
            db.query_row(
                "SELECT tokens FROM connections WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
                |row| row.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(backend)
        })
        .await
    }

    /// Stores (or clears) the sealed tokens and the connected state; a
    async fn set_tokens(
        &self,
        tenant: &str,
        id: &str,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.with_db(move |db| {
            db.execute(
                "UPDATE connections SET tokens = ?2, connected = ?3,
                     last_failure = coalesce(?4, last_failure),
                     last_failure_at = CASE WHEN ?4 IS NULL THEN last_failure_at ELSE ?5 END,
                     updated_at = ?5
                 WHERE id = ?1 AND tenant = ?6",
                params![id, sealed, connected, failure, now(), tenant],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    /// Leases are held in this process: a SQLite file serves one replica.
    async fn lease_tokens(&self, tenant: &str, id: &str) -> Result<Option<Box<dyn TokenLease>>, StoreError> {
        self.leases.lease(self, tenant, id).await
    }

    async fn delete_connection(&self, tenant: &str, id: &str, kv_namespace: &str) -> Result<bool, StoreError> {
        let (tenant, id, namespace) = (tenant.to_string(), id.to_string(), kv_namespace.to_string());
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let removed = tx
                .execute(
                    "DELETE FROM connections WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                )
                .map_err(backend)?;
            if removed > 0 {
                tx.execute("DELETE FROM kv WHERE namespace = ?1", params![namespace])
                    .map_err(backend)?;
                tx.execute("DELETE FROM circuit WHERE connection_id = ?1", params![id])
                    .map_err(backend)?;
                tx.execute(
                    "DELETE FROM webhook_ingress WHERE tenant = ?1 AND connection_id = ?2",
                    params![tenant, id],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(removed > 0)
        })
        .await
    }
}

#[async_trait::async_trait]
impl AuthorizationStore for SqliteStore {
    async fn insert_pending(&self, state: &str, pending: PendingAuthorization) -> Result<(), StoreError> {
        let state = state.to_string();
        self.with_db(move |db| {
            db.execute("DELETE FROM oauth_pending WHERE expires_at <= ?1", params![now()])
                .map_err(backend)?;
            db.execute(
                "INSERT INTO oauth_pending (state, tenant, connection_id, secret, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![state, pending.tenant, pending.connection_id, pending.secret, pending.expires_at],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn take_pending(&self, state: &str) -> Result<Option<PendingAuthorization>, StoreError> {
        let state = state.to_string();
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let row = tx
                .query_row(
                    "SELECT tenant, connection_id, secret, expires_at FROM oauth_pending WHERE state = ?1",
                    params![state],
                    |row| {
                        Ok(PendingAuthorization {
                            tenant: row.get(0)?,
                            connection_id: row.get(1)?,
                            secret: row.get(2)?,
                            expires_at: row.get(3)?,
                        })
                    },
                )
                .optional()
                .map_err(backend)?;
            tx.execute("DELETE FROM oauth_pending WHERE state = ?1", params![state])
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(row)
        })
        .await
    }
}
