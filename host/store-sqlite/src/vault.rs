//! [`VaultStore`]: the `vault_meta` table, and re-sealing in one transaction.

use patchbay_store::{ConnectionRecord, Reseal, SealedSlot, StoreError, VaultMeta, VaultStore};
use rusqlite::{OptionalExtension, params};

use crate::connections::{COLUMNS, read_row};
use crate::{SqliteStore, backend};

fn meta_value(db: &rusqlite::Connection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    db.query_row("SELECT value FROM vault_meta WHERE name = ?1", params![name], |row| {
        row.get(0)
    })
    .optional()
    .map_err(backend)
}

fn write_meta(tx: &rusqlite::Transaction<'_>, meta: &VaultMeta) -> Result<(), StoreError> {
    for (name, value) in [
        ("key_fingerprint", meta.fingerprint.as_bytes()),
        ("key_check", &meta.check[..]),
    ] {
        tx.execute(
            "INSERT INTO vault_meta (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )
        .map_err(backend)?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl VaultStore for SqliteStore {
    async fn vault_meta(&self) -> Result<Option<VaultMeta>, StoreError> {
        self.with_db(|db| {
            let fingerprint = meta_value(db, "key_fingerprint")?;
            let check = meta_value(db, "key_check")?;
            Ok(fingerprint.zip(check).map(|(f, check)| VaultMeta {
                fingerprint: String::from_utf8_lossy(&f).into_owned(),
                check,
            }))
        })
        .await
    }

    async fn set_vault_meta(&self, meta: VaultMeta) -> Result<(), StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            write_meta(&tx, &meta)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn reseal_all(&self, mut reseal: Reseal, meta: VaultMeta) -> Result<usize, StoreError> {
        self.with_db(move |db| {
            let tx = db.transaction().map_err(backend)?;
            let mut again = |slot: SealedSlot<'_>, sealed: &[u8]| {
                reseal(slot, sealed).map_err(|why| {
                    StoreError::Backend(format!("cannot re-encrypt {slot:?}: {why}; nothing was changed"))
                })
            };
            let rows: Vec<ConnectionRecord> = {
                let mut statement = tx
                    .prepare(&format!("SELECT {COLUMNS} FROM connections"))
                    .map_err(backend)?;
                statement
                    .query_map([], read_row)
                    .map_err(backend)?
                    .collect::<Result<_, _>>()
                    .map_err(backend)?
            };
            let count = rows.len();
            for row in rows {
                let credentials = again(SealedSlot::Credentials(&row), &row.credentials)?;
                let tokens = row
                    .tokens
                    .as_ref()
                    .map(|t| again(SealedSlot::Tokens(&row), t))
                    .transpose()?;
                tx.execute(
                    "UPDATE connections SET credentials = ?2, tokens = ?3 WHERE id = ?1",
                    params![row.id, credentials, tokens],
                )
                .map_err(backend)?;
            }
            let pending: Vec<(String, String, Vec<u8>)> = {
                let mut statement = tx
                    .prepare("SELECT state, connection_id, secret FROM oauth_pending")
                    .map_err(backend)?;
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .map_err(backend)?
                    .collect::<Result<_, _>>()
                    .map_err(backend)?
            };
            for (state, connection, secret) in pending {
                let slot = SealedSlot::Pending {
                    state: &state,
                    connection: &connection,
                };
                let secret = again(slot, &secret)?;
                tx.execute(
                    "UPDATE oauth_pending SET secret = ?2 WHERE state = ?1",
                    params![state, secret],
                )
                .map_err(backend)?;
            }
            let ingress: Vec<(Vec<u8>, Vec<u8>, String, String)> = tx
                .prepare("SELECT token_hash, sealed_token, tenant, connection_id FROM webhook_ingress")
                .and_then(|mut s| {
                    s.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?
                        .collect()
                })
                .map_err(backend)?;
            for (hash, sealed, tenant, connection) in ingress {
                let slot = SealedSlot::IngressToken {
                    tenant: &tenant,
                    connection: &connection,
                };
                tx.execute(
                    "UPDATE webhook_ingress SET sealed_token = ?2 WHERE token_hash = ?1",
                    params![hash, again(slot, &sealed)?],
                )
                .map_err(backend)?;
            }
            let endpoints: Vec<(String, String, Vec<u8>)> = tx
                .prepare("SELECT id, tenant, sealed_secret FROM webhook_endpoints")
                .and_then(|mut s| {
                    s.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                        .collect()
                })
                .map_err(backend)?;
            for (id, tenant, sealed) in endpoints {
                let slot = SealedSlot::EndpointSecret {
                    tenant: &tenant,
                    endpoint: &id,
                };
                tx.execute(
                    "UPDATE webhook_endpoints SET sealed_secret = ?2 WHERE id = ?1",
                    params![id, again(slot, &sealed)?],
                )
                .map_err(backend)?;
            }
            write_meta(&tx, &meta)?;
            tx.commit().map_err(backend)?;
            Ok(count)
        })
        .await
    }
}
