//! [`VaultStore`]: the `vault_meta` table, and re-sealing in one transaction.

use patchbay_store::{Reseal, SealedSlot, StoreError, VaultMeta, VaultStore};
use rusqlite::{OptionalExtension, params};

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
            let count = rows.len();
            for (id, credentials, tokens) in rows {
                let credentials = again(SealedSlot::Credentials(&id), &credentials)?;
                let tokens = tokens.map(|t| again(SealedSlot::Tokens(&id), &t)).transpose()?;
                tx.execute(
                    "UPDATE connections SET credentials = ?2, tokens = ?3 WHERE id = ?1",
                    params![id, credentials, tokens],
                )
                .map_err(backend)?;
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
                let secret = again(SealedSlot::Pending(&state), &secret)?;
                tx.execute(
                    "UPDATE oauth_pending SET secret = ?2 WHERE state = ?1",
                    params![state, secret],
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
