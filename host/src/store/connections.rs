//! Stored connections in the embedded SQLite store. Secrets arrive here
//! sealed by the vault ([`crate::vault`]); this module never sees plaintext.

use rusqlite::{OptionalExtension, Row, params};

use super::StoreError;
use super::sqlite::{SqliteStore, backend, now};
use crate::credentials::Settings;

/// Where a connection's sealed credentials live (the cipher's associated data).
pub(crate) fn credentials_context(id: &str) -> String {
    format!("connection:{id}:credentials")
}

/// Where a connection's sealed OAuth tokens live.
pub(crate) fn tokens_context(id: &str) -> String {
    format!("connection:{id}:tokens")
}

/// Where a pending authorization's sealed PKCE verifier lives.
pub(crate) fn pending_context(state: &str) -> String {
    format!("oauth-pending:{state}")
}

/// A connection row.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionRow {
    pub id: String,
    pub tenant: String,
    pub provider: String,
    pub display_name: String,
    pub settings: Settings,
    /// Sealed JSON object of credential fields.
    pub credentials: Vec<u8>,
    /// Sealed OAuth token set, when authorized.
    pub tokens: Option<Vec<u8>>,
    pub enabled: bool,
    pub connected: bool,
    pub auth_failures: u32,
    pub circuit_disabled: bool,
    pub last_failure: Option<String>,
    pub last_failure_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant, provider, display_name, settings, credentials, tokens, enabled, connected, \
                       auth_failures, circuit_disabled, last_failure, last_failure_at, created_at, updated_at";

fn read_row(row: &Row<'_>) -> rusqlite::Result<ConnectionRow> {
    let settings: String = row.get(4)?;
    Ok(ConnectionRow {
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

/// A pending authorization-code flow.
#[derive(Debug, Clone)]
pub(crate) struct PendingRow {
    pub connection_id: String,
    /// Sealed verifier and redirect URI.
    pub secret: Vec<u8>,
    pub expires_at: i64,
}

impl SqliteStore {
    pub(crate) async fn insert_connection(&self, row: ConnectionRow) -> Result<(), StoreError> {
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

    pub(crate) async fn connection_row(&self, tenant: &str, id: &str) -> Result<Option<ConnectionRow>, StoreError> {
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

    pub(crate) async fn connection_rows(&self, tenant: &str) -> Result<Vec<ConnectionRow>, StoreError> {
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

    /// Sets the operator's switch; whether the connection exists.
    pub(crate) async fn set_connection_enabled(
        &self,
        tenant: &str,
        id: &str,
        enabled: bool,
    ) -> Result<bool, StoreError> {
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

    /// Replaces the sealed credentials; the breaker starts over.
    pub(crate) async fn set_connection_credentials(
        &self,
        tenant: &str,
        id: &str,
        sealed: Vec<u8>,
    ) -> Result<bool, StoreError> {
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

    /// The sealed tokens of a connection, if it has any.
    pub(crate) async fn connection_tokens(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let id = id.to_string();
        self.with_db(move |db| {
            db.query_row("SELECT tokens FROM connections WHERE id = ?1", params![id], |row| {
                row.get::<_, Option<Vec<u8>>>(0)
            })
            .optional()
            .map(Option::flatten)
            .map_err(backend)
        })
        .await
    }

    /// Stores (or clears) the sealed tokens and the connected state; a
    /// failure message is recorded when given.
    pub(crate) async fn set_connection_tokens(
        &self,
        id: &str,
        sealed: Option<Vec<u8>>,
        connected: bool,
        failure: Option<String>,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        self.with_db(move |db| {
            db.execute(
                "UPDATE connections SET tokens = ?2, connected = ?3,
                     last_failure = coalesce(?4, last_failure),
                     last_failure_at = CASE WHEN ?4 IS NULL THEN last_failure_at ELSE ?5 END,
                     updated_at = ?5
                 WHERE id = ?1",
                params![id, sealed, connected, failure, now()],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    /// Removes a connection with everything kept for it; whether it existed.
    pub(crate) async fn delete_connection(
        &self,
        tenant: &str,
        id: &str,
        kv_namespace: &str,
    ) -> Result<bool, StoreError> {
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
            }
            tx.commit().map_err(backend)?;
            Ok(removed > 0)
        })
        .await
    }

    pub(crate) async fn insert_pending(&self, state: &str, pending: PendingRow) -> Result<(), StoreError> {
        let state = state.to_string();
        self.with_db(move |db| {
            db.execute("DELETE FROM oauth_pending WHERE expires_at <= ?1", params![now()])
                .map_err(backend)?;
            db.execute(
                "INSERT INTO oauth_pending (state, connection_id, secret, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![state, pending.connection_id, pending.secret, pending.expires_at],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    /// Takes a pending authorization (it can be used once).
    pub(crate) async fn take_pending(&self, state: &str) -> Result<Option<PendingRow>, StoreError> {
        let state = state.to_string();
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let row = tx
                .query_row(
                    "SELECT connection_id, secret, expires_at FROM oauth_pending WHERE state = ?1",
                    params![state],
                    |row| {
                        Ok(PendingRow {
                            connection_id: row.get(0)?,
                            secret: row.get(1)?,
                            expires_at: row.get(2)?,
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

    /// The fingerprint and sealed check value of the vault key, if recorded.
    pub(crate) async fn vault_meta(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.with_db(|db| {
            let fingerprint: Option<Vec<u8>> = db
                .query_row(
                    "SELECT value FROM vault_meta WHERE name = 'key_fingerprint'",
                    [],
                    |row| row.get(0),
                )
                .optional()
                .map_err(backend)?;
            let check: Option<Vec<u8>> = db
                .query_row("SELECT value FROM vault_meta WHERE name = 'key_check'", [], |row| {
                    row.get(0)
                })
                .optional()
                .map_err(backend)?;
            Ok(fingerprint
                .zip(check)
                .map(|(f, c)| (String::from_utf8_lossy(&f).into_owned(), c)))
        })
        .await
    }

    pub(crate) async fn set_vault_meta(&self, fingerprint: String, check: Vec<u8>) -> Result<(), StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            write_meta(&tx, &fingerprint, &check)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    /// Re-seals every secret in one transaction: `reseal(context, sealed)`
    /// returns the value sealed under the new key. Either every value and
    /// the key check change, or nothing does.
    pub(crate) async fn reseal_all(
        &self,
        mut reseal: impl FnMut(&str, &[u8]) -> Result<Vec<u8>, String> + Send + 'static,
        fingerprint: String,
        check: Vec<u8>,
    ) -> Result<usize, StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let mut count = 0;
            let rows: Vec<(String, Vec<u8>, Option<Vec<u8>>)> = {
                let mut statement = tx
                    .prepare("SELECT id, credentials, tokens FROM connections")
                    .map_err(backend)?;
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .map_err(backend)?
                    .collect::<Result<_, _>>()
                    .map_err(backend)?
            };
            let mut again = |context: String, sealed: &[u8]| {
                reseal(&context, sealed).map_err(|why| {
                    StoreError::Backend(format!("cannot re-encrypt {context}: {why}; nothing was changed"))
                })
            };
            for (id, credentials, tokens) in rows {
                let credentials = again(credentials_context(&id), &credentials)?;
                let tokens = tokens.map(|t| again(tokens_context(&id), &t)).transpose()?;
                tx.execute(
                    "UPDATE connections SET credentials = ?2, tokens = ?3 WHERE id = ?1",
                    params![id, credentials, tokens],
                )
                .map_err(backend)?;
                count += 1;
            }
            let pending: Vec<(String, Vec<u8>)> = {
                let mut statement = tx.prepare("SELECT state, secret FROM oauth_pending").map_err(backend)?;
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                    .map_err(backend)?
                    .collect::<Result<_, _>>()
                    .map_err(backend)?
            };
            for (state, secret) in pending {
                let secret = again(pending_context(&state), &secret)?;
                tx.execute(
                    "UPDATE oauth_pending SET secret = ?2 WHERE state = ?1",
                    params![state, secret],
                )
                .map_err(backend)?;
            }
            write_meta(&tx, &fingerprint, &check)?;
            tx.commit().map_err(backend)?;
            Ok(count)
        })
        .await
    }
}

fn write_meta(tx: &rusqlite::Transaction<'_>, fingerprint: &str, check: &[u8]) -> Result<(), StoreError> {
    for (name, value) in [("key_fingerprint", fingerprint.as_bytes()), ("key_check", check)] {
        tx.execute(
            "INSERT INTO vault_meta (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )
        .map_err(backend)?;
    }
    Ok(())
}
