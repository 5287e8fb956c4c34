//! OAuth2 done by the host, from the plugin's manifest: authorization code
//! with PKCE, client credentials, and refresh — before expiry and once when
//! the provider answers 401. Plugins ask for the `oauth2` auth scheme and
//! never see a token; stored connections keep their tokens sealed in the
//! vault.

pub(crate) mod custom;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use async_trait::async_trait;
use patchbay_contract::types::{
    AuthorizeParams, ClientAuthStyle, Oauth2Config, Oauth2Flow, TokenGrant, TokenRequestSpec,
};
use patchbay_outbound::{HostGrant, TokenSource};
use patchbay_sandbox::CallError;
use patchbay_secrets::{Credentials, Redactor, SealContext, Settings, VaultKey, template};
use patchbay_store::ConnectionStore;

type Client = BasicClient<EndpointMaybeSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// A token is refreshed when it has less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Why an OAuth2 step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The manifest or the connection lacks what the flow needs.
    #[error("OAuth2 is not usable for this connection: {0}")]
    Config(String),
    /// The authorization server revoked or refused the grant (`invalid_grant`):
    /// the connection must be authorized again.
    #[error("the provider revoked the authorization ({0}); authorize the connection again")]
    Revoked(String),
    /// The authorization server refused the request for another reason.
    #[error("the token endpoint refused the request: {0}")]
    Refused(String),
    /// The token endpoint could not be reached or answered garbage.
    #[error("the token endpoint failed: {0}")]
    Transport(String),
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Tokens of a connection, as kept (sealed) in the vault.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    pub scope: Option<String>,
    /// The redirect URI of the authorization (plugin flows send it again).
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("refreshable", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    fn from_response(response: &BasicTokenResponse, previous_refresh: Option<&str>) -> Self {
        Self {
            access_token: response.access_token().secret().clone(),
            // A refresh response may omit the refresh token: the old one stays valid.
            refresh_token: response
                .refresh_token()
                .map(|t| t.secret().clone())
                .or_else(|| previous_refresh.map(str::to_string)),
            expires_at: response.expires_in().map(|d| unix_now() + d.as_secs() as i64),
            scope: response
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" ")),
            redirect_uri: None,
        }
    }

    fn fresh(&self) -> bool {
        self.expires_at
            .is_none_or(|at| at - unix_now() > REFRESH_MARGIN.as_secs() as i64)
    }
}

/// Fills `{{setting.NAME}}` in an endpoint URL (Shopify and Zendesk put the
/// shop or subdomain in theirs).
fn endpoint_url(template: &str, settings: &Settings, what: &str) -> Result<Url, OAuthError> {
    let text = template::fill(
        template,
        "setting",
        || OAuthError::Config(format!("the {what} {template:?} has an unterminated placeholder")),
        |name| {
            settings
                .get(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().trim_end_matches('/').to_string())
                .ok_or_else(|| OAuthError::Config(format!("the {what} needs the setting {name:?}, which is not set")))
        },
    )?;
    Url::parse(&text).map_err(|e| OAuthError::Config(format!("the {what} {text:?} is not a URL: {e}")))
}

/// The manifest's OAuth2 configuration, resolved against a connection's settings.
#[derive(Debug, Clone)]
pub(crate) struct OAuthEndpoints {
    authorize_url: Option<Url>,
    token_url: Url,
    scopes: Vec<String>,
    pkce: bool,
    client_auth: ClientAuthStyle,
    flows: Vec<Oauth2Flow>,
    client_id_field: String,
    client_secret_field: String,
}

/// The start of an authorization-code flow.
pub(crate) struct AuthorizationRequest {
    pub url: Url,
    pub state: String,
    pub verifier: Option<String>,
}

impl OAuthEndpoints {
    pub(crate) fn resolve(config: &Oauth2Config, settings: &Settings) -> Result<Self, OAuthError> {
        Ok(Self {
            authorize_url: config
                .authorize_url
                .as_deref()
                .map(|u| endpoint_url(u, settings, "authorize URL"))
                .transpose()?,
            token_url: endpoint_url(&config.token_url, settings, "token URL")?,
            scopes: config.scopes.clone(),
            pkce: config.pkce,
            client_auth: config.client_auth,
            flows: config.flows.clone(),
            client_id_field: config.client_id_field.clone(),
            client_secret_field: config.client_secret_field.clone(),
        })
    }

    /// Whether the provider lets the host fetch tokens with client credentials.
    pub(crate) fn client_credentials_flow(&self) -> bool {
        self.flows.contains(&Oauth2Flow::ClientCredentials)
    }

    /// Whether a user must authorize the connection before it can be used.
    pub(crate) fn needs_authorization(&self) -> bool {
        !self.client_credentials_flow() && self.flows.contains(&Oauth2Flow::AuthorizationCode)
    }

    fn client(&self, credentials: &Credentials) -> Result<Client, OAuthError> {
        let client_id = credentials
            .get(&self.client_id_field)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                OAuthError::Config(format!(
                    "the credential {:?} (OAuth2 client id) is missing",
                    self.client_id_field
                ))
            })?;
        let mut client = BasicClient::new(ClientId::new(client_id.to_string()))
            .set_auth_uri_option(self.authorize_url.clone().map(AuthUrl::from_url))
            .set_token_uri(TokenUrl::from_url(self.token_url.clone()))
            .set_auth_type(match self.client_auth {
                ClientAuthStyle::Basic => AuthType::BasicAuth,
                ClientAuthStyle::Body => AuthType::RequestBody,
            });
        if let Some(secret) = credentials.get(&self.client_secret_field).filter(|v| !v.is_empty()) {
            client = client.set_client_secret(ClientSecret::new(secret.to_string()));
        }
        Ok(client)
    }

    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.scopes.iter().map(|s| Scope::new(s.clone()))
    }

    /// The URL to send the user to, with a fresh state and PKCE verifier.
    pub(crate) fn authorization_request(
        &self,
        credentials: &Credentials,
        redirect_uri: &str,
    ) -> Result<AuthorizationRequest, OAuthError> {
        if !self.flows.contains(&Oauth2Flow::AuthorizationCode) {
            return Err(OAuthError::Config(
                "the plugin does not declare the authorization-code flow".into(),
            ));
        }
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| OAuthError::Config(format!("the redirect URI {redirect_uri:?} is not a URL: {e}")))?;
        let client = self.client(credentials)?.set_redirect_uri(redirect);
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .map_err(|_| OAuthError::Config("the manifest has no authorize URL".into()))?
            .add_scopes(self.scopes());
        let mut verifier = None;
        if self.pkce {
            let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(pkce_verifier.secret().clone());
        }
        let (url, state) = request.url();
        Ok(AuthorizationRequest {
            url,
            state: state.secret().clone(),
            verifier,
        })
    }

    /// Exchanges an authorization code for tokens.
    pub(crate) async fn exchange_code(
        &self,
        http: &reqwest::Client,
        credentials: &Credentials,
        redirect_uri: &str,
        code: &str,
        verifier: Option<String>,
    ) -> Result<TokenSet, OAuthError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| OAuthError::Config(format!("the redirect URI {redirect_uri:?} is not a URL: {e}")))?;
        let client = self.client(credentials)?.set_redirect_uri(redirect);
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_string()));
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
        }
        let response = request.request_async(http).await.map_err(token_error)?;
        Ok(TokenSet::from_response(&response, None))
    }

    async fn client_credentials(
        &self,
        http: &reqwest::Client,
        credentials: &Credentials,
    ) -> Result<TokenSet, OAuthError> {
        let client = self.client(credentials)?;
        let response = client
            .exchange_client_credentials()
            .add_scopes(self.scopes())
            .request_async(http)
            .await
            .map_err(token_error)?;
        Ok(TokenSet::from_response(&response, None))
    }

    async fn refresh(
        &self,
        http: &reqwest::Client,
        credentials: &Credentials,
        refresh_token: &str,
    ) -> Result<TokenSet, OAuthError> {
        let client = self.client(credentials)?;
        let token = RefreshToken::new(refresh_token.to_string());
        let response = client
            .exchange_refresh_token(&token)
            .request_async(http)
            .await
            .map_err(token_error)?;
        Ok(TokenSet::from_response(&response, Some(refresh_token)))
    }
}

fn token_error<E: std::error::Error>(
    error: RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> OAuthError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let described = match response.error_description() {
                Some(description) => format!("{}: {description}", response.error()),
                None => response.error().to_string(),
            };
            if *response.error() == BasicErrorResponseType::InvalidGrant {
                OAuthError::Revoked(described)
            } else {
                OAuthError::Refused(described)
            }
        }
        RequestTokenError::Request(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            OAuthError::Transport(message)
        }
        RequestTokenError::Parse(error, _body) => OAuthError::Transport(format!("unreadable token response: {error}")),
        RequestTokenError::Other(message) => OAuthError::Transport(message),
    }
}

/// Where a stored connection's tokens are kept.
#[derive(Clone)]
pub(crate) struct TokenVault {
    pub store: Arc<dyn ConnectionStore>,
    pub key: VaultKey,
    pub connection_id: String,
}

impl TokenVault {
    fn context(&self) -> SealContext {
        SealContext::Tokens {
            connection: self.connection_id.clone(),
        }
    }

    async fn load(&self) -> Result<Option<TokenSet>, String> {
        let Some(sealed) = self
            .store
            .tokens(&self.connection_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let plain = self.key.open(&sealed, &self.context()).map_err(|e| e.to_string())?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| format!("the stored tokens are unreadable: {e}"))
    }

    pub(crate) async fn save(&self, tokens: &TokenSet) -> Result<(), String> {
        let plain = serde_json::to_vec(tokens).expect("tokens serialize");
        let sealed = self.key.seal(&plain, &self.context());
        self.store
            .set_tokens(&self.connection_id, Some(sealed), true, None)
            .await
            .map_err(|e| e.to_string())
    }

    async fn revoke(&self, why: &OAuthError) {
        if let Err(error) = self
            .store
            .set_tokens(&self.connection_id, None, false, Some(why.to_string()))
            .await
        {
            tracing::error!(%error, connection = %self.connection_id, "cannot mark the connection disconnected");
        }
    }
}

/// A fresh anti-forgery state and PKCE S256 pair: (state, challenge, verifier).
pub(crate) fn state_and_pkce() -> (String, String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    (
        CsrfToken::new_random().secret().clone(),
        challenge.as_str().to_string(),
        verifier.secret().clone(),
    )
}

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

/// What a plugin-described flow needs of its connection: the plugin's
/// `oauth` capability, and the connection's hosts, credentials and redactor.
#[async_trait]
pub(crate) trait OAuthPlugin: Send + Sync {
    /// The plugin's authorization URL.
    async fn authorize_url(&self, params: &AuthorizeParams) -> Result<String, CallError>;
    /// The plugin's description of a token request.
    async fn token_request(&self, grant: &TokenGrant, redirect_uri: &str) -> Result<TokenRequestSpec, CallError>;
    /// The hosts the connection may reach.
    fn hosts(&self) -> &HostGrant;
    /// The connection's credentials.
    fn credentials(&self) -> &Credentials;
    /// Scrubs the connection's secrets.
    fn redactor(&self) -> &Redactor;
}

/// A connection's OAuth access: fetches, caches, refreshes and stores tokens.
pub(crate) struct OAuthSession {
    flow: OAuthFlow,
    credentials: Arc<Credentials>,
    http: reqwest::Client,
    vault: Option<TokenVault>,
    cached: tokio::sync::Mutex<Option<TokenSet>>,
    /// The plugin, for plugin-described flows.
    plugin: Option<Arc<dyn OAuthPlugin>>,
}

impl OAuthSession {
    pub(crate) fn new(
        flow: OAuthFlow,
        credentials: Arc<Credentials>,
        http: reqwest::Client,
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
        // Another process may have refreshed already: the store is the truth.
        if let Some(vault) = &self.vault {
            *cached = vault.load().await.map_err(OAuthError::Transport)?.or(cached.take());
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
                            vault.revoke(&revoked).await;
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
            vault.save(&tokens).await.map_err(OAuthError::Transport)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_take_settings() {
        let settings = Settings::from([("shop".to_string(), "https://acme.myshopify.com/".to_string())]);
        let url = endpoint_url("{{setting.shop}}/admin/oauth/access_token", &settings, "token URL").unwrap();
        assert_eq!(url.as_str(), "https://acme.myshopify.com/admin/oauth/access_token");
        let missing = endpoint_url("{{setting.other}}/token", &settings, "token URL").unwrap_err();
        assert!(missing.to_string().contains("needs the setting \"other\""), "{missing}");
    }

    #[test]
    fn tokens_near_expiry_are_not_fresh() {
        let mut tokens = TokenSet {
            access_token: "a".into(),
            refresh_token: None,
            expires_at: Some(unix_now() + 3600),
            scope: None,
            redirect_uri: None,
        };
        assert!(tokens.fresh());
        tokens.expires_at = Some(unix_now() + 30);
        assert!(!tokens.fresh());
        tokens.expires_at = None;
        assert!(tokens.fresh());
        assert!(!format!("{tokens:?}").contains("\"a\""));
    }
}
