//! Tokens as the host keeps them, sealed in the vault, and why an OAuth2
//! step failed.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth2::basic::BasicTokenType;
use oauth2::{AccessToken, RefreshToken, Scope, TokenResponse};
use patchbay_secrets::SealContext;
use patchbay_store::{ConnectionStore, TokenLease};
use serde::{Deserialize, Serialize};

use crate::vault_key::KeyHolder;

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
    /// The provider's callback failed the plugin's check (`oauth-callback`:
    /// a forged or altered signature, another store than the connection's);
    /// no code was exchanged.
    #[error("the authorization callback failed the plugin's check: {0}")]
    Callback(String),
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

/// A token endpoint's answer (RFC 6749 §5.1), without insisting on
/// `token_type`: Shopify's `/admin/oauth/access_token` answers only
/// `{access_token, scope}`; a missing type is a bearer token.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct TokenAnswer {
    access_token: AccessToken,
    #[serde(
        default = "bearer",
        deserialize_with = "oauth2::helpers::deserialize_untagged_enum_case_insensitive"
    )]
    token_type: BasicTokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<RefreshToken>,
    #[serde(
        rename = "scope",
        default,
        deserialize_with = "oauth2::helpers::deserialize_space_delimited_vec",
        serialize_with = "oauth2::helpers::serialize_space_delimited_vec",
        skip_serializing_if = "Option::is_none"
    )]
    scopes: Option<Vec<Scope>>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl TokenResponse for TokenAnswer {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<std::time::Duration> {
        self.expires_in.map(std::time::Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

impl TokenSet {
    pub(crate) fn from_response(response: &TokenAnswer, previous_refresh: Option<&str>) -> Self {
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

    pub(crate) fn fresh(&self) -> bool {
        self.expires_at
            .is_none_or(|at| at - unix_now() > REFRESH_MARGIN.as_secs() as i64)
    }
}

/// Where a stored connection's tokens are kept: its tenant's row, sealed
/// with the key in force at the time (a rotation applies to connections
/// already open).
#[derive(Clone)]
pub(crate) struct TokenVault {
    pub store: Arc<dyn ConnectionStore>,
    pub keys: Arc<KeyHolder>,
    pub tenant: String,
    pub connection_id: String,
    /// Where the tokens are sealed (bound to the row's tenant, provider and
    /// settings).
    pub context: SealContext,
}

impl TokenVault {
    fn open(&self, sealed: &[u8]) -> Result<TokenSet, String> {
        let key = self.keys.get().map_err(|e| e.to_string())?;
        let plain = key.open(sealed, &self.context).map_err(|e| e.to_string())?;
        serde_json::from_slice(&plain).map_err(|e| format!("the stored tokens are unreadable: {e}"))
    }

    fn seal(&self, tokens: &TokenSet) -> Result<Vec<u8>, String> {
        let plain = serde_json::to_vec(tokens).expect("tokens serialize");
        let key = self.keys.get().map_err(|e| e.to_string())?;
        Ok(key.seal(&plain, &self.context))
    }

    /// Holds the tokens for a refresh (one holder at a time, in every
    /// replica sharing the store) and reads them as they stand; `None`
    /// when the connection is no longer stored.
    pub(crate) async fn lease(&self) -> Result<Option<(Box<dyn TokenLease>, Option<TokenSet>)>, String> {
        let Some(lease) = self
            .store
            .lease_tokens(&self.tenant, &self.connection_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let tokens = lease.tokens().map(|sealed| self.open(sealed)).transpose()?;
        Ok(Some((lease, tokens)))
    }

    /// Stores new tokens, through the lease when one is held.
    pub(crate) async fn save(&self, lease: Option<Box<dyn TokenLease>>, tokens: &TokenSet) -> Result<(), String> {
        let sealed = self.seal(tokens)?;
        match lease {
            Some(lease) => lease.store(Some(sealed), true, None).await,
            None => {
                self.store
                    .set_tokens(&self.tenant, &self.connection_id, Some(sealed), true, None)
                    .await
            }
        }
        .map_err(|e| e.to_string())
    }

    /// Forgets the tokens and marks the connection disconnected, through
    /// the lease when one is held.
    pub(crate) async fn revoke(&self, lease: Option<Box<dyn TokenLease>>, why: &OAuthError) {
        let result = match lease {
            Some(lease) => lease.store(None, false, Some(why.to_string())).await,
            None => {
                self.store
                    .set_tokens(&self.tenant, &self.connection_id, None, false, Some(why.to_string()))
                    .await
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, connection = %self.connection_id, "cannot mark the connection disconnected");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
