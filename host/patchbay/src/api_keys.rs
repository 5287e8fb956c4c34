//! The API keys of a Patchbay service: a key decides its tenant, and the
//! host keeps only a hash of it.
//!
//! A key reads `pbk_<id>_<secret>`: the id (16 hex digits) finds the record,
//! the secret (64 hex digits, 256 random bits) is checked against the
//! SHA-256 kept there, in constant time. The key itself is shown once, at
//! creation, and never stored.

use std::sync::Arc;

use patchbay_store::{ApiKeyRecord, ApiKeyStore, StoreError, unix_now};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "pbk_";

/// A key just created: `key` is shown once and never again.
#[derive(Clone)]
pub struct NewApiKey {
    /// The whole key, to give to the tenant.
    pub key: String,
    /// What is kept of it.
    pub info: ApiKeyInfo,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A key as the host knows it, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiKeyInfo {
    /// The public part of the key.
    pub id: String,
    /// The tenant it acts for.
    pub tenant: String,
    /// Whether it may use the operator's endpoints.
    pub admin: bool,
    /// What the operator called it.
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<ApiKeyRecord> for ApiKeyInfo {
    fn from(r: ApiKeyRecord) -> Self {
        Self {
            id: r.id,
            tenant: r.tenant,
            admin: r.admin,
            label: r.label,
            created_at: r.created_at,
        }
    }
}

/// The host's API keys (see the module).
#[derive(Clone)]
pub struct ApiKeys {
    store: Arc<dyn ApiKeyStore>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys").finish_non_exhaustive()
    }
}

/// A tenant name: 1-64 of a-z, A-Z, 0-9, `-`, `_`, `.`.
pub fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 64
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl ApiKeys {
    pub(crate) fn new(store: Arc<dyn ApiKeyStore>) -> Self {
        Self { store }
    }

    /// Creates a key for `tenant` (an operator's key when `admin`).
    pub async fn create(&self, tenant: &str, admin: bool, label: &str) -> Result<NewApiKey, StoreError> {
        if !valid_tenant(tenant) {
            return Err(StoreError::InvalidKey(format!(
                "the tenant {tenant:?} must be 1-64 characters of a-z, A-Z, 0-9, '-', '_' or '.'"
            )));
        }
        let id = hex::encode(rand::random::<[u8; 8]>());
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let record = ApiKeyRecord {
            id: id.clone(),
            tenant: tenant.to_string(),
            admin,
            hash: hash(&secret),
            label: label.to_string(),
            created_at: unix_now(),
        };
        self.store.insert_api_key(record.clone()).await?;
        Ok(NewApiKey {
            key: format!("{PREFIX}{id}_{secret}"),
            info: record.into(),
        })
    }

    /// The key's record when `presented` is a valid, unrevoked key.
    pub async fn verify(&self, presented: &str) -> Result<Option<ApiKeyInfo>, StoreError> {
        let Some((id, secret)) = presented.strip_prefix(PREFIX).and_then(|rest| rest.split_once('_')) else {
            return Ok(None);
        };
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(record) = self.store.api_key(id).await? else {
            return Ok(None);
        };
        let matches: bool = hash(secret).ct_eq(&record.hash).into();
        Ok(matches.then(|| record.into()))
    }

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<ApiKeyInfo>, StoreError> {
        Ok(self.store.api_keys().await?.into_iter().map(Into::into).collect())
    }

    /// Revokes a key by id; whether it existed.
    pub async fn revoke(&self, id: &str) -> Result<bool, StoreError> {
        self.store.delete_api_key(id).await
    }
}

#[cfg(test)]
mod tests {
    use patchbay_store::MemoryStore;

    use super::*;

    #[tokio::test]
    async fn a_key_is_shown_once_kept_as_a_hash_and_checked() {
        let store = Arc::new(MemoryStore::new());
        let keys = ApiKeys::new(store.clone());
        let created = keys.create("acme", false, "ci").await.unwrap();
        assert!(created.key.starts_with("pbk_"));
        let stored = store.api_key(&created.info.id).await.unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&stored.hash).contains(&created.key[21..]));
        assert_eq!(keys.verify(&created.key).await.unwrap(), Some(created.info.clone()));
        let mut wrong = created.key.clone();
        wrong.pop();
        wrong.push(if created.key.ends_with('0') { '1' } else { '0' });
        assert_eq!(keys.verify(&wrong).await.unwrap(), None, "one digit off");
        for junk in ["", "pbk_", "pbk_zz_zz", "Bearer x", &created.key[4..]] {
            assert_eq!(keys.verify(junk).await.unwrap(), None, "{junk:?}");
        }
        assert!(keys.revoke(&created.info.id).await.unwrap());
        assert_eq!(keys.verify(&created.key).await.unwrap(), None, "revoked");
        assert!(keys.create("no tenant!", false, "").await.is_err());
    }
}
