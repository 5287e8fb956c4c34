//! [`VaultStore`]: the `vault_meta` table, and re-sealing in one
//! transaction (its rows locked, so no replica writes a value under the
//! old key meanwhile).

use patchbay_store::{ConnectionRecord, Reseal, SealedSlot, StoreError, VaultMeta, VaultStore};

use crate::connections::{COLUMNS, read_row};
use crate::{PostgresStore, backend, get};

async fn write_meta(tx: &deadpool_postgres::Transaction<'_>, meta: &VaultMeta) -> Result<(), StoreError> {
    for (name, value) in [
        ("key_fingerprint", meta.fingerprint.as_bytes()),
        ("key_check", &meta.check[..]),
    ] {
        tx.execute(
            "INSERT INTO vault_meta (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[&name, &value],
        )
        .await
        .map_err(backend)?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl VaultStore for PostgresStore {
    async fn vault_meta(&self) -> Result<Option<VaultMeta>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT name, value FROM vault_meta WHERE name IN ('key_fingerprint', 'key_check')",
                &[],
            )
            .await
            .map_err(backend)?;
        let (mut fingerprint, mut check) = (None, None);
        for row in &rows {
            let (name, value): (String, Vec<u8>) = (get(row, 0)?, get(row, 1)?);
            match name.as_str() {
                "key_fingerprint" => fingerprint = Some(String::from_utf8_lossy(&value).into_owned()),
                _ => check = Some(value),
            }
        }
        Ok(fingerprint
            .zip(check)
            .map(|(fingerprint, check)| VaultMeta { fingerprint, check }))
    }

    async fn set_vault_meta(&self, meta: VaultMeta) -> Result<(), StoreError> {
        in_transaction!(self, |tx| write_meta(&tx, &meta).await)
    }

    async fn reseal_all(&self, mut reseal: Reseal, meta: VaultMeta) -> Result<usize, StoreError> {
        in_transaction!(self, |tx| async {
            let mut again = |slot: SealedSlot<'_>, sealed: &[u8]| {
                reseal(slot, sealed).map_err(|why| {
                    StoreError::Backend(format!("cannot re-encrypt {slot:?}: {why}; nothing was changed"))
                })
            };
            let rows: Vec<ConnectionRecord> = tx
                .query(&format!("SELECT {COLUMNS} FROM connections FOR UPDATE"), &[])
                .await
                .map_err(backend)?
                .iter()
                .map(read_row)
                .collect::<Result<_, _>>()?;
            let count = rows.len();
            for row in rows {
                let credentials = again(SealedSlot::Credentials(&row), &row.credentials)?;
                let tokens = row
                    .tokens
                    .as_ref()
                    .map(|t| again(SealedSlot::Tokens(&row), t))
                    .transpose()?;
                tx.execute(
                    "UPDATE connections SET credentials = $2, tokens = $3 WHERE id = $1",
                    &[&row.id, &credentials, &tokens],
                )
                .await
                .map_err(backend)?;
            }
            for row in tx
                .query("SELECT state, connection_id, secret FROM oauth_pending FOR UPDATE", &[])
                .await
                .map_err(backend)?
            {
                let (state, connection, secret): (String, String, Vec<u8>) =
                    (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
                let slot = SealedSlot::Pending {
                    state: &state,
                    connection: &connection,
                };
                let secret = again(slot, &secret)?;
                tx.execute(
                    "UPDATE oauth_pending SET secret = $2 WHERE state = $1",
                    &[&state, &secret],
                )
                .await
                .map_err(backend)?;
            }
            for row in tx
                .query(
                    "SELECT token_hash, sealed_token, tenant, connection_id FROM webhook_ingress FOR UPDATE",
                    &[],
                )
                .await
                .map_err(backend)?
            {
                let (hash, sealed, tenant, connection): (Vec<u8>, Vec<u8>, String, String) =
                    (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?, get(&row, 3)?);
                let slot = SealedSlot::IngressToken {
                    tenant: &tenant,
                    connection: &connection,
                };
                tx.execute(
                    "UPDATE webhook_ingress SET sealed_token = $2 WHERE token_hash = $1",
                    &[&hash, &again(slot, &sealed)?],
                )
                .await
                .map_err(backend)?;
            }
            for row in tx
                .query(
                    "SELECT id, tenant, sealed_secret FROM webhook_endpoints FOR UPDATE",
                    &[],
                )
                .await
                .map_err(backend)?
            {
                let (id, tenant, sealed): (String, String, Vec<u8>) = (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
                let slot = SealedSlot::EndpointSecret {
                    tenant: &tenant,
                    endpoint: &id,
                };
                tx.execute(
                    "UPDATE webhook_endpoints SET sealed_secret = $2 WHERE id = $1",
                    &[&id, &again(slot, &sealed)?],
                )
                .await
                .map_err(backend)?;
            }
            write_meta(&tx, &meta).await?;
            Ok(count)
        }
        .await)
    }
}
