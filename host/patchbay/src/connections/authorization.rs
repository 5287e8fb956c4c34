//! OAuth2 authorization of stored connections: start the authorization-code
//! flow (the host's, from the manifest, or the plugin's own), then finish it
//! when the provider calls back with the code.

use patchbay_contract::Interface;
use patchbay_contract::types::{Header, TokenGrant};
use patchbay_sandbox::CallError;
use patchbay_secrets::{SealContext, VaultError};
use patchbay_store::{ConnectionRecord, PendingAuthorization};

use super::{Authorization, ConnectionInfo, Connections, ConnectionsError};
use crate::connection::Connection;
use crate::oauth::{OAuthError, OAuthFlow, custom};

/// How long a started authorization may take to come back.
const AUTHORIZATION_TTL_SECONDS: i64 = 600;

#[derive(serde::Serialize, serde::Deserialize)]
struct PendingSecret {
    verifier: Option<String>,
    redirect_uri: String,
}

impl Connections {
    /// The connection of `row`, ready for its OAuth flow, and that flow
    /// (resolved with the connection's settings and hosts).
    fn flow(&self, row: &ConnectionRecord) -> Result<(Connection, OAuthFlow), ConnectionsError> {
        let connection = self.connect_row(row)?;
        let flow = connection.oauth_session()?.flow().clone();
        Ok((connection, flow))
    }

    /// Starts the authorization-code flow (with PKCE when the manifest asks;
    /// always for plugin-described flows).
    pub async fn authorize(&self, id: &str, redirect_uri: &str) -> Result<Authorization, ConnectionsError> {
        let row = self.row(id).await?;
        let (connection, flow) = self.flow(&row)?;
        let (url, state, verifier) = match flow {
            OAuthFlow::Standard(endpoints) => {
                let request = endpoints.authorization_request(&self.credentials(&row)?, redirect_uri)?;
                (request.url.to_string(), request.state, request.verifier)
            }
            OAuthFlow::Unusable(reason) => return Err(OAuthError::Config(reason).into()),
            OAuthFlow::Plugin => {
                let (state, challenge, verifier) = crate::oauth::state_and_pkce();
                let plugin = connection.oauth_session()?.plugin()?;
                let url = custom::authorize_url(plugin, redirect_uri, &state, &challenge).await?;
                (url, state, Some(verifier))
            }
        };
        let key = self.key()?;
        let secret = serde_json::to_vec(&PendingSecret {
            verifier,
            redirect_uri: redirect_uri.to_string(),
        })
        .expect("pending state serializes");
        let pending = PendingAuthorization {
            tenant: row.tenant.clone(),
            connection_id: row.id.clone(),
            secret: key.seal(
                &secret,
                &SealContext::Pending {
                    state: state.clone(),
                    connection: Some(row.id.clone()),
                },
            ),
            expires_at: crate::oauth::unix_now() + AUTHORIZATION_TTL_SECONDS,
        };
        self.parts.stores.authorizations.insert_pending(&state, pending).await?;
        Ok(Authorization { url, state })
    }

    /// Finishes the authorization-code flow: exchanges `code` for tokens,
    /// stores them sealed, and marks the connection connected.
    pub async fn complete_authorization(&self, state: &str, code: &str) -> Result<ConnectionInfo, ConnectionsError> {
        self.complete_callback(&callback_params(state, code, &[])).await
    }

    /// [`complete_authorization`](Self::complete_authorization) from every
    /// parameter of the provider's callback (`state`, `code` and the rest),
    /// which a plugin exporting `oauth-callback` checks first.
    pub async fn complete_callback(&self, params: &[(String, String)]) -> Result<ConnectionInfo, ConnectionsError> {
        let (state, code) = state_and_code(params)?;
        let pending = self.take_pending(state).await?;
        // The state belongs to another tenant's connection: not ours to
        // finish, nor to cancel (security review F23): it goes back.
        let row = match self.row(&pending.connection_id).await {
            Ok(row) if pending.tenant.is_empty() || pending.tenant == self.tenant => row,
            _ => {
                self.parts.stores.authorizations.insert_pending(state, pending).await?;
                return Err(ConnectionsError::UnknownState(state.to_string()));
            }
        };
        self.finish(state, code, params, pending, row).await
    }

    /// A pending authorization that has not expired, taken (once).
    pub(crate) async fn take_pending(&self, state: &str) -> Result<PendingAuthorization, ConnectionsError> {
        let unknown = || ConnectionsError::UnknownState(state.to_string());
        let pending = self
            .parts
            .stores
            .authorizations
            .take_pending(state)
            .await?
            .ok_or_else(unknown)?;
        if pending.expires_at <= crate::oauth::unix_now() {
            return Err(unknown());
        }
        Ok(pending)
    }

    /// The rest of the flow, for the pending authorization of `row`.
    pub(crate) async fn finish(
        &self,
        state: &str,
        code: &str,
        params: &[(String, String)],
        pending: PendingAuthorization,
        row: ConnectionRecord,
    ) -> Result<ConnectionInfo, ConnectionsError> {
        let key = self.key()?;
        let context = SealContext::Pending {
            state: state.into(),
            connection: Some(row.id.clone()),
        };
        let secret: PendingSecret =
            serde_json::from_slice(&key.open(&pending.secret, &context)?).map_err(|_| VaultError::Corrupt {
                what: context.to_string(),
            })?;
        let (connection, flow) = self.flow(&row)?;
        if connection.supports(Interface::OAuthCallback) {
            let params: Vec<Header> = params
                .iter()
                .map(|(name, value)| Header {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect();
            match connection.oauth_callback()?.check_callback(&params).await {
                Ok(()) => {}
                Err(CallError::Connector(refusal)) => {
                    tracing::warn!(connection = %row.id, ?refusal, "an authorization callback failed its check");
                    return Err(OAuthError::Callback(connector_message(&refusal)).into());
                }
                Err(other) => return Err(other.into()),
            }
        }
        let tokens = match flow {
            OAuthFlow::Standard(endpoints) => {
                endpoints
                    .exchange_code(
                        &self.parts.connector.oauth_http,
                        &self.credentials(&row)?,
                        &secret.redirect_uri,
                        code,
                        secret.verifier,
                    )
                    .await?
            }
            OAuthFlow::Unusable(reason) => return Err(OAuthError::Config(reason).into()),
            OAuthFlow::Plugin => {
                let plugin = connection.oauth_session()?.plugin()?;
                let secrets = custom::GrantSecrets {
                    code: Some(code.to_string()),
                    code_verifier: secret.verifier,
                    refresh_token: None,
                };
                let grant = TokenGrant::AuthorizationCode(code.to_string());
                let http = &self.parts.connector.oauth_http;
                custom::exchange(plugin, http, grant, &secret.redirect_uri, secrets).await?
            }
        };
        self.token_vault(&row)?
            .save(None, &tokens)
            .await
            .map_err(|reason| ConnectionsError::Disconnected {
                id: row.id.clone(),
                reason,
            })?;
        self.reenable(&row.id).await?;
        self.get(&row.id).await
    }
}

/// The callback's parameters when only `state` and `code` are known.
pub(crate) fn callback_params(state: &str, code: &str, rest: &[(String, String)]) -> Vec<(String, String)> {
    let mut params = vec![
        ("code".to_string(), code.to_string()),
        ("state".to_string(), state.to_string()),
    ];
    params.extend(rest.iter().filter(|(n, _)| n != "code" && n != "state").cloned());
    params
}

/// `state` and `code` of a callback, each once.
pub(crate) fn state_and_code(params: &[(String, String)]) -> Result<(&str, &str), ConnectionsError> {
    let one = |name: &str| {
        let mut values = params.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(value), None) if !value.is_empty() => Ok(value),
            _ => Err(OAuthError::Callback(format!("the callback must carry `{name}` once"))),
        }
    };
    Ok((one("state")?, one("code")?))
}

/// A connector error's message, as the operator reads it.
fn connector_message(error: &patchbay_contract::types::ConnectorError) -> String {
    use patchbay_contract::types::ConnectorError as E;
    match error {
        E::Auth(m)
        | E::Config(m)
        | E::Validation(m)
        | E::Unsupported(m)
        | E::WebhookVerification(m)
        | E::NotFound(m) => m.clone(),
        E::Provider(f) | E::Permanent(f) => f.message.clone(),
        E::RateLimited(_) => "rate limited".into(),
    }
}
