//! The host's vault: the key that seals stored secrets, checked against
//! the database it is used with, and rotated in one transaction.

use std::sync::RwLock;

use patchbay_secrets::{SealContext, VaultError, VaultKey};
use patchbay_store::{ConnectionRecord, SealedSlot, StoreError, VaultMeta, VaultStore};

/// Why the vault key cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyCheckError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `key` against the database's key check, recording one when the
/// database has none yet.
pub(crate) async fn verify_key(store: &dyn VaultStore, key: &VaultKey) -> Result<(), KeyCheckError> {
    match store.vault_meta().await? {
        Some(meta) if key.opens_key_check(&meta.check) => Ok(()),
        Some(meta) => Err(VaultError::WrongKey {
            expected: meta.fingerprint,
            given: key.fingerprint(),
        }
        .into()),
        None => {
            store
                .set_vault_meta(VaultMeta {
                    fingerprint: key.fingerprint(),
                    check: key.key_check(),
                })
                .await?;
            Ok(())
        }
    }
}

/// Where a sealed value lives, as the cipher binds it: its row, and the
/// row's tenant, provider and settings.
pub(crate) fn context(slot: SealedSlot<'_>) -> SealContext {
    match slot {
        SealedSlot::Credentials(row) => credentials_context(row),
        SealedSlot::Tokens(row) => tokens_context(row),
        SealedSlot::Pending { state, connection } => SealContext::Pending {
            state: state.into(),
            connection: Some(connection.into()),
        },
        SealedSlot::IngressToken { tenant, connection } => SealContext::IngressToken {
            tenant: tenant.into(),
            connection: connection.into(),
        },
        SealedSlot::EndpointSecret { tenant, endpoint } => SealContext::EndpointSecret {
            tenant: tenant.into(),
            endpoint: endpoint.into(),
        },
    }
}

/// The binding of a connection's sealed values.
fn binding(row: &ConnectionRecord) -> Option<String> {
    Some(SealContext::binding(&row.tenant, &row.provider, &row.settings))
}

/// Where a connection's credentials are sealed.
pub(crate) fn credentials_context(row: &ConnectionRecord) -> SealContext {
    SealContext::Credentials {
        connection: row.id.clone(),
        binding: binding(row),
    }
}

/// Where a connection's tokens are sealed.
pub(crate) fn tokens_context(row: &ConnectionRecord) -> SealContext {
    SealContext::Tokens {
        connection: row.id.clone(),
        binding: binding(row),
    }
}

/// The key in force (none for a database file opened without one).
#[derive(Debug, Default)]
pub(crate) struct KeyHolder(RwLock<Option<VaultKey>>);

impl KeyHolder {
    pub(crate) fn new(key: Option<VaultKey>) -> Self {
        Self(RwLock::new(key))
    }

    /// The key, or [`VaultError::NoKey`].
    pub(crate) fn get(&self) -> Result<VaultKey, VaultError> {
        self.0.read().expect("vault key lock").clone().ok_or(VaultError::NoKey)
    }

    /// Re-seals every stored secret under `new_key` and makes it the key.
    /// Returns how many connections were re-sealed.
    pub(crate) async fn rotate(&self, store: &dyn VaultStore, new_key: VaultKey) -> Result<usize, KeyCheckError> {
        let old = self.get()?;
        verify_key(store, &old).await?;
        let fresh = new_key.clone();
        let meta = VaultMeta {
            fingerprint: new_key.fingerprint(),
            check: new_key.key_check(),
        };
        let count = store
            .reseal_all(
                Box::new(move |slot, sealed| {
                    let context = context(slot);
                    let plain = old.open(sealed, &context).map_err(|e| e.to_string())?;
                    Ok(fresh.seal(&plain, &context))
                }),
                meta,
            )
            .await?;
        *self.0.write().expect("vault key lock") = Some(new_key);
        Ok(count)
    }
}
