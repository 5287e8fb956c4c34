//! OAuth2 done by the host from the plugin's manifest: authorization code
//! with PKCE, client credentials and refresh, over the `oauth2` crate.

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenUrl,
};
use patchbay_contract::types::{ClientAuthStyle, Oauth2Config, Oauth2Flow};
use patchbay_outbound::HostGrant;
use patchbay_secrets::{Credentials, Redactor, Settings, template};
use url::Url;

use super::http::TokenHttp;
use super::tokens::{OAuthError, TokenAnswer, TokenSet};

type Client = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Fills `{{setting.NAME}}` in an endpoint URL (Shopify and Zendesk put the
/// shop or subdomain in theirs).
fn endpoint_url(template: &str, settings: &Settings, what: &str) -> Result<Url, OAuthError> {
    let text = template::fill(
        template,
        "setting",
        || OAuthError::Config(format!("the {what} {template:?} has an unterminated placeholder")),
        |name| {
            let value = settings
                .get(name)
                .map(|v| v.trim().trim_end_matches('/'))
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    OAuthError::Config(format!("the {what} needs the setting {name:?}, which is not set"))
                })?;
            // A setting names a host (or an origin); it cannot smuggle in
            // user info, a query or a fragment that moves the endpoint.
            if value.contains(['@', '?', '#', '\\']) || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(OAuthError::Config(format!(
                    "the {what} cannot use the setting {name:?}: {value:?} is not a host or origin"
                )));
            }
            Ok(value.to_string())
        },
    )?;
    let url = Url::parse(&text).map_err(|e| OAuthError::Config(format!("the {what} {text:?} is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OAuthError::Config(format!("the {what} {text:?} carries user info")));
    }
    Ok(url)
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

    /// Checks the authorize and token URLs against the hosts the connection
    /// may reach (declared ∩ operator): the host sends the client's
    /// credentials to the token URL and the user to the authorize URL.
    pub(crate) fn check(&self, hosts: &HostGrant) -> Result<(), OAuthError> {
        for (what, url) in [
            ("token URL", Some(&self.token_url)),
            ("authorize URL", self.authorize_url.as_ref()),
        ] {
            if let Some(url) = url {
                hosts
                    .check(url)
                    .map_err(|why| OAuthError::Config(format!("the {what} {url} is not allowed: {why}")))?;
            }
        }
        Ok(())
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
        let mut client = oauth2::Client::new(ClientId::new(client_id.to_string()))
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
        http: &TokenHttp,
        credentials: &Credentials,
        redirect_uri: &str,
        code: &str,
        verifier: Option<String>,
    ) -> Result<TokenSet, OAuthError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| OAuthError::Config(format!("the redirect URI {redirect_uri:?} is not a URL: {e}")))?;
        let client = self.client(credentials)?.set_redirect_uri(redirect);
        let secrets: Vec<&str> = credentials.values().chain([code]).chain(verifier.as_deref()).collect();
        let scrubbed = token_error(secrets);
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_string()));
        if let Some(verifier) = verifier.clone() {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
        }
        let response = request.request_async(http).await.map_err(scrubbed)?;
        Ok(TokenSet::from_response(&response, None))
    }

    pub(crate) async fn client_credentials(
        &self,
        http: &TokenHttp,
        credentials: &Credentials,
    ) -> Result<TokenSet, OAuthError> {
        let client = self.client(credentials)?;
        let response = client
            .exchange_client_credentials()
            .add_scopes(self.scopes())
            .request_async(http)
            .await
            .map_err(token_error(credentials.values()))?;
        Ok(TokenSet::from_response(&response, None))
    }

    pub(crate) async fn refresh(
        &self,
        http: &TokenHttp,
        credentials: &Credentials,
        refresh_token: &str,
    ) -> Result<TokenSet, OAuthError> {
        let client = self.client(credentials)?;
        let token = RefreshToken::new(refresh_token.to_string());
        let response = client
            .exchange_refresh_token(&token)
            .request_async(http)
            .await
            .map_err(token_error(credentials.values().chain([refresh_token])))?;
        Ok(TokenSet::from_response(&response, Some(refresh_token)))
    }
}

/// What a token request failed with, scrubbed of every secret the request
/// carried (`secrets`): a revocation keeps only its code (it is stored with
/// the connection); other refusals their scrubbed description.
fn token_error<'a, E: std::error::Error>(
    secrets: impl IntoIterator<Item = &'a str>,
) -> impl FnOnce(RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>) -> OAuthError {
    let redactor = Redactor::new(secrets);
    move |error| match error {
        RequestTokenError::ServerResponse(response) => {
            if *response.error() == BasicErrorResponseType::InvalidGrant {
                return OAuthError::Revoked(response.error().to_string());
            }
            OAuthError::Refused(redactor.scrub(&match response.error_description() {
                Some(description) => format!("{}: {description}", response.error()),
                None => response.error().to_string(),
            }))
        }
        RequestTokenError::Request(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            OAuthError::Transport(redactor.scrub(&message))
        }
        RequestTokenError::Parse(error, _body) => OAuthError::Transport(format!("unreadable token response: {error}")),
        RequestTokenError::Other(message) => OAuthError::Transport(redactor.scrub(&message)),
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

    /// F2: a tenant's setting cannot send the operator's client secret to
    /// the tenant's server when the manifest constrains the setting's host.
    #[test]
    fn endpoints_built_from_settings_must_stay_in_the_grant() {
        let config = Oauth2Config {
            authorize_url: Some("{{setting.shop}}/admin/oauth/authorize".into()),
            token_url: "{{setting.shop}}/admin/oauth/access_token".into(),
            scopes: vec![],
            pkce: false,
            client_auth: ClientAuthStyle::Body,
            flows: vec![Oauth2Flow::AuthorizationCode],
            client_id_field: "client_id".into(),
            client_secret_field: "client_secret".into(),
        };
        let grant = HostGrant::new(
            vec![patchbay_outbound::HostPattern::parse("https://*.myshopify.com").unwrap()],
            None,
        );
        let shop = |value: &str| Settings::from([("shop".to_string(), value.to_string())]);
        let fine = OAuthEndpoints::resolve(&config, &shop("https://acme.myshopify.com")).unwrap();
        fine.check(&grant).unwrap();
        let evil = OAuthEndpoints::resolve(&config, &shop("https://evil.example")).unwrap();
        let refused = evil.check(&grant).unwrap_err();
        assert!(refused.to_string().contains("token URL"), "{refused}");
        let narrowed = HostGrant::new(
            vec![patchbay_outbound::HostPattern::parse("https://*.myshopify.com").unwrap()],
            Some(vec![
                patchbay_outbound::HostPattern::parse("https://acme.myshopify.com").unwrap(),
            ]),
        );
        let other = OAuthEndpoints::resolve(&config, &shop("https://other.myshopify.com")).unwrap();
        assert!(other.check(&narrowed).is_err(), "the operator's narrowing applies");
    }

    #[test]
    fn a_setting_cannot_move_an_endpoint() {
        for evil in [
            "evil.example/x?",
            "evil.example#",
            "user:pw@evil.example",
            "a b",
            "evil.example\\x",
        ] {
            let settings = Settings::from([("subdomain".to_string(), evil.to_string())]);
            let refused = endpoint_url(
                "https://{{setting.subdomain}}.zendesk.com/oauth/tokens",
                &settings,
                "token URL",
            );
            assert!(refused.is_err(), "{evil:?} was accepted: {refused:?}");
        }
        let settings = Settings::from([("subdomain".to_string(), "acme".to_string())]);
        let fine = endpoint_url(
            "https://{{setting.subdomain}}.zendesk.com/oauth/tokens",
            &settings,
            "token URL",
        );
        assert_eq!(fine.unwrap().as_str(), "https://acme.zendesk.com/oauth/tokens");
    }
}
