//! Stored connections: credentials kept sealed in the vault, per tenant.
//!
//! [`Host::connections`](crate::Host::connections) gives a handle scoped to
//! one tenant; nothing it returns or accepts reaches another tenant's rows,
//! `kv` data or tokens.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::connection::{ConnectOptions, Connection, StoredLink, kv_namespace, oauth_flow};
use crate::credentials::{Credentials, Settings};
use crate::error::ConnectError;
use crate::host::Host;
use crate::oauth::custom;
use crate::oauth::{OAuthError, OAuthFlow, TokenVault};
use crate::store::connections::{ConnectionRow, PendingRow, credentials_context, pending_context};
use crate::store::{SqliteStore, StoreError};
use crate::types::TokenGrant;
use crate::vault::{VaultError, VaultKey};

/// How long a started authorization may take to come back.
const AUTHORIZATION_TTL_SECONDS: i64 = 600;

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
    Call(#[from] crate::error::CallError),
    /// The authorization callback's `state` is unknown, used or expired.
    #[error("the authorization state {0:?} is unknown, was used already, or expired; start the authorization again")]
    UnknownState(String),
}

impl From<StoreError> for ConnectionsError {
    fn from(error: StoreError) -> Self {
        Self::Vault(VaultError::Store(error))
    }
}

/// A connection to store.
#[derive(Debug, Clone)]
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

/// The stored connections of one tenant.
#[derive(Debug, Clone)]
pub struct Connections {
    host: Host,
    tenant: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PendingSecret {
    verifier: Option<String>,
    redirect_uri: String,
}

impl Connections {
    pub(crate) fn new(host: Host, tenant: String) -> Self {
        Self { host, tenant }
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    fn vault(&self) -> Result<(&SqliteStore, VaultKey), ConnectionsError> {
        Ok((self.host.store(), self.host.vault_key().ok_or(VaultError::NoKey)?))
    }

    async fn row(&self, id: &str) -> Result<ConnectionRow, ConnectionsError> {
        let (store, _) = self.vault()?;
        store
            .connection_row(&self.tenant, id)
            .await?
            .ok_or_else(|| ConnectionsError::NotFound {
                tenant: self.tenant.clone(),
                id: id.to_string(),
            })
    }

    fn info(row: &ConnectionRow, credentials: &Credentials) -> ConnectionInfo {
        ConnectionInfo {
            id: row.id.clone(),
            tenant: row.tenant.clone(),
            provider: row.provider.clone(),
            display_name: row.display_name.clone(),
            settings: row.settings.clone(),
            credential_fields: credentials.names().map(str::to_string).collect(),
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

    fn credentials(&self, row: &ConnectionRow) -> Result<Credentials, ConnectionsError> {
        let (_, key) = self.vault()?;
        let plain = key.open(&row.credentials, &credentials_context(&row.id))?;
        let fields: BTreeMap<String, String> = serde_json::from_slice(&plain).map_err(|_| VaultError::Corrupt {
            what: credentials_context(&row.id),
        })?;
        Ok(fields.into_iter().collect())
    }

    fn seal_credentials(&self, id: &str, credentials: &Credentials) -> Result<Vec<u8>, ConnectionsError> {
        let (_, key) = self.vault()?;
        let fields: BTreeMap<&str, &str> = credentials
            .names()
            .map(|n| (n, credentials.get(n).unwrap_or_default()))
            .collect();
        let plain = serde_json::to_vec(&fields).expect("credentials serialize");
        Ok(key.seal(&plain, &credentials_context(id)))
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
                reason: format!("connection id {id:?} must be 1-128 letters, digits, '-', '_' or '.'"),
            }
            .into());
        }
        // Validates credentials and settings exactly as a call would.
        let probe = self.host.connect_with(
            &new.provider,
            new.credentials.clone(),
            new.settings.clone(),
            ConnectOptions { id: Some(id.clone()) },
        )?;
        let needs_authorization = probe
            .shared
            .oauth
            .as_ref()
            .is_some_and(|session| session.needs_authorization());
        let row = ConnectionRow {
            id: id.clone(),
            tenant: self.tenant.clone(),
            provider: new.provider.clone(),
            display_name: if new.display_name.trim().is_empty() {
                probe.plugin().manifest().display_name.clone()
            } else {
                new.display_name.clone()
            },
            settings: new.settings.clone(),
            credentials: self.seal_credentials(&id, &new.credentials)?,
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
        let (store, _) = self.vault()?;
        store.insert_connection(row).await.map_err(|e| match e {
            StoreError::Conflict(reason) => ConnectionsError::Connect(ConnectError::Invalid {
                provider: new.provider.clone(),
                reason,
            }),
            other => other.into(),
        })?;
        self.get(&id).await
    }

    /// The tenant's connections, oldest first.
    pub async fn list(&self) -> Result<Vec<ConnectionInfo>, ConnectionsError> {
        let (store, _) = self.vault()?;
        let rows = store.connection_rows(&self.tenant).await?;
        rows.iter()
            .map(|row| Ok(Self::info(row, &self.credentials(row)?)))
            .collect()
    }

    /// One connection.
    pub async fn get(&self, id: &str) -> Result<ConnectionInfo, ConnectionsError> {
        let row = self.row(id).await?;
        Ok(Self::info(&row, &self.credentials(&row)?))
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

    fn connect_row(&self, row: &ConnectionRow) -> Result<Connection, ConnectionsError> {
        let (store, key) = self.vault()?;
        let link = StoredLink {
            tenant: self.tenant.clone(),
            tokens: TokenVault {
                store: store.clone(),
                key,
                connection_id: row.id.clone(),
            },
        };
        Ok(self.host.connect_stored(
            &row.provider,
            self.credentials(row)?,
            row.settings.clone(),
            row.id.clone(),
            link,
        )?)
    }

    /// Turns a connection on; this also clears the circuit breaker's verdict.
    pub async fn enable(&self, id: &str) -> Result<ConnectionInfo, ConnectionsError> {
        self.switch(id, true).await?;
        self.host.reenable(id).await?;
        self.get(id).await
    }

    /// Turns a connection off: it is kept but refuses calls.
    pub async fn disable(&self, id: &str) -> Result<ConnectionInfo, ConnectionsError> {
        self.switch(id, false).await?;
        self.get(id).await
    }

    async fn switch(&self, id: &str, enabled: bool) -> Result<(), ConnectionsError> {
        let (store, _) = self.vault()?;
        if !store.set_connection_enabled(&self.tenant, id, enabled).await? {
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
        self.host.connect_with(
            &row.provider,
            credentials.clone(),
            row.settings.clone(),
            ConnectOptions {
                id: Some(row.id.clone()),
            },
        )?;
        let sealed = self.seal_credentials(id, &credentials)?;
        let (store, _) = self.vault()?;
        store.set_connection_credentials(&self.tenant, id, sealed).await?;
        self.host.reenable(id).await?;
        self.get(id).await
    }

    /// Deletes a connection, its tokens and its `kv` data.
    pub async fn remove(&self, id: &str) -> Result<(), ConnectionsError> {
        let (store, _) = self.vault()?;
        let namespace = kv_namespace(Some(&self.tenant), id);
        if !store.delete_connection(&self.tenant, id, &namespace).await? {
            return Err(ConnectionsError::NotFound {
                tenant: self.tenant.clone(),
                id: id.to_string(),
            });
        }
        self.host.reenable(id).await?;
        Ok(())
    }

    /// Checks a stored connection with the provider.
    pub async fn test(&self, id: &str) -> Result<crate::types::ConnectionTest, ConnectionsError> {
        let connection = self.open(id).await?;
        Ok(connection.test().await?)
    }

    fn flow(&self, row: &ConnectionRow) -> Result<OAuthFlow, ConnectionsError> {
        let plugin = self
            .host
            .provider(&row.provider)
            .ok_or_else(|| ConnectError::UnknownProvider {
                provider: row.provider.clone(),
                available: "see `patchbay providers`".into(),
            })?;
        match oauth_flow(&plugin, &row.settings) {
            Some(flow) => Ok(flow),
            None => Err(OAuthError::Config(format!(
                "the plugin {} declares no OAuth2 endpoints and no `oauth` capability",
                row.provider
            ))
            .into()),
        }
    }

    /// Starts the authorization-code flow (with PKCE when the manifest asks;
    /// always for plugin-described flows).
    pub async fn authorize(&self, id: &str, redirect_uri: &str) -> Result<Authorization, ConnectionsError> {
        let row = self.row(id).await?;
        let (url, state, verifier) = match self.flow(&row)? {
            OAuthFlow::Standard(endpoints) => {
                let request = endpoints.authorization_request(&self.credentials(&row)?, redirect_uri)?;
                (request.url.to_string(), request.state, request.verifier)
            }
            OAuthFlow::Unusable(reason) => return Err(OAuthError::Config(reason).into()),
            OAuthFlow::Plugin => {
                let (state, challenge, verifier) = crate::oauth::state_and_pkce();
                let connection = self.connect_row(&row)?;
                let url = custom::authorize_url(&connection, redirect_uri, &state, &challenge).await?;
                (url, state, Some(verifier))
            }
        };
        let (store, key) = self.vault()?;
        let secret = serde_json::to_vec(&PendingSecret {
            verifier,
            redirect_uri: redirect_uri.to_string(),
        })
        .expect("pending state serializes");
        let pending = PendingRow {
            connection_id: row.id.clone(),
            secret: key.seal(&secret, &pending_context(&state)),
            expires_at: crate::oauth::unix_now() + AUTHORIZATION_TTL_SECONDS,
        };
        store.insert_pending(&state, pending).await?;
        Ok(Authorization { url, state })
    }

    /// Finishes the authorization-code flow: exchanges `code` for tokens,
    /// stores them sealed, and marks the connection connected.
    pub async fn complete_authorization(&self, state: &str, code: &str) -> Result<ConnectionInfo, ConnectionsError> {
        let (store, key) = self.vault()?;
        let unknown = || ConnectionsError::UnknownState(state.to_string());
        let pending = store.take_pending(state).await?.ok_or_else(unknown)?;
        if pending.expires_at <= crate::oauth::unix_now() {
            return Err(unknown());
        }
        // The state belongs to another tenant's connection: not ours to finish.
        let row = self.row(&pending.connection_id).await.map_err(|_| unknown())?;
        let secret: PendingSecret = serde_json::from_slice(&key.open(&pending.secret, &pending_context(state))?)
            .map_err(|_| VaultError::Corrupt {
                what: pending_context(state),
            })?;
        let tokens = match self.flow(&row)? {
            OAuthFlow::Standard(endpoints) => {
                endpoints
                    .exchange_code(
                        self.host.oauth_http(),
                        &self.credentials(&row)?,
                        &secret.redirect_uri,
                        code,
                        secret.verifier,
                    )
                    .await?
            }
            OAuthFlow::Unusable(reason) => return Err(OAuthError::Config(reason).into()),
            OAuthFlow::Plugin => {
                let connection = self.connect_row(&row)?;
                let secrets = custom::GrantSecrets {
                    code: Some(code.to_string()),
                    code_verifier: secret.verifier,
                    refresh_token: None,
                };
                let grant = TokenGrant::AuthorizationCode(code.to_string());
                custom::exchange(&connection, grant, &secret.redirect_uri, secrets).await?
            }
        };
        let vault = TokenVault {
            store: store.clone(),
            key,
            connection_id: row.id.clone(),
        };
        vault
            .save(&tokens)
            .await
            .map_err(|reason| ConnectionsError::Disconnected {
                id: row.id.clone(),
                reason,
            })?;
        self.host.reenable(&row.id).await?;
        self.get(&row.id).await
    }
}
