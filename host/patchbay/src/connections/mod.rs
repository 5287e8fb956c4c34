//! Stored connections: credentials kept sealed in the vault, per tenant.
//!
//! [`Host::connections`](crate::Host::connections) gives a handle scoped to
//! one tenant; nothing it returns or accepts reaches another tenant's rows,
//! `kv` data or tokens.

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_outbound::CircuitBreaker;
use patchbay_sandbox::{CallError, ErrorKind};
use patchbay_secrets::{Credentials, Settings, VaultError, VaultKey};
use patchbay_store::{ConnectionRecord, StoreError, Stores};
use serde::Serialize;

use crate::connect::{Connector, StoredLink, kv_namespace};
use crate::connection::{ConnectOptions, Connection};
use crate::error::{ConnectError, Problem};
use crate::oauth::{OAuthError, TokenVault};
use crate::vault_key::{KeyCheckError, KeyHolder, credentials_context, tokens_context};

pub(crate) mod authorization;

/// Why a stored-connection operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionsError {
    /// No such connection for this tenant.
    #[error("no connection {id:?} for tenant {tenant:?}")]
    NotFound {
        /// The tenant asked.
        tenant: String,
        /// The id asked.
        id: String,
    },
    /// The operator disabled the connection.
    #[error("the connection {0:?} is disabled; enable it to use it")]
    Disabled(String),
    /// The circuit breaker disabled the connection after repeated
    /// authentication failures.
    #[error(
        "the connection {0:?} was disabled after repeated authentication failures; update its credentials or enable it"
    )]
    CircuitDisabled(String),
    /// The connection needs (new) authorization.
    #[error("the connection {id:?} is not connected: {reason}")]
    Disconnected {
        /// The connection.
        id: String,
        /// Why.
        reason: String,
    },
    /// The credentials or settings do not fit the plugin, or the provider is unknown.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// An OAuth2 step failed.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The store failed (a database outage, not a vault problem).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The authorization callback's `state` is unknown, used or expired.
    #[error("the authorization state {0:?} is unknown, was used already, or expired; start the authorization again")]
    UnknownState(String),
}

impl ConnectionsError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } | Self::UnknownState(_) => ErrorKind::NotFound,
            Self::Disabled(_) | Self::CircuitDisabled(_) | Self::Disconnected { .. } => ErrorKind::Unavailable,
            Self::Connect(error) => error.kind(),
            Self::Vault(error) => crate::error::vault_kind(error),
            // The authorization server's answer, or a flow the plugin cannot run.
            Self::OAuth(_) => ErrorKind::Failed,
            Self::Call(error) => error.kind(),
            Self::Store(_) => ErrorKind::Storage,
        }
    }
}

impl From<KeyCheckError> for ConnectionsError {
    fn from(error: KeyCheckError) -> Self {
        match error {
            KeyCheckError::Vault(error) => Self::Vault(error),
            KeyCheckError::Store(error) => Self::Store(error),
        }
    }
}

/// A connection to store.
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    /// `family/name` of the provider.
    pub provider: String,
    /// A human name.
    pub display_name: String,
    /// Credential values (sealed before they are stored).
    pub credentials: Credentials,
    /// Non-secret settings.
    pub settings: Settings,
    /// An id of your choosing; a random one when `None`.
    pub id: Option<String>,
    /// Credential fields the plugin may read (see
    /// [`ConnectOptions::public_fields`]); recorded with the connection, so
    /// a new version of the plugin cannot change it.
    pub public_fields: Vec<String>,
    /// Credential fields the plugin may use through `crypto` (see
    /// [`ConnectOptions::signing_fields`]); recorded like `public_fields`.
    pub signing_fields: Vec<String>,
}

/// What the operator lets the plugin do with which credential fields.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Access {
    /// Readable through `config`.
    public: Vec<String>,
    /// Usable as keys through `crypto`.
    #[serde(default)]
    signing: Vec<String>,
}

impl Access {
    /// The options of a connection with this access, under `id`.
    fn options(&self, id: &str) -> ConnectOptions {
        ConnectOptions {
            id: Some(id.to_string()),
            public_fields: self.public.clone(),
            signing_fields: self.signing.clone(),
        }
    }
}

/// Credentials as they are sealed: the values and what the plugin may do
/// with them.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sealed {
    fields: BTreeMap<String, String>,
    #[serde(flatten)]
    access: Access,
}

/// What a sealed credentials value holds; older rows hold a bare map of
/// fields, all of them secret.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Stored {
    Current(Sealed),
    Bare(BTreeMap<String, String>),
}

/// A stored connection as shown to operators: never a secret value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The id.
    pub id: String,
    /// The owning tenant.
    pub tenant: String,
    /// `family/name` of the provider.
    pub provider: String,
    /// Human name.
    pub display_name: String,
    /// Settings.
    pub settings: BTreeMap<String, String>,
    /// Names of the stored credential fields (values are never shown).
    pub credential_fields: Vec<String>,
    /// The fields the plugin may read; every other one is secret.
    pub public_fields: Vec<String>,
    /// The fields the plugin may use through `crypto`.
    pub signing_fields: Vec<String>,
    /// The operator's switch.
    pub enabled: bool,
    /// False until an OAuth2 connection is authorized, and after the
    /// provider revokes its authorization.
    pub connected: bool,
    /// Whether OAuth2 tokens are stored.
    pub authorized: bool,
    /// Consecutive authentication failures seen by the circuit breaker.
    pub auth_failures: u32,
    /// Whether the circuit breaker disabled it.
    pub circuit_disabled: bool,
    /// The last failure, if any.
    pub last_failure: Option<String>,
    /// When it happened (Unix seconds).
    pub last_failure_at: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// The start of an OAuth2 authorization-code flow: send the user to `url`;
/// the provider comes back to the redirect URI with `code` and `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Where to send the user.
    pub url: String,
    /// The anti-forgery value the callback must carry.
    pub state: String,
}

/// What stored connections use of the host.
pub(crate) struct StoredParts {
    pub connector: Arc<Connector>,
    pub stores: Stores,
    pub key: Arc<KeyHolder>,
    pub circuits: CircuitBreaker,
    /// Ingress tokens recently looked up.
    pub ingress: crate::ingress::IngressCache,
}

/// The stored connections of one tenant.
#[derive(Clone)]
pub struct Connections {
    parts: Arc<StoredParts>,
    tenant: String,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Connections {
    pub(crate) fn new(parts: Arc<StoredParts>, tenant: String) -> Self {
        Self { parts, tenant }
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    fn key(&self) -> Result<VaultKey, ConnectionsError> {
        Ok(self.parts.key.get()?)
    }

    async fn reenable(&self, id: &str) -> Result<(), ConnectionsError> {
        Ok(self.parts.circuits.reenable(id).await?)
    }

    fn connect_with(
        &self,
        provider: &str,
        credentials: Credentials,
        settings: Settings,
        id: &str,
        access: &Access,
    ) -> Result<Connection, ConnectError> {
        let options = access.options(id);
        self.parts
            .connector
            .connect(provider, credentials, settings, options, None)
    }

    pub(crate) async fn row(&self, id: &str) -> Result<ConnectionRecord, ConnectionsError> {
        self.parts
            .stores
            .connections
            .connection(&self.tenant, id)
            .await?
            .ok_or_else(|| ConnectionsError::NotFound {
                tenant: self.tenant.clone(),
                id: id.to_string(),
            })
    }

    fn info(row: &ConnectionRecord, (credentials, access): &(Credentials, Access)) -> ConnectionInfo {
        ConnectionInfo {
            id: row.id.clone(),
            tenant: row.tenant.clone(),
            provider: row.provider.clone(),
            display_name: row.display_name.clone(),
            settings: row.settings.clone(),
            credential_fields: credentials.names().map(str::to_string).collect(),
            public_fields: access.public.clone(),
            signing_fields: access.signing.clone(),
            enabled: row.enabled,
            connected: row.connected,
            authorized: row.tokens.is_some(),
            auth_failures: row.auth_failures,
            circuit_disabled: row.circuit_disabled,
            last_failure: row.last_failure.clone(),
            last_failure_at: row.last_failure_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    /// The connection's credentials and what the plugin may do with them.
    fn unsealed(&self, row: &ConnectionRecord) -> Result<(Credentials, Access), ConnectionsError> {
        let context = credentials_context(row);
        let plain = self.key()?.open(&row.credentials, &context)?;
        let stored: Stored = serde_json::from_slice(&plain).map_err(|_| VaultError::Corrupt {
            what: context.to_string(),
        })?;
        Ok(match stored {
            Stored::Current(sealed) => (sealed.fields.into_iter().collect(), sealed.access),
            Stored::Bare(fields) => (fields.into_iter().collect(), Access::default()),
        })
    }

    fn credentials(&self, row: &ConnectionRecord) -> Result<Credentials, ConnectionsError> {
        Ok(self.unsealed(row)?.0)
    }

    fn seal_credentials(
        &self,
        row: &ConnectionRecord,
        credentials: &Credentials,
        access: &Access,
    ) -> Result<Vec<u8>, ConnectionsError> {
        let key = self.key()?;
        let sealed = Sealed {
            fields: credentials
                .names()
                .map(|n| (n.to_string(), credentials.get(n).unwrap_or_default().to_string()))
                .collect(),
            access: access.clone(),
        };
        let plain = serde_json::to_vec(&sealed).expect("credentials serialize");
        Ok(key.seal(&plain, &credentials_context(row)))
    }

    /// Checks a connection against its plugin's manifest and stores it.
    pub async fn add(&self, new: NewConnection) -> Result<ConnectionInfo, ConnectionsError> {
        let id = new
            .id
            .clone()
            .unwrap_or_else(|| format!("c-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]));
        if id.is_empty() || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(ConnectError::Invalid {
                provider: new.provider.clone(),
                field: None,
                problem: Problem::Id,
                reason: format!("connection id {id:?} must be 1-128 letters, digits, '-', '_' or '.'"),
            }
            .into());
        }
        // Validates credentials and settings exactly as a call would.
        let access = Access {
            public: new.public_fields.clone(),
            signing: new.signing_fields.clone(),
        };
        let probe = self.connect_with(
            &new.provider,
            new.credentials.clone(),
            new.settings.clone(),
            &id,
            &access,
        )?;
        let needs_authorization = probe.needs_authorization();
        let mut row = ConnectionRecord {
            id: id.clone(),
            tenant: self.tenant.clone(),
            provider: new.provider.clone(),
            display_name: if new.display_name.trim().is_empty() {
                probe.plugin().manifest().display_name.clone()
            } else {
                new.display_name.clone()
            },
            settings: new.settings.clone(),
            credentials: Vec::new(),
            tokens: None,
            enabled: true,
            connected: !needs_authorization,
            auth_failures: 0,
            circuit_disabled: false,
            last_failure: None,
            last_failure_at: None,
            created_at: 0,
            updated_at: 0,
        };
        row.credentials = self.seal_credentials(&row, &new.credentials, &access)?;
        self.parts
            .stores
            .connections
            .insert_connection(row)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(reason) => ConnectionsError::Connect(ConnectError::Invalid {
                    provider: new.provider.clone(),
                    field: None,
                    problem: Problem::Id,
                    reason,
                }),
                other => other.into(),
            })?;
        self.get(&id).await
    }

    /// The tenant's connections, oldest first.
    pub async fn list(&self) -> Result<Vec<ConnectionInfo>, ConnectionsError> {
        let rows = self.parts.stores.connections.connections(&self.tenant).await?;
        rows.iter()
            .map(|row| Ok(Self::info(row, &self.unsealed(row)?)))
            .collect()
    }

    /// One connection.
    pub async fn get(&self, id: &str) -> Result<ConnectionInfo, ConnectionsError> {
        let row = self.row(id).await?;
        Ok(Self::info(&row, &self.unsealed(&row)?))
    }

    /// A connection ready for calls. Refused when disabled (by the operator
    /// or the circuit breaker) or not connected.
    pub async fn open(&self, id: &str) -> Result<Connection, ConnectionsError> {
        let row = self.row(id).await?;
        if !row.enabled {
            return Err(ConnectionsError::Disabled(row.id));
        }
        if row.circuit_disabled {
            return Err(ConnectionsError::CircuitDisabled(row.id));
        }
        if !row.connected {
            return Err(ConnectionsError::Disconnected {
                reason: row
                    .last_failure
                    .clone()
                    .unwrap_or_else(|| "it has not been authorized yet".to_string()),
                id: row.id,
            });
        }
        self.connect_row(&row)
    }

    fn token_vault(&self, row: &ConnectionRecord) -> Result<TokenVault, ConnectionsError> {
        self.key()?;
        Ok(TokenVault {
            store: Arc::clone(&self.parts.stores.connections),
            keys: Arc::clone(&self.parts.key),
            tenant: self.tenant.clone(),
            connection_id: row.id.clone(),
            context: tokens_context(row),
        })
    }

    fn connect_row(&self, row: &ConnectionRecord) -> Result<Connection, ConnectionsError> {
        let link = StoredLink {
            tenant: self.tenant.clone(),
            tokens: self.token_vault(row)?,
        };
        let (credentials, access) = self.unsealed(row)?;
        let options = access.options(&row.id);
        Ok(self
            .parts
            .connector
            .connect(&row.provider, credentials, row.settings.clone(), options, Some(link))?)
    }

    /// Turns a connection on; this also clears the circuit breaker's verdict.
    pub async fn enable(&self, id: &str) -> Result<ConnectionInfo, ConnectionsError> {
        self.switch(id, true).await?;
        self.reenable(id).await?;
        self.get(id).await
    }

    /// Turns a connection off: it is kept but refuses calls.
    pub async fn disable(&self, id: &str) -> Result<ConnectionInfo, ConnectionsError> {
        self.switch(id, false).await?;
        self.get(id).await
    }

    async fn switch(&self, id: &str, enabled: bool) -> Result<(), ConnectionsError> {
        if !self
            .parts
            .stores
            .connections
            .set_enabled(&self.tenant, id, enabled)
            .await?
        {
            return Err(ConnectionsError::NotFound {
                tenant: self.tenant.clone(),
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Replaces a connection's credentials (checked against the manifest).
    pub async fn update_credentials(
        &self,
        id: &str,
        credentials: Credentials,
    ) -> Result<ConnectionInfo, ConnectionsError> {
        let row = self.row(id).await?;
        let (_, access) = self.unsealed(&row)?;
        self.connect_with(
            &row.provider,
            credentials.clone(),
            row.settings.clone(),
            &row.id,
            &access,
        )?;
        let sealed = self.seal_credentials(&row, &credentials, &access)?;
        self.parts
            .stores
            .connections
            .set_credentials(&self.tenant, id, sealed)
            .await?;
        self.reenable(id).await?;
        self.get(id).await
    }

    /// Replaces a connection's settings (checked against the manifest with
    /// its credentials, which are sealed again for them). Tokens issued
    /// under the old settings are dropped: an OAuth2 connection needs a new
    /// authorization.
    pub async fn update_settings(&self, id: &str, settings: Settings) -> Result<ConnectionInfo, ConnectionsError> {
        let row = self.row(id).await?;
        let (credentials, access) = self.unsealed(&row)?;
        let probe = self.connect_with(&row.provider, credentials.clone(), settings.clone(), &row.id, &access)?;
        let moved = ConnectionRecord {
            settings: settings.clone(),
            ..row.clone()
        };
        let sealed = self.seal_credentials(&moved, &credentials, &access)?;
        if !self
            .parts
            .stores
            .connections
            .set_settings(&self.tenant, id, settings, sealed, !probe.needs_authorization())
            .await?
        {
            return Err(ConnectionsError::NotFound {
                tenant: self.tenant.clone(),
                id: id.to_string(),
            });
        }
        self.reenable(id).await?;
        self.get(id).await
    }

    /// Deletes a connection, its tokens and its `kv` data.
    pub async fn remove(&self, id: &str) -> Result<(), ConnectionsError> {
        let namespace = kv_namespace(Some(&self.tenant), id);
        if !self
            .parts
            .stores
            .connections
            .delete_connection(&self.tenant, id, &namespace)
            .await?
        {
            return Err(ConnectionsError::NotFound {
                tenant: self.tenant.clone(),
                id: id.to_string(),
            });
        }
        self.parts.ingress.forget(&self.tenant, id);
        self.reenable(id).await?;
        Ok(())
    }

    /// Checks a stored connection with the provider.
    pub async fn test(&self, id: &str) -> Result<patchbay_contract::types::ConnectionTest, ConnectionsError> {
        let connection = self.open(id).await?;
        Ok(connection.test().await?)
    }
}
