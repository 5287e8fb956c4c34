//! Webhooks as the host keeps them, per tenant: each stored connection's
//! ingress token (the unguessable part of the URL a provider delivers to),
//! the tenant's endpoints that events are pushed to, and their signing
//! secrets. Both are sealed under the vault key; the ingress is found by a
//! hash of its token. The runtime that receives, parses and pushes
//! (`patchbay-jobs`) builds on this.

use std::sync::Arc;

use base64::Engine as _;
use patchbay_secrets::SealContext;
use patchbay_store::webhooks::{Endpoint, IngressRecord};
use patchbay_store::{StoreError, WebhookStore};
use sha2::{Digest, Sha256};

use crate::connections::{ConnectionsError, StoredParts};
use crate::ingress::IngressTarget;

/// What starts an ingress token (`whk_` and 43 characters of base64url).
pub const INGRESS_PREFIX: &str = "whk_";
/// What starts an endpoint's signing secret, as Standard Webhooks writes it.
pub const SECRET_PREFIX: &str = "whsec_";

/// An endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EndpointInfo {
    /// Its id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it takes (`order.created`, `order.*`); empty: all.
    pub event_types: Vec<String>,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

impl From<Endpoint> for EndpointInfo {
    fn from(e: Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            event_types: e.event_types,
            created_at_ms: e.created_at_ms,
        }
    }
}

/// An endpoint just created, with its signing secret (`whsec_…`), which
/// can be read again with [`Webhooks::endpoint_secret`].
#[derive(Clone)]
pub struct NewEndpoint {
    /// The endpoint.
    pub info: EndpointInfo,
    /// Its Standard Webhooks signing secret.
    pub secret: String,
}

impl std::fmt::Debug for NewEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEndpoint")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The hash an ingress is found by.
pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn random_text(bytes: usize) -> String {
    let random: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
}

/// Checks an endpoint URL: absolute http(s), a host, no credentials in it.
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not an absolute URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} is not an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{url:?} has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{url:?} carries credentials; the endpoint's secret signs instead"
        ));
    }
    Ok(())
}

/// Why an endpoint was not created.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The URL or an event type is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Storing or sealing failed.
    #[error(transparent)]
    Connections(#[from] ConnectionsError),
}

/// One tenant's webhooks.
#[derive(Clone)]
pub struct Webhooks {
    parts: Arc<StoredParts>,
    tenant: String,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").field("tenant", &self.tenant).finish()
    }
}

impl Webhooks {
    pub(crate) fn new(parts: Arc<StoredParts>, tenant: String) -> Self {
        Self { parts, tenant }
    }

    fn store(&self) -> &Arc<dyn WebhookStore> {
        &self.parts.stores.webhooks
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The ingress token of a stored connection, made on first use: the
    /// provider delivers to `/v1/webhooks/{token}`.
    pub async fn ingress_token(&self, connection_id: &str) -> Result<String, ConnectionsError> {
        self.exists(connection_id).await?;
        match self.store().ingress_of(&self.tenant, connection_id).await? {
            Some(record) => {
                let token = self
                    .parts
                    .key
                    .get()?
                    .open(&record.sealed_token, &self.ingress_context(connection_id))?;
                String::from_utf8(token).map_err(|_| {
                    ConnectionsError::Store(StoreError::Backend("a stored ingress token is not text".into()))
                })
            }
            None => self.rotate_ingress_token(connection_id).await,
        }
    }

    /// A new ingress token for a stored connection; the previous one stops
    /// working at once.
    pub async fn rotate_ingress_token(&self, connection_id: &str) -> Result<String, ConnectionsError> {
        self.exists(connection_id).await?;
        let token = format!("{INGRESS_PREFIX}{}", random_text(32));
        let sealed = self
            .parts
            .key
            .get()?
            .seal(token.as_bytes(), &self.ingress_context(connection_id));
        self.store()
            .set_ingress(IngressRecord {
                token_hash: token_hash(&token),
                sealed_token: sealed,
                tenant: self.tenant.clone(),
                connection_id: connection_id.to_string(),
            })
            .await?;
        self.parts.ingress.forget(&self.tenant, connection_id);
        Ok(token)
    }

    fn ingress_context(&self, connection_id: &str) -> SealContext {
        SealContext::IngressToken {
            tenant: self.tenant.clone(),
            connection: connection_id.to_string(),
        }
    }

    async fn exists(&self, connection_id: &str) -> Result<(), ConnectionsError> {
        match self
            .parts
            .stores
            .connections
            .connection(&self.tenant, connection_id)
            .await?
        {
            Some(_) => Ok(()),
            None => Err(ConnectionsError::NotFound {
                tenant: self.tenant.clone(),
                id: connection_id.to_string(),
            }),
        }
    }

    /// Adds an endpoint that events of `event_types` (all when empty;
    /// `order.*` for a family) are pushed to, signed per Standard Webhooks
    /// with a new secret.
    pub async fn create_endpoint(&self, url: &str, event_types: Vec<String>) -> Result<NewEndpoint, EndpointError> {
        check_url(url).map_err(EndpointError::Invalid)?;
        if let Some(bad) = event_types.iter().find(|t| {
            t.is_empty() || t.len() > 128 || !t.chars().all(|c| c.is_ascii_alphanumeric() || "._-*".contains(c))
        }) {
            return Err(EndpointError::Invalid(format!(
                "event type {bad:?} must be 1-128 characters of a-z, 0-9, '.', '_', '-' or a trailing '.*'"
            )));
        }
        let id = format!("ep_{}", hex::encode(rand::random::<[u8; 8]>()));
        let secret = format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
        );
        let sealed = self
            .parts
            .key
            .get()
            .map_err(ConnectionsError::from)?
            .seal(secret.as_bytes(), &self.endpoint_context(&id));
        let endpoint = Endpoint {
            id,
            tenant: self.tenant.clone(),
            url: url.to_string(),
            event_types,
            sealed_secret: sealed,
            created_at_ms: now_ms(),
        };
        self.store()
            .insert_endpoint(endpoint.clone())
            .await
            .map_err(ConnectionsError::from)?;
        Ok(NewEndpoint {
            info: endpoint.into(),
            secret,
        })
    }

    /// The tenant's endpoints, oldest first.
    pub async fn endpoints(&self) -> Result<Vec<EndpointInfo>, ConnectionsError> {
        Ok(self
            .store()
            .endpoints(&self.tenant)
            .await?
            .into_iter()
            .map(EndpointInfo::from)
            .collect())
    }

    /// An endpoint of the tenant.
    pub async fn endpoint(&self, id: &str) -> Result<Option<EndpointInfo>, ConnectionsError> {
        Ok(self.store().endpoint(&self.tenant, id).await?.map(EndpointInfo::from))
    }

    /// An endpoint's signing secret (`whsec_…`).
    pub async fn endpoint_secret(&self, id: &str) -> Result<Option<String>, ConnectionsError> {
        let Some(endpoint) = self.store().endpoint(&self.tenant, id).await? else {
            return Ok(None);
        };
        let secret = self
            .parts
            .key
            .get()?
            .open(&endpoint.sealed_secret, &self.endpoint_context(id))?;
        String::from_utf8(secret)
            .map(Some)
            .map_err(|_| ConnectionsError::Store(StoreError::Backend("a stored endpoint secret is not text".into())))
    }

    /// Removes an endpoint (its queued pushes go with it); whether it existed.
    pub async fn delete_endpoint(&self, id: &str) -> Result<bool, ConnectionsError> {
        Ok(self.store().delete_endpoint(&self.tenant, id).await?)
    }

    fn endpoint_context(&self, id: &str) -> SealContext {
        SealContext::EndpointSecret {
            tenant: self.tenant.clone(),
            endpoint: id.to_string(),
        }
    }
}

/// Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Finds the connection an ingress token names (`None`: no such token).
pub(crate) async fn target(parts: &StoredParts, token: &str) -> Result<Option<IngressTarget>, StoreError> {
    if !token.starts_with(INGRESS_PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let hash = token_hash(token);
    if let Some(target) = parts.ingress.get(&hash) {
        return Ok(Some(target));
    }
    let found = parts.stores.webhooks.ingress(&hash).await?.map(|record| IngressTarget {
        tenant: record.tenant,
        connection_id: record.connection_id,
    });
    if let Some(target) = &found {
        parts.ingress.put(hash, target.clone());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_absolute_http_without_credentials() {
        assert!(check_url("https://hooks.example.com/in").is_ok());
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "/relative",
            "ftp://x.example.com",
            "https://user:pw@x.example.com",
            "not a url",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
