//! A connection's OAuth access: fetches, caches, refreshes and stores its
//! tokens, whoever runs the flow (the host, or the plugin's `oauth`
//! capability through [`OAuthPlugin`](super::custom::OAuthPlugin)).

use std::sync::Arc;

use patchbay_contract::types::TokenGrant;
use patchbay_outbound::TokenSource;
use patchbay_secrets::Credentials;

use super::custom::{self, OAuthPlugin};
use super::http::TokenHttp;
use super::standard::OAuthEndpoints;
use super::tokens::{OAuthError, TokenSet, TokenVault};

/// Who runs a connection's OAuth flow.
#[derive(Debug, Clone)]
pub(crate) enum OAuthFlow {
    /// The host, from the manifest's OAuth2 endpoints.
    Standard(Box<OAuthEndpoints>),
    /// The plugin's `oauth` capability describes the requests.
    Plugin,
    /// The manifest's endpoints cannot be used with this connection's
    /// settings; requests that ask for a token get this reason.
    Unusable(String),
}

impl OAuthFlow {
    /// Whether a user must authorize a new connection before it is usable.
    pub(crate) fn needs_authorization(&self) -> bool {
        match self {
            Self::Standard(endpoints) => endpoints.needs_authorization(),
            Self::Plugin => true,
            Self::Unusable(_) => false,
        }
    }
}

/// A connection's OAuth access: fetches, caches, refreshes and stores tokens.
pub(crate) struct OAuthSession {
    flow: OAuthFlow,
    credentials: Arc<Credentials>,
    http: TokenHttp,
    vault: Option<TokenVault>,
    cached: tokio::sync::Mutex<Option<TokenSet>>,
    /// The plugin, for plugin-described flows.
    plugin: Option<Arc<dyn OAuthPlugin>>,
}

impl OAuthSession {
    pub(crate) fn new(
        flow: OAuthFlow,
        credentials: Arc<Credentials>,
        http: TokenHttp,
        vault: Option<TokenVault>,
        plugin: Option<Arc<dyn OAuthPlugin>>,
    ) -> Self {
        Self {
            flow,
            credentials,
            http,
            vault,
            cached: tokio::sync::Mutex::new(None),
            plugin,
        }
    }

    /// Whether a user must authorize the connection before it is usable.
    pub(crate) fn needs_authorization(&self) -> bool {
        self.flow.needs_authorization()
    }

    /// Who runs the flow, with what.
    pub(crate) fn flow(&self) -> &OAuthFlow {
        &self.flow
    }

    /// The plugin of a plugin-described flow.
    pub(crate) fn plugin(&self) -> Result<&dyn OAuthPlugin, OAuthError> {
        self.plugin
            .as_deref()
            .ok_or_else(|| OAuthError::Config("the plugin declares no `oauth` capability".into()))
    }

    async fn refresh(&self, tokens: &TokenSet, refresh_token: &str) -> Result<TokenSet, OAuthError> {
        match &self.flow {
            OAuthFlow::Standard(endpoints) => endpoints.refresh(&self.http, &self.credentials, refresh_token).await,
            OAuthFlow::Plugin => {
                let plugin = self.plugin()?;
                let secrets = custom::GrantSecrets {
                    refresh_token: Some(refresh_token.to_string()),
                    ..Default::default()
                };
                let redirect_uri = tokens.redirect_uri.clone().unwrap_or_default();
                custom::exchange(plugin, &self.http, TokenGrant::Refresh, &redirect_uri, secrets).await
            }
            OAuthFlow::Unusable(reason) => Err(OAuthError::Config(reason.clone())),
        }
    }

    async fn obtain(&self, rejected: Option<&str>) -> Result<String, OAuthError> {
        if let OAuthFlow::Unusable(reason) = &self.flow {
            return Err(OAuthError::Config(reason.clone()));
        }
        let mut cached = self.cached.lock().await;
        let usable = |tokens: &TokenSet| tokens.fresh() && rejected != Some(tokens.access_token.as_str());
        if let Some(tokens) = cached.as_ref().filter(|t| usable(t)) {
            return Ok(tokens.access_token.clone());
        }
        // Another process may have refreshed already: the store is the
        // truth, read under the connection's lease, so that one refresh runs
        // at a time in every replica (a provider that rotates refresh tokens
        // refuses the second of two concurrent refreshes).
        let mut lease = None;
        if let Some(vault) = &self.vault {
            if let Some((held, stored)) = vault.lease().await.map_err(OAuthError::Transport)? {
                *cached = stored.or(cached.take());
                lease = Some(held);
            }
            if let Some(tokens) = cached.as_ref().filter(|t| usable(t)) {
                return Ok(tokens.access_token.clone());
            }
        }
        let current = cached.clone();
        let client_credentials = match &self.flow {
            OAuthFlow::Standard(endpoints) if endpoints.client_credentials_flow() => Some(endpoints),
            _ => None,
        };
        let refreshable = current.and_then(|t| t.refresh_token.clone().map(|r| (t, r)));
        let tokens = match (refreshable, client_credentials) {
            (Some((current, refresh_token)), _) => {
                match self.refresh(&current, &refresh_token).await {
                    Ok(tokens) => tokens,
                    // A user's grant is gone: the connection needs that user
                    // again (falling back to client credentials would change
                    // whose data the connection reaches).
                    Err(revoked @ OAuthError::Revoked(_)) => {
                        *cached = None;
                        if let Some(vault) = &self.vault {
                            vault.revoke(lease, &revoked).await;
                        }
                        return Err(revoked);
                    }
                    Err(other) => return Err(other),
                }
            }
            (None, Some(endpoints)) => endpoints.client_credentials(&self.http, &self.credentials).await?,
            (None, None) => {
                return Err(OAuthError::Config(
                    "the connection has not been authorized yet: run the authorization-code flow first".into(),
                ));
            }
        };
        if let Some(vault) = &self.vault {
            vault.save(lease, &tokens).await.map_err(OAuthError::Transport)?;
        }
        let access = tokens.access_token.clone();
        *cached = Some(tokens);
        Ok(access)
    }
}

#[async_trait::async_trait]
impl TokenSource for OAuthSession {
    async fn access_token(&self, rejected: Option<&str>) -> Result<String, String> {
        self.obtain(rejected).await.map_err(|e| e.to_string())
    }
}
